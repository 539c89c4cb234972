from django.urls import path

from civicgrid.dedup import api

urlpatterns = [
    path("check", api.DuplicateCheck.as_view(), name="duplicates-check"),
]
