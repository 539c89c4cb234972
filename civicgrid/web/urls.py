from django.urls import include, path

from . import views

app_name = "web"
urlpatterns = [
    path("console/disputes/", include("civicgrid.disputes.urls")),
    path("console/", include("civicgrid.web.console.urls")),
    path("dept/", include("civicgrid.web.dept.urls")),
    path("grid/registry/", include("civicgrid.registry.urls")),
    path("grid/", include("civicgrid.web.grid.urls")),
    path("about/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("civicgrid.web.accounts_urls")),
    path("", include("civicgrid.web.portal.urls")),
]
