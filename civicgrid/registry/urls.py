"""The registry pages, mounted at /grid/registry/ (namespace ``web:registry``)."""

from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.index, name="index"),
    path("residents/<int:pk>/", views.resident, name="resident"),
    path("households/<int:pk>/", views.household, name="household"),
    path("households/<int:pk>/visit", views.visit, name="visit"),
    path("households/<int:pk>/house", views.house, name="house"),
    path("items/<int:pk>/case", views.item_case, name="item-case"),
    path("items/<int:pk>/done", views.item_done, name="item-done"),
]
