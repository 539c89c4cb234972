from django.urls import path

from civicgrid.intake import api

app_name = "intake-api"

urlpatterns = [
    path("12345/orders", api.HotlineOrdersView.as_view(), name="hotline-orders"),
    path("szcg/cases", api.SzcgCasesView.as_view(), name="szcg-cases"),
    path("alarms", api.AlarmsView.as_view(), name="alarms"),
]
