from django.urls import path

from civicgrid.audit import api

app_name = "audit-api"

urlpatterns = [
    path("access-log", api.AccessLogList.as_view(), name="access-log"),
    path("reveal", api.RevealView.as_view(), name="reveal"),
]
