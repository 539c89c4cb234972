"""The cases API: reporting (with field errors and idempotency), the scoped list and detail, and
masking. The action endpoints are in test_api_actions.py."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from civicgrid.cases.models import Case, Channel
from civicgrid.core.models import IdempotencyRecord
from civicgrid.regions import generation
from civicgrid.regions.models import Region

from .builders import case_in_state
from .conftest import GRID, SIMING_GRID

URL = "/api/v1/cases/"
# A point inside the square drawn around 岑西一网格 below, and the same place as a Chinese phone
# map (GCJ-02) shows it: read as WGS-84 those numbers fall outside every region.
POINT = (118.1005, 24.6005)
POINT_GCJ02 = (118.10548227, 24.59784258)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def mapped(city):
    """The city, with a boundary for 岑西一网格 (so points can be located)."""
    Region.objects.filter(code=GRID).update(geometry={"type": "Polygon", "coordinates": [[
        [118.10, 24.60], [118.11, 24.60], [118.11, 24.61], [118.10, 24.61], [118.10, 24.60],
    ]]})
    generation.bump()
    return city


def body(**overrides) -> dict:
    data = {
        "channel": "web", "title": "井盖缺失", "description": "岑西路口的井盖不见了",
        "lon": POINT[0], "lat": POINT[1], "reporter_name": "张三", "reporter_phone": "139 1234 5678",
        "urgency": "normal", "request_type": "help",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def error_codes(response) -> dict:
    return {f: [e["code"] for e in errs] for f, errs in response.json()["error"]["fields"].items()}


# --- create -------------------------------------------------------------------------------------


def test_a_report_with_a_point_is_located_in_its_grid_and_numbered(mapped):
    # given a grid worker on patrol
    client = client_for(mapped.grid_worker)
    # when they report with a point and a category given by kind and code
    r = client.post(URL, body(category_kind="component", category_code="01001"), format="json")
    # then the case exists in 岑西一网格 with a number of its district, reporter data masked
    assert r.status_code == 201, r.json()
    data = r.json()
    case = Case.objects.get(number=data["number"])
    assert data["number"].startswith("350211-")
    assert case.region_code == GRID and case.state == "reported"
    assert case.reporter_phone == "13912345678"
    assert case.category == mapped.category
    assert data["reporter_phone"] == "139****5678" and data["reporter_name"] == "张*"
    assert data["timeline"][0]["action"] == "report"


def test_a_point_in_gcj02_is_converted_before_it_is_located(mapped):
    client = client_for(mapped.dispatcher)
    # given the phone-map coordinates of a place in the grid
    lon, lat = POINT_GCJ02
    # when they are sent as WGS-84 they lie outside every region
    r = client.post(URL, body(lon=lon, lat=lat), format="json")
    assert r.status_code == 400 and error_codes(r) == {"location": ["outside_regions"]}
    # when they are sent with crs=gcj02 they are located in the grid, and stored as WGS-84
    r = client.post(URL, body(lon=lon, lat=lat, crs="gcj02"), format="json")
    assert r.status_code == 201, r.json()
    case = Case.objects.get(number=r.json()["number"])
    assert case.region_code == GRID
    assert case.lon == pytest.approx(POINT[0], abs=1e-6) and case.lat == pytest.approx(POINT[1], abs=1e-6)


def test_a_report_with_only_an_address_is_resolved_to_the_finest_region_named(mapped):
    # when a dispatcher reports a hotline call with an address and no point
    r = client_for(mapped.dispatcher).post(URL, body(
        lon=None, lat=None, channel="hotline_12345", address="福建省厦门市集美区集美街道岑西社区后溪路12号",
    ), format="json")
    # then the case lies in 岑西社区 (the address names no grid)
    assert r.status_code == 201, r.json()
    assert r.json()["region_code"] == "350211001001"


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"channel": "fax"}, {"channel": ["invalid_choice"]}),
    ({"title": None}, {"title": ["required"]}),
    ({"title": ""}, {"title": ["blank"]}),
    ({"title": "长" * 201}, {"title": ["max_length"]}),
    ({"urgency": "very"}, {"urgency": ["invalid_choice"]}),
    ({"request_type": "gossip"}, {"request_type": ["invalid_choice"]}),
    ({"lon": 200}, {"lon": ["max_value"]}),
    ({"lat": "north"}, {"lat": ["invalid"]}),
    ({"lat": None}, {"lat": ["required"]}),
    ({"crs": "bd09"}, {"crs": ["invalid_choice"]}),
    ({"lon": None, "lat": None}, {"location": ["required"]}),
    ({"lon": 100.0, "lat": 30.0}, {"location": ["outside_regions"]}),
    ({"lon": None, "lat": None, "address": "火星基地"}, {"address": ["unresolved"]}),
    ({"reporter_phone": "1391234567"}, {"reporter_phone": ["invalid_length"]}),
    ({"reporter_phone": "12912345678"}, {"reporter_phone": ["invalid_format"]}),
    ({"reported_at": "2999-01-01T00:00:00+08:00"}, {"reported_at": ["in_future"]}),
    ({"reported_at": "yesterday"}, {"reported_at": ["invalid"]}),
    ({"category_id": 999999}, {"category_id": ["does_not_exist"]}),
    ({"category_kind": "component"}, {"category_code": ["required"]}),
    ({"category_kind": "matter", "category_code": "01001"}, {"category_code": ["does_not_exist"]}),
    ({"category_code": "1"}, {"category_code": ["invalid"]}),
    ({"external_id": "x" * 101}, {"external_id": ["max_length"]}),
])
def test_each_invalid_field_is_reported_with_its_code(mapped, overrides, expected):
    # when a report has one bad field
    r = client_for(mapped.dispatcher).post(URL, body(**overrides), format="json")
    # then nothing is created and the answer names that field with a stable code
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "invalid"
    assert error_codes(r) == expected
    assert not Case.objects.exists()


def test_a_report_outside_the_callers_jurisdiction_is_refused_on_the_place(mapped):
    # given 思明区's dispatcher, when they report a point in 集美区
    r = client_for(mapped.siming_dispatcher).post(URL, body(), format="json")
    # then the place is refused
    assert r.status_code == 400
    assert error_codes(r) == {"region_code": ["outside_jurisdiction"]}


def test_a_role_that_may_not_report_gets_403_with_a_code(mapped):
    r = client_for(mapped.cm_handler).post(URL, body(), format="json")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


def test_an_anonymous_caller_is_refused_and_a_token_is_accepted(mapped):
    # when nobody is logged in
    r = APIClient().post(URL, body(), format="json")
    assert r.status_code in (401, 403) and r.json()["error"]["code"] == "not_authenticated"
    # when a system calls with its token
    token = Token.objects.create(user=mapped.dispatcher)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.post(URL, body(), format="json").status_code == 201


# --- idempotency ------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_returns_the_first_case(mapped):
    client = client_for(mapped.dispatcher)
    # given a report sent with an idempotency key
    first = client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    # when the client retries it (keys in another order)
    again = client.post(URL, dict(reversed(list(body().items()))), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # then it gets the same answer, marked as replayed, and there is still one case
    assert again.status_code == 201
    assert again.json()["number"] == first.json()["number"]
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_with_422(mapped):
    client = client_for(mapped.dispatcher)
    client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # when the key is reused for a different report
    r = client.post(URL, body(title="路灯不亮"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # then it is refused and no second case exists
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1


def test_a_refused_request_releases_its_key_for_a_corrected_retry(mapped):
    client = client_for(mapped.dispatcher)
    # given a report refused for a bad phone number
    r = client.post(URL, body(reporter_phone="123"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    # when the corrected report is sent with the same key
    r = client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    # then it is accepted
    assert r.status_code == 201
    assert IdempotencyRecord.objects.get(key="k-2").completed


def test_the_same_key_from_two_callers_makes_two_cases(mapped):
    # the key is scoped to the caller: two systems may pick the same one
    a = client_for(mapped.dispatcher).post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = client_for(mapped.grid_worker).post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert a.status_code == b.status_code == 201
    assert a.json()["number"] != b.json()["number"]


def test_a_channel_retry_of_the_same_external_id_answers_200_with_the_same_case(mapped):
    client = client_for(mapped.dispatcher)
    # given a hotline ticket reported once
    first = client.post(URL, body(channel="hotline_12345", external_id="RX-0001"), format="json")
    assert first.status_code == 201
    # when the hotline system sends it again (without an idempotency key)
    again = client.post(URL, body(channel="hotline_12345", external_id="RX-0001"), format="json")
    # then it is told the existing case, with 200
    assert again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    # the same external id on another channel is another matter
    other = client.post(URL, body(channel="digital_city", external_id="RX-0001"), format="json")
    assert other.status_code == 201


def test_an_external_id_taken_outside_the_jurisdiction_does_not_leak_the_case(mapped):
    # given 思明区 holds a hotline ticket RX-9
    siming = client_for(mapped.siming_dispatcher).post(URL, body(
        lon=None, lat=None, channel="hotline_12345", external_id="RX-9", address="福建省厦门市思明区中华街道中山社区",
    ), format="json")
    assert siming.status_code == 201, siming.json()
    # when 集美区's dispatcher reports the same ticket
    r = client_for(mapped.dispatcher).post(URL, body(channel="hotline_12345", external_id="RX-9"), format="json")
    # then they are told the id is taken, without the case
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "external_id_taken"
    assert "number" not in r.json()


# --- list and detail ------------------------------------------------------------------------------


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [c["number"] for c in response.json()["results"]]


def test_the_list_is_scoped_ordered_by_urgency_then_deadline_and_paginated(city, report):
    # given three cases in 集美区 (one urgent, one filed with a nearer deadline) and one in 思明区
    plain = report(title="普通事件")
    urgent = report(title="紧急事件", urgency="urgent")
    due = case_in_state(city, "filed")
    Case.objects.filter(pk=due.pk).update(stage_deadline=timezone.now() + datetime.timedelta(hours=1))
    Case.objects.filter(pk=plain.pk).update(stage_deadline=timezone.now() + datetime.timedelta(days=3))
    siming = report(title="思明事件", region_code=SIMING_GRID)
    client = client_for(city.dispatcher)
    # when 集美区's dispatcher lists cases
    numbers = _numbers(client.get(URL))
    # then they see their three, urgent first, then by deadline
    assert numbers == [urgent.number, due.number, plain.number]
    assert siming.number not in numbers
    # and pages hold what was asked for
    page = client.get(URL, {"limit": 1, "offset": 1}).json()
    assert page["count"] == 3 and [c["number"] for c in page["results"]] == [due.number]


def test_the_list_filters(city, report):
    # given a spread of cases
    web = report(title="井盖缺失", reporter_phone="13912345678")
    hotline = report(title="噪音扰民", channel=Channel.HOTLINE_12345, description="夜间施工", urgency="urgent",
                     region_code="350211002001001")
    filed = case_in_state(city, "filed")
    old = report(title="旧事件", reported_at=timezone.now() - datetime.timedelta(days=10))
    client = client_for(city.dispatcher)

    def listed(**params):
        return set(_numbers(client.get(URL, params)))

    # then each filter narrows the list
    assert listed(state="filed") == {filed.number}
    assert listed(state=["filed", "reported"]) == {web.number, hotline.number, filed.number, old.number}
    assert listed(channel="hotline_12345") == {hotline.number}
    assert listed(urgency="urgent") == {hotline.number}
    assert listed(category=city.category.pk) == {filed.number}
    assert listed(category_kind="component", category_code="01001") == {filed.number}
    assert listed(region="350211002") == {hotline.number}
    assert listed(region="350211002000") == {hotline.number}
    assert listed(sla_status="overdue") == set()
    assert listed(q="施工") == {hotline.number}
    assert listed(q="噪音") == {hotline.number}
    assert listed(q=web.number) == {web.number}
    week_ago = (timezone.now() - datetime.timedelta(days=7)).isoformat()
    assert listed(reported_to=week_ago) == {old.number}
    assert old.number not in listed(reported_from=week_ago)
    # and a malformed filter is a field error
    r = client.get(URL, {"region": "abc", "state": "lost"})
    assert r.status_code == 400
    assert error_codes(r) == {"region": ["invalid"], "state": ["invalid_choice"]}


def test_the_list_and_detail_mask_the_reporter(city, report):
    case = report(reporter_name="欧阳娜娜", reporter_phone="13912345678")
    client = client_for(city.dispatcher)
    row = client.get(URL).json()["results"][0]
    detail = client.get(f"{URL}{case.number}/").json()
    for shown in (row, detail):
        assert shown["reporter_name"] == "欧阳**"
        assert shown["reporter_phone"] == "139****5678"
    assert "13912345678" not in str(detail)


def test_the_detail_has_timeline_and_assignments_and_is_404_elsewhere(city):
    # given a dispatched case in 集美区
    case = case_in_state(city, "dispatched")
    # when 集美区's dispatcher opens it
    r = client_for(city.dispatcher).get(f"{URL}{case.number}/")
    # then it shows the steps so far and the lead task
    assert r.status_code == 200
    data = r.json()
    assert [e["action"] for e in data["timeline"]] == ["report", "file", "dispatch"]
    assert [(a["department"]["id"], a["role"], a["state"]) for a in data["assignments"]] == [
        (city.city_management.pk, "lead", "pending"),
    ]
    assert "cancel" in data["available_actions"]
    # and for 思明区's dispatcher and for a department without a task it does not exist
    for outsider in (city.siming_dispatcher, city.police_handler):
        r = client_for(outsider).get(f"{URL}{case.number}/")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
    assert client_for(city.dispatcher).get(f"{URL}350211-20000101-99999/").status_code == 404


@pytest.mark.parametrize("auto", [False, True], ids=["routed", "auto-dispatched"])
def test_the_answer_to_a_report_is_the_detail_of_the_case_it_made(mapped, auto):
    # given a clear matrix answer for the category, with auto-dispatch off or on
    from civicgrid.org.models import DepartmentKind
    from civicgrid.taxonomy.models import Category, ResponsibilityRule

    ResponsibilityRule.objects.create(category=mapped.category, lead_kind=DepartmentKind.CITY_MANAGEMENT,
                                      assisting_kinds=[DepartmentKind.POLICE_STATION])
    Category.objects.filter(pk=mapped.category.pk).update(auto_dispatch=auto)
    client = client_for(mapped.dispatcher)
    # when a report is made (its answer rendered from the objects the report wrote)
    made = client.post(URL, body(category_kind="component", category_code="01001"), format="json")
    assert made.status_code == 201, made.json()
    # then it says exactly what the case's detail, read back from the database, says
    detail = client.get(f"{URL}{made.json()['number']}/")
    assert made.json() == detail.json()
    assert [e["action"] for e in made.json()["timeline"]] == (["report", "file", "dispatch"] if auto else ["report"])
    assert len(made.json()["assignments"]) == (2 if auto else 0)
