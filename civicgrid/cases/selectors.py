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
from civicgrid.cases.workflow import ACTIVE_ASSIGNMENT_STATES, OPEN_STATES, TRANSITIONS, allowed_actions
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
    """One case, or ``Http404`` when ``user`` may not see it (with what its detail shows joined)."""
    return get_object_or_404(cases_for(user).select_related("category", "owner_centre", "parent"), pk=pk)


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
        Assignment.objects.filter(department_id=user.department_id, state__in=sorted(ACTIVE_ASSIGNMENT_STATES),
                                  # A closed case keeps its reported tasks: without this the inbox
                                  # would list every task the department ever finished.
                                  case__state__in=sorted(OPEN_STATES))
        # The inbox shows each task's category: joined here, not one query per row.
        .select_related("case__category", "department").order_by("handle_deadline", "pk")
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


# --- command-centre console (pages: issue 5) ----------------------------------------------------

# The console's tabs: a name and the states it shows ("open" is every open state).
QUEUE_TABS: dict[str, tuple[str, ...]] = {
    "open": ("reported", "filed", "dispatched", "in_progress", "suspended", "resolved"),
    "reported": ("reported",),  # 待立案
    "filed": ("filed",),  # 待派遣
    "handling": ("dispatched", "in_progress", "suspended"),  # 处置中
    "resolved": ("resolved",),  # 待核查
    "closed": ("closed",),  # 已结案
    "ended": ("rejected", "merged", "cancelled"),  # 不予立案 / 已合并 / 已撤销
}


def queue_filtered(user, *, category=None, channel: str = "", region: str = "", sla: str = "",
                   text: str = "") -> QuerySet[Case]:
    """``cases_for(user)`` narrowed by the console's filters (state aside): category pk, channel,
    region code (its whole subtree), SLA status and a text matched against number, title,
    description and address."""
    from django.db.models import Q

    from civicgrid.org.selectors import region_filter_prefix

    qs = cases_for(user)
    if category:
        qs = qs.filter(category_id=category)
    if channel:
        qs = qs.filter(channel=channel)
    if region:
        qs = qs.filter(region_code__startswith=region_filter_prefix(region))
    if sla:
        qs = qs.filter(sla_status=sla)
    text = (text or "").strip()
    if text:
        qs = qs.filter(Q(number__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
                       | Q(address__icontains=text))
    return qs


def queue_for(user, tab: str = "open", **filters) -> QuerySet[Case]:
    """The console queue: the tab's states, filtered, urgent first, then by the running stage's
    deadline (none last), then oldest report first."""
    from django.db.models import Case as CaseWhen
    from django.db.models import F, IntegerField, Value, When

    states = QUEUE_TABS.get(tab, QUEUE_TABS["open"])
    return (
        queue_filtered(user, **filters).filter(state__in=states)
        .annotate(urgency_rank=CaseWhen(When(urgency="urgent", then=Value(0)), default=Value(1),
                                     output_field=IntegerField()))
        .order_by("urgency_rank", F("stage_deadline").asc(nulls_last=True), "reported_at", "pk")
    )


def queue_tab_counts(user, **filters) -> dict[str, int]:
    """How many filtered cases each tab holds (one query). Counted per state and summed here: a
    GROUP BY state can use the (state, region) index, where per-tab FILTERs read every row."""
    from django.db.models import Count

    per_state = dict(
        queue_filtered(user, **filters).order_by().values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    return {tab: sum(per_state.get(state, 0) for state in states) for tab, states in QUEUE_TABS.items()}


def departments_serving(region_code: str) -> list:
    """Every active department serving the place ``region_code`` (its own region or one above),
    for the dispatch form's choices; finest region first. Not user-scoped: a district centre
    dispatches to city-wide departments too."""
    from civicgrid.org.models import Department
    from civicgrid.org.selectors import enclosing_codes

    found = [
        d for d in Department.objects.select_related("region").filter(
            is_active=True, region__code__in=enclosing_codes(region_code))
        if region_code.startswith(d.region.prefix)
    ]
    return sorted(found, key=lambda d: (-len(d.region.prefix), d.kind, d.name, d.pk))


# --- pages (issue 5): tasks, photos, verification, the reporter's tracking view -----------------


def task_for(user, pk) -> Assignment:
    """One task of the user's department (in any state, for its history), on a case the user may
    see; ``Http404`` for another department's task."""
    if not user.is_authenticated or user.department_id is None:
        raise Http404
    return get_object_or_404(
        Assignment.objects.filter(department_id=user.department_id, case__in=cases_for(user))
        .select_related("case__category", "department"),
        pk=pk,
    )


def attachments_of(case: Case):
    """Photos of a case the caller already obtained through a scoped selector, oldest first."""
    from civicgrid.cases.models import Attachment

    return Attachment.objects.filter(case=case).order_by("uploaded_at", "pk")


def attachment_for(user, pk):
    """One photo, if ``user`` may see its case (else ``Http404``)."""
    from civicgrid.cases.models import Attachment

    return get_object_or_404(Attachment.objects.filter(case__in=cases_for(user)).select_related("case"), pk=pk)


def verification_tasks_for(user) -> QuerySet[Case]:
    """Resolved cases awaiting verification (待核查) in the places ``user`` may see — for a grid
    worker, their own grids — oldest resolution first. Empty without the verify permission."""
    from civicgrid.cases.workflow import State

    if not has_permission(user, "case.verify"):
        return Case.objects.none()
    return cases_for(user).filter(state=State.RESOLVED).order_by("resolved_at", "pk")


def verification_case_for(user, pk) -> Case:
    return get_object_or_404(verification_tasks_for(user), pk=pk)


def case_by_tracking_token(token: str) -> Case:
    """The case behind a reporter's tracking token (no login: the token is the credential);
    ``Http404`` for an unknown token."""
    from civicgrid.cases.models import CaseTracking

    tracking = (CaseTracking.objects.filter(token_hash=rating_token_hash(token or ""))
                .select_related("case__category").first())
    if tracking is None:
        raise Http404
    return tracking.case


# Timeline steps a reporter may see, and what each one says. Notes written by staff stay internal
# (they may name people or hold working remarks); the department's reported result is the reply.
_PUBLIC_STEPS = {"report", "file", "reject", "merge", "dispatch", "sign_for", "report_result", "verify",
                 "rework", "reopen", "cancel", "suspend", "resume"}


def public_progress(case: Case) -> list[dict]:
    """The case's steps as its reporter sees them, oldest first: ``{"at", "action", "state",
    "department", "reply"}`` — no staff names, notes, contact details or internal remarks. A
    department's result text is shown as the reply when the case is resolved by it."""
    from civicgrid.org.models import Department

    steps = []
    events = CaseEvent.objects.filter(case=case, action__in=_PUBLIC_STEPS).order_by("at", "pk")
    departments = {}
    for event in events:
        if event.action == "report_result" and not event.data.get("resolved"):
            continue  # one department's report; the step is the case being resolved
        if event.action == "sign_for" and event.from_state == event.to_state:
            continue  # an assisting department signing for does not change the case
        step = {"at": event.at, "action": event.action, "state": event.to_state, "department": "", "reply": ""}
        if event.action == "dispatch" and event.data.get("lead"):
            lead = event.data["lead"]
            if lead not in departments:
                departments[lead] = Department.objects.filter(pk=lead).values_list("name", flat=True).first() or ""
            step["department"] = departments[lead]
        if event.action == "report_result":
            lead = (Assignment.objects.filter(case=case, role="lead", reported_at__isnull=False,
                                              reported_at__lte=event.at)
                    .order_by("-reported_at", "-pk").values_list("result", flat=True).first())
            step["reply"] = lead or ""
        steps.append(step)
    return steps


def public_photos(case: Case):
    """The photos the reporter sent with their report (their own; staff photos stay internal)."""
    from civicgrid.cases.models import AttachmentKind

    return attachments_of(case).filter(kind=AttachmentKind.REPORT, uploaded_by__isnull=True)


def public_photo(case: Case, pk):
    return get_object_or_404(public_photos(case), pk=pk)


def latest_rating(case: Case) -> CaseRating | None:
    """The rating invitation of the latest closure (rated or not), if the case was closed."""
    return CaseRating.objects.filter(case=case).order_by("-issued_at", "-pk").first()
