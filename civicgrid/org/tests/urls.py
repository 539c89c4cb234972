"""The org URLs mounted where the project mounts them, without the other apps' pages, so these
tests do not depend on them."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/org/", include("civicgrid.org.urls_api")),
]
