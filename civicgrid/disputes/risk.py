"""高危矛盾纠纷预警: explainable risk signals about a dispute, computed from the case and its
history only (never from anything about a person beyond the parties' blind indexes, which only
say "the same parties again"). Each signal has a configurable weight; the level follows from the
sum, and every contributing signal is kept with what triggered it.

Pure reads: ``civicgrid.disputes.actions`` stores the result and queues high-risk disputes for
review (研判).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from civicgrid.cases.workflow import State
from civicgrid.disputes import defaults
from civicgrid.disputes.models import (
    Dispute,
    EscalationWord,
    MediationSettings,
    Outcome,
    Party,
    ReviewDecision,
    RiskLevel,
    RiskSignal,
    RiskSignalWeight,
    SessionResult,
)

# Used when the weight table has no row for a signal (the migration seeds the same values).
DEFAULT_WEIGHTS = dict(defaults.WEIGHTS)


def current_settings() -> MediationSettings:
    """The settings row, or the defaults when none was saved."""
    return MediationSettings.objects.order_by("pk").first() or MediationSettings()


def weights() -> dict[str, int]:
    """signal → weight (inactive signals weigh 0)."""
    table = dict(DEFAULT_WEIGHTS)
    for row in RiskSignalWeight.objects.all():
        table[row.signal] = row.weight if row.is_active else 0
    return table


@dataclass
class Assessment:
    score: int
    level: str
    signals: list[dict]  # {"signal", "label", "weight", "detail"}

    @property
    def codes(self) -> list[str]:
        return sorted(s["signal"] for s in self.signals)


def level_for(score: int, settings: MediationSettings) -> str:
    if score >= settings.high_from:
        return RiskLevel.HIGH
    if score >= settings.medium_from:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


def _others(dispute: Dispute, since: datetime):
    return Dispute.objects.filter(opened_at__gte=since).exclude(pk=dispute.pk).select_related("case")


def repeat_parties(dispute: Dispute, now: datetime, settings: MediationSettings) -> list[str]:
    """Case numbers of other disputes within the repeat window sharing a party (same ID number
    or phone, compared through their blind indexes)."""
    ids = [i for i in dispute.parties.values_list("id_number_index", flat=True) if i]
    phones = [p for p in dispute.parties.values_list("phone_index", flat=True) if p]
    if not ids and not phones:
        return []
    match = Q(pk__in=[])
    if ids:
        match |= Q(id_number_index__in=ids)
    if phones:
        match |= Q(phone_index__in=phones)
    since = now - timedelta(days=settings.repeat_window_days)
    dispute_ids = Party.objects.filter(match).exclude(dispute=dispute).values("dispute_id")
    return sorted(_others(dispute, since).filter(pk__in=dispute_ids).values_list("case__number", flat=True))


def _normalised_place(text: str) -> str:
    return "".join((text or "").split())


def repeat_address(dispute: Dispute, now: datetime, settings: MediationSettings) -> list[str]:
    """Case numbers of other disputes within the repeat window at the same address (the case
    address, else the dispute's place, compared without spaces)."""
    place = _normalised_place(dispute.case.address or dispute.place)
    if not place:
        return []
    since = now - timedelta(days=settings.repeat_window_days)
    found = []
    for number, address, other_place in _others(dispute, since).filter(
        case__region_code__startswith=dispute.case.region_code[:9],
    ).values_list("case__number", "case__address", "place"):
        if _normalised_place(address or other_place) == place:
            found.append(number)
    return sorted(found)


def escalation_words(dispute: Dispute) -> list[str]:
    """Active escalation words found in the case's title and description, the dispute's name and
    brief, and the minutes and next steps of its sessions."""
    texts = [dispute.case.title, dispute.case.description, dispute.name, dispute.brief]
    for minutes, next_step in dispute.sessions.values_list("minutes", "next_step"):
        texts += [minutes, next_step]
    record = "\n".join(t for t in texts if t)
    words = EscalationWord.objects.filter(is_active=True).values_list("word", flat=True)
    return sorted({w for w in words if w and w in record})


def escalated_of_type(dispute: Dispute, now: datetime, settings: MediationSettings) -> int:
    """Other disputes of the same type in the same district within the type-history period that
    escalated (the case was escalated, or a review decided to escalate)."""
    since = now - timedelta(days=settings.type_history_days)
    return (
        _others(dispute, since)
        .filter(dispute_type=dispute.dispute_type, case__region_code__startswith=dispute.case.region_code[:6])
        .filter(Q(case__escalation_level__gt=0) | Q(reviews__decision=ReviewDecision.ESCALATE))
        .distinct().count()
    )


def mediation_failed(dispute: Dispute) -> bool:
    return dispute.outcome == Outcome.FAILED or dispute.sessions.filter(result=SessionResult.FAILED).exists()


def deadline_passed(dispute: Dispute, now: datetime) -> bool:
    return dispute.case.state not in (State.RESOLVED, State.CLOSED) and dispute.resolution_deadline < now


def assess(dispute: Dispute, now: datetime) -> Assessment:
    """Every signal that holds for ``dispute`` at ``now``, its weight and what triggered it."""
    settings = current_settings()
    table = weights()
    found: list[tuple[str, object]] = []
    numbers = repeat_parties(dispute, now, settings)
    if numbers:
        found.append((RiskSignal.REPEAT_PARTIES, {"cases": numbers, "days": settings.repeat_window_days}))
    numbers = repeat_address(dispute, now, settings)
    if numbers:
        found.append((RiskSignal.REPEAT_ADDRESS, {"cases": numbers, "days": settings.repeat_window_days}))
    if dispute.people_involved >= settings.group_threshold:
        found.append((RiskSignal.MANY_PARTIES, {"people": dispute.people_involved,
                                                "threshold": settings.group_threshold}))
    if mediation_failed(dispute):
        found.append((RiskSignal.MEDIATION_FAILED, {}))
    if deadline_passed(dispute, now):
        found.append((RiskSignal.DEADLINE_PASSED, {"deadline": dispute.resolution_deadline.isoformat()}))
    words = escalation_words(dispute)
    if words:
        found.append((RiskSignal.ESCALATION_WORDS, {"words": words}))
    escalated = escalated_of_type(dispute, now, settings)
    if escalated >= settings.type_history_min:
        found.append((RiskSignal.TYPE_HISTORY, {"escalated": escalated, "days": settings.type_history_days}))
    signals = [
        {"signal": str(code), "label": str(RiskSignal(code).label), "weight": table.get(code, 0), "detail": detail}
        for code, detail in found if table.get(code, 0) > 0
    ]
    score = sum(s["weight"] for s in signals)
    return Assessment(score=score, level=level_for(score, settings), signals=signals)
