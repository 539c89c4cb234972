from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

api_v1 = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("regions/", include("civicgrid.regions.urls_api")),
    path("taxonomy/", include("civicgrid.taxonomy.urls_api")),
    path("org/", include("civicgrid.org.urls_api")),
    path("cases/", include("civicgrid.cases.urls_api")),
    path("duplicates/", include("civicgrid.dedup.urls_api")),
    path("", include("civicgrid.triage.urls_api")),  # POST /api/v1/classify
    path("disputes/", include("civicgrid.disputes.urls_api")),
    path("intake/", include("civicgrid.intake.urls_api")),
    path("audit/", include("civicgrid.audit.urls_api")),
    path("registry/", include("civicgrid.registry.urls_api")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("open311/v2/", include("civicgrid.intake.open311_urls")),
    path("console/duplicates/", include("civicgrid.dedup.urls")),
    path("", include("civicgrid.web.urls")),
]
