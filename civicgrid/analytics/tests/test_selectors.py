"""Each dashboard figure against data built here through the real actions and counted by hand.

The clock starts on Monday 2026-11-23 09:00 (Asia/Shanghai); the default SLA rule gives one working
hour per stage before handling and three working days to handle."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.http import Http404
from django.utils.translation import gettext as _

from civicgrid.analytics import selectors as figures
from civicgrid.cases import actions
from civicgrid.cases.models import Channel
from civicgrid.cases.tests.builders import lead_of
from civicgrid.cases.tests.conftest import GRID, OTHER_GRID, SIMING_GRID
from civicgrid.taxonomy.models import Category

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def test_intake_by_channel_counts_today_in_the_jurisdiction(city, report, clock):
    # given in 集美 today: 2 web, 1 hotline (one at 00:30 local, still today); yesterday 1 web;
    # and 1 web today in 思明
    report(reported_at=at(MONDAY, 8))
    report(reported_at=at(MONDAY, 0, 30))
    report(channel=Channel.HOTLINE_12345, reported_at=at(MONDAY, 8, 30))
    report(reported_at=at(MONDAY - timedelta(days=1), 23, 59))
    report(region_code=SIMING_GRID, reported_at=at(MONDAY, 8))
    # when the 集美 dispatcher's figure is read
    rows = figures.intake_by_channel(city.dispatcher, MONDAY)
    # then web 2, hotline 1, every other channel 0; most first
    counts = {r["channel"]: r["count"] for r in rows}
    assert counts[Channel.WEB] == 2 and counts[Channel.HOTLINE_12345] == 1
    assert sum(counts.values()) == 3 and len(rows) == len(Channel.values)
    assert [r["channel"] for r in rows[:2]] == [Channel.WEB, Channel.HOTLINE_12345]
    # and 思明's dispatcher sees only theirs
    assert sum(r["count"] for r in figures.intake_by_channel(city.siming_dispatcher, MONDAY)) == 1


def test_open_and_overdue_counts(city, report, clock, sla_rules):
    # given three open cases reported at 09:00 (file within 1 working hour), one rejected, and a
    # 思明 case; at 10:40 the sweep marks the unfiled ones overdue and the one filed at 09:50 due
    # soon (50 of its 60 working minutes gone, past the 80 % warning share)
    cases = [report(category=city.category) for _ in range(3)]
    actions.reject_case(report(), "不属实", city.dispatcher)
    siming = report(region_code=SIMING_GRID, category=city.category)
    clock.set(at(MONDAY, 9, 50))
    actions.file_case(cases[2], city.dispatcher)  # its dispatch stage starts now: 1 working hour
    clock.set(at(MONDAY, 10, 40))
    for c in [*cases, siming]:
        actions.sweep_case(c.pk, clock.now)
    # when counted for the 集美 dispatcher
    counts = figures.open_counts(city.dispatcher)
    # then 3 open, 2 overdue, 1 due soon
    assert counts == {"open": 3, "overdue": 2, "warning": 1}
    # and 思明 has its own single overdue case
    assert figures.open_counts(city.siming_dispatcher) == {"open": 1, "overdue": 1, "warning": 0}


def _close(city, report, resolve_at, close_at, clock, region_code=GRID):
    clock.set(at(MONDAY, 9))
    case = report(category=city.category, region_code=region_code)
    d = city.dispatcher if region_code != SIMING_GRID else city.siming_dispatcher
    dept = city.city_management if region_code != SIMING_GRID else city.siming_cm
    handler = city.cm_handler if region_code != SIMING_GRID else city.siming_handler
    actions.file_case(case, d)
    actions.dispatch_case(case, dept, [], d)
    actions.sign_for(lead_of(case), handler)
    clock.set(resolve_at)
    actions.report_result(lead_of(case), "已处理", handler)
    clock.set(close_at)
    case.refresh_from_db()
    return actions.verify_case(case, True, d, "已核实")


def test_on_time_closure_rate(city, report, clock, sla_rules):
    # given (handling due three working days after Monday 09:00, i.e. Thursday 09:00):
    # A resolved Tuesday, closed Tuesday — on time; B resolved next Monday, closed then — late;
    # C resolved Wednesday but closed in the next period; D in 思明, on time
    tue, wed, next_mon = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2), MONDAY + timedelta(days=7)
    a = _close(city, report, at(tue, 10), at(tue, 11), clock)
    b = _close(city, report, at(next_mon, 10), at(next_mon, 11), clock)
    _close(city, report, at(wed, 10), at(next_mon + timedelta(days=8), 10), clock)
    _close(city, report, at(tue, 10), at(tue, 11), clock, region_code=SIMING_GRID)
    assert a.resolved_at <= a.due_at < b.resolved_at  # the hand count's premise
    period = figures.Period(at(MONDAY, 0), at(next_mon + timedelta(days=1), 0))
    # when the rate is read for 集美 / then 1 of 2 closed in the period was on time
    assert figures.on_time_closure_rate(city.dispatcher, period) == {
        "closed": 2, "on_time": 1, "rate": Decimal("50.0")}
    # and for a period with nothing closed the rate is empty, not zero
    empty = figures.Period(at(MONDAY - timedelta(days=30), 0), at(MONDAY - timedelta(days=29), 0))
    assert figures.on_time_closure_rate(city.dispatcher, empty)["rate"] is None


def test_satisfaction_rate_weights_basically_satisfied(city, report, clock, sla_rules):
    # given four closed 集美 cases rated 满意, 基本满意, 不满意 and one not rated, plus a 思明 case
    # rated 不满意
    tue = MONDAY + timedelta(days=1)
    closed = [_close(city, report, at(tue, 10), at(tue, 11), clock) for _ in range(4)]
    siming = _close(city, report, at(tue, 10), at(tue, 11), clock, region_code=SIMING_GRID)
    for case, rating in zip(closed[:3], ["satisfied", "basically_satisfied", "unsatisfied"], strict=True):
        actions.rate_case(case.rating_token, rating)
    actions.rate_case(siming.rating_token, "unsatisfied")
    period = figures.last_days(7, tue)
    # when the rate is read for 集美
    got = figures.satisfaction_rate(city.dispatcher, period)
    # then (1 + 0.9 × 1) / 3 = 63.3 %
    assert (got["rated"], got["satisfied"], got["basically_satisfied"], got["unsatisfied"]) == (3, 1, 1, 1)
    assert got["rate"] == Decimal("63.3")
    assert figures.satisfaction_rate(city.siming_dispatcher, period)["rate"] == Decimal("0.0")


def test_trends_by_category_and_district(city, report, clock):
    # given over Mon–Wed: Mon 2 井盖 (集美街道), Tue 1 井盖 + 1 路灯 (侨英街道), Wed 1 without category;
    # and 思明 cases, which the district leader of 集美 does not see but the admin does
    lamp = Category.objects.create(kind="component", code="02001", major_code="02", name="路灯")
    tue, wed = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    report(category=city.category, reported_at=at(MONDAY, 9))
    report(category=city.category, reported_at=at(MONDAY, 23, 30))
    report(category=city.category, reported_at=at(tue, 9), region_code=OTHER_GRID)
    report(category=lamp, reported_at=at(tue, 10), region_code=OTHER_GRID)
    report(reported_at=at(wed, 9))
    report(category=lamp, reported_at=at(wed, 9), region_code=SIMING_GRID)
    period = figures.Period(at(MONDAY, 0), at(wed + timedelta(days=1), 0))
    # when the trends are read for the 集美 leader
    by_category = figures.trend_by_category(city.leader, period)
    by_district = figures.trend_by_district(city.leader, period)
    # then days are Mon..Wed and the series are hand counts, biggest first
    assert by_category["days"] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert [(s["key"], s["name"], s["data"]) for s in by_category["series"]] == [
        (city.category.pk, "上水井盖", [2, 1, 0]), (lamp.pk, "路灯", [0, 1, 0]), (None, str(_("no category yet")), [0, 0, 1])]
    assert [(s["name"], s["data"]) for s in by_district["series"]] == [("集美区", [2, 2, 1])]
    # and the administrator sees both districts; with top=1 the rest is "other"
    assert [(s["name"], s["total"]) for s in figures.trend_by_district(city.admin, period)["series"]] == [
        ("集美区", 5), ("思明区", 1)]
    top1 = figures.trend_by_category(city.admin, period, top=1)["series"]
    assert [(s["key"], s["data"]) for s in top1] == [(city.category.pk, [2, 1, 0]), ("other", [0, 1, 2])]


def test_departments_with_most_overdue_tasks(city, report, clock, sla_rules):
    # given at Monday 09:00 three cases dispatched to city management (two also to the police),
    # and one 思明 case to 思明 city management; the police sign for one of theirs; by 11:00 every
    # unsigned task is overdue (sign for within 1 working hour)
    cases = []
    for assisting in ([city.police], [city.police], []):
        c = actions.file_case(report(category=city.category), city.dispatcher)
        cases.append(actions.dispatch_case(c, city.city_management, assisting, city.dispatcher))
    s = actions.file_case(report(category=city.category, region_code=SIMING_GRID), city.siming_dispatcher)
    actions.dispatch_case(s, city.siming_cm, [], city.siming_dispatcher)
    police_task = cases[0].assignments.get(department=city.police)
    actions.sign_for(police_task, city.police_handler)
    clock.set(at(MONDAY, 11))
    from civicgrid.cases.models import Assignment

    for a in Assignment.objects.all():
        actions.sweep_assignment(a.pk, clock.now)
    # when read for 集美 / then city management 3, police 1 (the signed one still has handling time)
    assert [(r["name"], r["overdue"]) for r in figures.departments_most_overdue(city.dispatcher)] == [
        ("集美区城管执法局", 3), ("集美派出所", 1)]
    # and the administrator also sees 思明's
    assert ("思明区城管执法局", 1) in [(r["name"], r["overdue"]) for r in figures.departments_most_overdue(city.admin)]


def test_grid_figures_and_markers_are_scoped(city, report):
    # given two located open cases in the grid, one closed... and one in 思明
    a = report(lon=118.1, lat=24.6)
    report(lon=118.1, lat=24.6)
    report()  # no point: not a marker
    report(region_code=SIMING_GRID, lon=118.0, lat=24.4)
    # when read / then counts and markers are the jurisdiction's
    got = figures.grid_figures(city.dispatcher, GRID)
    assert (got["open"], got["overdue"], got["workers"]) == (3, 0, [city.grid_worker])
    assert len(figures.case_markers(city.dispatcher)) == 2
    assert a.number in {m["number"] for m in figures.case_markers(city.dispatcher)}
    with pytest.raises(Http404):
        figures.grid_figures(city.dispatcher, SIMING_GRID)
    with pytest.raises(Http404):
        figures.grid_figures(city.dispatcher, "350211001001")  # a community, not a grid
