"""Reads of cases, each already scoped to the caller: cases outside their jurisdiction (and, for
department handlers, cases their department has no assignment on) do not exist for them."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.cases.models import Assignment, Case, CaseEvent, Notification
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
