"""The intake hook: clear duplicates merge automatically, likely ones wait for the dispatcher,
the parent's timeline lists every report with its channel, and the reporter follows the outcome."""

import pytest
from django.test import override_settings

from civicgrid.cases import actions
from civicgrid.cases.models import CaseEvent, Channel
from civicgrid.cases.workflow import State
from civicgrid.dedup.models import Decision, DuplicateCandidate

from .conftest import east, later

pytestmark = pytest.mark.django_db

HOTLINE = ("杏林湾路下穿通道积水严重", "市民来电反映：今天暴雨后集美区杏林湾路下穿通道出现严重积水，水深约半米，车辆无法通行，"
           "请相关部门尽快排水。")
GRID_WORKER = ("下穿通道积水", "杏林湾路下穿通道积水严重，车辆熄火，已拉警戒线")
SENSOR = ("水位传感器告警", "下穿通道积水水位0.52米，超过告警阈值0.30米")


def test_a_clear_duplicate_is_merged_automatically(file_report, cats):
    # given a 12345 report of a flooded underpass
    first = file_report(*HOTLINE[:1], cats.flood, description=HOTLINE[1], channel=Channel.HOTLINE_12345,
                        address="厦门市集美区杏林湾路下穿通道")
    # when a grid worker reports it 30 m away an hour later
    second = file_report(GRID_WORKER[0], cats.flood, description=GRID_WORKER[1], channel=Channel.GRID_PATROL,
                         lon=east(30)[0], at=later(1))
    # then the new report is merged into the open case by the system, with the reasons in the note
    assert (second.state, second.parent_id) == (State.MERGED, first.pk)
    merge = CaseEvent.objects.get(case=second, action="merge")
    assert merge.actor is None and first.number in merge.note
    row = DuplicateCandidate.objects.get(case=second)
    assert (row.candidate_id, row.decision, row.decided_by) == (first.pk, Decision.MERGED, None)
    assert row.reasons["category"] == "same" and row.reasons["distance_m"] == pytest.approx(30, abs=1)
    # and the open case's timeline lists the merged report with its channel
    merged_in = CaseEvent.objects.get(case=first, action="merged_in")
    assert merged_in.data["merged_case_number"] == second.number
    assert merged_in.data["channel"] == Channel.GRID_PATROL


def test_one_incident_three_channels_is_one_case_with_three_reporters(file_report, cats, city):
    # given the flooded underpass reported by 12345, then a grid worker with a photo, then a sensor
    hotline = file_report(HOTLINE[0], cats.flood, description=HOTLINE[1], channel=Channel.HOTLINE_12345,
                          reporter_name="王先生", reporter_phone="13900001111", address="集美区杏林湾路下穿通道")
    grid = file_report(GRID_WORKER[0], cats.flood, description=GRID_WORKER[1], channel=Channel.GRID_PATROL,
                       lon=east(25)[0], at=later(0.5), actor=city.grid_worker, reporter_name="网格员李四")
    sensor = file_report(SENSOR[0], cats.flood, description=SENSOR[1], channel=Channel.SENSOR,
                         lon=east(10)[0], at=later(0.7), external_id="WL-0031-20261123")
    # then it is one case: the later reports are merged into the first
    assert [c.state for c in (hotline, grid, sensor)] == [State.REPORTED, State.MERGED, State.MERGED]
    assert grid.parent_id == sensor.parent_id == hotline.pk
    # with three channels and three reporters on its timeline
    events = CaseEvent.objects.filter(case=hotline).order_by("at", "pk")
    channels = [e.data["channel"] for e in events if e.action in ("report", "merged_in")]
    assert channels == [Channel.HOTLINE_12345, Channel.GRID_PATROL, Channel.SENSOR]
    from civicgrid.dedup.selectors import reports_of

    assert [r["case"].pk for r in reports_of(city.dispatcher, hotline)] == [hotline.pk, grid.pk, sensor.pk]


def test_a_likely_duplicate_waits_for_the_dispatcher(file_report, cats):
    # given an open manhole report
    first = file_report("井盖缺失", cats.manhole, description="人行道上井盖不见了")
    # when a report of a loose cover comes in 110 m away two days later (same class, other words)
    second = file_report("井盖松动", cats.manhole, description="井盖踩上去晃动", lon=east(110)[0], at=later(48))
    # then it stays a case of its own, with the candidate kept for the dispatcher
    assert second.state == State.REPORTED and second.parent_id is None
    row = DuplicateCandidate.objects.get(case=second)
    assert (row.candidate_id, row.decision) == (first.pk, Decision.PENDING)
    assert 0.4 <= row.score < 0.68


def test_an_unlikely_one_leaves_nothing(file_report, cats):
    file_report("井盖缺失", cats.manhole)
    second = file_report("路灯不亮", cats.lamp, lon=east(140)[0], at=later(70))
    assert second.state == State.REPORTED
    assert not DuplicateCandidate.objects.filter(case=second).exists()


def test_the_thresholds_come_from_the_settings(file_report, cats):
    # given the same clear duplicate as above, but automatic merging set out of reach
    first = file_report(HOTLINE[0], cats.flood, description=HOTLINE[1])
    with override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=1.01):
        second = file_report(GRID_WORKER[0], cats.flood, description=GRID_WORKER[1], at=later(1))
    # then it waits for the dispatcher instead
    assert second.state == State.REPORTED
    assert DuplicateCandidate.objects.get(case=second).candidate_id == first.pk
    # and with the suggestion threshold out of reach too, nothing is kept
    with override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=1.01, CIVICGRID_DEDUP_SUGGEST_SCORE=1.01):
        third = file_report(GRID_WORKER[0], cats.flood, description=GRID_WORKER[1], at=later(2))
    assert not DuplicateCandidate.objects.filter(case=third).exists()


def test_the_reporter_of_a_merged_report_follows_the_outcome(file_report, cats, city, client):
    # given a citizen's report (with its tracking token) merged automatically into an open case
    first = file_report(HOTLINE[0], cats.flood, description=HOTLINE[1])
    case, token = actions.report_citizen_case(
        channel=Channel.WEB, title=GRID_WORKER[0], description=GRID_WORKER[1], category=cats.flood,
        lon=east(20)[0], lat=east(20)[1], region_code=first.region_code, reported_at=later(1),
    )
    assert case.parent_id == first.pk
    # when the open case is handled and closed
    from civicgrid.cases.tests.builders import lead_of

    filed = actions.file_case(first, city.dispatcher)
    actions.dispatch_case(filed, city.city_management, [], city.dispatcher)
    actions.sign_for(lead_of(first), city.cm_handler)
    actions.report_result(lead_of(first), "已排水，道路恢复通行", city.cm_handler)
    actions.verify_case(first, True, city.dispatcher, "现场核实")
    # then the merged report's tracking page shows the outcome and the reply
    html = _track(client, token)
    assert "已排水，道路恢复通行" in html
    # and its tracking link rates the closure of the case it joined
    rating = actions.rate_case_by_tracking(token, "satisfied", "很快")
    assert rating.case_id == first.pk


def _track(client, token):
    from django.urls import reverse

    response = client.get(reverse("web:portal:track", args=[token]))
    assert response.status_code == 200
    return response.content.decode()


def test_reports_without_a_point_are_never_merged_automatically(file_report, cats):
    # given two identical reports in one grid, neither with a point
    first = file_report("井盖缺失", cats.manhole, lon=None, lat=None)
    second = file_report("井盖缺失", cats.manhole, lon=None, lat=None)
    # then the second waits for the dispatcher, however high its score
    assert second.state == State.REPORTED
    row = DuplicateCandidate.objects.get(case=second)
    assert (row.candidate_id, row.decision) == (first.pk, Decision.PENDING)
    assert row.score >= 0.68 and row.reasons["distance_m"] is None


def test_reports_without_a_category_are_never_merged_automatically(file_report):
    # given two identical reports at one point, neither with a category yet
    first = file_report("井盖缺失", None)
    second = file_report("井盖缺失", None)
    # then the second waits for the dispatcher
    assert second.state == State.REPORTED
    row = DuplicateCandidate.objects.get(case=second)
    assert (row.candidate_id, row.reasons["category"]) == (first.pk, "unknown")
    assert row.score >= 0.68
