"""The case actions: paths of the lifecycle, dispatch rules, who may act, and where."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from civicgrid.cases import actions
from civicgrid.cases.models import AppendOnly, Assignment, Case, CaseEvent, Channel, Notification
from civicgrid.cases.workflow import AssignmentRole, AssignmentState, State
from civicgrid.core.api import DomainError
from civicgrid.org.permissions import PermissionDenied

from .builders import case_in_state, lead_of
from .conftest import GRID, OTHER_GRID, SIMING_GRID


def _filed(city, report, **kwargs):
    return actions.file_case(report(**kwargs), city.dispatcher, category=city.category)


def _assignment(case, department):
    return Assignment.objects.get(case=case, department=department, state__in=["pending", "signed", "reported"])


# --- report and numbers -----------------------------------------------------------------------


def test_report_creates_a_numbered_case_owned_by_the_responsible_centre(city, report):
    # when a citizen's web report arrives (no staff actor)
    case = report(description="路口井盖丢失", reporter_phone="13800000000")
    # then it is reported, numbered district-day-sequence, owned by 集美区's centre, with one event
    assert case.state == State.REPORTED
    assert re.fullmatch(r"350211-\d{8}-00001", case.number)
    assert case.owner_centre == city.jimei_centre
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.from_state, event.to_state, event.actor) == ("report", "", "reported", None)


def test_case_numbers_are_unique_and_sequential_per_district_and_day(city, report):
    # given three reports in 集美区 and one in 思明区 on the same day
    jimei = [report(region_code=c).number for c in (GRID, OTHER_GRID, GRID)]
    siming = report(region_code=SIMING_GRID).number
    # then 集美区 counts 1, 2, 3 and 思明区 starts its own sequence
    assert [n[-5:] for n in jimei] == ["00001", "00002", "00003"]
    assert len(set(jimei)) == 3
    assert siming.startswith("350203-") and siming.endswith("-00001")


def test_the_same_external_id_on_a_channel_returns_the_first_case(city, report):
    # given a 12345 ticket already reported
    first = report(channel=Channel.HOTLINE_12345, external_id="GD2026-001")
    # when the hotline retries the same ticket, and another channel uses the same id
    again = report(channel=Channel.HOTLINE_12345, external_id="GD2026-001", title="重复推送")
    other = report(channel=Channel.DIGITAL_CITY, external_id="GD2026-001")
    # then the retry is the same case; the other channel's is a new one
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert Case.objects.count() == 2


def test_report_refuses_bad_input_field_by_field(city, report):
    # unknown region / missing title / bad channel → a field error each
    with pytest.raises(ValidationError) as bad_region:
        report(region_code="350299999999")
    assert bad_region.value.error_dict["region_code"][0].code == "unknown_region"
    with pytest.raises(ValidationError) as no_title:
        report(title="  ")
    assert no_title.value.error_dict["title"][0].code == "required"
    with pytest.raises(ValidationError) as bad_channel:
        report(channel="fax")
    assert bad_channel.value.error_dict["channel"][0].code == "invalid_choice"
    assert Case.objects.count() == 0


def test_staff_report_only_inside_their_jurisdiction_and_with_the_permission(city, report):
    # a grid worker reports in their grid, not in the next community
    assert report(actor=city.grid_worker).state == State.REPORTED
    with pytest.raises(ValidationError) as outside:
        report(actor=city.grid_worker, region_code=OTHER_GRID)
    assert outside.value.error_dict["region_code"][0].code == "outside_jurisdiction"
    # a department handler may not report at all
    with pytest.raises(PermissionDenied):
        report(actor=city.cm_handler)


def test_filing_needs_a_category(city, report):
    # given a report without a category
    case = report()
    # when it is filed without one / then the category field is required and nothing changed
    with pytest.raises(ValidationError) as refused:
        actions.file_case(case, city.dispatcher)
    assert refused.value.error_dict["category"][0].code == "required"
    case.refresh_from_db()
    assert case.state == State.REPORTED
    # when it is filed with one / then it is filed
    filed = actions.file_case(case, city.dispatcher, category=city.category)
    assert (filed.state, filed.category_id) == (State.FILED, city.category.pk)


def test_reject_and_merge_keep_the_reason_and_the_target(city, report):
    # given two reports of the same manhole and one of nonsense
    original, duplicate, nonsense = report(), report(), report(title="测试")
    # when the duplicate is merged and the nonsense rejected
    merged = actions.merge_case(duplicate, original, city.dispatcher, "同一井盖")
    rejected = actions.reject_case(nonsense, "非政务事项", city.dispatcher)
    # then the duplicate points at the original and the reason is on the timeline
    assert (merged.state, merged.parent_id) == (State.MERGED, original.pk)
    assert rejected.state == State.REJECTED
    assert CaseEvent.objects.get(case=nonsense, action="reject").note == "非政务事项"
    # and a case cannot be merged into itself or into a finished case
    with pytest.raises(ValidationError):
        actions.merge_case(original, original, city.dispatcher)
    with pytest.raises(ValidationError) as not_open:
        actions.merge_case(report(), rejected, city.dispatcher)
    assert not_open.value.error_dict["into"][0].code == "not_open"


# --- dispatch and resolution ------------------------------------------------------------------


def test_dispatch_makes_one_lead_and_assisting_and_notifies_their_staff(
    city, report, django_capture_on_commit_callbacks
):
    case = _filed(city, report)
    # when dispatched to city management with the police and water company assisting
    with django_capture_on_commit_callbacks(execute=True):
        case = actions.dispatch_case(case, city.city_management, [city.police, city.water], city.dispatcher)
    # then one lead and two assisting tasks await sign-for
    roles = sorted(Assignment.objects.filter(case=case).values_list("role", "state"))
    assert roles == [("assisting", "pending"), ("assisting", "pending"), ("lead", "pending")]
    assert case.state == State.DISPATCHED
    # and each department's staff got a notification, nobody else
    recipients = set(Notification.objects.filter(case=case).values_list("recipient__username", flat=True))
    assert recipients == {"cm", "police", "water"}


def test_no_notification_when_the_action_is_refused(city, report, django_capture_on_commit_callbacks):
    case = _filed(city, report)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        actions.dispatch_case(case, city.siming_cm, [], city.dispatcher)
    assert Notification.objects.count() == 0


def test_dispatch_refuses_departments_that_do_not_serve_the_place_or_repeat(city, report):
    case = _filed(city, report)
    with pytest.raises(ValidationError) as not_serving:
        actions.dispatch_case(case, city.siming_cm, [], city.dispatcher)
    assert not_serving.value.error_dict["lead_department"][0].code == "not_serving"
    with pytest.raises(ValidationError) as repeated:
        actions.dispatch_case(case, city.city_management, [city.police, city.city_management], city.dispatcher)
    assert repeated.value.error_dict["assisting_departments"][0].code == "duplicate"
    assert Assignment.objects.filter(case=case).count() == 0


def test_resolved_only_when_lead_reported_and_every_assisting_reported_or_released(city, report):
    case = _filed(city, report)
    actions.dispatch_case(case, city.city_management, [city.police, city.water], city.dispatcher)
    lead, police, water = (_assignment(case, d) for d in (city.city_management, city.police, city.water))
    # when the lead signs for it / then the case is in progress
    actions.sign_for(lead, city.cm_handler)
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    # when the police sign, the lead reports and the water company returns its part
    actions.sign_for(police, city.police_handler)
    actions.report_result(lead, "已更换井盖", city.cm_handler)
    actions.return_assignment(water, "无供水设施", city.water_handler)
    # then the case still waits for the police
    case.refresh_from_db()
    assert case.state == State.IN_PROGRESS
    # when the police report / then the case is resolved
    actions.report_result(police, "已设置警示", city.police_handler)
    case.refresh_from_db()
    assert case.state == State.RESOLVED and case.resolved_at is not None
    assert CaseEvent.objects.filter(case=case, to_state="resolved", from_state="in_progress").count() == 1


def test_an_assisting_return_releases_only_that_department(city, report):
    case = _filed(city, report)
    actions.dispatch_case(case, city.city_management, [city.police], city.dispatcher)
    # when the assisting police return their part
    actions.return_assignment(_assignment(case, city.police), "非警务事项", city.police_handler)
    # then the case is still dispatched and the lead still pending
    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert lead_of(case).state == AssignmentState.PENDING


def test_a_lead_return_goes_back_to_filed_with_the_reason_and_redispatch_closes_old_tasks(city, report):
    case = _filed(city, report)
    actions.dispatch_case(case, city.city_management, [city.police], city.dispatcher)
    lead = _assignment(case, city.city_management)
    # when the lead returns the task
    actions.return_assignment(lead, "属水务管辖", city.cm_handler)
    # then the case is filed again, the reason on the timeline, the assisting task released
    case.refresh_from_db()
    assert case.state == State.FILED
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.action, event.from_state, event.to_state, event.note) == ("return", "dispatched", "filed", "属水务管辖")
    states = dict(Assignment.objects.filter(case=case).values_list("department__code", "state"))
    assert states == {"jm-cm": "returned", "jm-police": "released"}
    # when dispatched again to the water company
    actions.dispatch_case(case, city.water, [city.police], city.dispatcher)
    # then exactly one active lead exists, the new one; old tasks stay closed
    active = Assignment.objects.filter(case=case, state__in=["pending", "signed", "reported"])
    assert list(active.filter(role=AssignmentRole.LEAD).values_list("department__code", flat=True)) == ["xm-water"]
    assert Assignment.objects.filter(case=case).count() == 4


def test_verify_pass_closes_and_fail_sends_back_for_rework(city):
    # given a resolved case
    case = case_in_state(city, State.RESOLVED)
    # when verification fails
    case = actions.verify_case(case, False, city.dispatcher, "井盖仍松动")
    # then it is in progress again, rework counted, the lead's task signed for again
    assert (case.state, case.rework_count) == (State.IN_PROGRESS, 1)
    assert lead_of(case).state == AssignmentState.SIGNED
    # when the lead reports again and verification passes
    actions.report_result(lead_of(case), "已加固", city.cm_handler)
    case = actions.verify_case(Case.objects.get(pk=case.pk), True, city.grid_worker, "现场核实")
    # then it is closed
    assert case.state == State.CLOSED and case.closed_at is not None
    actions_seen = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
    assert actions_seen[-4:] == ["rework", "report_result", "report_result", "verify"]


def test_a_failed_verification_needs_a_note(city):
    case = case_in_state(city, State.RESOLVED)
    with pytest.raises(ValidationError) as refused:
        actions.verify_case(case, False, city.dispatcher, "")
    assert refused.value.error_dict["note"][0].code == "required"


def test_reopen_hands_a_closed_case_back_to_its_lead(city):
    # given a closed case its reporter rated unsatisfied
    case = case_in_state(city, State.CLOSED)
    actions.rate_case(case.rating_token, "unsatisfied", "井盖还是松的")
    # when the centre reopens it
    case = actions.reopen_case(case, "群众回访不满意", city.dispatcher)
    # then the lead department has it again, signed for
    assert case.state == State.IN_PROGRESS and case.closed_at is None
    assert lead_of(case).state == AssignmentState.SIGNED


def test_suspend_and_resume(city):
    case = case_in_state(city, State.IN_PROGRESS)
    case = actions.suspend_case(case, "等待产权认定", city.dispatcher)
    assert case.state == State.SUSPENDED and case.suspended_at is not None
    # departments cannot work on a suspended case
    with pytest.raises(DomainError):
        actions.report_result(lead_of(case), "已处置", city.cm_handler)
    case = actions.resume_case(case, city.dispatcher)
    assert case.state == State.IN_PROGRESS and case.suspended_at is None


def test_cancel_releases_the_departments(city):
    case = case_in_state(city, State.DISPATCHED)
    case = actions.cancel_case(case, "群众撤回", city.dispatcher)
    assert case.state == State.CANCELLED
    assert lead_of(case).state == AssignmentState.RELEASED


def test_a_stale_case_gets_a_conflict(city, report):
    # given two dispatchers who both loaded the same filed case
    case = _filed(city, report)
    mine, theirs = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    # when one dispatches, then the other
    actions.dispatch_case(mine, city.city_management, [], city.dispatcher)
    with pytest.raises(DomainError) as refused:
        actions.dispatch_case(theirs, city.police, [], city.dispatcher)
    # then the second is told the case changed meanwhile (409), and only one lead exists
    assert refused.value.get_codes() == "conflict" and refused.value.status_code == 409
    assert Assignment.objects.filter(case=case).count() == 1


def test_the_timeline_is_append_only(city, report):
    event = CaseEvent.objects.get(case=report())
    event.note = "changed"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()


# --- who may act, and where ---------------------------------------------------------------------


def test_each_role_is_refused_what_it_may_not_do(city, report):
    filed = _filed(city, report)
    # a leader / an administrator / a grid worker / a department handler may not file
    for actor in (city.leader, city.admin, city.grid_worker):
        with pytest.raises(PermissionDenied):
            actions.file_case(report(), actor, category=city.category)
    # a grid worker and a leader may not dispatch
    for actor in (city.grid_worker, city.leader):
        with pytest.raises(PermissionDenied):
            actions.dispatch_case(filed, city.city_management, [], actor)
    actions.dispatch_case(filed, city.city_management, [city.police], city.dispatcher)
    lead = _assignment(filed, city.city_management)
    # a dispatcher may not sign for a department's task
    with pytest.raises(PermissionDenied):
        actions.sign_for(lead, city.dispatcher)
    # an assisting department may not sign for the lead's task
    with pytest.raises(PermissionDenied):
        actions.sign_for(lead, city.police_handler)
    # a department handler may not cancel
    with pytest.raises(PermissionDenied):
        actions.cancel_case(filed, "不想办", city.cm_handler)
    filed.refresh_from_db()
    assert filed.state == State.DISPATCHED and lead.state == AssignmentState.PENDING
    # a grid worker verifies on site (核查): a failure sends the case back for rework, a pass closes it
    resolved = case_in_state(city, State.RESOLVED)
    assert actions.verify_case(resolved, False, city.grid_worker, "仍有问题").state == State.IN_PROGRESS
    resolved = case_in_state(city, State.RESOLVED)
    assert actions.verify_case(resolved, True, city.grid_worker, "已修复").state == State.CLOSED
    # a leader may do neither (verification is on-site or desk work, not supervision)
    resolved = case_in_state(city, State.RESOLVED)
    with pytest.raises(PermissionDenied):
        actions.verify_case(resolved, True, city.leader, "")


def test_outside_the_jurisdiction_the_case_does_not_exist(city, report):
    filed = _filed(city, report)
    # 思明区's dispatcher cannot touch a 集美区 case
    with pytest.raises(Http404):
        actions.dispatch_case(filed, city.city_management, [], city.siming_dispatcher)
    # a grid worker cannot verify a case outside their grid
    other = actions.file_case(report(region_code=OTHER_GRID), city.dispatcher, category=city.category)
    with pytest.raises(Http404):
        actions.cancel_case(other, "x", city.grid_worker)
    actions.dispatch_case(filed, city.city_management, [], city.dispatcher)
    lead = _assignment(filed, city.city_management)
    # a department without a task on the case does not see it
    with pytest.raises(Http404):
        actions.sign_for(lead, city.water_handler)
    with pytest.raises(Http404):
        actions.sign_for(lead, city.siming_handler)
    filed.refresh_from_db()
    assert filed.state == State.DISPATCHED


def test_system_may_report_and_dispatch_but_nothing_else(city, report):
    case = report()
    with pytest.raises(DomainError) as refused:
        actions.file_case(case, None, category=city.category)
    assert refused.value.get_codes() == "actor_required"
    filed = actions.file_case(case, city.dispatcher, category=city.category)
    assert actions.dispatch_case(filed, city.city_management, [], None).state == State.DISPATCHED


def test_returns_and_resolution_notify_the_owning_centre_dispatchers(
    city, report, django_capture_on_commit_callbacks
):
    # given a dispatched case of 集美区 (思明区's dispatcher must hear nothing)
    case = _filed(city, report)
    actions.dispatch_case(case, city.city_management, [], city.dispatcher)
    # when the lead returns it
    with django_capture_on_commit_callbacks(execute=True):
        actions.return_assignment(_assignment(case, city.city_management), "非本部门职责", city.cm_handler)
    # then 集美区's dispatcher is told, in Chinese, and may mark it read
    (note,) = Notification.objects.filter(case=case)
    assert (note.recipient, note.kind) == (city.dispatcher, "task_returned")
    assert "退单" in note.text and case.number in note.text
    assert actions.mark_notification_read(note, city.dispatcher).read_at is not None
    with pytest.raises(Http404):
        actions.mark_notification_read(note, city.siming_dispatcher)
    # when it is dispatched again and resolved
    actions.dispatch_case(Case.objects.get(pk=case.pk), city.police, [], city.dispatcher)
    police = _assignment(case, city.police)
    actions.sign_for(police, city.police_handler)
    with django_capture_on_commit_callbacks(execute=True):
        actions.report_result(police, "已处置", city.police_handler)
    # then the dispatcher learns it awaits verification
    assert Notification.objects.filter(case=case, recipient=city.dispatcher, kind="case_resolved").count() == 1
