from django.urls import re_path

from civicgrid.taxonomy import api

app_name = "taxonomy"

# Trailing slashes optional: client systems call ``explain?kind=…`` as documented.
urlpatterns = [
    re_path(r"^categories/?$", api.CategoryListView.as_view(), name="category-list"),
    re_path(r"^categories/(?P<kind>[a-z]+)/(?P<code>\d{5})/?$", api.CategoryDetailView.as_view(),
            name="category-detail"),
    re_path(r"^explain/?$", api.ExplainView.as_view(), name="explain"),
    re_path(r"^request-types/?$", api.RequestTypeListView.as_view(), name="request-types"),
]
