"""Every write of duplicate merging: the intake check, and the dispatcher's merge / keep apart /
undo. The case changes themselves go through ``civicgrid.cases.actions`` (``merge_case``,
``unmerge_case``), which lock the cases and write their timelines."""

from __future__ import annotations

import hashlib
import math

from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case
from civicgrid.core.api import DomainError
from civicgrid.dedup import services
from civicgrid.dedup.models import Decision, DuplicateCandidate
from civicgrid.org.models import User

# Cells of the advisory locks that serialise duplicate checks of nearby reports (PostgreSQL).
LOCK_CELL_DEG = 0.01  # ≈ 1 km; a report locks the cells its search box touches


def _serialize_area(lon: float | None, lat: float | None, region_code: str, radius_m: float) -> None:
    """On PostgreSQL, take transaction-scoped advisory locks on the map cells the report's search
    box touches (sorted, so two reports cannot deadlock): two reports of the same incident arriving
    together are checked one after the other, and the second one sees the first (READ COMMITTED
    gives each statement a fresh snapshot). SQLite runs one write transaction at a time already."""
    if connection.vendor != "postgresql":
        return
    if lat is None or lon is None:
        keys = [f"dedup:region:{region_code}"]
    else:
        dlat = radius_m / services.EARTH_M_PER_DEG
        dlon = radius_m / (services.EARTH_M_PER_DEG * max(0.1, math.cos(math.radians(lat))))
        xs = range(math.floor((lon - dlon) / LOCK_CELL_DEG), math.floor((lon + dlon) / LOCK_CELL_DEG) + 1)
        ys = range(math.floor((lat - dlat) / LOCK_CELL_DEG), math.floor((lat + dlat) / LOCK_CELL_DEG) + 1)
        keys = [f"dedup:cell:{x}:{y}" for x in xs for y in ys]
    ids = sorted({int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big", signed=True)
                  for k in keys})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) s",
                       [ids])


def _note(candidate: services.Candidate) -> str:
    return str(format_lazy(_("Duplicate of {number} (score {score:.2f}: {why})."),
                           number=candidate.number, score=candidate.score, why=services.explain(candidate.reasons)))


def check_new_report(case: Case) -> Case | None:
    """The intake hook (``report_case`` calls it inside its transaction, right after the report):
    a clear duplicate (score ≥ ``CIVICGRID_DEDUP_AUTO_MERGE_SCORE``, both with a point) is merged
    into the open case at once, by the system, and the merged case is returned; likely ones (score ≥
    ``CIVICGRID_DEDUP_SUGGEST_SCORE``) are kept for the dispatcher (None is returned)."""
    if case.lat is None and case.lon is None and not case.region_code:
        return None
    _serialize_area(case.lon, case.lat, case.region_code, services.search_radius_m(case.category_id))
    found = services.candidates(
        text=f"{case.title} {case.description}", category_id=case.category_id, lon=case.lon, lat=case.lat,
        at=case.reported_at, address=case.address, region_code=case.region_code, exclude_case_id=case.pk,
    )
    found = [c for c in found if c.score >= services.suggest_score()]
    if not found:
        return None
    top = found[0]
    merged = None
    if top.mergeable:
        merged = case_actions.merge_case(case, top.case_id, None, _note(top))
    now = timezone.now()
    DuplicateCandidate.objects.bulk_create([
        DuplicateCandidate(
            case=case, candidate_id=c.case_id, score=round(c.score, 4), reasons=c.reasons,
            decision=(Decision.MERGED if merged is not None and c is top
                      else Decision.KEPT_APART if merged is not None else Decision.PENDING),
            decided_at=now if merged is not None else None,
        ) for c in found
    ])
    return merged


def _locked_candidate(candidate: DuplicateCandidate) -> DuplicateCandidate:
    locked = DuplicateCandidate.objects.select_for_update().filter(pk=candidate.pk).first()
    if locked is None:
        raise Http404
    if locked.decision != Decision.PENDING:
        raise DomainError(_("This possible duplicate has already been decided."), code="already_decided",
                          status_code=status.HTTP_409_CONFLICT)
    return locked


def _decide(candidate: DuplicateCandidate, decision: str, actor: User) -> None:
    candidate.decision, candidate.decided_by, candidate.decided_at = decision, actor, timezone.now()
    candidate.save(update_fields=["decision", "decided_by", "decided_at"])


def merge_candidate(candidate: DuplicateCandidate, actor: User, note: str = "") -> Case:
    """合并: the dispatcher confirms the new report duplicates the candidate case. The other
    possible originals of the same report are kept apart."""
    with transaction.atomic():
        locked = _locked_candidate(candidate)
        _authorize(actor, locked.case)
        note = note or str(format_lazy(_("Merged as a duplicate (score {score:.2f})."), score=locked.score))
        merged = case_actions.merge_case(locked.case, locked.candidate, actor, note)
        _decide(locked, Decision.MERGED, actor)
        for other in DuplicateCandidate.objects.select_for_update().filter(
                case=locked.case, decision=Decision.PENDING).exclude(pk=locked.pk).order_by("pk"):
            _decide(other, Decision.KEPT_APART, actor)
    return merged


def _authorize(actor: User, case: Case) -> None:
    from civicgrid.org.permissions import require_permission

    if actor is None:
        raise DomainError(_("A member of staff must perform this action."), code="actor_required")
    if not case_actions._can_see(actor, case):
        raise Http404
    require_permission(actor, "case.merge")


def keep_apart(candidate: DuplicateCandidate, actor: User) -> DuplicateCandidate:
    """不合并: the dispatcher decides the two reports are different incidents."""
    with transaction.atomic():
        locked = _locked_candidate(candidate)
        _authorize(actor, locked.case)
        if not case_actions._can_see(actor, locked.candidate):
            raise Http404
        _decide(locked, Decision.KEPT_APART, actor)
    return locked


def undo_merge(case: Case, actor: User, reason: str) -> Case:
    """撤销合并: the merge was wrong; the report is its own case again and the pair is kept apart
    (so it is not offered again)."""
    with transaction.atomic():
        parent_id = Case.objects.filter(pk=case.pk).values_list("parent_id", flat=True).first()
        unmerged = case_actions.unmerge_case(case, actor, reason)
        row = DuplicateCandidate.objects.select_for_update().filter(case=case, candidate_id=parent_id).first()
        if row is None and parent_id is not None:
            row = DuplicateCandidate(case=unmerged, candidate_id=parent_id, score=0.0,
                                     reasons={"manual": True})
        if row is not None:
            row.decision, row.decided_by, row.decided_at = Decision.KEPT_APART, actor, timezone.now()
            row.save()
    return unmerged
