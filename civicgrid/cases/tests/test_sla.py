"""Deadlines on the working-day calendar, SLA status on working time, and how extensions and
suspensions (requested by the department, decided by the centre) move the clock."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from civicgrid.cases import actions, deadlines, selectors
from civicgrid.cases.models import Case, CaseEvent, CaseRequest, Notification
from civicgrid.cases.workflow import State
from civicgrid.core.api import DomainError
from civicgrid.org.permissions import PermissionDenied

from .builders import lead_of

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def _dispatched(city, report, **kwargs):
    case = actions.file_case(report(**kwargs), city.dispatcher, category=city.category)
    return actions.dispatch_case(case, city.city_management, [city.police], city.dispatcher)


def _in_progress(city, report, **kwargs):
    case = _dispatched(city, report, **kwargs)
    actions.sign_for(lead_of(case), city.cm_handler)
    return Case.objects.get(pk=case.pk)


def test_three_working_days_from_the_eve_of_national_day_fall_on_the_make_up_saturday(city, report, sla_rules, clock):
    # given a case filed and dispatched on Wednesday 2026-09-30 16:00, handling limit 3 working days
    clock.set(at(2026, 9, 30, 16, 0))
    case = _dispatched(city, report)
    # then it falls due on Saturday 2026-10-10 16:00 (10-08, 10-09, make-up Saturday), not Monday 10-12
    assert lead_of(case).handle_deadline == at(2026, 10, 10, 16, 0)
    assert case.due_at == at(2026, 10, 10, 16, 0)
    # and signing for is due one working hour later, at 17:00 the same day
    assert case.stage_deadline == lead_of(case).sign_deadline == at(2026, 9, 30, 17, 0)


def test_urgent_cases_use_the_stricter_limit(city, report, sla_rules, clock):
    # given an urgent case dispatched on Monday 09:00 (urgent handling: 4 working hours)
    case = _dispatched(city, report, urgency="urgent")
    # then it is due at 14:30 + 1 h = 15:30 (the lunch break does not count)
    assert case.due_at == at(2026, 11, 23, 15, 30)


def test_stage_limits_come_from_the_taxonomy_selector(city, report, sla_rules):
    # given a category rule overriding only the handling limit
    from civicgrid.taxonomy.models import SlaRule

    SlaRule.objects.create(category=city.category, handle_amount=5, handle_unit="days")
    case = report(category=city.category)
    # then handling comes from it and the rest from the default rule
    assert deadlines.stage_limits(case)["handle"] == (Decimal(5), "days")
    assert deadlines.stage_limits(case)["sign_for"] == (Decimal(1), "hours")


def test_sla_status_is_computed_on_working_time(db, settings):
    # given a stage from Friday 16:30 due Monday 11:30 (4 working hours: 1 on Friday, 3 on Monday)
    start, due = at(2026, 11, 27, 16, 30), at(2026, 11, 30, 11, 30)
    # then over the weekend only 1 of 4 hours is used: on time, although 90% of calendar time passed
    assert deadlines.sla_status(start, due, at(2026, 11, 30, 8, 0)) == "on_time"
    # and at 80% of working time (Monday 10:42) it is due soon; from the deadline on, overdue
    assert deadlines.sla_status(start, due, at(2026, 11, 30, 10, 41)) == "on_time"
    assert deadlines.sla_status(start, due, at(2026, 11, 30, 10, 42)) == "warning"
    assert deadlines.sla_status(start, due, due) == "overdue"
    assert deadlines.warn_moment(start, due) == at(2026, 11, 30, 10, 42)
    # and the share is configurable
    settings.CIVICGRID_SLA_WARNING_SHARE = 0.5
    assert deadlines.sla_status(start, due, at(2026, 11, 30, 9, 30)) == "warning"
    assert deadlines.warn_moment(start, due) == at(2026, 11, 30, 9, 30)


def test_the_case_and_task_sla_status_selectors(city, report, sla_rules, clock):
    case = _in_progress(city, report)
    # dispatched Monday 09:00, due Thursday 09:00 (19.5 working hours; 80% used on Wednesday 14:30+)
    assert selectors.case_sla_status(case, at(2026, 11, 24, 9, 0)) == "on_time"
    assert selectors.case_sla_status(case, at(2026, 11, 25, 16, 0)) == "warning"
    assert selectors.assignment_sla_status(lead_of(case), at(2026, 11, 26, 9, 0)) == "overdue"


# --- extensions -----------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_deadline_by_working_time(
    city, report, sla_rules, clock, django_capture_on_commit_callbacks
):
    # given a case in progress, due Thursday 2026-11-26 09:00
    case = _in_progress(city, report)
    lead = lead_of(case)
    assert lead.handle_deadline == at(2026, 11, 26, 9, 0)
    # when the department asks for 2 more working days and the centre approves
    with django_capture_on_commit_callbacks(execute=True):
        request = actions.request_extension(lead, 2, "days", "需协调产权单位", city.cm_handler)
    assert request.state == "pending"
    assert Notification.objects.filter(recipient=city.dispatcher, kind="request_made").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        actions.approve_extension(request, city.dispatcher, "同意")
    # then the task and the case are due two working days later: Monday 11-30 09:00
    case.refresh_from_db()
    assert lead_of(case).handle_deadline == case.due_at == case.stage_deadline == at(2026, 11, 30, 9, 0)
    request.refresh_from_db()
    assert (request.state, request.decided_by) == ("approved", city.dispatcher)
    # and both steps are on the timeline, and the department is told
    assert list(CaseEvent.objects.filter(case=case, action__endswith="extension").values_list("action", flat=True)) \
        == ["request_extension", "approve_extension"]
    assert Notification.objects.filter(recipient=city.cm_handler, kind="request_decided").count() == 1


def test_a_refused_extension_keeps_the_deadline(city, report, sla_rules, clock):
    case = _in_progress(city, report)
    request = actions.request_extension(lead_of(case), "3", "hours", "人手不足", city.cm_handler)
    actions.refuse_extension(request, "按期办结", city.dispatcher)
    assert lead_of(case).handle_deadline == at(2026, 11, 26, 9, 0)
    assert CaseRequest.objects.get().state == "refused"
    # a decided request cannot be decided again
    with pytest.raises(DomainError) as again:
        actions.approve_extension(request, city.dispatcher)
    assert again.value.get_codes() == "already_decided"


def test_one_pending_request_per_task_and_kind(city, report, sla_rules, clock):
    case = _in_progress(city, report)
    actions.request_extension(lead_of(case), 1, "days", "等待材料", city.cm_handler)
    with pytest.raises(DomainError) as twice:
        actions.request_extension(lead_of(case), 2, "days", "再延", city.cm_handler)
    assert twice.value.get_codes() == "request_pending"


@pytest.mark.parametrize(("amount", "unit", "field", "code"), [
    (0, "days", "amount", "not_positive"),
    ("1.5", "days", "amount", "days_not_whole"),
    ("abc", "hours", "amount", "invalid"),
    (2, "weeks", "unit", "invalid_choice"),
])
def test_extension_amounts_are_checked_field_by_field(city, report, sla_rules, clock, amount, unit, field, code):
    case = _in_progress(city, report)
    with pytest.raises(ValidationError) as bad:
        actions.request_extension(lead_of(case), amount, unit, "理由", city.cm_handler)
    assert bad.value.error_dict[field][0].code == code


def test_only_the_department_requests_and_only_the_centre_decides(city, report, sla_rules, clock):
    case = _in_progress(city, report)
    lead = lead_of(case)
    # another department's handler, and a dispatcher, may not ask on this task
    with pytest.raises(PermissionDenied):
        actions.request_extension(lead, 1, "days", "理由", city.police_handler)
    with pytest.raises(PermissionDenied):
        actions.request_extension(lead, 1, "days", "理由", city.dispatcher)
    request = actions.request_extension(lead, 1, "days", "理由", city.cm_handler)
    # a department handler may not approve
    with pytest.raises(PermissionDenied):
        actions.approve_extension(request, city.cm_handler)
    assert CaseRequest.objects.get().state == "pending"


# --- suspension -----------------------------------------------------------------------------------


def test_an_approved_suspension_stops_the_clock_until_resumed(city, report, sla_rules, clock):
    # given a case in progress, due Thursday 2026-11-26 09:00
    case = _in_progress(city, report)
    # when the lead department asks on Monday 10:00 and the centre approves at once
    clock.set(at(2026, 11, 23, 10, 0))
    request = actions.request_suspension(lead_of(case), "等待法院裁定", city.cm_handler)
    actions.approve_suspension(request, city.dispatcher)
    case.refresh_from_db()
    assert case.state == State.SUSPENDED
    # and the case is resumed on Tuesday 10:00 (6.5 working hours later)
    clock.set(at(2026, 11, 24, 10, 0))
    case = actions.resume_case(case, city.dispatcher)
    # then every deadline moved by 6.5 working hours: Thursday 09:00 → Friday 09:00
    assert case.due_at == case.stage_deadline == lead_of(case).handle_deadline == at(2026, 11, 27, 9, 0)
    assert CaseEvent.objects.filter(case=case, action="suspend", data__request=request.pk).exists()


def test_only_the_lead_may_ask_for_a_suspension_and_a_refusal_keeps_the_clock(city, report, sla_rules, clock):
    case = _in_progress(city, report)
    from civicgrid.cases.models import Assignment

    police = Assignment.objects.get(case=case, department=city.police)
    actions.sign_for(police, city.police_handler)
    with pytest.raises(DomainError) as assisting:
        actions.request_suspension(police, "协办单位申请", city.police_handler)
    assert assisting.value.get_codes() == "lead_only"
    request = actions.request_suspension(lead_of(case), "等待鉴定", city.cm_handler)
    actions.refuse_suspension(request, "可先行处置", city.dispatcher)
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS and case.suspended_at is None
    assert CaseEvent.objects.filter(case=case, action="refuse_suspension").count() == 1


def test_a_suspension_cannot_be_asked_for_before_signing_for(city, report, sla_rules, clock):
    case = _dispatched(city, report)
    with pytest.raises(DomainError) as refused:
        actions.request_suspension(lead_of(case), "等待", city.cm_handler)
    assert refused.value.get_codes() == "illegal_transition"
