from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("categories/", views.categories, name="categories"),
    path("report/", views.report, name="report"),
    path("receipt/", views.receipt, name="receipt"),
    path("track/<str:token>/", views.track, name="track"),
    path("track/<str:token>/rate/", views.rate, name="rate"),
    path("track/<str:token>/photos/<int:pk>/", views.track_photo, name="track_photo"),
    # Staff: every case photo is served through this check (no public media URL).
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
]
