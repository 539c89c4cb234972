from django.urls import path

from civicgrid.disputes import views

app_name = "disputes"
urlpatterns = [
    path("", views.dispute_list, name="list"),
    path("new/", views.dispute_new, name="new"),
    path("reviews/", views.review_queue, name="reviews"),
    path("figures/", views.figures_view, name="figures"),
    path("<str:number>/", views.dispute_detail, name="detail"),
    path("<str:number>/agreement/", views.print_agreement, name="print_agreement"),
    path("<str:number>/record/", views.print_record, name="print_record"),
    path("<str:number>/act/<slug:key>/", views.dispute_action, name="action"),
]
