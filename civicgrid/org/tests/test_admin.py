import pytest
from django.test import Client

from civicgrid.org import actions
from civicgrid.org.models import Department, GridAssignment, Role, User

pytestmark = pytest.mark.urls("civicgrid.org.tests.urls")


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_superuser_pages_render(org, superuser, grid_worker):
    client = admin_client(superuser)
    for url in ("/admin/org/department/", "/admin/org/commandcentre/", "/admin/org/user/",
                "/admin/org/gridassignment/", "/admin/org/user/add/", "/admin/org/department/add/",
                f"/admin/org/user/{grid_worker.pk}/change/", "/admin/org/department/?kind=police_station",
                "/admin/org/department/?district=350211000000"):
        assert client.get(url).status_code == 200, url


def test_district_filter(org, superuser):
    response = admin_client(superuser).get("/admin/org/department/", {"district": "350203000000"})
    shown = {d.code for d in response.context["cl"].result_list}
    assert shown == {"sm-police-zhonghua", "sm-city-management"}


def test_scoped_administrator_sees_their_district_only(org, jimei_admin):
    client = admin_client(jimei_admin)
    shown = {d.code for d in client.get("/admin/org/department/").context["cl"].result_list}
    assert "jm-police-jimei" in shown and "sm-police-zhonghua" not in shown
    siming = org["departments"]["sm-police-zhonghua"]
    # an object outside is treated as missing (the admin redirects with "does not exist")
    assert client.get(f"/admin/org/department/{siming.pk}/change/").status_code == 302


def test_admin_needs_org_manage(org, make_staff):
    # given a dispatcher who somehow has admin-site access
    dispatcher = make_staff(Role.DISPATCHER, centre=org["centres"]["350211000000"], is_staff=True)
    assert admin_client(dispatcher).get("/admin/org/department/").status_code == 403


def test_adding_staff_shows_field_errors(org, superuser):
    # when a department handler is added without a department
    response = admin_client(superuser).post("/admin/org/user/add/", {
        "username": "handler", "usable_password": "true", "password1": "Very-secret-42",
        "password2": "Very-secret-42", "role": Role.DEPARTMENT_HANDLER,
    })
    # then the form comes back with the error on the department field
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["department"]
    assert not User.objects.filter(username="handler").exists()


def test_adding_staff_through_the_admin(org, jimei_admin):
    response = admin_client(jimei_admin).post("/admin/org/user/add/", {
        "username": "handler", "usable_password": "true", "password1": "Very-secret-42",
        "password2": "Very-secret-42", "role": Role.DEPARTMENT_HANDLER,
        "department": org["departments"]["jm-police-jimei"].pk,
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="handler")
    assert user.department.code == "jm-police-jimei" and user.check_password("Very-secret-42")


def change_form_data(user, grids):
    data = {
        "username": user.username, "first_name": "", "last_name": "", "email": "",
        "role": user.role, "department": user.department_id or "", "centre": user.centre_id or "",
        "jurisdiction": user.jurisdiction_id or "", "phone": "", "is_active": "on",
        "date_joined_0": "2025-01-01", "date_joined_1": "08:00:00",
        "grid_assignments-TOTAL_FORMS": str(len(grids)), "grid_assignments-INITIAL_FORMS": "0",
        "grid_assignments-MIN_NUM_FORMS": "0", "grid_assignments-MAX_NUM_FORMS": "1000",
    }
    existing = list(user.grid_assignments.all())
    data["grid_assignments-TOTAL_FORMS"] = str(len(existing) + len(grids))
    data["grid_assignments-INITIAL_FORMS"] = str(len(existing))
    for i, assignment in enumerate(existing):
        data[f"grid_assignments-{i}-id"] = assignment.pk
        data[f"grid_assignments-{i}-worker"] = user.pk
        data[f"grid_assignments-{i}-grid"] = assignment.grid_id
    for j, grid in enumerate(grids, start=len(existing)):
        data[f"grid_assignments-{j}-worker"] = user.pk
        data[f"grid_assignments-{j}-grid"] = grid.pk
    return data


def test_inline_grid_outside_jurisdiction_is_refused(org, grid_worker, superuser):
    # when a 浔江 grid is added to a 岑西 worker
    data = change_form_data(grid_worker, [org["regions"]["350211001002001"]])
    response = admin_client(superuser).post(f"/admin/org/user/{grid_worker.pk}/change/", data)
    # then the inline shows the error and nothing is saved
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert any("350211001002001" in e for e in errors)
    assert grid_worker.grid_assignments.count() == 1


def test_inline_grid_inside_is_saved(org, grid_worker, superuser):
    data = change_form_data(grid_worker, [org["regions"]["350211001001002"]])
    response = admin_client(superuser).post(f"/admin/org/user/{grid_worker.pk}/change/", data)
    assert response.status_code == 302
    assert sorted(grid_worker.grid_assignments.values_list("grid__code", flat=True)) == [
        "350211001001001", "350211001001002",
    ]


def test_grid_assignment_admin_add_checks(org, grid_worker, jimei_dispatcher, superuser):
    client = admin_client(superuser)
    grid = org["regions"]["350211001001002"]
    response = client.post("/admin/org/gridassignment/add/", {"grid": grid.pk, "worker": jimei_dispatcher.pk})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["worker"]
    response = client.post("/admin/org/gridassignment/add/", {"grid": grid.pk, "worker": grid_worker.pk})
    assert response.status_code == 302
    assert GridAssignment.objects.filter(grid=grid, worker=grid_worker).exists()


def test_centre_admin_derives_the_level(org, superuser):
    response = admin_client(superuser).post(
        "/admin/org/commandcentre/add/", {"name": "侨英街道综治中心", "region": org["regions"]["350211002000"].pk}
    )
    assert response.status_code == 302
    assert org["regions"]["350211002000"].centre.level == "street"


def test_department_admin_refuses_a_grid(org, superuser):
    response = admin_client(superuser).post("/admin/org/department/add/", {
        "code": "grid-dept", "name": "x", "kind": "housing", "region": org["regions"]["350211001001001"].pk,
        "is_active": "on",
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["region"]
    assert not Department.objects.filter(code="grid-dept").exists()


def test_scoped_admin_cannot_grant_superuser(org, jimei_admin, make_staff):
    handler = make_staff(Role.DEPARTMENT_HANDLER, department=org["departments"]["jm-police-jimei"])
    data = change_form_data(handler, [])
    data["is_superuser"] = "on"
    response = admin_client(jimei_admin).post(f"/admin/org/user/{handler.pk}/change/", data)
    assert response.status_code == 302
    handler.refresh_from_db()
    assert not handler.is_superuser


def test_role_change_and_grid_removal_in_one_save(org, grid_worker, superuser):
    # given a grid worker whose grid is removed while they become a community dispatcher
    data = change_form_data(grid_worker, [])
    data["grid_assignments-0-DELETE"] = "on"
    data["role"] = Role.DISPATCHER
    data["centre"] = org["centres"]["350211001001"].pk
    # when the form is saved
    response = admin_client(superuser).post(f"/admin/org/user/{grid_worker.pk}/change/", data)
    # then both changes land together
    assert response.status_code == 302
    grid_worker.refresh_from_db()
    assert grid_worker.role == Role.DISPATCHER
    assert not grid_worker.grid_assignments.exists()
    # and without the removal the role change is refused
    worker = actions.create_staff(username="w2", role=Role.GRID_WORKER, jurisdiction=org["regions"]["350211001001"])
    actions.assign_grid_worker(org["regions"]["350211001001002"], worker)
    data = change_form_data(worker, [])
    data["role"] = Role.DISPATCHER
    data["centre"] = org["centres"]["350211001001"].pk
    response = admin_client(superuser).post(f"/admin/org/user/{worker.pk}/change/", data)
    assert response.status_code == 200
    worker.refresh_from_db()
    assert worker.role == Role.GRID_WORKER
