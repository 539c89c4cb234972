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

import importlib.util
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from civicgrid.cases import deadlines, reference, routing
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CaseRating,
    CaseRequest,
    Channel,
    Notification,
    NotificationKind,
    Rating,
    RequestKind,
    RequestState,
    SlaStatus,
    Supervision,
    SupervisionLevel,
    Urgency,
    rating_token_hash,
)
from civicgrid.cases.workflow import (
    ACTIVE_ASSIGNMENT_STATES,
    FINISHED_ASSIGNMENT_STATES,
    OPEN_STATES,
    RUNNING_STATES,
    TRANSITIONS,
    WORKING_CASE_STATES,
    Action,
    AssignmentRole,
    AssignmentState,
    Overlay,
    State,
    check_assignment_transition,
    check_transition,
    illegal_transition,
)
from civicgrid.core import sql
from civicgrid.core.api import DomainError
from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.core.rows import make as make_row
from civicgrid.org.models import CommandCentre, Department, Role, User
from civicgrid.org.permissions import PermissionDenied, has_permission, require_permission
from civicgrid.org.selectors import centre_chain
from civicgrid.taxonomy.models import RequestType, TimeUnit

logger = logging.getLogger(__name__)

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


def _authorize_permission(actor: User | None, permission: str, case: Case) -> None:
    """For steps outside the workflow table (requests, decisions, supervision, escalation)."""
    if actor is None:
        raise DomainError(_("A member of staff must perform this action."), code="actor_required")
    if not _can_see(actor, case):
        raise Http404
    require_permission(actor, permission)


def _require_department(actor: User, assignment: Assignment) -> None:
    if not actor.is_superuser and actor.department_id != assignment.department_id:
        raise PermissionDenied(
            _("Only staff of the assigned department may act on this task."), code="permission_denied",
        )


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
    made = getattr(case, "made_by_report", None)
    if made is not None and made.pending:
        # A report not written yet: its events are written with it (civicgrid.cases.reporting).
        event = make_row(CaseEvent, case=case, actor=actor, action=action, from_state=from_state or "",
                         to_state=case.state, note=note, data=data, at=timezone.now())
        made.events.append(event)
        return event
    event = CaseEvent.objects.create(
        case=case, actor=actor, action=action, from_state=from_state or "", to_state=case.state,
        note=note, data=data, at=timezone.now(),
    )
    if made is not None:
        made.events.append(event)
    return event


class MadeByReport:
    """What the report wrote for the case ``report_case`` returns, kept on that very object
    (``case.made_by_report``): its events and tasks, so the intake's answer can be rendered without
    reading them back. Only the objects the report itself wrote are listed: a case found again (a
    channel's retry) carries none.

    While ``pending`` the case is built but not written yet (``civicgrid.cases.reporting``): the
    actions that a report runs on it (filing and dispatch by the matrix, merging) change it in
    memory and leave their events and tasks here, unsaved, for the report to write with the case;
    a primary key they need is a ``PendingPk`` until then."""

    def __init__(self, pending: bool = False):
        self.events: list[CaseEvent] = []
        self.assignments: list[Assignment] = []
        self.pending = pending
        # Events on other cases that name this one (an open case it was merged into).
        self.others: list[CaseEvent] = []
        # Notices to departments (a dispatch's new tasks), sent for the whole batch on commit.
        self.notices: list = []
        # Its duplicate candidates (civicgrid.dedup.models.DuplicateCandidate, unsaved), each with
        # the case of the same report batch it names, if it names one.
        self.candidates: list[tuple] = []


class PendingPk:
    """The primary key of an object the running report has not written yet (in an event's data);
    the report puts the key in its place when it writes the events."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


def _pending(case: Case) -> bool:
    made = getattr(case, "made_by_report", None)
    return made is not None and made.pending


def _pk(obj):
    """``obj.pk``, or a ``PendingPk`` for an object the running report writes later."""
    return obj.pk if obj.pk is not None else PendingPk(obj)


def _save(case: Case, *fields: str) -> None:
    if _pending(case):
        return  # written whole with the report
    case.save(update_fields=[*fields, "updated_at"])


# --- clocks (SLA) -------------------------------------------------------------------------------

STAGE_FIELDS = ("stage_started_at", "stage_warn_at", "stage_deadline", "sla_status")
CLOCK_FIELDS = ("clock_started_at", "sign_warn_at", "handle_warn_at", "sla_status", "supervision_level")
_STATUS_RANK = {SlaStatus.ON_TIME: 0, SlaStatus.WARNING: 1, SlaStatus.OVERDUE: 2}


def _set_stage(case: Case, start: datetime | None, deadline: datetime | None, now: datetime | None = None) -> None:
    """Start the case's stage clock (no deadline: no clock)."""
    case.stage_started_at = start if deadline is not None else None
    case.stage_deadline = deadline
    case.stage_warn_at = deadlines.warn_moment(start, deadline)
    case.sla_status = deadlines.sla_status(start, deadline, now or timezone.now())


def _running_deadline(a: Assignment) -> datetime | None:
    """The deadline a task is working against: signing for while pending, handling once signed."""
    if a.state == AssignmentState.PENDING:
        return a.sign_deadline
    if a.state == AssignmentState.SIGNED:
        return a.handle_deadline
    return None


def _start_clock(a: Assignment, start: datetime, sign_by: datetime | None, handle_by: datetime | None) -> None:
    a.clock_started_at = start
    a.sign_deadline, a.handle_deadline = sign_by, handle_by
    a.sign_warn_at = deadlines.warn_moment(start, sign_by)
    a.handle_warn_at = deadlines.warn_moment(start, handle_by)
    _refresh_clock(a, reset_supervision=True)


def _refresh_clock(a: Assignment, reset_supervision: bool) -> None:
    """Status against the running deadline; a new deadline starts without supervision."""
    a.sla_status = deadlines.sla_status(a.clock_started_at, _running_deadline(a), timezone.now())
    if reset_supervision:
        a.supervision_level = 0


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
    NotificationKind.SLA_WARNING: _("Case {number} “{title}” is due soon."),
    NotificationKind.OVERDUE: _("Case {number} “{title}” is overdue."),
    NotificationKind.SUPERVISED: _("Supervision notice ({level}) on case {number} “{title}”."),
    NotificationKind.ESCALATED: _("Case {number} “{title}” was escalated to your centre."),
    NotificationKind.REQUEST_MADE: _("A department asks for {request} on case {number} “{title}”."),
    NotificationKind.REQUEST_DECIDED: _("Your request for {request} on case {number} “{title}” was {decision}."),
    NotificationKind.RATED: _("Case {number} “{title}” was rated: {rating}."),
}


def _notify_departments(case: Case, kind: str, department_ids: Iterable[int], **params) -> None:
    """Every member of staff of the departments, and each department's webhooks (after commit)."""
    ids = sorted(set(department_ids))
    if not ids:
        return
    notice = Notice(case, kind, ids, case.state, params)
    made = getattr(case, "made_by_report", None)
    if made is not None and made.pending:
        # A report not written yet: its batch sends the notices of all its cases at once.
        made.notices.append(notice)
        return
    notify_departments_on_commit([notice])


class Notice:
    """A notice to departments about a case: its kind, the departments, the case's state then."""

    __slots__ = ("case", "kind", "department_ids", "state", "params")

    def __init__(self, case: Case, kind: str, department_ids: list[int], state: str, params: dict):
        self.case, self.kind, self.department_ids, self.state, self.params = case, kind, department_ids, state, params

    def payload(self) -> dict:
        # Read when the transaction commits: a report written set-wise has its id and number by then.
        case = self.case
        return {"case_id": case.pk, "case_number": case.number, "title": case.title, "state": self.state,
                "kind": str(self.kind), **{k: str(v) for k, v in self.params.items()}}


def notify_departments_on_commit(notices: list[Notice]) -> None:
    """When the transaction commits: the in-app notices of ``notices`` (one statement for all on
    PostgreSQL) and their departments' webhooks (one read of who subscribes)."""
    if not notices:
        return
    transaction.on_commit(lambda: _write_department_notifications(notices))
    transaction.on_commit(lambda: _send_department_events(notices), robust=True)


def _send_department_events(notices: list[Notice]) -> None:
    # The webhooks app is optional (another part of the platform); without it there is nothing to
    # send, so skip cleanly rather than fail the case action that already committed.
    if importlib.util.find_spec("civicgrid.webhooks") is None:
        return
    from civicgrid.webhooks.actions import enqueue_departments_event
    from civicgrid.webhooks.selectors import subscribed_webhooks_of

    for kind in sorted({n.kind for n in notices}):
        of_kind = [n for n in notices if n.kind == kind]
        event_type = f"case.{kind}"
        # Most departments have no webhook: one read tells which of them all receive the event.
        subscribed = {w.department_id for w in subscribed_webhooks_of(
            {d for n in of_kind for d in n.department_ids}, event_type)}
        for notice in of_kind:
            receiving = [d for d in notice.department_ids if d in subscribed]
            if receiving:
                enqueue_departments_event(receiving, event_type, notice.payload())


def _intake_feedback(case: Case, action: str, **data) -> None:
    """After commit, tell the channel the case came from (12345 回传: 签收, 阶段答复, 办结答复,
    退回); a failure there never undoes the committed action."""
    def send():
        from civicgrid.intake.feedback import case_changed

        case_changed(case.pk, action, data)

    transaction.on_commit(send, robust=True)


def _notify_centre(case: Case, kind: str, centre_id: int | None = None, **params) -> None:
    """The dispatchers of the owning centre (or of ``centre_id``)."""
    centre_id = centre_id or case.owner_centre_id
    if centre_id is None:
        return
    transaction.on_commit(lambda: _write_notifications(
        case, kind, User.objects.filter(centre_id=centre_id, role=Role.DISPATCHER), **params,
    ))


def _notification_text(case: Case, kind: str, **params) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(format_lazy(_NOTIFICATION_TEXT[kind], number=case.number, title=case.title, **params))[:300]


def _write_department_notifications(notices: list[Notice]) -> None:
    """After commit: one notice per active member of staff of each notice's departments (every
    dispatch writes these: on PostgreSQL one prepared statement for all, reading the recipients as
    it writes)."""
    if not sql.postgres():
        for n in notices:
            _write_notifications(n.case, n.kind, User.objects.filter(department_id__in=n.department_ids), **n.params)
        return
    entries = [(n.case.pk, str(n.kind), _notification_text(n.case, n.kind, **n.params), d)
             for n in notices for d in n.department_ids]
    quote = connection.ops.quote_name
    with sql.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Notification._meta.db_table)} (recipient_id, case_id, kind, text, created_at) "
            f"SELECT u.id, n.case_id, n.kind, n.text, %s "
            "FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::bigint[]) AS n(case_id, kind, text, department) "
            f"JOIN {quote(User._meta.db_table)} u ON u.department_id = n.department AND u.is_active",
            [timezone.now(), *map(list, zip(*entries, strict=True))],
        )


def _write_notifications(case: Case, kind: str, recipients, **params) -> None:
    """After commit: one notice per active recipient (the case's number and title are final), in
    one statement that reads the recipients as it writes."""
    text = _notification_text(case, kind, **params)
    who, who_params = recipients.filter(is_active=True).values_list("id").query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Notification._meta.db_table)} (recipient_id, case_id, kind, text, created_at) "
            f"SELECT r.id, %s, %s, %s, %s FROM ({who}) r",
            [case.pk, str(kind), text, connection.ops.adapt_datetimefield_value(timezone.now()), *who_params],
        )


# --- case numbers -------------------------------------------------------------------------------


def _next_case_number(region_code: str, moment: datetime) -> str:
    """``350211-20261124-00042``: district, local day, sequence. The counter row is locked, so
    concurrent reports in the same district and day queue for it instead of colliding."""
    district = region_code[:6]
    day = timezone.localdate(moment)
    return f"{district}-{day:%Y%m%d}-{_advance_counter(district, day, 1):05d}"


def _advance_counter(district: str, day, count: int) -> int:
    """Take ``count`` numbers of the district's day; returns the last (see ``advance_counters``)."""
    return advance_counters({(district, day): count})[(district, day)]


def advance_counters(counts: dict, using=None) -> dict:
    """Take ``count`` numbers of each (district, day) in ``counts`` by create-or-increment (one
    statement per 300 rows, PostgreSQL and SQLite alike), in key order so that concurrent callers
    cannot deadlock; the rows stay locked to the end of the transaction. ``using``: another
    connection (a database wrapper) than this thread's, e.g. one in autocommit mode, where the
    numbers are taken in a transaction of their own. Returns {(district, day): last number taken}."""
    conn = using if using is not None else connection
    table = conn.ops.quote_name(CaseNumberCounter._meta.db_table)
    keys = sorted(counts)
    out = {}
    if sql.postgres(conn):
        # One prepared statement whatever the number of rows; unnest keeps the key order.
        with sql.cursor(conn) as cursor:
            cursor.execute(
                f"INSERT INTO {table} (district_code, day, last) "
                "SELECT * FROM unnest(%s::varchar[], %s::date[], %s::integer[]) "
                f"ON CONFLICT (district_code, day) DO UPDATE SET last = {table}.last + EXCLUDED.last "
                "RETURNING district_code, day, last",
                [[k[0] for k in keys], [k[1] for k in keys], [counts[k] for k in keys]],
            )
            for district, day, last in cursor.fetchall():
                out[(district, str(day))] = last
        return {key: out[(key[0], str(key[1]))] for key in keys}
    for start in range(0, len(keys), 300):
        chunk = keys[start:start + 300]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params = [p for key in chunk for p in (key[0], key[1], counts[key])]
        with conn.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (district_code, day, last) VALUES {values} "
                f"ON CONFLICT (district_code, day) DO UPDATE SET last = {table}.last + EXCLUDED.last "
                "RETURNING district_code, day, last",
                params,
            )
            for district, day, last in cursor.fetchall():
                out[(district, str(day))] = last
    return {key: out[(key[0], str(key[1]))] for key in keys}


# --- report, file, reject, merge ----------------------------------------------------------------


_CHOICE_VALUES: dict = {}


def _validate_choice(field: str, value: str, choices) -> None:
    values = _CHOICE_VALUES.get(choices)
    if values is None:  # an enum's values are listed anew on every read
        values = _CHOICE_VALUES[choices] = frozenset(choices.values)
    if value not in values:
        raise ValidationError({field: ValidationError(
            format_lazy(_("“{value}” is not a valid choice."), value=value), code="invalid_choice",
        )})


def _resolve_region_code(region_code: str | None, lon, lat, ref: reference.Reference) -> str:
    if not region_code and lon is not None and lat is not None:
        region_code = deadlines.locate_region_code(lon, lat)
        if region_code is None:
            raise ValidationError({"location": ValidationError(
                _("No region of the platform contains this point."), code="outside_regions",
            )})
        return region_code  # the locator's index holds the regions of the current generation
    if not region_code:
        raise ValidationError({"region_code": ValidationError(
            _("Give a region code or a location."), code="required",
        )})
    if not ref.has_region(region_code):
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
    case already made (intake retries are harmless). The report is a batch of one of
    ``civicgrid.cases.reporting``: classified when it has no category, merged into the open case
    it clearly duplicates, or filed and dispatched when the matrix answers clearly (智能派单)."""
    from civicgrid.cases import reporting  # builds on this module

    report = prepare_report(
        channel=channel, title=title, region_code=region_code, lon=lon, lat=lat, description=description,
        request_type=request_type, urgency=urgency, address=address, reporter_name=reporter_name,
        reporter_phone=reporter_phone, external_id=external_id, category=category, actor=actor,
        reported_at=reported_at,
    )
    try:
        with transaction.atomic():
            reporting.store([report], report.ref)
    except IntegrityError:
        # This channel reported this external id at the same moment through another request.
        if report.case.external_id:
            existing = Case.objects.filter(channel=channel, external_id=report.case.external_id).first()
            if existing is not None:
                return existing
        raise
    return report.outcome


def prepare_report(
    *, channel: str, title: str, region_code: str | None = None, lon: float | None = None,
    lat: float | None = None, description: str = "", request_type: str = RequestType.FIELD_REPORT,
    urgency: str = Urgency.NORMAL, address: str = "", reporter_name: str = "", reporter_phone: str = "",
    external_id: str = "", category=None, actor: User | None = None, reported_at: datetime | None = None,
):
    """``report_case``'s checks, and the report built in memory (no writes): its case, the
    classifier's proposal, the matrix's suggestion. ``civicgrid.cases.reporting.store`` writes it."""
    from civicgrid.cases import reporting  # builds on this module

    check_transition(None, Action.REPORT)
    _validate_choice("channel", channel, Channel)
    _validate_choice("request_type", request_type, RequestType)
    _validate_choice("urgency", urgency, Urgency)
    title = _required_text("title", title)
    external_id = (external_id or "").strip()
    # Categories, SLA limits, owner centres, the matrix and its departments, the region codes: from
    # this process's reference of the current generation, without a query each (see
    # ``civicgrid.cases.reference``).
    ref = reference.current()
    region_code = _resolve_region_code(region_code, lon, lat, ref)
    if actor is not None:
        require_permission(actor, TRANSITIONS[Action.REPORT].permission)
        if not code_in_jurisdiction(actor, region_code):
            raise ValidationError({"region_code": ValidationError(
                _("This place lies outside your jurisdiction."), code="outside_jurisdiction",
            )})
    now = timezone.now()
    report = reporting.Report(reporting.new_case(
        ref, now, region_code=region_code, category=category, reported_at=reported_at, channel=channel,
        external_id=external_id, request_type=request_type, urgency=urgency, title=title,
        description=description, lon=lon, lat=lat, address=address, reporter_name=reporter_name,
        reporter_phone=reporter_phone,
    ), actor=actor, ref=ref)
    reporting.classify([report], ref, now)
    reporting.route([report], ref)
    return report


def _record_routing(case: Case) -> dict:
    suggestion = routing.suggest(case)
    case.routing_suggestion = suggestion
    _save(case, "routing_suggestion")
    return suggestion


def _departments(pks: list[int], ref: reference.Reference | None) -> list[Department]:
    """Departments (with their regions) in the order of ``pks``: from the intake's reference when
    there is one, else read. A pk that names no department is left out."""
    if ref is not None and None not in (found := [ref.department(pk) for pk in pks]):
        return found
    by_pk = Department.objects.select_related("region").defer("region__geometry").in_bulk(pks)
    return [by_pk[pk] for pk in pks if pk in by_pk]


def _auto_dispatch(case: Case, suggestion: dict, new: bool, ref: reference.Reference | None = None) -> Case:
    lead = _departments([suggestion["lead_department"]], ref)
    if not lead:
        raise Department.DoesNotExist(f"Department {suggestion['lead_department']} does not exist.")
    lead, assisting = lead[0], _departments(sorted(suggestion["assisting_departments"]), ref)
    note = str(format_lazy(_("Auto-dispatch: {why}"), why=suggestion["why"]))
    if new:
        # Made in this very transaction: held by it already, and without tasks yet.
        _dispatch(case, [], _check(case, Action.DISPATCH, case.state), lead, assisting, None, note,
                  auto=True, rule=suggestion["rule"])
        return case
    return dispatch_case(case, lead, assisting, None, note, auto=True, rule=suggestion["rule"])


def file_case(case: Case, actor: User | None, *, category=None, urgency: str | None = None, note: str = "") -> Case:
    """立案: accept a report as a case of ``category`` (required unless already set). A category
    marked for auto-dispatch whose matrix answer is clear is dispatched at once (智能派单)."""
    return _file(case, actor, category, urgency, note, auto=False)


def _file(case: Case, actor: User | None, category, urgency, note: str, auto: bool, new: bool = False,
          ref: reference.Reference | None = None) -> Case:
    # ``auto``: filed by the auto-dispatch rule, the only filing without a person. ``new``: the
    # case was inserted by the caller's transaction (intake), which holds it: no second lock, and
    # no savepoint, as a failure undoes the whole report anyway. ``ref``: the intake's reference
    # data, which names the departments of the suggestion.
    with transaction.atomic(savepoint=not new):
        locked = case if new else _lock_case(case)
        if not auto:
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
        _set_stage(locked, locked.filed_at, deadlines.dispatch_deadline(locked, locked.filed_at))
        _save(locked, "category", "urgency", "state", "filed_at", *STAGE_FIELDS)
        _event(locked, Action.FILE, before, actor, note, category=locked.category_id, urgency=locked.urgency)
        # Filed by the rule right after the report: the routing just recorded still holds (the
        # category and place are unchanged), so it is not computed twice.
        suggestion = locked.routing_suggestion if auto and locked.routing_suggestion else _record_routing(locked)
        if suggestion["auto"]:
            return _auto_dispatch(locked, suggestion, new, ref)
    return locked


def reject_case(case: Case, reason: str, actor: User | None) -> Case:
    """不予立案: the report is not a matter for the platform (the reason is kept)."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        _authorize(actor, Action.REJECT, locked)
        target = _check(locked, Action.REJECT, case.state)
        before, locked.state = locked.state, target
        _set_stage(locked, None, None)
        locked.closed_at = timezone.now()
        _save(locked, "state", "closed_at", *STAGE_FIELDS)
        _event(locked, Action.REJECT, before, actor, reason)
        _intake_feedback(locked, Action.REJECT, reason=reason)
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
        _merge(locked, target_case, target, actor, note)
    return locked


def _merge(locked: Case, target_case: Case, target: str, actor: User | None, note: str) -> CaseEvent:
    """Merge a case this transaction holds into the open ``target_case`` (also held). Returns the
    event on ``target_case``'s timeline. A report not written yet (``civicgrid.cases.reporting``)
    is merged in memory: both events wait for it."""
    before, locked.state = locked.state, target
    locked.parent = target_case
    _set_stage(locked, None, None)
    locked.closed_at = timezone.now()
    _save(locked, "state", "parent", "closed_at", *STAGE_FIELDS)
    _event(locked, Action.MERGE, before, actor, note, into=_pk(target_case), into_number=target_case.number)
    # The open case's timeline lists every report merged into it, with its channel: one incident
    # reported three ways shows three reporters and three channels.
    data = dict(merged_case=_pk(locked), merged_case_number=locked.number, channel=locked.channel,
                external_id=locked.external_id, reported_at=locked.reported_at.isoformat(),
                has_reporter=bool(locked.reporter_name or locked.reporter_phone))
    if _pending(locked) and not _pending(target_case):
        # The open case's event names the report by its id: written with the report.
        event = make_row(CaseEvent, case=target_case, actor=actor, action=Overlay.MERGED_IN,
                         from_state=target_case.state, to_state=target_case.state, note=note, data=data,
                         at=timezone.now())
        locked.made_by_report.others.append(event)
        return event
    return _event(target_case, Overlay.MERGED_IN, target_case.state, actor, note, **data)


def unmerge_case(case: Case, actor: User, reason: str) -> Case:
    """撤销合并: ``case`` was merged by mistake; it becomes a case of its own again, in the state it
    had before the merge (reported, with a fresh filing clock), and the case it was merged into
    records that the report left."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        parent_pk = Case.objects.filter(pk=case.pk).values_list("parent_id", flat=True).first()
        pks = sorted(pk for pk in {case.pk, parent_pk} if pk is not None)
        locked_by_pk = {pk: _lock_case(pk) for pk in pks}
        locked = locked_by_pk[case.pk]
        _authorize(actor, Action.UNMERGE, locked)
        target = _check(locked, Action.UNMERGE, case.state)
        parent = locked_by_pk.get(locked.parent_id)
        if parent is None:  # merged elsewhere between the read and the lock
            raise _conflict(locked)
        before, locked.state = locked.state, target
        locked.parent = None
        locked.closed_at = None
        now = timezone.now()
        _set_stage(locked, now, deadlines.file_deadline(locked, now), now)
        _save(locked, "state", "parent", "closed_at", *STAGE_FIELDS)
        _event(locked, Action.UNMERGE, before, actor, reason, parent=parent.pk, parent_number=parent.number)
        _event(parent, Overlay.UNMERGED_OUT, parent.state, actor, reason, merged_case=locked.pk,
               merged_case_number=locked.number, channel=locked.channel)
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
    actor: User | None = None, note: str = "", **event_data,
) -> Case:
    """派遣: one lead department (主办) and any number of assisting ones (协办). After a return,
    dispatching again closes whatever is left of the earlier assignments."""
    assisting = list(assisting_departments)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.DISPATCH, locked)
        target = _check(locked, Action.DISPATCH, case.state)
        _dispatch(locked, assignments, target, lead_department, assisting, actor, note, **event_data)
    return locked


def _dispatch(locked: Case, assignments: list[Assignment], target: str, lead_department: Department,
              assisting: list[Department], actor: User | None, note: str, **event_data) -> None:
    """Dispatch a case this transaction holds (with its locked ``assignments``) to ``target``."""
    _validate_departments(locked, lead_department, assisting)
    now = timezone.now()
    released = [a for a in assignments if a.state in ACTIVE_ASSIGNMENT_STATES]
    for old in released:
        old.state, old.released_at = AssignmentState.RELEASED, now
        old.save(update_fields=["state", "released_at"])
    sign_by, handle_by = deadlines.assignment_deadlines(locked, now)
    new = []
    for d, role in [(lead_department, AssignmentRole.LEAD)] + [(d, AssignmentRole.ASSISTING) for d in assisting]:
        a = Assignment(case=locked, department=d, role=role, dispatched_at=now)
        _start_clock(a, now, sign_by, handle_by)
        new.append(a)
    made = getattr(locked, "made_by_report", None)
    # A report not written yet keeps its tasks to write them with the case.
    created = new if _pending(locked) else Assignment.objects.bulk_create(new)
    if made is not None:
        made.assignments += created
    before, locked.state = locked.state, target
    locked.dispatched_at = now
    _set_stage(locked, now, sign_by)
    locked.due_at = handle_by
    _save(locked, "state", "dispatched_at", "due_at", *STAGE_FIELDS)
    _event(
        locked, Action.DISPATCH, before, actor, note,
        lead=lead_department.pk, assisting=[d.pk for d in assisting],
        assignments=[_pk(a) for a in created], released=[a.pk for a in released],
        **event_data,
    )
    _notify_departments(locked, NotificationKind.NEW_TASK, [lead_department.pk, *(d.pk for d in assisting)])


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
    _set_stage(case, case.resolved_at, deadlines.verify_deadline(case, case.resolved_at))
    _save(case, "state", "resolved_at", *STAGE_FIELDS)
    _event(case, Action.REPORT_RESULT, before, actor, _("All departments have reported."), resolved=True)
    _intake_feedback(case, Action.REPORT_RESULT, resolved=True)
    _notify_centre(case, NotificationKind.CASE_RESOLVED)


def sign_for(assignment: Assignment, actor: User) -> Assignment:
    """签收: the department accepts its task; the lead signing puts the case in progress."""
    with transaction.atomic():
        case, assignments, locked = _locked_pair(assignment)
        _authorize_assignment(actor, Action.SIGN_FOR, case, locked)
        new_state = _check_assignment(case, locked, Action.SIGN_FOR, assignment)
        before = case.state
        locked.state, locked.signed_at = new_state, timezone.now()
        # Now working against the handling deadline, counted from dispatch.
        _refresh_clock(locked, reset_supervision=True)
        locked.save(update_fields=["state", "signed_at", *CLOCK_FIELDS])
        if locked.is_lead:
            case.state = _check(case, Action.SIGN_FOR, None)
            _set_stage(case, locked.clock_started_at, case.due_at)
            _save(case, "state", *STAGE_FIELDS)
        _event(case, Action.SIGN_FOR, before, actor, **_assignment_data(locked))
        if locked.is_lead:
            _intake_feedback(case, Action.SIGN_FOR, department=locked.department_id)
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
            _set_stage(case, now, deadlines.dispatch_deadline(case, now))
            case.due_at = None
            _save(case, "state", "due_at", *STAGE_FIELDS)
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
        _suspend(locked, target, reason, actor)
    return locked


def _suspend(locked: Case, target: str, reason: str, actor, **data) -> None:
    before, locked.state = locked.state, target
    locked.suspended_at = timezone.now()
    _save(locked, "state", "suspended_at")
    _event(locked, Action.SUSPEND, before, actor, reason, **data)
    _notify_departments(locked, NotificationKind.CASE_SUSPENDED, _active_department_ids(locked))


def resume_case(case: Case, actor: User, note: str = "") -> Case:
    """恢复: back in progress; every running deadline moves by the working time spent suspended."""
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.RESUME, locked)
        target = _check(locked, Action.RESUME, case.state)
        now = timezone.now()
        paused = deadlines.paused_working_time(locked.suspended_at, now)
        # Every moment of every running clock moves by the same working time, so shares (and the
        # warning moments) stay as they were.
        locked.due_at = deadlines.shift(locked.due_at, paused)
        for name in ("stage_started_at", "stage_warn_at", "stage_deadline"):
            setattr(locked, name, deadlines.shift(getattr(locked, name), paused))
        for a in assignments:
            if a.state in ACTIVE_ASSIGNMENT_STATES:
                for name in ("clock_started_at", "sign_warn_at", "sign_deadline", "handle_warn_at", "handle_deadline"):
                    setattr(a, name, deadlines.shift(getattr(a, name), paused))
                _refresh_clock(a, reset_supervision=False)
                a.save(update_fields=["sign_deadline", "handle_deadline", *CLOCK_FIELDS])
        before, locked.state = locked.state, target
        locked.suspended_at = None
        locked.sla_status = deadlines.sla_status(locked.stage_started_at, locked.stage_deadline, now)
        _save(locked, "state", "suspended_at", "due_at", *STAGE_FIELDS)
        _event(locked, Action.RESUME, before, actor, note, paused_seconds=int(paused.total_seconds()))
        _notify_departments(locked, NotificationKind.CASE_RESUMED, _active_department_ids(locked))
    return locked


def _active_department_ids(case: Case) -> list[int]:
    return list(case.assignments.filter(state__in=ACTIVE_ASSIGNMENT_STATES).values_list("department_id", flat=True))


def _reopen_lead(case: Case, assignments: list[Assignment], now: datetime) -> Assignment:
    """Rework and reopening hand the case back to its lead department, already signed for, with a
    fresh handling limit from now (the case's stage clock is the same one)."""
    lead = next(a for a in assignments if a.is_lead and a.state in ACTIVE_ASSIGNMENT_STATES)
    lead.state, lead.reported_at = AssignmentState.SIGNED, None
    _start_clock(lead, now, lead.sign_deadline, deadlines.rework_deadline(case, now))
    lead.save(update_fields=["state", "reported_at", "sign_deadline", "handle_deadline", *CLOCK_FIELDS])
    case.due_at = lead.handle_deadline
    _set_stage(case, now, lead.handle_deadline)
    return lead


def verify_case(case: Case, passed: bool, actor: User, note: str = "") -> Case:
    """核查: passed → closed (结案); failed → back in progress for rework (返工), counted.

    Closing issues a rating token (回访评价) for the reporter: the returned case carries it as
    ``case.rating_token`` — the only time it is available; only its hash is stored."""
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
            locked.closed_at = now
            _set_stage(locked, None, None)
            _save(locked, "state", "closed_at", *STAGE_FIELDS)
            _event(locked, action, before, actor, note)
            # 回访: the reporter rates this closure with a token only they are given.
            token = secrets.token_urlsafe(32)
            CaseRating.objects.create(case=locked, token_hash=rating_token_hash(token), issued_at=now)
            locked.rating_token = token
        else:
            lead = _reopen_lead(locked, assignments, now)
            locked.rework_count += 1
            locked.resolved_at = None
            _save(locked, "state", "rework_count", "resolved_at", "due_at", *STAGE_FIELDS)
            _event(locked, action, before, actor, note, rework_count=locked.rework_count, **_assignment_data(lead))
            _notify_departments(locked, NotificationKind.REWORK, [lead.department_id])
    return locked


def reopen_window() -> timedelta:
    """How long after an unsatisfied rating the centre may reopen (``CIVICGRID_REOPEN_WINDOW_DAYS``,
    7 calendar days by default)."""
    return timedelta(days=float(getattr(settings, "CIVICGRID_REOPEN_WINDOW_DAYS", 7)))


def reopen_case(case: Case, reason: str, actor: User, *, follow_up_visit: int | None = None) -> Case:
    """重办: a closed case goes back to its lead department — only when the reporter rated this
    closure unsatisfied (不满意) and the reopen window since that rating has not passed, or when a
    dispute's follow-up visit (回访, ``follow_up_visit``) found the agreement not performed (that
    rule is checked by ``civicgrid.disputes.actions.record_follow_up``)."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize(actor, Action.REOPEN, locked)
        target = _check(locked, Action.REOPEN, case.state)
        now = timezone.now()
        rating = CaseRating.objects.filter(case=locked).order_by("-issued_at", "-pk").first()
        if follow_up_visit is not None:
            rating = None
        elif rating is None or rating.rating != Rating.UNSATISFIED:
            raise DomainError(
                _("A case can be reopened only after its reporter rated the closure unsatisfied."),
                code="reopen_not_allowed",
            )
        elif now - rating.rated_at > reopen_window():
            raise DomainError(
                format_lazy(_("The unsatisfied rating is older than {days} days; the case can no longer be "
                              "reopened."), days=getattr(settings, "CIVICGRID_REOPEN_WINDOW_DAYS", 7)),
                code="reopen_window_passed",
            )
        lead = _reopen_lead(locked, assignments, now)
        before, locked.state = locked.state, target
        locked.closed_at = locked.resolved_at = None
        _save(locked, "state", "closed_at", "resolved_at", "due_at", *STAGE_FIELDS)
        grounds = {"rating": rating.pk} if rating is not None else {"follow_up_visit": follow_up_visit}
        _event(locked, Action.REOPEN, before, actor, reason, **grounds, **_assignment_data(lead))
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
        locked.closed_at, locked.suspended_at = now, None
        _set_stage(locked, None, None)
        _save(locked, "state", "closed_at", "suspended_at", *STAGE_FIELDS)
        _event(locked, Action.CANCEL, before, actor, reason, released=[a.pk for a in released])
        _intake_feedback(locked, Action.CANCEL, reason=reason)
        _notify_departments(locked, NotificationKind.CASE_CANCELLED, [a.department_id for a in released])
    return locked


def post_stage_reply(case: Case, text: str, actor: User) -> CaseEvent:
    """阶段答复: a progress note on an open case, from the lead department (a member of a department
    with an active task) or a dispatcher; on the timeline, and sent on to 12345 when it came from there."""
    text = _required_text("text", text)
    with transaction.atomic():
        locked = _lock_case(case)
        if actor is None:
            raise DomainError(_("A member of staff must perform this action."), code="actor_required")
        if not _can_see(actor, locked):
            raise Http404
        on_task = Assignment.objects.filter(
            case=locked, department_id=actor.department_id, state__in=ACTIVE_ASSIGNMENT_STATES).exists()
        if not (has_permission(actor, "case.dispatch")
                or (has_permission(actor, "case.report_result") and actor.department_id and on_task)):
            raise PermissionDenied(_("Only a dispatcher or a department on the case may reply."),
                                   code="permission_denied")
        if locked.state not in OPEN_STATES:
            raise illegal_transition(locked.state, Overlay.STAGE_REPLY)
        event = _event(locked, Overlay.STAGE_REPLY, locked.state, actor, text)
        _intake_feedback(locked, Overlay.STAGE_REPLY, text=text)
    return event


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


# --- extension and suspension requests (延期 / 挂起) ----------------------------------------------


def _lock_request(request: CaseRequest) -> tuple[Case, list[Assignment], CaseRequest, Assignment]:
    """Case, its assignments and the request, locked in that order (the order every action uses)."""
    try:
        case_id = CaseRequest.objects.values_list("case_id", flat=True).get(pk=request.pk)
    except CaseRequest.DoesNotExist:
        raise Http404 from None
    case = _lock_case(case_id)
    assignments = _lock_assignments(case)
    locked = CaseRequest.objects.select_for_update().get(pk=request.pk)
    assignment = next(a for a in assignments if a.pk == locked.assignment_id)
    return case, assignments, locked, assignment


def _parse_extension(amount, unit: str) -> tuple[Decimal, str]:
    errors = {}
    try:
        value = Decimal(str(amount))
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        value = None
        errors["amount"] = ValidationError(_("Enter a number."), code="invalid")
    if unit not in TimeUnit.values:
        errors["unit"] = ValidationError(_("Choose working hours or working days."), code="invalid_choice")
    if value is not None:
        if value <= 0:
            errors["amount"] = ValidationError(_("An extension must be more than zero."), code="not_positive")
        elif value >= Decimal(10000) or value != value.quantize(Decimal("0.01")):
            errors["amount"] = ValidationError(
                _("Give at most two decimals and less than 10000."), code="invalid",
            )
        elif unit == TimeUnit.DAYS and value != value.to_integral_value():
            errors["amount"] = ValidationError(
                _("Working days must be a whole number; use working hours instead."), code="days_not_whole",
            )
    if errors:
        raise ValidationError(errors)
    return value, unit


def _check_open_task(case: Case, assignment: Assignment, action: str) -> None:
    if case.state not in WORKING_CASE_STATES or assignment.state not in (
        AssignmentState.PENDING, AssignmentState.SIGNED,
    ):
        raise illegal_transition(case.state, action)


def _no_pending(assignment: Assignment, kind: str) -> None:
    if CaseRequest.objects.filter(assignment=assignment, kind=kind, state=RequestState.PENDING).exists():
        raise DomainError(
            _("This task already has a request of this kind awaiting a decision."),
            code="request_pending", status_code=status.HTTP_409_CONFLICT,
        )


def _create_request(case, assignment, kind, actor, reason, **fields) -> CaseRequest:
    try:
        with transaction.atomic():
            return CaseRequest.objects.create(
                case=case, assignment=assignment, kind=kind, reason=reason, requested_by=actor,
                requested_at=timezone.now(), **fields,
            )
    except IntegrityError:  # pragma: no cover - the row locks make this a backstop only
        _no_pending(assignment, kind)
        raise


def request_extension(assignment: Assignment, amount, unit: str, reason: str, actor: User) -> CaseRequest:
    """申请延期: the department asks for ``amount`` more working ``unit`` ("hours"/"days") to
    handle its task; the centre approves or refuses."""
    amount, unit = _parse_extension(amount, unit)
    reason = _required_text("reason", reason)
    with transaction.atomic():
        case, _assignments, locked = _locked_pair(assignment)
        _authorize_permission(actor, "case.request_extension", case)
        _require_department(actor, locked)
        _check_open_task(case, locked, Overlay.REQUEST_EXTENSION)
        _no_pending(locked, RequestKind.EXTENSION)
        request = _create_request(case, locked, RequestKind.EXTENSION, actor, reason, amount=amount, unit=unit)
        _event(case, Overlay.REQUEST_EXTENSION, case.state, actor, reason, request=request.pk,
               amount=str(amount), unit=unit, **_assignment_data(locked))
        _notify_centre(case, NotificationKind.REQUEST_MADE, request=RequestKind.EXTENSION.label)
    return request


def request_suspension(assignment: Assignment, reason: str, actor: User) -> CaseRequest:
    """申请挂起: the lead department asks to stop the clock (e.g. waiting for a court or an owner)."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        case, _assignments, locked = _locked_pair(assignment)
        _authorize_permission(actor, "case.request_suspension", case)
        _require_department(actor, locked)
        check_transition(case.state, Action.SUSPEND)
        if not locked.is_lead or locked.state != AssignmentState.SIGNED:
            raise DomainError(
                _("Only the lead department, once it has signed for the task, may ask to suspend the case."),
                code="lead_only",
            )
        _no_pending(locked, RequestKind.SUSPENSION)
        request = _create_request(case, locked, RequestKind.SUSPENSION, actor, reason)
        _event(case, Overlay.REQUEST_SUSPENSION, case.state, actor, reason, request=request.pk,
               **_assignment_data(locked))
        _notify_centre(case, NotificationKind.REQUEST_MADE, request=RequestKind.SUSPENSION.label)
    return request


def _require_pending(request: CaseRequest, kind: str) -> None:
    if request.kind != kind:
        raise Http404
    if request.state != RequestState.PENDING:
        raise DomainError(
            format_lazy(_("This request was already {decision}."), decision=RequestState(request.state).label),
            code="already_decided", status_code=status.HTTP_409_CONFLICT,
        )


def _decide(request: CaseRequest, actor: User, approved: bool, note: str) -> None:
    request.state = RequestState.APPROVED if approved else RequestState.REFUSED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])


def _notify_decision(case: Case, request: CaseRequest) -> None:
    _notify_departments(
        case, NotificationKind.REQUEST_DECIDED, [request.assignment.department_id],
        request=RequestKind(request.kind).label, decision=RequestState(request.state).label,
    )


def approve_extension(request: CaseRequest, actor: User, note: str = "") -> CaseRequest:
    """批准延期: the task's handling deadline moves later by the amount asked for, in working
    time (from the old deadline; for the lead also the case's)."""
    with transaction.atomic():
        case, _assignments, locked, assignment = _lock_request(request)
        _authorize_permission(actor, "case.approve_extension", case)
        _require_pending(locked, RequestKind.EXTENSION)
        _check_open_task(case, assignment, Overlay.APPROVE_EXTENSION)
        _decide(locked, actor, True, note)
        now = timezone.now()
        before = assignment.handle_deadline
        assignment.handle_deadline = deadlines.extended(before, locked.amount, locked.unit, now)
        assignment.handle_warn_at = deadlines.warn_moment(assignment.clock_started_at, assignment.handle_deadline)
        _refresh_clock(assignment, reset_supervision=assignment.state == AssignmentState.SIGNED)
        assignment.save(update_fields=["handle_deadline", *CLOCK_FIELDS])
        if assignment.is_lead:
            case.due_at = assignment.handle_deadline
            fields = ["due_at"]
            if case.state == State.IN_PROGRESS:
                _set_stage(case, assignment.clock_started_at, case.due_at)
                fields += STAGE_FIELDS
            _save(case, *fields)
        _event(case, Overlay.APPROVE_EXTENSION, case.state, actor, note, request=locked.pk,
               amount=str(locked.amount), unit=locked.unit,
               old_deadline=before.isoformat() if before else None,
               new_deadline=assignment.handle_deadline.isoformat(), **_assignment_data(assignment))
        _notify_decision(case, locked)
    return locked


def _refuse(request: CaseRequest, reason: str, actor: User, kind: str, permission: str,
            overlay: str) -> CaseRequest:
    """Refuse a pending request: nothing changes but the request; the department is told why."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        case, _assignments, locked, assignment = _lock_request(request)
        _authorize_permission(actor, permission, case)
        _require_pending(locked, kind)
        _decide(locked, actor, False, reason)
        _event(case, overlay, case.state, actor, reason, request=locked.pk, **_assignment_data(assignment))
        _notify_decision(case, locked)
    return locked


def refuse_extension(request: CaseRequest, reason: str, actor: User) -> CaseRequest:
    """驳回延期: the deadline stays; the department is told why."""
    return _refuse(request, reason, actor, RequestKind.EXTENSION, "case.approve_extension",
                   Overlay.REFUSE_EXTENSION)


def approve_suspension(request: CaseRequest, actor: User, note: str = "") -> CaseRequest:
    """批准挂起: the case is suspended (its clocks stop until it is resumed)."""
    with transaction.atomic():
        case, _assignments, locked, assignment = _lock_request(request)
        _authorize(actor, Action.SUSPEND, case)
        _require_pending(locked, RequestKind.SUSPENSION)
        target = _check(case, Action.SUSPEND, None)
        _decide(locked, actor, True, note)
        _suspend(case, target, locked.reason, actor, request=locked.pk, decision_note=note)
        _notify_decision(case, locked)
    return locked


def refuse_suspension(request: CaseRequest, reason: str, actor: User) -> CaseRequest:
    """驳回挂起: the case stays in progress and its clock keeps running."""
    return _refuse(request, reason, actor, RequestKind.SUSPENSION, "case.approve_suspension",
                   Overlay.REFUSE_SUSPENSION)


# --- supervision (督办) and escalation --------------------------------------------------------


def _issue_supervision(case: Case, level: int, actor, note: str, assignment: Assignment | None,
                       deadline: datetime | None, automatic: bool) -> Supervision | None:
    """Write one notice, addressed to the task's department (else to the owning centre), and tell
    them. An automatic notice already issued for this task, level and deadline is not repeated."""
    notice = Supervision(
        case=case, assignment=assignment, department_id=assignment.department_id if assignment else None,
        centre_id=None if assignment else case.owner_centre_id, level=level, automatic=automatic,
        deadline=deadline, note=note, issued_by=actor, issued_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            notice.save(force_insert=True)
    except IntegrityError:
        if automatic:
            return None  # another sweep issued it first
        raise
    if level > case.supervision_level:
        case.supervision_level = level
        _save(case, "supervision_level")
    label = SupervisionLevel(level).label
    _event(case, Overlay.SUPERVISE, case.state, actor, note, supervision=notice.pk, level=level,
           automatic=automatic, deadline=deadline.isoformat() if deadline else None,
           **(_assignment_data(assignment) if assignment else {"centre": case.owner_centre_id}))
    if assignment is not None:
        _notify_departments(case, NotificationKind.SUPERVISED, [assignment.department_id], level=label)
    else:
        _notify_centre(case, NotificationKind.SUPERVISED, level=label)
    return notice


def supervise_case(case: Case, level: int, note: str, actor: User) -> Supervision:
    """督办 by a dispatcher or a leader: level 1 (yellow) or 2 (red), to the lead department of an
    open case (to the owning centre while no department holds it)."""
    if level not in SupervisionLevel.values:
        raise ValidationError({"level": ValidationError(
            _("Choose level 1 (yellow card) or 2 (red card)."), code="invalid_choice",
        )})
    note = _required_text("note", note)
    with transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        _authorize_permission(actor, "case.supervise", locked)
        if locked.state not in OPEN_STATES:
            raise DomainError(
                format_lazy(_("Case {number} is {state}; only open cases can be supervised."),
                            number=locked.number, state=State(locked.state).label),
                code="case_not_open",
            )
        lead = next((a for a in assignments if a.is_lead and a.state in ACTIVE_ASSIGNMENT_STATES), None)
        notice = _issue_supervision(
            locked, level, actor, note, lead, _running_deadline(lead) if lead else locked.stage_deadline, False,
        )
        if lead is not None and level > lead.supervision_level:
            lead.supervision_level = level
            lead.save(update_fields=["supervision_level"])
    return notice


def _next_centre(case: Case) -> CommandCentre | None:
    if case.owner_centre_id is None:
        return None
    chain = centre_chain(case.owner_centre)
    return chain[1] if len(chain) > 1 else None


def _escalate(case: Case, to: CommandCentre, reason: str, actor, automatic: bool, now: datetime) -> None:
    before = case.owner_centre
    case.owner_centre = to
    case.escalation_level += 1
    fields = ["owner_centre", "escalation_level"]
    if case.state in (State.REPORTED, State.FILED):
        # The centre taking it over gets the stage's full limit from now.
        limit = deadlines.file_deadline if case.state == State.REPORTED else deadlines.dispatch_deadline
        _set_stage(case, now, limit(case, now), now)
        fields += STAGE_FIELDS
    _save(case, *fields)
    _event(case, Overlay.ESCALATE, case.state, actor, reason, automatic=automatic,
           from_centre=before.pk if before else None, from_centre_name=before.name if before else "",
           to_centre=to.pk, to_centre_name=to.name, escalation_level=case.escalation_level)
    _notify_centre(case, NotificationKind.ESCALATED, centre_id=to.pk)


def escalate_case(case: Case, reason: str, actor: User) -> Case:
    """上报上级: the next centre up (community → street → district → city) owns the case."""
    reason = _required_text("reason", reason)
    with transaction.atomic():
        locked = _lock_case(case)
        _authorize_permission(actor, "case.escalate", locked)
        if locked.state not in OPEN_STATES:
            raise DomainError(
                format_lazy(_("Case {number} is {state}; only open cases can be escalated."),
                            number=locked.number, state=State(locked.state).label),
                code="case_not_open",
            )
        to = _next_centre(locked)
        if to is None:
            raise DomainError(
                _("This case is already with the highest command centre; it cannot be escalated further."),
                code="top_level",
            )
        _escalate(locked, to, reason, actor, automatic=False, now=timezone.now())
    return locked


# --- rating (回访评价) --------------------------------------------------------------------------


def rate_case(token: str, rating: str, comment: str = "") -> CaseRating:
    """The reporter rates a closure with the token given at closure, without logging in, once.
    An unknown token is ``Http404``; a second rating ``DomainError("already_rated")`` (409)."""
    _validate_choice("rating", rating, Rating)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": ValidationError(
            _("Keep the comment under 2000 characters."), code="max_length",
        )})
    token_hash = rating_token_hash(token or "")
    with transaction.atomic():
        case_id = CaseRating.objects.filter(token_hash=token_hash).values_list("case_id", flat=True).first()
        if case_id is None:
            raise Http404
        case = _lock_case(case_id)
        return _record_rating(case, CaseRating.objects.select_for_update().get(token_hash=token_hash),
                              rating, comment)


def _record_rating(case: Case, locked: CaseRating, rating: str, comment: str) -> CaseRating:
    """Write the reporter's rating once (the case and the rating row are locked by the caller)."""
    if locked.rated_at is not None:
        raise DomainError(
            _("This case has already been rated."), code="already_rated", status_code=status.HTTP_409_CONFLICT,
        )
    locked.rating, locked.comment, locked.rated_at = rating, comment, timezone.now()
    locked.save(update_fields=["rating", "comment", "rated_at"])
    _event(case, Overlay.RATE, case.state, None, comment, rating=rating, rating_id=locked.pk)
    _notify_centre(case, NotificationKind.RATED, rating=Rating(rating).label)
    return locked


# --- the deadline sweep's steps (system actions; civicgrid.cases.sweep picks the rows) ------------


def _try_lock_case(pk: int) -> Case | None:
    """The case locked, or ``None`` when another transaction holds it (a concurrent sweep or a
    person acting on it: the next sweep looks again)."""
    return Case.objects.select_for_update(skip_locked=True).filter(pk=pk).first()


def auto_escalate_levels() -> frozenset[str]:
    """Centre levels whose overdue, still undispatched cases the sweep escalates
    (``CIVICGRID_AUTO_ESCALATE_LEVELS``, community centres only by default)."""
    return frozenset(getattr(settings, "CIVICGRID_AUTO_ESCALATE_LEVELS", ("community",)))


def sweep_case(pk: int, now: datetime) -> dict[str, int]:
    """Mark one case due soon or overdue on its stage clock (forward only: actions restart the
    clock), tell the centre while no department holds it, and escalate an undispatched overdue
    case of a community centre. Checked again under the row lock, so repeating it is harmless."""
    done = {"warnings": 0, "overdue": 0, "escalations": 0}
    with transaction.atomic():
        case = _try_lock_case(pk)
        if case is None or case.state not in RUNNING_STATES or case.stage_deadline is None:
            return done
        status_now = deadlines.sla_status(case.stage_started_at, case.stage_deadline, now)
        if _STATUS_RANK[status_now] > _STATUS_RANK[case.sla_status]:
            case.sla_status = status_now
            _save(case, "sla_status")
            overdue = status_now == SlaStatus.OVERDUE
            _event(case, Overlay.SLA_OVERDUE if overdue else Overlay.SLA_WARNING, case.state, None,
                   deadline=case.stage_deadline.isoformat())
            done["overdue" if overdue else "warnings"] += 1
            if case.state not in WORKING_CASE_STATES:  # departments hear it through their tasks
                _notify_centre(case, NotificationKind.OVERDUE if overdue else NotificationKind.SLA_WARNING)
        if (
            status_now == SlaStatus.OVERDUE and case.state in (State.REPORTED, State.FILED)
            and case.owner_centre_id is not None and case.owner_centre.level in auto_escalate_levels()
        ):
            to = _next_centre(case)
            if to is not None:
                _escalate(case, to, str(_("Not dispatched in time: escalated automatically.")), None, True, now)
                done["escalations"] += 1
    return done


def sweep_assignment(pk: int, now: datetime) -> dict[str, int]:
    """Mark one task due soon or overdue, and supervise it: yellow (1) once overdue, red (2) once
    overdue by ``CIVICGRID_SUPERVISION_RED_MARGIN_HOURS`` working hours. At most one automatic
    notice per task, level and deadline (checked under the lock and by a unique constraint)."""
    done = {"warnings": 0, "overdue": 0, "supervisions": 0}
    with transaction.atomic():
        case_id = Assignment.objects.filter(pk=pk).values_list("case_id", flat=True).first()
        case = _try_lock_case(case_id) if case_id is not None else None
        if case is None or case.state not in WORKING_CASE_STATES:
            return done
        a = Assignment.objects.select_for_update().get(pk=pk)
        deadline = _running_deadline(a)
        if deadline is None:
            return done
        status_now = deadlines.sla_status(a.clock_started_at, deadline, now)
        if _STATUS_RANK[status_now] > _STATUS_RANK[a.sla_status]:
            a.sla_status = status_now
            a.save(update_fields=["sla_status"])
            if status_now == SlaStatus.WARNING:
                done["warnings"] += 1
                _notify_departments(case, NotificationKind.SLA_WARNING, [a.department_id])
            else:
                done["overdue"] += 1  # the yellow notice below tells the department
        if status_now != SlaStatus.OVERDUE:
            return done
        levels = [SupervisionLevel.YELLOW]
        if deadlines.overdue_hours(deadline, now) >= deadlines.red_margin_hours():
            levels.append(SupervisionLevel.RED)
        for level in levels:
            if a.supervision_level >= level:
                continue
            note = str(_("Overdue: the deadline passed.") if level == SupervisionLevel.YELLOW
                       else _("Still overdue past the margin: red card."))
            if _issue_supervision(case, level, None, note, a, deadline, automatic=True) is not None:
                done["supervisions"] += 1
            a.supervision_level = level
            a.save(update_fields=["supervision_level"])
    return done


# --- photo attachments (issue 5) ----------------------------------------------------------------
# Photos are checked by their content (Pillow), never by their name or the browser's content type,
# re-encoded so no metadata survives (phone photos carry GPS and device data in EXIF), and stored
# under a generated name. Files are written inside the transaction; whatever a failed transaction
# had written is deleted again (the database row and the file go together).

ATTACHMENT_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
# Decompression bombs: a small file can declare a huge canvas.
MAX_ATTACHMENT_PIXELS = 50_000_000


def max_upload_bytes() -> int:
    """``CIVICGRID_MAX_UPLOAD_BYTES``, 10 MB by default."""
    return int(getattr(settings, "CIVICGRID_MAX_UPLOAD_BYTES", 10 * 1024 * 1024))


class PreparedImage:
    """A checked, re-encoded photo ready to store: bytes without metadata, and what they are."""

    def __init__(self, data: bytes, extension: str, content_type: str, width: int, height: int):
        self.data, self.extension, self.content_type = data, extension, content_type
        self.width, self.height = width, height


def _not_an_image() -> ValidationError:
    return ValidationError({"file": ValidationError(_("Only images (JPEG/PNG/WebP) can be uploaded."),
                                                    code="not_an_image")})


def prepare_image(file) -> PreparedImage:
    """Check an uploaded file and re-encode it, or ``ValidationError`` on ``file`` (codes
    ``too_large``, ``not_an_image``). Accepts a ``PreparedImage`` unchanged."""
    if isinstance(file, PreparedImage):
        return file
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = max_upload_bytes()
    size = getattr(file, "size", None)
    if size is None or size > limit:
        raise ValidationError({"file": ValidationError(
            format_lazy(_("Images cannot be larger than {mb} MB."), mb=f"{limit / (1024 * 1024):g}"),
            code="too_large",
        )})
    if hasattr(file, "seek"):
        file.seek(0)
    raw = file.read(limit + 1)
    if len(raw) > limit:
        raise ValidationError({"file": ValidationError(
            format_lazy(_("Images cannot be larger than {mb} MB."), mb=f"{limit / (1024 * 1024):g}"),
            code="too_large",
        )})
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            if fmt not in ATTACHMENT_FORMATS or probe.width * probe.height > MAX_ATTACHMENT_PIXELS:
                raise _not_an_image()
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            # Turn the pixels the way the camera meant (the orientation lives in the EXIF we drop).
            image = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if fmt == "JPEG":
                image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
            elif fmt == "PNG":
                mode = image.mode if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else "RGBA"
                image.convert(mode).save(out, "PNG", optimize=True)
            else:
                mode = "RGBA" if "A" in image.getbands() else "RGB"
                image.convert(mode).save(out, "WEBP", quality=85)
            width, height = image.size
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _not_an_image() from None
    extension, content_type = ATTACHMENT_FORMATS[fmt]
    return PreparedImage(out.getvalue(), extension, content_type, width, height)


def _attachment_name(extension: str, moment: datetime) -> str:
    import uuid

    local = timezone.localtime(moment)
    return f"cases/{local:%Y/%m}/{uuid.uuid4().hex}.{extension}"


def _authorize_attachment(actor: User | None, case: Case, kind: str, assignment: Assignment | None) -> None:
    """Who may add which photo, on the locked case (and its locked ``assignment``)."""
    from civicgrid.cases.models import AttachmentKind

    _validate_choice("kind", kind, AttachmentKind)
    if actor is None:
        # A reporter without an account adds photos only to the report they are making.
        if kind != AttachmentKind.REPORT or case.state != State.REPORTED or assignment is not None:
            raise DomainError(_("A member of staff must perform this action."), code="actor_required")
        return
    if not _can_see(actor, case):
        raise Http404
    if kind == AttachmentKind.REPORT:
        require_permission(actor, "case.report")
        if assignment is not None:
            raise ValidationError({"assignment": ValidationError(
                _("A report photo belongs to the case, not to a task."), code="invalid")})
    elif kind == AttachmentKind.RESULT:
        require_permission(actor, "case.report_result")
        if assignment is None or assignment.case_id != case.pk:
            raise ValidationError({"assignment": ValidationError(
                _("A result photo belongs to one of the case's tasks."), code="required")})
        _require_department(actor, assignment)
        if case.state not in WORKING_CASE_STATES or assignment.state != AssignmentState.SIGNED:
            raise illegal_transition(case.state, Overlay.ATTACH)
    else:
        require_permission(actor, "case.verify")
        if case.state != State.RESOLVED:
            raise illegal_transition(case.state, Overlay.ATTACH)


def _attach(case: Case, prepared: PreparedImage, kind: str, actor, assignment: Assignment | None,
            written: list[str]):
    """Store one prepared photo on the locked, authorized case; record it on the timeline."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from civicgrid.cases.models import Attachment

    now = timezone.now()
    name = default_storage.save(_attachment_name(prepared.extension, now), ContentFile(prepared.data))
    written.append(name)
    attachment = Attachment.objects.create(
        case=case, assignment=assignment, kind=kind, file=name, content_type=prepared.content_type,
        size=len(prepared.data), width=prepared.width, height=prepared.height, uploaded_by=actor,
        uploaded_at=now,
    )
    _event(case, Overlay.ATTACH, case.state, actor, attachment=attachment.pk, kind=kind,
           **({"assignment": assignment.pk} if assignment else {}))
    return attachment


class _DeleteWrittenOnFailure:
    """Delete the files a failed transaction wrote (their rows are rolled back with it)."""

    def __init__(self):
        self.written: list[str] = []

    def __enter__(self):
        return self.written

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            from django.core.files.storage import default_storage

            for name in self.written:
                default_storage.delete(name)
        return False


def add_attachment(case: Case, file, kind: str, actor: User | None = None, assignment: Assignment | None = None):
    """A photo (``kind``: report / result / verification) on ``case``, optionally on one of its
    tasks. Refused with a ``ValidationError`` on ``file`` when it is not a JPEG/PNG/WebP image by its
    content (``not_an_image``) or larger than ``CIVICGRID_MAX_UPLOAD_BYTES`` (``too_large``)."""
    prepared = prepare_image(file)
    with _DeleteWrittenOnFailure() as written, transaction.atomic():
        locked = _lock_case(case)
        assignments = _lock_assignments(locked)
        locked_assignment = None
        if assignment is not None:
            locked_assignment = next((a for a in assignments if a.pk == assignment.pk), None)
            if locked_assignment is None:
                raise Http404
        _authorize_attachment(actor, locked, kind, locked_assignment)
        return _attach(locked, prepared, kind, actor, locked_assignment, written)


def _prepare_all(photos) -> list[PreparedImage]:
    return [prepare_image(p) for p in (photos or [])]


def report_case_with_photos(*, photos=(), **report) -> Case:
    """``report_case`` and its report photos in one transaction (a refused photo reports nothing).
    ``actor`` None means the reporter (a channel without an account)."""
    from civicgrid.cases.models import AttachmentKind

    prepared = _prepare_all(photos)
    with _DeleteWrittenOnFailure() as written, transaction.atomic():
        case = report_case(**report)
        if prepared:
            locked = _lock_case(case)
            _authorize_attachment(report.get("actor"), locked, AttachmentKind.REPORT, None)
            for image in prepared:
                _attach(locked, image, AttachmentKind.REPORT, report.get("actor"), None, written)
    return case


def report_result_with_photos(assignment: Assignment, text: str, actor: User, photos=()) -> Assignment:
    """处置反馈 with result photos, all or nothing."""
    from civicgrid.cases.models import AttachmentKind

    prepared = _prepare_all(photos)
    text = _required_text("text", text)
    with _DeleteWrittenOnFailure() as written, transaction.atomic():
        if prepared:
            case, _assignments, locked = _locked_pair(assignment)
            _authorize_attachment(actor, case, AttachmentKind.RESULT, locked)
            for image in prepared:
                _attach(case, image, AttachmentKind.RESULT, actor, locked, written)
        return report_result(assignment, text, actor)


def verify_case_with_photos(case: Case, passed: bool, actor: User, note: str = "", photos=()) -> Case:
    """核查 with photos taken on site, all or nothing (see ``verify_case``)."""
    from civicgrid.cases.models import AttachmentKind

    prepared = _prepare_all(photos)
    if not passed:
        note = _required_text("note", note)
    with _DeleteWrittenOnFailure() as written, transaction.atomic():
        if prepared:
            locked = _lock_case(case)
            _lock_assignments(locked)
            _authorize_attachment(actor, locked, AttachmentKind.VERIFICATION, None)
            for image in prepared:
                _attach(locked, image, AttachmentKind.VERIFICATION, actor, None, written)
        return verify_case(case, passed, actor, note)


# --- the reporter's tracking link (查询码) -------------------------------------------------------


def issue_tracking_token(case: Case) -> str:
    """A new private tracking token for the case's reporter (replacing any earlier one); only its
    hash is stored, so this is the one moment it is available."""
    from civicgrid.cases.models import CaseTracking

    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        locked = _lock_case(case)
        CaseTracking.objects.update_or_create(
            case=locked, defaults={"token_hash": rating_token_hash(token), "issued_at": timezone.now()},
        )
    return token


def report_citizen_case(*, photos=(), **report) -> tuple[Case, str]:
    """A citizen's report without an account (portal): the case, its photos and the tracking token,
    in one transaction."""
    with transaction.atomic():
        case = report_case_with_photos(photos=photos, actor=None, **report)
        token = issue_tracking_token(case)
    return case, token


def rate_case_by_tracking(tracking_token: str, rating: str, comment: str = "") -> CaseRating:
    """The reporter rates the latest closure through their tracking link (the tracking token
    carries the rating capability, so nobody has to keep a second token). Unknown token →
    ``Http404``; no closure to rate → ``DomainError("not_closed")``; rated → ``already_rated`` (409)."""
    from civicgrid.cases.models import CaseTracking

    _validate_choice("rating", rating, Rating)
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": ValidationError(
            _("Keep the comment under 2000 characters."), code="max_length",
        )})
    with transaction.atomic():
        case_id = (CaseTracking.objects.filter(token_hash=rating_token_hash(tracking_token or ""))
                   .values_list("case_id", flat=True).first())
        if case_id is None:
            raise Http404
        from civicgrid.dedup.selectors import outcome_case  # a merged report rates the case it joined

        case = _lock_case(outcome_case(Case.objects.get(pk=case_id)).pk)
        locked = CaseRating.objects.select_for_update().filter(case=case).order_by("-issued_at", "-pk").first()
        if case.state != State.CLOSED or locked is None:
            raise DomainError(_("The case can be rated once it is closed."), code="not_closed")
        return _record_rating(case, locked, rating, comment)
