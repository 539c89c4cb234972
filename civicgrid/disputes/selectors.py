"""Reads of disputes, each scoped to the caller the way cases are: a dispute exists for a user
only when its case does (jurisdiction by region-code prefix; department handlers only on cases
their department has a task on, or disputes they opened)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.cases.models import Assignment, Case
from civicgrid.core.jurisdiction import code_in_jurisdiction, scope_to_jurisdiction
from civicgrid.disputes.models import (
    Dispute,
    DisputeType,
    FollowUpVisit,
    MediationSession,
    RiskLevel,
    RiskReview,
)
from civicgrid.org.models import Role


def can_see(user, case: Case) -> bool:
    """The rule ``disputes_for`` applies, for one (locked) case."""
    if not code_in_jurisdiction(user, case.region_code):
        return False
    if user.role == Role.DEPARTMENT_HANDLER and not user.is_superuser:
        return (Assignment.objects.filter(case=case, department_id=user.department_id).exists()
                or Dispute.objects.filter(case=case, opened_by=user).exists())
    return True


def disputes_for(user) -> QuerySet[Dispute]:
    qs = Dispute.objects.select_related("case", "dispute_type", "responsible_department", "case__owner_centre")
    qs = scope_to_jurisdiction(qs, user, "case__region_code")
    if user.is_authenticated and user.role == Role.DEPARTMENT_HANDLER and not user.is_superuser:
        assigned = Assignment.objects.filter(department_id=user.department_id).values("case_id")
        qs = qs.filter(Q(case_id__in=assigned) | Q(opened_by=user))
    return qs


def dispute_by_number(user, number: str) -> Dispute:
    """The dispute of case ``number``, or ``Http404`` when the user may not see it."""
    return get_object_or_404(disputes_for(user), case__number=number)


def review_queue(user) -> QuerySet[RiskReview]:
    """High-risk disputes waiting for a decision (研判), oldest first."""
    return (RiskReview.objects.filter(decision="", dispute__in=disputes_for(user))
            .select_related("dispute", "dispute__case", "dispute__dispute_type").order_by("created_at", "pk"))


def reviews_of(dispute: Dispute) -> QuerySet[RiskReview]:
    return RiskReview.objects.filter(dispute=dispute).select_related("decided_by").order_by("created_at", "pk")


def sessions_of(dispute: Dispute) -> QuerySet[MediationSession]:
    return MediationSession.objects.filter(dispute=dispute).select_related("centre").order_by("held_at", "pk")


def visits_of(dispute: Dispute) -> QuerySet[FollowUpVisit]:
    return FollowUpVisit.objects.filter(dispute=dispute).select_related("visitor").order_by("due_on", "pk")


def agreement_of(dispute: Dispute):
    from civicgrid.disputes.models import Agreement

    return Agreement.objects.filter(dispute=dispute).prefetch_related("signed_parties").first()


def dispute_types() -> QuerySet[DisputeType]:
    return DisputeType.objects.filter(is_active=True)


def high_risk_count(user) -> int:
    return disputes_for(user).filter(risk_level=RiskLevel.HIGH).count()
