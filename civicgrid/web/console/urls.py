from django.urls import path, re_path

from civicgrid.web.console import pii, views

app_name = "console"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("queue/rows/", views.queue_rows, name="queue_rows"),
    path("cases/<str:number>/", views.case_view, name="case"),
    path("cases/<str:number>/reveal-reporter/", pii.reveal_reporter, name="reveal_reporter"),
    path("cases/<str:number>/<slug:action>/", views.case_action, name="case_action"),
    path("map/", views.map_view, name="map"),
    path("map/layers/<slug:level>.geojson", views.map_layer, name="map_layer"),
    path("map/cases.json", views.map_cases, name="map_cases"),
    re_path(r"^map/grids/(?P<code>\d{15})/$", views.map_grid, name="map_grid"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
