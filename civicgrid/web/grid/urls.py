from django.urls import path

from . import views

app_name = "grid"
urlpatterns = [
    path("", views.index, name="index"),
    path("categories/", views.categories, name="categories"),
    path("report/", views.report, name="report"),
    path("verify/<int:pk>/", views.verify, name="verify"),
]
