"""Console actions on possible duplicates, mounted at ``/console/duplicates/``."""

from django.urls import path

from civicgrid.dedup import views

app_name = "dedup"
urlpatterns = [
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/keep-apart/", views.keep_apart, name="keep_apart"),
    path("cases/<str:number>/unmerge/", views.unmerge, name="unmerge"),
]
