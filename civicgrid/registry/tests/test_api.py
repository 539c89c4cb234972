"""The registry API: masked answers, reveal with reason (logged), 404 for another grid's records
on every endpoint, import report, export permission, visits and items."""

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import Workbook
from rest_framework.test import APIClient

from civicgrid.audit.models import AccessLogEntry
from civicgrid.cases.models import Case
from civicgrid.registry import actions

from .conftest import ID_1, ID_3, PHONE_1, USCC_1

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registry"


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


@pytest.fixture
def visit(world, resident):
    return actions.record_visit(world.grid_worker, household=resident.household,
                                started_at=timezone.now() - datetime.timedelta(hours=1), duration_minutes=40,
                                items=[("need", "需要轮椅")])


def test_resident_is_answered_masked(world, resident):
    body = client_for(world.grid_worker).get(f"{BASE}/residents/{resident.pk}/").json()
    assert body["name"] == "张*" and body["id_number"] == "350211********123X" and body["phone"] == "139****1234"
    listing = client_for(world.dispatcher).get(f"{BASE}/residents/").json()
    text = str(listing)
    assert ID_1 not in text and PHONE_1 not in text and "张三" not in text


def test_every_endpoint_answers_404_for_another_grids_records(world, far_resident):
    # given 李四 in 叶厝 with a visit, an item and an organisation; the 岑西 grid worker asks for them
    far_visit = actions.record_visit(world.other_worker, household=far_resident.household,
                                     started_at=timezone.now() - datetime.timedelta(hours=1), duration_minutes=20,
                                     items=[("need", "x")])
    item = far_visit.items.get()
    house = far_resident.house
    org = actions.create_organisation(world.other_worker, address=house.address, name="叶厝商店", uscc=USCC_1)
    c = client_for(world.grid_worker)
    r, h = far_resident.pk, far_resident.household_id
    calls = [
        ("get", f"{BASE}/residents/{r}/", None), ("patch", f"{BASE}/residents/{r}/", {"phone": PHONE_1}),
        ("delete", f"{BASE}/residents/{r}/", {"reason": "x"}),
        ("post", f"{BASE}/residents/{r}/reveal", {"field": "phone", "reason": "核实"}),
        ("get", f"{BASE}/residents/{r}/history", None),
        ("get", f"{BASE}/houses/{house.pk}/", None), ("patch", f"{BASE}/houses/{house.pk}/", {"is_rented": True}),
        ("get", f"{BASE}/addresses/{house.address_id}/", None),
        ("patch", f"{BASE}/addresses/{house.address_id}/", {"room": "9"}),
        ("get", f"{BASE}/households/{h}/", None),
        ("get", f"{BASE}/organisations/{org.pk}/", None),
        ("patch", f"{BASE}/organisations/{org.pk}/", {"name": "x"}),
        ("post", f"{BASE}/organisations/{org.pk}/reveal", {"field": "contact_phone", "reason": "x"}),
        ("get", f"{BASE}/visits/{far_visit.pk}/", None),
        ("post", f"{BASE}/visits/{far_visit.pk}/items", {"kind": "need", "text": "y"}),
        ("get", f"{BASE}/items/?household={h}", None),
        ("post", f"{BASE}/items/{item.pk}/case", {}), ("post", f"{BASE}/items/{item.pk}/done", {}),
        ("post", f"{BASE}/visits/", {"household": h, "started_at": timezone.now().isoformat(),
                                      "duration_minutes": 10}),
        ("post", f"{BASE}/residents/", {"name": "x", "id_number": ID_3, "house": house.pk}),
        ("post", f"{BASE}/organisations/", {"name": "x", "uscc": USCC_1, "address": house.address_id}),
        ("post", f"{BASE}/houses/", {"address": house.address_id}),
    ]
    for method, url, data in calls:
        response = getattr(c, method)(url, data, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    # and the lists simply do not contain them
    assert c.get(f"{BASE}/residents/").json()["count"] == 0
    assert c.get(f"{BASE}/residents/?q=李四").json()["count"] == 0
    assert not AccessLogEntry.objects.exists() and not Case.objects.exists()


def test_reveal_needs_a_reason_and_is_logged(world, resident):
    c = client_for(world.grid_worker)
    refused = c.post(f"{BASE}/residents/{resident.pk}/reveal", {"field": "phone", "reason": ""}, format="json")
    assert refused.status_code in (400, 422) and not AccessLogEntry.objects.exists()
    shown = c.post(f"{BASE}/residents/{resident.pk}/reveal", {"field": "phone", "reason": "上门联系"}, format="json")
    assert shown.json() == {"field": "phone", "value": PHONE_1}
    entry = AccessLogEntry.objects.get()
    assert entry.action == "unmask" and entry.reason == "上门联系" and entry.user_id == world.grid_worker.pk
    # the next answer is masked again
    assert c.get(f"{BASE}/residents/{resident.pk}/").json()["phone"] == "139****1234"
    # a leader (no unmask permission) is refused
    assert client_for(world.leader).post(f"{BASE}/residents/{resident.pk}/reveal",
                                         {"field": "phone", "reason": "x"}, format="json").status_code == 403


def test_create_and_edit_a_resident_through_the_api_with_history(world, home):
    _a, house, household = home
    c = client_for(world.grid_worker)
    made = c.post(f"{BASE}/residents/", {"name": "王五", "id_number": ID_3, "house": house.pk,
                                         "household": household.pk, "care_tags": ["disabled"]}, format="json")
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    bad = c.patch(f"{BASE}/residents/{pk}/", {"phone": "12345"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["phone"][0]["code"] == "invalid_length"
    ok = c.patch(f"{BASE}/residents/{pk}/", {"phone": PHONE_1}, format="json")
    assert ok.status_code == 200 and ok.json()["phone"] == "139****1234"
    history = c.get(f"{BASE}/residents/{pk}/history").json()["results"]
    assert history[0]["actor"] == "gridworker" and history[0]["changes"] == {"phone": ["", "139****1234"]}
    duplicate = c.post(f"{BASE}/residents/", {"name": "王五", "id_number": ID_3, "house": house.pk}, format="json")
    assert duplicate.json()["error"]["fields"]["id_number"][0]["code"] == "duplicate_person"


def test_search_by_id_number(world, resident):
    body = client_for(world.dispatcher).get(f"{BASE}/residents/", {"q": ID_1}).json()
    assert [r["id"] for r in body["results"]] == [resident.pk]


def test_import_report_and_export_over_the_api(world, resident):
    book = Workbook()
    book.active.append(["姓名", "证件号码", "所属社区", "所属网格", "街路巷", "门牌号"])
    book.active.append(["王五", ID_3[:-1] + "0", "岑西社区", "350211001001001", "岑西路", "3"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "bad.xlsx"
    c = client_for(world.dispatcher)
    response = c.post(f"{BASE}/residents/import", {"file": out}, format="multipart")
    assert response.status_code == 422
    report = response.json()["report"]
    assert report["bad_rows"] == [2] and report["errors"][0]["column"] == "B"
    # export: refused without the permission (leader), logged with it
    assert client_for(world.leader).post(f"{BASE}/residents/export", {"reason": "x"}, format="json").status_code == 403
    exported = c.post(f"{BASE}/residents/export", {"reason": "年度核对"}, format="json")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/vnd.openxml")
    assert AccessLogEntry.objects.get().action == "export"


def test_visit_item_to_case_and_hours_over_the_api(world, resident, visit):
    c = client_for(world.grid_worker)
    item = visit.items.get()
    response = c.post(f"{BASE}/items/{item.pk}/case", {}, format="json")
    assert response.status_code == 201 and response.json()["state"] == "case"
    assert Case.objects.get().number == response.json()["case_number"]
    rows = c.get(f"{BASE}/visit-hours/", {"days": 1}).json()
    assert rows[0]["username"] == "gridworker" and rows[0]["norm_minutes"] == 120
    made = c.post(f"{BASE}/visits/", {"household": resident.household_id,
                                      "started_at": (timezone.now() - datetime.timedelta(minutes=30)).isoformat(),
                                      "duration_minutes": 25, "items": [{"kind": "sentiment", "text": "停车难"}]},
                  format="json")
    assert made.status_code == 201 and made.json()["items"][0]["kind"] == "sentiment"


def test_address_parse_endpoint(world, home):
    body = client_for(world.grid_worker).get(f"{BASE}/addresses/parse", {"text": "岑西社区岑西路1号2栋1单元109室"}).json()
    assert body["unmatched"] == "room" and body["address"] is None
    body = client_for(world.grid_worker).get(f"{BASE}/addresses/parse", {"text": "岑西社区岑西路1号2栋1单元101室"}).json()
    assert body["address"]["id"] == home[0].pk


def test_department_handler_sees_no_registry(world, resident):
    c = client_for(world.cm_handler)
    assert c.get(f"{BASE}/residents/{resident.pk}/").status_code == 404
    assert c.get(f"{BASE}/houses/").json()["count"] == 0


def test_the_generic_reveal_endpoint_opens_residents_in_scope_only(world, resident, far_resident):
    c = client_for(world.grid_worker)
    body = {"object_type": "registry.resident", "fields": ["id_number"], "reason": "核对身份"}
    assert c.post("/api/v1/audit/reveal", {**body, "object_id": str(far_resident.pk)}, format="json").status_code == 404
    assert c.post("/api/v1/audit/reveal", {**body, "object_id": "abc"}, format="json").status_code == 404
    shown = c.post("/api/v1/audit/reveal", {**body, "object_id": str(resident.pk)}, format="json")
    assert shown.json() == {"values": {"id_number": ID_1}}
    assert AccessLogEntry.objects.get().object_id == str(resident.pk)
