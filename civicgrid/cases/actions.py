"""Every change to a case goes through one function here.

Each one: ``transaction.atomic`` → lock the case row (and its assignment rows, in pk order) →
check who may act (jurisdiction, permission, department) and the workflow table → change →
append a ``CaseEvent`` → schedule side effects (notifications) with ``transaction.on_commit``.

Checks run in this order so nothing leaks: a case the actor cannot see is ``Http404``; a role
without the permission gets ``PermissionDenied`` (403); a step the workflow does not allow is
``DomainError("illegal_transition")``, or ``DomainError("conflict")`` (409) when the case changed
since the caller read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from civicgrid.cases import deadlines
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseNumberCounter,
    Channel,
    Notification,
    NotificationKind,
    Urgency,
)
from civicgrid.cases.workflow import (
    ACTIVE_ASSIGNMENT_STATES,
    FINISHED_ASSIGNMENT_STATES,
    OPEN_STATES,
    TRANSITIONS,
    WORKING_CASE_STATES,
    Action,
    AssignmentRole,
    AssignmentState,
    State,
    check_assignment_transition,
    check_transition,
    illegal_transition,
)
from civicgrid.core.api import DomainError
from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.org.models import Department, Role, User
from civicgrid.org.permissions import PermissionDenied, require_permission
from civicgrid.org.selectors import responsible_centre
from civicgrid.regions.models import Region
from civicgrid.taxonomy.models import RequestType

# --- locking and checks -----------------------------------------------------------------------


def _lock_case(case_or_pk) -> Case:
    pk = getattr(case_or_pk, "pk", case_or_pk)
    try:
        return Case.objects.select_for_update().get(pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None


def _lock_assignments(case: Case) -> list[Assignment]:
    return list(Assignment.objects.select_for_update().filter(case=case).order_by("pk"))


def _can_see(actor: User, case: Case) -> bool:
    """The same rule ``selectors.cases_for`` applies, for one locked case."""
    if not code_in_jurisdiction(actor, case.region_code):
        return False
    if actor.role == Role.DEPARTMENT_HANDLER and not actor.is_superuser:
        return Assignment.objects.filter(case=case, department_id=actor.department_id).exists()
    return True


def _authorize(actor: User | None, action: str, case: Case) -> None:
    transition = TRANSITIONS[action]
    if actor is None:
        if transition.system_allowed:
            return
        raise DomainError(_("A member of staff must perform this action."), code="actor_required")
    if not _can_see(actor, case):
        raise Http404
    require_permission(actor, transition.permission)


def _authorize_assignment(actor: User | None, action: str, case: Case, assignment: Assignment) -> None:
    _authorize(actor, action, case)
    if not actor.is_superuser and actor.department_id != assignment.department_id:
        raise PermissionDenied(
            _("Only staff of the assigned department may act on this task."), code="permission_denied",
        )


def _conflict(case: Case) -> DomainError:
    return DomainError(
        format_lazy(
            _("Case {number} was changed by someone else meanwhile; it is now {state}. Reload and try again."),
            number=case.number, state=State(case.state).label,
        ),
        code="conflict", status_code=status.HTTP_409_CONFLICT,
    )


def _check(case: Case, action: str, seen_state: str | None) -> str:
    """The target state, or the reason why not: ``conflict`` when the case moved since the caller
    read it (``seen_state``), ``illegal_transition`` otherwise."""
    try:
        return check_transition(case.state, action)
    except DomainError:
        if seen_state is not None and seen_state != case.state:
            raise _conflict(case) from None
        raise


def _check_assignment(case: Case, assignment: Assignment, action: str, seen: Assignment) -> str:
    """The assignment's next state. Department work happens only while the case is dispatched or
    in progress; ``conflict`` when the assignment moved since the caller read it."""
    try:
        if case.state not in WORKING_CASE_STATES:
            raise illegal_transition(case.state, action)
        return check_assignment_transition(assignment.state, action)
    except DomainError:
        if seen.state != assignment.state:
            raise _conflict(case) from None
        raise


def _required_text(field: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: ValidationError(_("This field is required."), code="required")})
    return value


def _event(case: Case, action: str, from_state: str, actor: User | None, note: str = "", **data) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, actor=actor, action=action, from_state=from_state or "", to_state=case.state,
        note=note, data=data, at=timezone.now(),
    )


def _save(case: Case, *fields: str) -> None:
    case.save(update_fields=[*fields, "updated_at"])


# --- notifications (written on commit, so a rolled-back action notifies nobody) ---------------


_NOTIFICATION_TEXT = {
    NotificationKind.NEW_TASK: _("New task: case {number} “{title}”."),
    NotificationKind.TASK_RETURNED: _("Case {number} “{title}” was returned by a department."),
    NotificationKind.CASE_RESOLVED: _("Case {number} “{title}” is resolved and awaits verification."),
    NotificationKind.REWORK: _("Case {number} “{title}” was sent back for rework."),
    NotificationKind.CASE_REOPENED: _("Case {number} “{title}” was reopened."),
    NotificationKind.CASE_SUSPENDED: _("Case {number} “{title}” is suspended."),
    NotificationKind.CASE_RESUMED: _("Case {number} “{title}” is resumed."),
    NotificationKind.CASE_CANCELLED: _("Case {number} “{title}” was cancelled."),
}


def _notify_departments(case: Case, kind: str, department_ids: Iterable[int]) -> None:
    ids = sorted(set(department_ids))
    transaction.on_commit(
        lambda: _write_notifications(case.pk, kind, User.objects.filter(department_id__in=ids))
    )


def _notify_centre(case: Case, kind: str) -> None:
    centre_id = case.owner_centre_id
    if centre_id is None:
        return
    transaction.on_commit(lambda: _write_notifications(
        case.pk, kind, User.objects.filter(centre_id=centre_id, role=Role.DISPATCHER),
    ))


def _write_notifications(case_pk: int, kind: str, recipients) -> None:
    case = Case.objects.only("number", "title").get(pk=case_pk)
    with translation.override(settings.LANGUAGE_CODE):
        text = str(format_lazy(_NOTIFICATION_TEXT[kind], number=case.number, title=case.title))[:300]
    Notification.objects.bulk_create(
        Notification(recipient_id=pk, case_id=case_pk, kind=kind, text=text)
        for pk in recipients.filter(is_active=True).values_list("pk", flat=True)
    )


# --- case numbers -------------------------------------------------------------------------------


def _next_case_number(region_code: str, moment: datetime) -> str:
    """``350211-20261124-00042``: district, local day, sequence. The counter row is locked, so
    concurrent reports in the same district and day queue for it instead of colliding."""
    district = region_code[:6]
    day = timezone.localdate(moment)
    counter, _created = CaseNumberCounter.objects.get_or_create(district_code=district, day=day)
    counter = CaseNumberCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{district}-{day:%Y%m%d}-{counter.last:05d}"


# --- report, file, reject, merge ----------------------------------------------------------------


def _validate_choice(field: str, value: str, choices) -> None:
    if value not in choices.values:
        raise ValidationError({field: ValidationError(
            format_lazy(_("“{value}” is not a valid choice."), value=value), code="invalid_choice",
        )})


def _resolve_region_code(region_code: str | None, lon, lat) -> str:
    if not region_code and lon is not None and lat is not None:
        region_code = deadlines.locate_region_code(lon, lat)
        if region_code is None:
            raise ValidationError({"location": ValidationError(
                _("No region of the platform contains this point."), code="outside_regions",
            )})
    if not region_code:
        raise ValidationError({"region_code": ValidationError(
            _("Give a region code or a location."), code="required",
        )})
    if not Region.objects.filter(code=region_code).exists():
        raise ValidationError({"region_code": ValidationError(
            format_lazy(_("Unknown region code {code}."), code=region_code), code="unknown_region",
        )})
    return region_code


def report_case(
    *, channel: str, title: str, region_code: str | None = None, lon: float | None = None,
    lat: float | None = None, description: str = "", request_type: str = RequestType.FIELD_REPORT,
    urgency: str = Urgency.NORMAL, address: str = "", reporter_name: str = "", reporter_phone: str = "",
    external_id: str = "", category=None, actor: User | None = None, reported_at: datetime | None = None,
) -> Case:
    """A new case in state ``reported`` (上报). ``actor`` is None when a channel reports on a
    citizen's behalf. Reporting the same ``external_id`` on the same channel again returns the
    case already made (intake retries are harmless)."""
    check_transition(None, Action.REPORT)
    _validate_choice("channel", channel, Channel)
    _validate_choice("request_type", request_type, RequestType)
    _validate_choice("urgency", urgency, Urgency)
    title = _required_text("title", title)
    external_id = (external_id or "").strip()
    region_code = _resolve_region_code(region_code, lon, lat)
    if actor is not None:
        require_permission(actor, TRANSITIONS[Action.REPORT].permission)
        if not code_in_jurisdiction(actor, region_code):
            raise ValidationError({"region_code": ValidationError(
                _("This place lies outside your jurisdiction."), code="outside_jurisdiction",
            )})
    moment = reported_at or timezone.now()
    with transaction.atomic():
        if external_id:
            existing = Case.objects.filter(channel=channel, external_id=external_id).first()
            if existing is not None:
                return existing
        case = Case(
            number=_next_case_number(region_code, moment), channel=channel, external_id=external_id,
            request_type=request_type, category=category, urgency=urgency, title=title,
            description=description, lon=lon, lat=lat, address=address, region_code=region_code,
            reporter_name=reporter_name, reporter_phone=reporter_phone,
            owner_centre=responsible_centre(region_code), state=State.REPORTED, reported_at=moment,
        )
        case.stage_deadline = deadlines.file_deadline(case, moment)
        try:
            with transaction.atomic():
                case.save(force_insert=True)
        except IntegrityError:
            # Another request reported the same external id at the same moment.
            if external_id:
                existing = Case.objects.filter(channel=channel, external_id=external_id).first()
                if existing is not None:
                    return existing
            raise
        _event(case, Action.REPORT, "", actor, channel=channel, external_id=external_id)
    return case


def file_case(case: Case, actor: User | None, *, category=None, urgency: str | None = None, note: str = "") -> Case:
    """立案: accept a report as a case of ``category`` (required unless already set)."""
    with transaction.atomic():
        locked = _lock_case(case)
        _authorize(actor, Action.FILE, locked)
        target = _check(locked, Action.FILE, case.state)
        if category is not None:
            locked.category = category
        if locked.category_id is None:
            raise ValidationError({"category": ValidationError(
                _("A case needs a category to be filed."), code="required",
            )})
        if urgency is not None:
            _validate_choice("urgency", urgency, Urgency)
            locked.urgency = urgency
        before, locked.state = locked.state, target
        locked.filed_at = timezone.now()
        locked.stage_deadline = deadlines.dispatch_deadline(locked, locked.filed_at)
        _save(locked, "category", "urgency", "state", "filed_at", "stage_deadline")
        _event(locked, Action.FILE, before, actor, note, category=locked.category_id, urgency=locked.urgency)
    return locked


def reject_case(case: Case, reason: str, actor: User | None) -> Case:
    """不予立案: the report is not a matter for the platform (the reason is kept)."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        _authorize(actor, Action.REJECT, locked)
        target = _check(locked, Action.REJECT, case.state)
        before, locked.state = locked.state, target
        locked.stage_deadline = None
        locked.closed_at = timezone.now()
        _save(locked, "state", "stage_deadline", "closed_at")
        _event(locked, Action.REJECT, before, actor, reason)
    return locked


def merge_case(case: Case, into: Case, actor: User | None, note: str = "") -> Case:
    """合并: ``case`` duplicates the open case ``into``; it ends here, pointing at ``into``."""
    if getattr(into, "pk", into) == case.pk:
        raise ValidationError({"into": ValidationError(_("A case cannot be merged into itself."), code="invalid")})
    with transaction.atomic():
        # Both rows, in pk order, so two merges of the same pair cannot deadlock.
        first, second = sorted([case.pk, getattr(into, "pk", into)])
        locked_by_pk = {c.pk: c for c in (_lock_case(first), _lock_case(second))}
        locked, target_case = locked_by_pk[case.pk], locked_by_pk[getattr(into, "pk", into)]
        _authorize(actor, Action.MERGE, locked)
        if actor is not None and not _can_see(actor, target_case):
            raise Http404
        target = _check(locked, Action.MERGE, case.state)
        if target_case.state not in OPEN_STATES:
            raise ValidationError({"into": ValidationError(
                format_lazy(_("Case {number} is {state}; merge into an open case."),
                            number=target_case.number, state=State(target_case.state).label),
                code="not_open",
            )})
        before, locked.state = locked.state, target
        locked.parent = target_case
        locked.stage_deadline = None
        locked.closed_at = timezone.now()
        _save(locked, "state", "parent", "stage_deadline", "closed_at")
        _event(locked, Action.MERGE, before, actor, note, into=target_case.pk, into_number=target_case.number)
    return locked


# --- dispatch and the departments' work ---------------------------------------------------------


def _department_serves(department: Department, region_code: str) -> bool:
    return region_code.startswith(department.region.prefix)


def _validate_departments(case: Case, lead: Department, assisting: list[Department]) -> None:
    errors = {}
    if not lead.is_active or not _department_serves(lead, case.region_code):
        errors["lead_department"] = ValidationError(
            format_lazy(_("{department} does not serve the place of this case."), department=lead.name),
            code="not_serving",
        )
    bad = [d.name for d in assisting if not d.is_active or not _department_serves(d, case.region_code)]
    if bad:
        errors["assisting_departments"] = ValidationError(
            format_lazy(_("{departments} do not serve the place of this case."), departments="、".join(bad)),
            code="not_serving",
        )
    elif lead.pk in {d.pk for d in assisting} or len({d.pk for d in assisting}) != len(assisting):
        errors["assisting_departments"] = ValidationError(
            _("Name each department once, and the lead department not again as assisting."),
            code="duplicate",
        )
    if errors:
        raise ValidationError(errors)


def dispatch_case(
    case: Case, lead_department: Department, assisting_departments: Iterable[Department] = (),
    actor: User | None = None, note: str = "",
) -> Case:
    """派遣: one lead department (主办) and any number of assisting ones (协办). After a return,
    dispatching again closes whatever is left of the earlier assignments."""
    assisting = list(assisting_departments)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.DISPATCH, locked)
        target = _check(locked, Action.DISPATCH, case.state)
        _validate_departments(locked, lead_department, assisting)
        now = timezone.now()
        released = [a for a in assignments if a.state in ACTIVE_ASSIGNMENT_STATES]
        for old in released:
            old.state, old.released_at = AssignmentState.RELEASED, now
            old.save(update_fields=["state", "released_at"])
        sign_by, handle_by = deadlines.assignment_deadlines(locked, now)
        created = Assignment.objects.bulk_create([
            Assignment(case=locked, department=d, role=role, dispatched_at=now,
                       sign_deadline=sign_by, handle_deadline=handle_by)
            for d, role in [(lead_department, AssignmentRole.LEAD)]
            + [(d, AssignmentRole.ASSISTING) for d in assisting]
        ])
        before, locked.state = locked.state, target
        locked.dispatched_at = now
        locked.stage_deadline = sign_by
        locked.due_at = handle_by
        _save(locked, "state", "dispatched_at", "stage_deadline", "due_at")
        _event(
            locked, Action.DISPATCH, before, actor, note,
            lead=lead_department.pk, assisting=[d.pk for d in assisting],
            assignments=[a.pk for a in created if a.pk is not None], released=[a.pk for a in released],
        )
        _notify_departments(locked, NotificationKind.NEW_TASK, [lead_department.pk, *(d.pk for d in assisting)])
    return locked


def _locked_pair(assignment: Assignment) -> tuple[Case, list[Assignment], Assignment]:
    case = _lock_case(assignment.case_id)
    assignments = _lock_assignments(case)
    for a in assignments:
        if a.pk == assignment.pk:
            return case, assignments, a
    raise Http404


def _assignment_data(a: Assignment) -> dict:
    return {"assignment": a.pk, "department": a.department_id, "role": a.role}


def _resolution_reached(assignments: list[Assignment]) -> bool:
    """Lead reported, and every other assignment reported, returned or released."""
    lead = [a for a in assignments if a.is_lead and a.state in ACTIVE_ASSIGNMENT_STATES]
    return (
        len(lead) == 1 and lead[0].state == AssignmentState.REPORTED
        and all(a.state in FINISHED_ASSIGNMENT_STATES for a in assignments if not a.is_lead)
    )


def _resolve(case: Case, assignments: list[Assignment], actor, seen_state) -> None:
    """Move the case to ``resolved`` once the last outstanding department has reported."""
    if not _resolution_reached(assignments):
        return
    target = _check(case, Action.REPORT_RESULT, seen_state)
    before, case.state = case.state, target
    case.resolved_at = timezone.now()
    case.stage_deadline = deadlines.verify_deadline(case, case.resolved_at)
    _save(case, "state", "resolved_at", "stage_deadline")
    _event(case, Action.REPORT_RESULT, before, actor, _("All departments have reported."), resolved=True)
    _notify_centre(case, NotificationKind.CASE_RESOLVED)


def sign_for(assignment: Assignment, actor: User) -> Assignment:
    """签收: the department accepts its task; the lead signing puts the case in progress."""
    with transaction.atomic():
        case, assignments, locked = _locked_pair(assignment)
        _authorize_assignment(actor, Action.SIGN_FOR, case, locked)
        new_state = _check_assignment(case, locked, Action.SIGN_FOR, assignment)
        before = case.state
        if locked.is_lead:
            case.state = _check(case, Action.SIGN_FOR, None)
            case.stage_deadline = case.due_at
            _save(case, "state", "stage_deadline")
        locked.state, locked.signed_at = new_state, timezone.now()
        locked.save(update_fields=["state", "signed_at"])
        _event(case, Action.SIGN_FOR, before, actor, **_assignment_data(locked))
    return locked


def return_assignment(assignment: Assignment, reason: str, actor: User) -> Assignment:
    """退单: the department says the task is not theirs. The lead's return sends the case back to
    the dispatcher (filed); an assisting return only releases that department."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        case, assignments, locked = _locked_pair(assignment)
        _authorize_assignment(actor, Action.RETURN, case, locked)
        new_state = _check_assignment(case, locked, Action.RETURN, assignment)
        now = timezone.now()
        before = case.state
        locked.state, locked.return_reason, locked.returned_at = new_state, reason, now
        locked.save(update_fields=["state", "return_reason", "returned_at"])
        if locked.is_lead:
            case.state = _check(case, Action.RETURN, None)
            for other in assignments:
                if other.pk != locked.pk and other.state in ACTIVE_ASSIGNMENT_STATES:
                    other.state, other.released_at = AssignmentState.RELEASED, now
                    other.save(update_fields=["state", "released_at"])
            case.stage_deadline = deadlines.dispatch_deadline(case, now)
            case.due_at = None
            _save(case, "state", "stage_deadline", "due_at")
            _event(case, Action.RETURN, before, actor, reason, **_assignment_data(locked))
            _notify_centre(case, NotificationKind.TASK_RETURNED)
        else:
            _event(case, Action.RETURN, before, actor, reason, **_assignment_data(locked))
            _resolve(case, assignments, actor, None)
    return locked


def report_result(assignment: Assignment, text: str, actor: User) -> Assignment:
    """处置反馈: the department reports what it did. The case is resolved when the lead and every
    assisting department still on it have reported."""
    text = _required_text("text", text)
    with transaction.atomic():
        case, assignments, locked = _locked_pair(assignment)
        _authorize_assignment(actor, Action.REPORT_RESULT, case, locked)
        new_state = _check_assignment(case, locked, Action.REPORT_RESULT, assignment)
        locked.state, locked.result, locked.reported_at = new_state, text, timezone.now()
        locked.save(update_fields=["state", "result", "reported_at"])
        _event(case, Action.REPORT_RESULT, case.state, actor, text, **_assignment_data(locked))
        _resolve(case, assignments, actor, None)
    return locked


# --- suspension, verification, reopening, cancellation ------------------------------------------


def suspend_case(case: Case, reason: str, actor: User) -> Case:
    """挂起 (approved): the clock stops until the case is resumed."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        _authorize(actor, Action.SUSPEND, locked)
        target = _check(locked, Action.SUSPEND, case.state)
        before, locked.state = locked.state, target
        locked.suspended_at = timezone.now()
        _save(locked, "state", "suspended_at")
        _event(locked, Action.SUSPEND, before, actor, reason)
        _notify_departments(locked, NotificationKind.CASE_SUSPENDED, _active_department_ids(locked))
    return locked


def resume_case(case: Case, actor: User, note: str = "") -> Case:
    """恢复: back in progress; every running deadline moves by the working time spent suspended."""
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.RESUME, locked)
        target = _check(locked, Action.RESUME, case.state)
        now = timezone.now()
        paused = deadlines.paused_working_time(locked.suspended_at, now)
        locked.due_at = deadlines.shift(locked.due_at, paused)
        locked.stage_deadline = deadlines.shift(locked.stage_deadline, paused)
        for a in assignments:
            if a.state in ACTIVE_ASSIGNMENT_STATES:
                a.sign_deadline = deadlines.shift(a.sign_deadline, paused)
                a.handle_deadline = deadlines.shift(a.handle_deadline, paused)
                a.save(update_fields=["sign_deadline", "handle_deadline"])
        before, locked.state = locked.state, target
        locked.suspended_at = None
        _save(locked, "state", "suspended_at", "due_at", "stage_deadline")
        _event(locked, Action.RESUME, before, actor, note, paused_seconds=int(paused.total_seconds()))
        _notify_departments(locked, NotificationKind.CASE_RESUMED, _active_department_ids(locked))
    return locked


def _active_department_ids(case: Case) -> list[int]:
    return list(case.assignments.filter(state__in=ACTIVE_ASSIGNMENT_STATES).values_list("department_id", flat=True))


def _reopen_lead(case: Case, assignments: list[Assignment]) -> Assignment:
    """Rework and reopening hand the case back to its lead department, already signed for."""
    lead = next(a for a in assignments if a.is_lead and a.state in ACTIVE_ASSIGNMENT_STATES)
    lead.state, lead.reported_at = AssignmentState.SIGNED, None
    lead.save(update_fields=["state", "reported_at"])
    return lead


def verify_case(case: Case, passed: bool, actor: User, note: str = "") -> Case:
    """核查: passed → closed (结案); failed → back in progress for rework (返工), counted."""
    action = Action.VERIFY if passed else Action.REWORK
    if not passed:
        note = _required_text("note", note)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, action, locked)
        target = _check(locked, action, case.state)
        before, locked.state = locked.state, target
        now = timezone.now()
        if passed:
            locked.closed_at, locked.stage_deadline = now, None
            _save(locked, "state", "closed_at", "stage_deadline")
            _event(locked, action, before, actor, note)
        else:
            lead = _reopen_lead(locked, assignments)
            locked.rework_count += 1
            locked.resolved_at = None
            locked.stage_deadline = locked.due_at = deadlines.rework_deadline(locked, now)
            _save(locked, "state", "rework_count", "resolved_at", "stage_deadline", "due_at")
            _event(locked, action, before, actor, note, rework_count=locked.rework_count, **_assignment_data(lead))
            _notify_departments(locked, NotificationKind.REWORK, [lead.department_id])
    return locked


def reopen_case(case: Case, reason: str, actor: User) -> Case:
    """重办: a closed case goes back to its lead department (e.g. after an unsatisfied rating)."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.REOPEN, locked)
        target = _check(locked, Action.REOPEN, case.state)
        lead = _reopen_lead(locked, assignments)
        before, locked.state = locked.state, target
        now = timezone.now()
        locked.closed_at = locked.resolved_at = None
        locked.stage_deadline = locked.due_at = deadlines.rework_deadline(locked, now)
        _save(locked, "state", "closed_at", "resolved_at", "stage_deadline", "due_at")
        _event(locked, Action.REOPEN, before, actor, reason, **_assignment_data(lead))
        _notify_departments(locked, NotificationKind.CASE_REOPENED, [lead.department_id])
    return locked


def cancel_case(case: Case, reason: str, actor: User) -> Case:
    """撤销: an open case is withdrawn; departments still on it are released."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.CANCEL, locked)
        target = _check(locked, Action.CANCEL, case.state)
        now = timezone.now()
        released = []
        for a in assignments:
            if a.state in ACTIVE_ASSIGNMENT_STATES:
                a.state, a.released_at = AssignmentState.RELEASED, now
                a.save(update_fields=["state", "released_at"])
                released.append(a)
        before, locked.state = locked.state, target
        locked.closed_at, locked.stage_deadline, locked.suspended_at = now, None, None
        _save(locked, "state", "closed_at", "stage_deadline", "suspended_at")
        _event(locked, Action.CANCEL, before, actor, reason, released=[a.pk for a in released])
        _notify_departments(locked, NotificationKind.CASE_CANCELLED, [a.department_id for a in released])
    return locked


def mark_notification_read(notification: Notification, actor: User) -> Notification:
    """A recipient marks one of their notifications read (idempotent)."""
    with transaction.atomic():
        try:
            locked = Notification.objects.select_for_update().get(pk=notification.pk, recipient=actor)
        except Notification.DoesNotExist:
            raise Http404 from None
        if locked.read_at is None:
            locked.read_at = timezone.now()
            locked.save(update_fields=["read_at"])
    return locked
