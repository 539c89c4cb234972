"""The command-centre console through the Django test client: access, scoping, the queue and its
filters, the case view, every form calling its action, and errors shown next to the fields."""

import pytest
from django.test import Client
from django.urls import reverse

from civicgrid.cases import actions
from civicgrid.cases.models import Case, CaseRequest, Channel, RequestKind, Supervision
from civicgrid.cases.tests import conftest as case_fixtures
from civicgrid.cases.tests.builders import case_in_state, lead_of
from civicgrid.cases.tests.conftest import GRID, SIMING_GRID
from civicgrid.cases.workflow import AssignmentState, State

pytestmark = pytest.mark.django_db

# The case tests' small city: 集美区 and 思明区 with centres, departments and staff.
city, report, sla_rules, centre_chain = (
    case_fixtures.city, case_fixtures.report, case_fixtures.sla_rules, case_fixtures.centre_chain)


def square(lon, lat, d=0.01):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d],
                                                [lon, lat]]]}


@pytest.fixture
def dispatcher_client(client, city):
    client.force_login(city.dispatcher)
    return client


def url(name, *args):
    return reverse(f"web:console:{name}", args=args)


# --- access -----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, city):
    # given no login / when the queue is opened
    response = client.get(url("queue"))
    # then a redirect to the login page
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("who", ["cm_handler", "grid_worker"])
def test_staff_outside_the_centre_get_403(client, city, who):
    # given a department handler or grid worker
    client.force_login(getattr(city, who))
    # when they open any console page / then 403
    for name in ("queue", "map", "dashboard"):
        assert client.get(url(name)).status_code == 403


@pytest.mark.parametrize("who", ["dispatcher", "leader", "admin"])
def test_centre_staff_open_every_page(client, city, who):
    # given a dispatcher, a leader or an administrator
    client.force_login(getattr(city, who))
    # when they open the pages / then each renders
    for name in ("queue", "map", "dashboard"):
        response = client.get(url(name))
        assert response.status_code == 200, name


# --- the queue ---------------------------------------------------------------------------------------


def test_queue_lists_urgent_first_then_by_deadline_with_tab_counts(dispatcher_client, city, report, sla_rules):
    # given two normal cases (the older one due first) and an urgent one reported last, plus a
    # closed one and one in another district
    first = report(title="先报的", category=city.category)
    second = report(title="后报的", category=city.category)
    urgent = report(title="紧急的", urgency="urgent", category=city.category)
    case_in_state(city, State.CLOSED)
    report(title="思明的", region_code=SIMING_GRID)
    # when the open tab is polled
    response = dispatcher_client.get(url("queue_rows"))
    rows = list(response.context["rows"])
    # then urgent first, then by deadline; 思明 is not there; tab counts match
    assert [c.pk for c in rows[:3]] == [urgent.pk, first.pk, second.pk]
    assert all(c.region_code.startswith("350211") for c in rows)
    counts = {t["key"]: t["count"] for t in response.context["tabs"]}
    assert counts["open"] == 3 and counts["reported"] == 3 and counts["closed"] == 1
    assert "思明的" not in response.content.decode()


def test_queue_filters_by_text_channel_sla_and_region(dispatcher_client, city, report):
    # given cases from different channels and streets
    a = report(title="井盖缺失", channel=Channel.HOTLINE_12345)
    b = report(title="噪音扰民", region_code="350211002001001")
    # when filtering / then only the matching ones
    def numbers(**params):
        return {c.number for c in dispatcher_client.get(url("queue_rows"), params).context["rows"]}

    assert numbers(q="噪音") == {b.number}
    assert numbers(q=a.number) == {a.number}
    assert numbers(channel=Channel.HOTLINE_12345) == {a.number}
    assert numbers(region="350211002000") == {b.number}
    assert numbers(sla="overdue") == set()
    assert numbers(tab="closed") == set()


def test_queue_page_polls_the_partial(dispatcher_client, city):
    # when the queue page renders / then its list refreshes itself every few seconds
    html = dispatcher_client.get(url("queue")).content.decode()
    assert 'hx-get="/console/queue/rows/"' in html and "every 4s" in html


# --- the case view -----------------------------------------------------------------------------------


def test_case_view_shows_the_case_with_masked_reporter_and_timeline(dispatcher_client, city, report):
    # given a case with a reporter's name and phone
    case = report(description="小区门口井盖缺失", reporter_name="张三丰", reporter_phone="13912341234")
    # when the dispatcher opens it
    response = dispatcher_client.get(url("case", case.number))
    html = response.content.decode()
    # then the description, the masked reporter, the timeline and the actions it allows
    assert response.status_code == 200
    assert "小区门口井盖缺失" in html and "张**" in html and "139****1234" in html
    assert "13912341234" not in html and "张三丰" not in html
    assert [p["key"] for p in response.context["panels"]] == ["file", "reject", "merge", "supervise",
                                                              "escalate", "cancel"]
    assert len(response.context["events"]) == 1


def test_another_districts_case_is_404(dispatcher_client, city, report):
    # given a case in 思明区
    case = report(region_code=SIMING_GRID)
    # when the 集美 dispatcher opens it or acts on it / then 404
    assert dispatcher_client.get(url("case", case.number)).status_code == 404
    assert dispatcher_client.post(url("case_action", case.number, "reject"), {"reason": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.state == State.REPORTED


def test_case_view_shows_the_grid_polygon_and_routing_suggestion(dispatcher_client, city, report):
    # given a grid with a boundary and a rule naming city management
    from civicgrid.taxonomy.models import ResponsibilityRule

    grid = city.regions[GRID]
    grid.geometry = square(118.1, 24.6)
    grid.save()
    rule = ResponsibilityRule.objects.create(category=city.category, lead_kind="city_management")
    case = report(category=city.category, lon=118.105, lat=24.605)
    # when opened
    response = dispatcher_client.get(url("case", case.number))
    # then the grid feature and the matched rule are there
    assert response.context["grid_feature"]["properties"]["code"] == GRID
    assert response.context["suggested_lead"] == city.city_management.name
    assert f"#{rule.pk}" in response.content.decode()


# --- actions -----------------------------------------------------------------------------------------


def test_file_then_dispatch_with_an_assisting_department(dispatcher_client, city, report):
    # given a reported case
    case = report()
    # when filed with a category, then dispatched to city management with the police assisting
    r1 = dispatcher_client.post(url("case_action", case.number, "file"),
                                {"category": city.category.pk, "urgency": "normal", "note": ""})
    r2 = dispatcher_client.post(url("case_action", case.number, "dispatch"), {
        "lead_department": city.city_management.pk, "assisting_departments": [city.police.pk], "note": "请处理"})
    # then both redirect back and the case is dispatched to both
    assert r1.status_code == 302 and r2.status_code == 302
    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert set(case.assignments.values_list("department_id", "role")) == {
        (city.city_management.pk, "lead"), (city.police.pk, "assisting")}


def test_dispatch_form_offers_departments_serving_the_place(dispatcher_client, city):
    # given a filed case in 集美
    case = case_in_state(city, State.FILED)
    # when its page renders
    form = dict((p["key"], p["form"]) for p in dispatcher_client.get(url("case", case.number)).context["panels"])
    choices = set(form["dispatch"].fields["lead_department"].queryset)
    # then city-wide and district departments serve it; 思明's does not
    assert {city.city_management, city.police, city.water} <= choices
    assert city.siming_cm not in choices


def test_a_required_reason_missing_is_shown_next_to_the_field(dispatcher_client, city, report):
    # given a reported case
    case = report()
    # when rejected without a reason
    response = dispatcher_client.post(url("case_action", case.number, "reject"), {"reason": "  "})
    # then 400, the error sits on the reject form's reason field, in Chinese, and nothing changed
    assert response.status_code == 400
    panel = next(p for p in response.context["panels"] if p["key"] == "reject")
    assert panel["open"] and panel["form"].errors["reason"]
    assert "必填" in response.content.decode()
    case.refresh_from_db()
    assert case.state == State.REPORTED


def test_merge_into_an_unknown_or_closed_case_explains_why(dispatcher_client, city, report):
    # given a reported case and a closed one
    case = report()
    closed = case_in_state(city, State.CLOSED)
    # when merged into a number that does not exist, then into the closed case
    r1 = dispatcher_client.post(url("case_action", case.number, "merge"), {"into": "350211-00000000-99999"})
    r2 = dispatcher_client.post(url("case_action", case.number, "merge"), {"into": closed.number})
    # then both are refused with a message on the "into" field
    assert r1.status_code == 400 and r1.context["panels"][2]["form"].errors["into"]
    assert r2.status_code == 400 and "已结案" in str(r2.context["panels"][2]["form"].errors["into"])
    # and a merge into an open case works
    other = report(title="同一井盖")
    r3 = dispatcher_client.post(url("case_action", case.number, "merge"), {"into": other.number, "note": "重复"})
    assert r3.status_code == 302
    case.refresh_from_db()
    assert case.state == State.MERGED and case.parent_id == other.pk


def test_domain_errors_are_shown_on_the_form(dispatcher_client, city):
    # given a closed case that was never rated
    case = case_in_state(city, State.CLOSED)
    # when the dispatcher tries to reopen it
    response = dispatcher_client.post(url("case_action", case.number, "reopen"), {"reason": "群众不满意"})
    # then the rule's message is shown on the reopen form
    assert response.status_code == 400
    panel = next(p for p in response.context["panels"] if p["key"] == "reopen")
    assert "不满意" in " ".join(panel["form"].non_field_errors())


def test_reject_cancel_supervise_and_escalate(client, city, report, centre_chain):
    # given a street dispatcher (集美街道 centre) and three reported cases
    client.force_login(city.street_dispatcher)
    a, b, c = report(), report(), report()
    # when they reject one, cancel one, supervise and escalate the third
    assert client.post(url("case_action", a.number, "reject"), {"reason": "不属实"}).status_code == 302
    assert client.post(url("case_action", b.number, "cancel"), {"reason": "群众撤回"}).status_code == 302
    assert client.post(url("case_action", c.number, "supervise"), {"level": 1, "note": "尽快立案"}).status_code == 302
    owner_before = Case.objects.get(pk=c.pk).owner_centre_id
    assert client.post(url("case_action", c.number, "escalate"), {"reason": "需区级协调"}).status_code == 302
    # then each action took effect
    states = dict(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "state"))
    assert states == {a.pk: State.REJECTED, b.pk: State.CANCELLED}
    assert Supervision.objects.filter(case=c, level=1).count() == 1
    c.refresh_from_db()
    assert c.escalation_level == 1 and c.owner_centre_id != owner_before


def test_verify_fail_needs_a_note_and_pass_closes(dispatcher_client, city):
    # given a resolved case
    case = case_in_state(city, State.RESOLVED)
    # when verification fails without a note / then the error is on the note
    r1 = dispatcher_client.post(url("case_action", case.number, "verify"), {"passed": "fail", "note": ""})
    assert r1.status_code == 400
    assert next(p for p in r1.context["panels"] if p["key"] == "verify")["form"].errors["note"]
    # when it passes / then the case is closed
    r2 = dispatcher_client.post(url("case_action", case.number, "verify"), {"passed": "pass", "note": "已核实"})
    assert r2.status_code == 302
    case.refresh_from_db()
    assert case.state == State.CLOSED


def test_suspend_and_resume(dispatcher_client, city):
    # given a case in progress
    case = case_in_state(city, State.IN_PROGRESS)
    # when suspended, then resumed
    assert dispatcher_client.post(url("case_action", case.number, "suspend"), {"reason": "等待产权确认"}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.SUSPENDED
    assert dispatcher_client.post(url("case_action", case.number, "resume"), {"note": ""}).status_code == 302
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS


def test_extension_requests_are_approved_and_suspension_requests_refused(dispatcher_client, city):
    # given a case in progress whose department asks for 2 more days and for a suspension
    case = case_in_state(city, State.IN_PROGRESS)
    lead = lead_of(case)
    ext = actions.request_extension(lead, 2, "days", "材料未到", city.cm_handler)
    sus = actions.request_suspension(lead, "等待法院判决", city.cm_handler)
    page = dispatcher_client.get(url("case", case.number))
    assert len(page.context["decisions"]) == 2
    # when the extension is approved and the suspension refused without, then with, a reason
    r1 = dispatcher_client.post(url("case_action", case.number, "decide"), {"request": ext.pk, "decision": "approve"})
    r2 = dispatcher_client.post(url("case_action", case.number, "decide"),
                                {"request": sus.pk, "decision": "refuse", "reason": ""})
    r3 = dispatcher_client.post(url("case_action", case.number, "decide"),
                                {"request": sus.pk, "decision": "refuse", "reason": "不符合挂起条件"})
    # then the decisions are recorded; the missing reason was shown on that request's form
    assert r1.status_code == 302 and r3.status_code == 302
    assert r2.status_code == 400 and r2.context["decisions"][0]["open"]
    states = dict(CaseRequest.objects.values_list("kind", "state"))
    assert states == {RequestKind.EXTENSION: "approved", RequestKind.SUSPENSION: "refused"}
    assert lead_of(case).state == AssignmentState.SIGNED


def test_leader_sees_supervise_and_escalate_but_not_file(client, city, report):
    # given a leader and a reported case
    client.force_login(city.leader)
    case = report()
    # when the leader opens it / then only overlays the leader's role allows are offered
    keys = [p["key"] for p in client.get(url("case", case.number)).context["panels"]]
    assert keys == ["supervise", "escalate"]
    # and posting a file is refused with a message
    response = client.post(url("case_action", case.number, "file"), {"category": city.category.pk, "urgency": "normal"})
    assert response.status_code == 400 and response.context["failed_errors"] == ["您无权立案。"]
    case.refresh_from_db()
    assert case.state == State.REPORTED


# --- map ---------------------------------------------------------------------------------------------


def test_map_layers_markers_and_grid_popup_are_scoped(dispatcher_client, city, report):
    # given boundaries for both districts' grids and communities, and a case in each district
    for code in (GRID, SIMING_GRID, "350211001001", "350203001001"):
        region = city.regions[code]
        region.geometry = square(118.0 + len(code) / 100, 24.5)
        region.save()
    mine = report(lon=118.1, lat=24.6)
    report(region_code=SIMING_GRID, lon=118.2, lat=24.5)
    actions.report_case(channel=Channel.WEB, title="无坐标", region_code=GRID)
    # when the layers and markers are fetched
    communities = dispatcher_client.get(url("map_layer", "community")).json()
    grids = dispatcher_client.get(url("map_layer", "grid"), {"parent": "350211001001"}).json()
    siming_grids = dispatcher_client.get(url("map_layer", "grid"), {"parent": "350203001001"}).json()
    markers = dispatcher_client.get(url("map_cases")).json()["cases"]
    # then only 集美's polygons and located cases
    assert [f["id"] for f in communities["features"]] == ["350211001001"]
    assert [f["id"] for f in grids["features"]] == [GRID]
    assert siming_grids["features"] == []
    assert [m["number"] for m in markers] == [mine.number]
    assert dispatcher_client.get(url("map_layer", "grid")).status_code == 400  # grids need a parent
    # and a grid popup counts its open cases and names its worker; 思明's grid is 404
    popup = dispatcher_client.get(url("map_grid", GRID))
    assert popup.context["open"] == 2 and popup.context["workers"] == [city.grid_worker]
    assert dispatcher_client.get(url("map_grid", SIMING_GRID)).status_code == 404


def test_tile_layer_only_when_configured(dispatcher_client, city, settings):
    # given no tile URL / then none on the page; given one / then it is handed to the map
    assert dispatcher_client.get(url("map")).context["tile_url"] == ""
    settings.CIVICGRID_MAP_TILE_URL = "http://tiles.intranet/{z}/{x}/{y}.png"
    assert "tiles.intranet" in dispatcher_client.get(url("map")).content.decode()


# --- dashboard ---------------------------------------------------------------------------------------


def test_dashboard_shows_figures_definitions_and_calendar_warnings(dispatcher_client, city, report):
    # given two cases reported today in 集美 (one by hotline) and one in 思明
    report(channel=Channel.HOTLINE_12345)
    report()
    report(region_code=SIMING_GRID)
    # when the dashboard renders
    response = dispatcher_client.get(url("dashboard"), {"days": 7})
    html = response.content.decode()
    # then today's intake counts the jurisdiction only, definitions and the calendar warning show
    assert response.context["intake_total"] == 2
    assert "满意率" in html and "按期结案率" in html
    assert response.context["calendar_warnings"] and response.context["calendar_warnings"][0] in html
    assert len(response.context["by_category"]["days"]) == 7


def test_case_view_shows_the_report_photos_through_the_checked_url(dispatcher_client, city):
    # given a case reported with a photo
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, "PNG")
    case = actions.report_case_with_photos(
        photos=[SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")],
        channel=Channel.WEB, title="井盖缺失", region_code=GRID)
    photo = case.attachments.get()
    # when the dispatcher opens the case / then the photo is shown from the staff photo URL
    html = dispatcher_client.get(url("case", case.number)).content.decode()
    photo_url = reverse("web:portal:attachment", args=[photo.pk])
    assert f'src="{photo_url}"' in html
    assert dispatcher_client.get(photo_url).status_code == 200


def test_case_view_shows_a_supervision_notice_addressed_to_the_department(dispatcher_client, city):
    # given a case in progress supervised by the centre (the notice goes to the lead department)
    case = case_in_state(city, State.IN_PROGRESS)
    client_for_leader = Client()
    client_for_leader.force_login(city.leader)
    assert client_for_leader.post(url("case_action", case.number, "supervise"),
                                  {"level": 1, "note": "加快处置"}).status_code == 302
    supervision = Supervision.objects.get(case=case)
    assert supervision.department_id and supervision.centre_id is None
    # when the dispatcher opens the case
    response = dispatcher_client.get(url("case", case.number))
    # then the page names the department the notice was addressed to
    assert response.status_code == 200
    assert supervision.department.name in response.content.decode()
