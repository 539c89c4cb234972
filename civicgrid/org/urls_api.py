from django.urls import path

from civicgrid.org import api

app_name = "org-api"

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("departments/", api.DepartmentList.as_view(), name="department-list"),
    path("departments/<int:pk>/", api.DepartmentDetail.as_view(), name="department-detail"),
    path("centres/", api.CentreList.as_view(), name="centre-list"),
    path("staff/", api.StaffList.as_view(), name="staff-list"),
]
