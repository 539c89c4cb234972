from django.urls import path, re_path

from civicgrid.regions import api

app_name = "regions-api"

urlpatterns = [
    path("", api.RegionList.as_view(), name="region-list"),
    re_path(r"^locate/?$", api.Locate.as_view(), name="locate"),
    re_path(r"^resolve/?$", api.Resolve.as_view(), name="resolve"),
    re_path(r"^(?P<code>\d{12}|\d{15})/children\.geojson$", api.ChildrenGeoJSON.as_view(), name="children-geojson"),
    re_path(r"^(?P<code>\d{12}|\d{15})/?$", api.RegionDetail.as_view(), name="region-detail"),
]
