"""Reads of duplicate merging, each scoped to the caller's jurisdiction: a possible duplicate is
visible only when the caller may see both cases."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import cases_for
from civicgrid.cases.workflow import State
from civicgrid.core.identifiers import mask_name, mask_phone
from civicgrid.dedup import services
from civicgrid.dedup.models import Decision, DuplicateCandidate


def check(user, *, text: str, category_id: int | None, lon: float | None, lat: float | None, at: datetime,
          address: str = "", region_code: str | None = None) -> list[dict]:
    """The candidates a would-be report would find among the cases ``user`` may see, best first,
    each with the case's public facts, its score and reasons. Writes nothing."""
    scope = cases_for(user)
    found = services.candidates(text=text, category_id=category_id, lon=lon, lat=lat, at=at, address=address,
                                region_code=region_code, cases=scope)
    found = [c for c in found if c.score >= services.suggest_score()]
    cases = {c.pk: c for c in scope.filter(pk__in=[f.case_id for f in found]).select_related("category")}
    return [{"case": cases[f.case_id], "score": f.score, "reasons": f.reasons, "would_merge": f.mergeable}
            for f in found if f.case_id in cases]


def _visible(user) -> QuerySet[DuplicateCandidate]:
    scope = cases_for(user)
    return DuplicateCandidate.objects.filter(case__in=scope.values("pk"), candidate__in=scope.values("pk"))


def pending_for(user, case: Case) -> list[DuplicateCandidate]:
    """The possible originals of ``case`` awaiting the dispatcher (only while it can be merged)."""
    if case.state != State.REPORTED:
        return []
    return list(_visible(user).filter(case=case, decision=Decision.PENDING)
                .select_related("candidate", "candidate__category").order_by("-score", "pk"))


def candidate_for(user, pk) -> DuplicateCandidate:
    """One possible duplicate, or ``Http404`` unless the caller may see both cases."""
    return get_object_or_404(_visible(user).select_related("case", "candidate"), pk=pk)


def reports_of(user, case: Case) -> list[dict]:
    """Every report of this incident: the case itself and the reports merged into it, oldest
    first, each with its channel and masked reporter (three channels, three reporters)."""
    rows = [case, *cases_for(user).filter(parent=case, state=State.MERGED).order_by("reported_at", "pk")]
    return [{"case": c, "channel": c.get_channel_display(), "reporter": mask_name(c.reporter_name),
             "phone": mask_phone(c.reporter_phone) if c.reporter_phone else "", "merged": c.pk != case.pk}
            for c in rows]


def decided_for(user, case: Case) -> list[DuplicateCandidate]:
    """Decisions already taken on ``case``'s possible originals (for the record on the page)."""
    return list(_visible(user).filter(case=case).exclude(decision=Decision.PENDING)
                .select_related("candidate", "decided_by").order_by("-decided_at", "pk"))


MAX_MERGE_CHAIN = 10


def outcome_case(case: Case) -> Case:
    """The case that carries the outcome for ``case``'s reporter: a merged report follows the
    case it was merged into (and that one's, if it was merged in turn). For the reporter's
    tracking page and rating link, which need no login."""
    for _step in range(MAX_MERGE_CHAIN):
        if case.state != State.MERGED or case.parent_id is None:
            break
        case = Case.objects.select_related("category").get(pk=case.parent_id)
    return case


def merged_at(case: Case):
    """When ``case`` was last merged (None when it is not merged)."""
    from civicgrid.cases.models import CaseEvent

    if case.state != State.MERGED:
        return None
    return (CaseEvent.objects.filter(case=case, action="merge").order_by("-at", "-pk")
            .values_list("at", flat=True).first())
