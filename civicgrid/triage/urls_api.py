from django.urls import path

from civicgrid.triage import api

app_name = "triage"

# Mounted at /api/v1/: the endpoint is ``POST /api/v1/classify`` (a trailing slash is accepted).
urlpatterns = [
    path("classify", api.ClassifyView.as_view(), name="classify"),
    path("classify/", api.ClassifySlashView.as_view()),
]
