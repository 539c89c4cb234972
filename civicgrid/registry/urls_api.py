from django.urls import path

from civicgrid.registry import api

app_name = "registry-api"

urlpatterns = [
    path("addresses/", api.AddressList.as_view(), name="address-list"),
    path("addresses/parse", api.AddressParse.as_view(), name="address-parse"),
    path("addresses/<int:pk>/", api.AddressDetail.as_view(), name="address-detail"),
    path("houses/", api.HouseList.as_view(), name="house-list"),
    path("houses/<int:pk>/", api.HouseDetail.as_view(), name="house-detail"),
    path("households/<int:pk>/", api.HouseholdDetail.as_view(), name="household-detail"),
    path("residents/", api.ResidentList.as_view(), name="resident-list"),
    path("residents/import", api.ResidentImport.as_view(), name="resident-import"),
    path("residents/export", api.ResidentExport.as_view(), name="resident-export"),
    path("residents/<int:pk>/", api.ResidentDetail.as_view(), name="resident-detail"),
    path("residents/<int:pk>/reveal", api.ResidentReveal.as_view(), name="resident-reveal"),
    path("residents/<int:pk>/history", api.ResidentHistory.as_view(), name="resident-history"),
    path("organisations/", api.OrganisationList.as_view(), name="organisation-list"),
    path("organisations/<int:pk>/", api.OrganisationDetail.as_view(), name="organisation-detail"),
    path("organisations/<int:pk>/reveal", api.OrganisationReveal.as_view(), name="organisation-reveal"),
    path("care-tags/", api.CareTagList.as_view(), name="care-tag-list"),
    path("visits/", api.VisitList.as_view(), name="visit-list"),
    path("visits/<int:pk>/", api.VisitDetail.as_view(), name="visit-detail"),
    path("visits/<int:pk>/items", api.VisitItems.as_view(), name="visit-items"),
    path("items/", api.ItemList.as_view(), name="item-list"),
    path("items/<int:pk>/case", api.ItemToCase.as_view(), name="item-case"),
    path("items/<int:pk>/done", api.ItemDone.as_view(), name="item-done"),
    path("visit-hours/", api.VisitHours.as_view(), name="visit-hours"),
]
