"""The deadline sweep: due-soon and overdue marks, supervision (督办) levels 1 and 2, escalation of
undispatched cases, idempotence; manual supervision and escalation; the ways to run it."""

import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from civicgrid.cases import actions, sweep
from civicgrid.cases.models import Assignment, Case, CaseEvent, Notification, Supervision
from civicgrid.cases.tasks import sweep_deadlines_task
from civicgrid.core.api import DomainError
from civicgrid.org.permissions import PermissionDenied

from .builders import lead_of

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def _dispatched(city, report):
    """Dispatched Monday 2026-11-23 09:00: sign for by 10:00 (due soon from 09:48), handle by
    Thursday 09:00."""
    case = actions.file_case(report(), city.dispatcher, category=city.category)
    return actions.dispatch_case(case, city.city_management, [], city.dispatcher)


def _counts():
    return (Notification.objects.count(), Supervision.objects.count(), CaseEvent.objects.count())


def _sweep(when, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return sweep.sweep_deadlines(when)


def test_the_sweep_marks_due_soon_then_overdue_and_supervises(
    city, report, sla_rules, clock, django_capture_on_commit_callbacks
):
    # given a task dispatched Monday 09:00, to be signed for by 10:00
    case = _dispatched(city, report)
    # when the sweep runs at 09:30 / then nothing is due yet
    assert _sweep(at(2026, 11, 23, 9, 30), django_capture_on_commit_callbacks).warnings == 0
    # when it runs at 09:50 (more than 80% of the hour used)
    result = _sweep(at(2026, 11, 23, 9, 50), django_capture_on_commit_callbacks)
    # then the task and the case are due soon, and the department is told
    assert (result.warnings, result.overdue, result.supervisions) == (2, 0, 0)
    assert lead_of(case).sla_status == "warning"
    assert Case.objects.get(pk=case.pk).sla_status == "warning"
    assert Notification.objects.filter(recipient=city.cm_handler, kind="sla_warning").count() == 1
    # when it runs at 10:01
    result = _sweep(at(2026, 11, 23, 10, 1), django_capture_on_commit_callbacks)
    # then both are overdue and a yellow notice (level 1) goes to the department
    assert (result.overdue, result.supervisions) == (2, 1)
    notice = Supervision.objects.get()
    assert (notice.level, notice.department, notice.automatic) == (1, city.city_management, True)
    assert notice.deadline == at(2026, 11, 23, 10, 0)
    assert lead_of(case).supervision_level == 1 and Case.objects.get(pk=case.pk).supervision_level == 1
    assert Notification.objects.filter(recipient=city.cm_handler, kind="supervised").count() == 1
    assert CaseEvent.objects.filter(case=case, action="supervise", data__level=1).count() == 1
    assert CaseEvent.objects.filter(case=case, action="sla_overdue").count() == 1


def test_red_supervision_after_the_margin_in_working_hours(
    city, report, sla_rules, clock, django_capture_on_commit_callbacks, settings
):
    # given a task that was due Monday 10:00 and got its yellow notice
    case = _dispatched(city, report)
    _sweep(at(2026, 11, 23, 10, 1), django_capture_on_commit_callbacks)
    # when the sweep runs just before 8 working hours past the deadline (Tuesday 11:30)
    assert _sweep(at(2026, 11, 24, 11, 29), django_capture_on_commit_callbacks).supervisions == 0
    # then still only yellow; at Tuesday 11:30 the red notice (level 2) follows
    assert _sweep(at(2026, 11, 24, 11, 30), django_capture_on_commit_callbacks).supervisions == 1
    assert sorted(Supervision.objects.values_list("level", flat=True)) == [1, 2]
    assert lead_of(case).supervision_level == 2
    assert Case.objects.get(pk=case.pk).supervision_level == 2
    assert Notification.objects.filter(recipient=city.cm_handler, kind="supervised").count() == 2


def test_the_red_margin_is_configurable(city, report, sla_rules, clock, django_capture_on_commit_callbacks, settings):
    settings.CIVICGRID_SUPERVISION_RED_MARGIN_HOURS = 1
    _dispatched(city, report)
    # 1 working hour past Monday 10:00 is 11:00: one sweep then gives yellow and red at once
    assert _sweep(at(2026, 11, 23, 11, 0), django_capture_on_commit_callbacks).supervisions == 2


def test_sweeping_twice_adds_nothing(city, report, sla_rules, clock, django_capture_on_commit_callbacks):
    # given an overdue task swept once, past the red margin
    _dispatched(city, report)
    first = _sweep(at(2026, 11, 25, 9, 0), django_capture_on_commit_callbacks)
    assert first.supervisions == 2
    before = _counts()
    # when the sweep runs again, at the same moment and a minute later
    again = _sweep(at(2026, 11, 25, 9, 0), django_capture_on_commit_callbacks)
    later = _sweep(at(2026, 11, 25, 9, 1), django_capture_on_commit_callbacks)
    # then no new notice, notification or timeline entry
    assert (again.warnings, again.overdue, again.supervisions) == (0, 0, 0)
    assert (later.warnings, later.overdue, later.supervisions) == (0, 0, 0)
    assert _counts() == before


def test_signing_for_starts_the_handling_clock_fresh(
    city, report, sla_rules, clock, django_capture_on_commit_callbacks
):
    # given a task signed for late (yellow notice for the sign-for deadline)
    case = _dispatched(city, report)
    _sweep(at(2026, 11, 23, 10, 1), django_capture_on_commit_callbacks)
    clock.set(at(2026, 11, 23, 10, 5))
    actions.sign_for(lead_of(case), city.cm_handler)
    # then it is on time against the handling deadline, with no supervision on it
    lead = lead_of(case)
    assert (lead.sla_status, lead.supervision_level) == ("on_time", 0)
    # and missing the handling deadline (Thursday 09:00) gives a new yellow notice for that deadline
    result = _sweep(at(2026, 11, 26, 9, 1), django_capture_on_commit_callbacks)
    assert result.supervisions == 1
    assert sorted(Supervision.objects.values_list("deadline", flat=True)) == [
        at(2026, 11, 23, 10, 0), at(2026, 11, 26, 9, 0),
    ]


def test_a_suspended_case_is_not_swept(city, report, sla_rules, clock, django_capture_on_commit_callbacks):
    case = _dispatched(city, report)
    actions.sign_for(lead_of(case), city.cm_handler)
    actions.suspend_case(Case.objects.get(pk=case.pk), "等待法院裁定", city.dispatcher)
    # a week later, long past the original deadline: nothing is marked, nobody supervised
    result = _sweep(at(2026, 12, 1, 9, 0), django_capture_on_commit_callbacks)
    assert (result.overdue, result.supervisions) == (0, 0)
    assert lead_of(case).sla_status == "on_time"


def test_an_undispatched_overdue_case_at_a_community_centre_escalates_once(
    city, report, sla_rules, clock, centre_chain, django_capture_on_commit_callbacks
):
    # given a report owned by the community centre, to be filed within 1 working hour (by 10:00)
    case = report(category=city.category)
    assert case.owner_centre == city.community_centre
    # when the sweep runs at 10:01
    result = _sweep(at(2026, 11, 23, 10, 1), django_capture_on_commit_callbacks)
    # then the street centre owns it, with a fresh filing limit, and the timeline and its
    # dispatchers say so
    case.refresh_from_db()
    assert (result.overdue, result.escalations) == (1, 1)
    assert (case.owner_centre, case.escalation_level) == (city.street_centre, 1)
    assert case.stage_deadline > at(2026, 11, 23, 10, 1)
    event = CaseEvent.objects.get(case=case, action="escalate")
    assert (event.actor, event.data["from_centre"], event.data["to_centre"]) == (
        None, city.community_centre.pk, city.street_centre.pk)
    assert Notification.objects.filter(recipient=city.street_dispatcher, kind="escalated").count() == 1
    # when the sweep runs again, and after the street centre's limit too
    again = _sweep(at(2026, 11, 23, 10, 2), django_capture_on_commit_callbacks)
    later = _sweep(at(2026, 11, 24, 9, 0), django_capture_on_commit_callbacks)
    # then no further escalation (street centres are not escalated automatically)
    assert again.escalations == 0 and later.escalations == 0
    case.refresh_from_db()
    assert case.owner_centre == city.street_centre and case.sla_status == "overdue"
    assert Notification.objects.filter(recipient=city.street_dispatcher, kind="overdue").count() == 1


def test_a_filed_case_at_a_district_centre_is_not_escalated_automatically(
    city, report, sla_rules, clock, django_capture_on_commit_callbacks
):
    case = actions.file_case(report(), city.dispatcher, category=city.category)
    result = _sweep(at(2026, 11, 24, 9, 0), django_capture_on_commit_callbacks)
    case.refresh_from_db()
    assert (result.overdue, result.escalations) == (1, 0)
    assert case.owner_centre == city.jimei_centre
    assert Notification.objects.filter(recipient=city.dispatcher, kind="overdue").count() == 1


# --- manual supervision and escalation ---------------------------------------------------------


def test_a_leader_supervises_a_case_at_its_lead_department(
    city, report, sla_rules, clock, django_capture_on_commit_callbacks
):
    case = _dispatched(city, report)
    with django_capture_on_commit_callbacks(execute=True):
        notice = actions.supervise_case(case, 2, "群众反映强烈，限期办结", city.leader)
    assert (notice.level, notice.department, notice.issued_by, notice.automatic) == (
        2, city.city_management, city.leader, False)
    assert Case.objects.get(pk=case.pk).supervision_level == 2
    assert Notification.objects.filter(recipient=city.cm_handler, kind="supervised").count() == 1
    # a wrong level, a missing note, a role without the permission, a closed case: refused
    with pytest.raises(ValidationError) as bad:
        actions.supervise_case(case, 3, "x", city.leader)
    assert bad.value.error_dict["level"][0].code == "invalid_choice"
    with pytest.raises(ValidationError):
        actions.supervise_case(case, 1, " ", city.leader)
    with pytest.raises(PermissionDenied):
        actions.supervise_case(case, 1, "督办", city.cm_handler)


def test_supervision_before_dispatch_goes_to_the_owning_centre(city, report, sla_rules, clock):
    notice = actions.supervise_case(report(), 1, "尽快立案", city.leader)
    assert (notice.department, notice.centre) == (None, city.jimei_centre)


def test_manual_escalation_climbs_to_the_city_centre_and_stops_there(
    city, report, sla_rules, clock, centre_chain
):
    case = report()
    owners = []
    for actor in (city.community_dispatcher, city.street_dispatcher, city.dispatcher):
        case = actions.escalate_case(case, "需上级协调", actor)
        owners.append(case.owner_centre)
    assert owners == [city.street_centre, city.jimei_centre, city.city_centre]
    assert case.escalation_level == 3
    with pytest.raises(DomainError) as top:
        actions.escalate_case(case, "再上报", city.city_dispatcher)
    assert top.value.get_codes() == "top_level"
    assert CaseEvent.objects.filter(case=case, action="escalate").count() == 3


def test_escalation_needs_the_permission_and_an_open_case(city, report, sla_rules, clock, centre_chain):
    case = report()
    with pytest.raises(PermissionDenied):
        actions.escalate_case(case, "上报", city.grid_worker)
    rejected = actions.reject_case(case, "不属于受理范围", city.dispatcher)
    with pytest.raises(DomainError) as closed:
        actions.escalate_case(rejected, "上报", city.dispatcher)
    assert closed.value.get_codes() == "case_not_open"


# --- how the sweep runs -----------------------------------------------------------------------------


def test_the_management_command_sweeps_at_a_fixed_clock(city, report, sla_rules, clock):
    _dispatched(city, report)
    out = io.StringIO()
    call_command("sweep_deadlines", "--now", "2026-11-23T10:01+08:00", stdout=out)
    assert json.loads(out.getvalue())["supervisions"] == 1
    with pytest.raises(CommandError):
        call_command("sweep_deadlines", "--now", "tomorrow", stdout=io.StringIO())


def test_the_celery_task_runs_the_sweep(city, report, sla_rules, clock):
    _dispatched(city, report)
    sweep_deadlines_task.apply(kwargs={"now": "2026-11-23T10:01:00+08:00"}).get()
    assert Supervision.objects.count() == 1 and Assignment.objects.get().sla_status == "overdue"


def test_the_beat_schedule_runs_the_task_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-deadlines"]
    assert entry == {"task": sweep_deadlines_task.name, "schedule": 60.0}


