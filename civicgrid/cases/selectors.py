"""Reads of cases, each already scoped to the caller: cases outside their jurisdiction (and, for
department handlers, cases their department has no assignment on) do not exist for them."""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from civicgrid.cases import deadlines, routing
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseRating,
    CaseRequest,
    Notification,
    RequestState,
    Supervision,
    rating_token_hash,
)
from civicgrid.cases.workflow import ACTIVE_ASSIGNMENT_STATES, TRANSITIONS, allowed_actions
from civicgrid.core.jurisdiction import scope_to_jurisdiction
from civicgrid.org.models import Role
from civicgrid.org.permissions import has_permission


def cases_for(user) -> QuerySet[Case]:
    """Cases ``user`` may see: inside their jurisdiction (a prefix match on ``region_code``);
    for department handlers only the cases their department has (or had) an assignment on."""
    qs = Case.objects.select_related("category", "owner_centre")
    qs = scope_to_jurisdiction(qs, user, "region_code")
    if user.is_authenticated and user.role == Role.DEPARTMENT_HANDLER and not user.is_superuser:
        if user.department_id is None:
            return qs.none()
        qs = qs.filter(pk__in=Assignment.objects.filter(department_id=user.department_id).values("case_id"))
    return qs


def case_detail(user, pk) -> Case:
    """One case, or ``Http404`` when ``user`` may not see it."""
    return get_object_or_404(cases_for(user), pk=pk)


def case_by_number(user, number: str) -> Case:
    return get_object_or_404(cases_for(user), number=number)


def timeline(case: Case) -> QuerySet[CaseEvent]:
    """The case's events, oldest first (the caller already obtained ``case`` through a scoped
    selector)."""
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "pk")


def assignments_of(case: Case) -> QuerySet[Assignment]:
    return Assignment.objects.filter(case=case).select_related("department").order_by("pk")


def tasks_for(user) -> QuerySet[Assignment]:
    """The department's open tasks (待办): its active assignments on cases still with departments."""
    if not user.is_authenticated or user.department_id is None:
        return Assignment.objects.none()
    return (
        Assignment.objects.filter(department_id=user.department_id, state__in=sorted(ACTIVE_ASSIGNMENT_STATES))
        .select_related("case", "department").order_by("handle_deadline", "pk")
    )


def available_actions(user, case: Case) -> list[str]:
    """Workflow actions the table allows from the case's state and the user's role permits
    (for offering buttons; the actions check again, with locks)."""
    return [a for a in allowed_actions(case.state) if has_permission(user, TRANSITIONS[a].permission)]


def notifications_for(user, unread_only: bool = False) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    qs = Notification.objects.filter(recipient=user).select_related("case")
    return qs.filter(read_at__isnull=True) if unread_only else qs


def routing_suggestion(case: Case) -> dict:
    """What the responsibility matrix says for ``case`` now (the lead and assisting departments,
    the rule and why, and why it would not be dispatched automatically); the copy made at report
    or filing time is ``case.routing_suggestion``."""
    return routing.suggest(case)


def case_sla_status(case: Case, now=None) -> str:
    """``on_time`` / ``warning`` / ``overdue`` of the case's running stage, computed now on working
    time (the stored ``sla_status`` is what the last sweep or action recorded)."""
    from django.utils import timezone

    if case.suspended_at is not None:
        return case.sla_status  # the clock stands still
    return deadlines.sla_status(case.stage_started_at, case.stage_deadline, now or timezone.now())


def assignment_sla_status(assignment: Assignment, now=None) -> str:
    from django.utils import timezone

    from civicgrid.cases.actions import _running_deadline

    if assignment.case.suspended_at is not None:
        return assignment.sla_status
    return deadlines.sla_status(assignment.clock_started_at, _running_deadline(assignment), now or timezone.now())


def requests_of(case: Case) -> QuerySet[CaseRequest]:
    """Extension and suspension requests of a case the caller already obtained through a scoped
    selector, newest first."""
    return CaseRequest.objects.filter(case=case).select_related("assignment__department", "requested_by",
                                                                "decided_by")


def pending_requests_for(user) -> QuerySet[CaseRequest]:
    """Requests awaiting a decision on cases ``user`` may see (the centre's approval queue)."""
    return (
        CaseRequest.objects.filter(state=RequestState.PENDING, case__in=cases_for(user))
        .select_related("case", "assignment__department", "requested_by").order_by("requested_at", "pk")
    )


def supervisions_of(case: Case) -> QuerySet[Supervision]:
    return Supervision.objects.filter(case=case).select_related("department", "centre", "issued_by")


def supervisions_for(user) -> QuerySet[Supervision]:
    """Supervision notices on cases ``user`` may see; for department staff, those addressed to
    their department."""
    qs = Supervision.objects.filter(case__in=cases_for(user)).select_related("case", "department", "centre")
    if user.is_authenticated and user.role == Role.DEPARTMENT_HANDLER and not user.is_superuser:
        qs = qs.filter(department_id=user.department_id)
    return qs


def rating_by_token(token: str) -> CaseRating:
    """The rating invitation behind a reporter's token (no login: the token is the credential);
    ``Http404`` for an unknown token."""
    rating = (
        CaseRating.objects.filter(token_hash=rating_token_hash(token or ""))
        .select_related("case__category").first()
    )
    if rating is None:
        raise Http404
    return rating
