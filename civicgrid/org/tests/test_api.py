import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from civicgrid.org import actions
from civicgrid.org.models import Role

pytestmark = pytest.mark.urls("civicgrid.org.tests.urls")

API = "/api/v1/org"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def results(response) -> list:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- me ------------------------------------------------------------------------------------------


def test_me_for_a_grid_worker_over_token_auth(grid_worker):
    # given a grid worker with an API token
    token = Token.objects.create(user=grid_worker)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    # when they ask who they are
    body = client.get(f"{API}/me/").json()
    # then they see their role, grid and allowed actions
    assert body["username"] == grid_worker.username
    assert body["role"] == Role.GRID_WORKER
    assert body["grid_codes"] == ["350211001001001"]
    assert body["jurisdiction"] is None and body["platform_wide"] is False
    # (sorted; the patrol and verification actions and unmasking, never the centre's or the log's)
    names = [a["name"] for a in body["allowed_actions"]]
    assert names == sorted(names)
    assert {"case.report", "case.rework", "case.verify", "pii.unmask"} <= set(names)
    assert not {"case.file", "case.dispatch", "org.manage", "audit.view"} & set(names)


def test_me_for_a_district_dispatcher(jimei_dispatcher):
    body = client_for(jimei_dispatcher).get(f"{API}/me/").json()
    assert body["role"] == Role.DISPATCHER
    assert body["centre"]["name"] == "集美区综治中心"
    assert body["department"] is None
    # the jurisdiction comes from the centre when none is set explicitly
    assert body["jurisdiction"] == {"code": "350211000000", "name": "集美区", "level": "district"}
    assert "case.dispatch" in {a["name"] for a in body["allowed_actions"]}
    assert "org.manage" not in {a["name"] for a in body["allowed_actions"]}


def test_me_requires_authentication(db):
    response = APIClient().get(f"{API}/me/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


# --- departments ----------------------------------------------------------------------------------


def test_department_list_is_scoped(org, jimei_dispatcher, superuser):
    seen = {d["code"] for d in results(client_for(jimei_dispatcher).get(f"{API}/departments/"))}
    assert "jm-police-jimei" in seen
    assert "sm-police-zhonghua" not in seen and "xm-water" not in seen
    everything = {d["code"] for d in results(client_for(superuser).get(f"{API}/departments/"))}
    assert everything == set(org["departments"])


def test_department_list_filters(org, superuser):
    client = client_for(superuser)
    police = results(client.get(f"{API}/departments/", {"kind": "police_station"}))
    assert {d["code"] for d in police} == {"jm-police-jimei", "jm-police-qiaoying", "sm-police-zhonghua"}
    # a region prefix or a full region code select the same subtree
    by_prefix = results(client.get(f"{API}/departments/", {"region": "350211"}))
    by_code = results(client.get(f"{API}/departments/", {"region": "350211000000"}))
    assert by_prefix == by_code
    assert {d["code"] for d in by_code} == {
        "jm-police-jimei", "jm-police-qiaoying", "jm-city-management", "jm-judicial-jimei",
    }
    both = results(client.get(f"{API}/departments/", {"region": "350211001", "kind": "police_station"}))
    assert [d["code"] for d in both] == ["jm-police-jimei"]


def test_department_detail_outside_jurisdiction_is_404(org, jimei_dispatcher):
    client = client_for(jimei_dispatcher)
    siming = org["departments"]["sm-police-zhonghua"]
    response = client.get(f"{API}/departments/{siming.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    own = org["departments"]["jm-police-jimei"]
    body = client.get(f"{API}/departments/{own.pk}/").json()
    assert body["name"] == "集美派出所"
    assert body["kind"] == "police_station"
    assert body["region"]["code"] == "350211001000"


def test_user_without_jurisdiction_sees_no_department(org, make_staff):
    nobody = make_staff("")
    assert results(client_for(nobody).get(f"{API}/departments/")) == []
    response = client_for(nobody).get(f"{API}/departments/{org['departments']['jm-police-jimei'].pk}/")
    assert response.status_code == 404


# --- centres and staff -----------------------------------------------------------------------------


def test_centre_list_is_scoped_and_filtered(org, jimei_dispatcher, grid_worker, platform_admin):
    codes = [c["region"]["code"] for c in results(client_for(jimei_dispatcher).get(f"{API}/centres/"))]
    assert codes == ["350211000000", "350211001000", "350211001001"]
    assert results(client_for(grid_worker).get(f"{API}/centres/")) == []
    streets = results(client_for(platform_admin).get(f"{API}/centres/", {"level": "street"}))
    assert [c["name"] for c in streets] == ["集美街道综治中心"]


def test_staff_list_needs_org_manage(org, jimei_dispatcher, jimei_admin, make_staff):
    # given a dispatcher: refused with the permission code
    response = client_for(jimei_dispatcher).get(f"{API}/staff/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    # given the district administrator: only 集美 staff
    siming = make_staff(Role.DEPARTMENT_HANDLER, department=org["departments"]["sm-police-zhonghua"])
    names = {u["username"] for u in results(client_for(jimei_admin).get(f"{API}/staff/"))}
    assert jimei_dispatcher.username in names and jimei_admin.username in names
    assert siming.username not in names


def test_grid_worker_reassigned_sees_the_new_grid(org, grid_worker):
    # when the worker gets a second grid, me/ shows it at once
    actions.assign_grid_worker(org["regions"]["350211001001002"], grid_worker)
    body = client_for(grid_worker).get(f"{API}/me/").json()
    assert body["grid_codes"] == ["350211001001001", "350211001001002"]
