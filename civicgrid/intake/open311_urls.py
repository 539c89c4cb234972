from django.urls import re_path

from civicgrid.intake import open311

app_name = "open311"

_FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    re_path(r"^discovery" + _FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + _FMT, open311.services, name="services"),
    re_path(r"^services/(?P<service_code>[\w-]+)" + _FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + _FMT, open311.requests_, name="requests"),
    re_path(r"^requests/(?P<service_request_id>[\w-]+)" + _FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[\w-]+)" + _FMT, open311.token, name="token"),
]
