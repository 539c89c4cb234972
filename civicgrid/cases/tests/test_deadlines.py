"""Stage deadlines from the category's SLA rule on the working-day calendar; suspension stops the
clock."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from civicgrid.cases import actions, deadlines
from civicgrid.cases.models import Assignment, Case, CaseEvent
from civicgrid.core import calendar
from civicgrid.taxonomy.models import SlaRule

from .builders import lead_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rules(city):
    SlaRule.objects.create(
        is_default=True, file_amount=1, file_unit="hours", dispatch_amount=1, dispatch_unit="hours",
        sign_for_amount=1, sign_for_unit="hours", handle_amount=3, handle_unit="days",
        verify_amount=1, verify_unit="days",
    )
    return SlaRule.objects.create(
        category=city.category, handle_amount=5, handle_unit="days", handle_urgent_amount=4,
        handle_urgent_unit="hours",
    )


def test_limits_come_from_the_category_rule_then_the_default(city, report, rules):
    # given a normal and an urgent case of a category whose rule sets only the handling limit
    normal = report(category=city.category)
    urgent = report(category=city.category, urgency="urgent")
    # then handling comes from the category rule (urgent limit for urgent), the rest from the default
    assert deadlines.stage_limits(normal) == {
        "file": (Decimal(1), "hours"), "dispatch": (Decimal(1), "hours"), "sign_for": (Decimal(1), "hours"),
        "handle": (Decimal(5), "days"), "verify": (Decimal(1), "days"),
    }
    assert deadlines.stage_limits(urgent)["handle"] == (Decimal(4), "hours")
    # and a case without a category has no limits
    assert deadlines.stage_limits(report()) == {}


def test_dispatch_sets_sign_for_and_handling_deadlines_on_the_calendar(city, report, rules):
    case = actions.file_case(report(), city.dispatcher, category=city.category)
    assert case.stage_deadline == calendar.add_working_time(case.filed_at, 1, "hours")
    case = actions.dispatch_case(case, city.city_management, [city.police], city.dispatcher)
    for a in Assignment.objects.filter(case=case):
        assert a.sign_deadline == calendar.add_working_time(a.dispatched_at, 1, "hours")
        assert a.handle_deadline == calendar.add_working_time(a.dispatched_at, 5, "days")
    assert case.due_at == lead_of(case).handle_deadline


def test_a_suspension_stops_the_clock_for_its_working_time(db):
    # given a suspension from Monday 09:00 to Monday 11:00 (2 working hours)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    paused = deadlines.paused_working_time(start, start + timedelta(hours=2))
    # then a deadline of Tuesday 10:00 moves to Tuesday 12:00 (closing time, not 14:30)
    assert paused == timedelta(hours=2)
    assert deadlines.shift(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI), paused) == datetime(
        2026, 11, 24, 12, 0, tzinfo=SHANGHAI
    )
    # and a suspension over a weekend costs no working time
    friday_close = datetime(2026, 11, 27, 17, 30, tzinfo=SHANGHAI)
    assert deadlines.paused_working_time(friday_close, friday_close + timedelta(days=2)) == timedelta(0)


def test_resume_moves_the_deadlines_by_the_suspended_working_time(city, report, rules):
    case = actions.file_case(report(), city.dispatcher, category=city.category)
    case = actions.dispatch_case(case, city.city_management, [], city.dispatcher)
    actions.sign_for(lead_of(case), city.cm_handler)
    case = actions.suspend_case(Case.objects.get(pk=case.pk), "等待产权认定", city.dispatcher)
    due_before = case.due_at
    # given the suspension began three calendar days ago
    Case.objects.filter(pk=case.pk).update(suspended_at=case.suspended_at - timedelta(days=3))
    # when it is resumed
    case = actions.resume_case(Case.objects.get(pk=case.pk), city.dispatcher)
    # then the deadline moved later by exactly the working time of the suspension
    paused = timedelta(seconds=CaseEvent.objects.filter(case=case, action="resume").get().data["paused_seconds"])
    assert paused > timedelta(0)
    assert abs(case.due_at - deadlines.shift(due_before, paused)) < timedelta(seconds=1)
    assert lead_of(case).handle_deadline == case.due_at
