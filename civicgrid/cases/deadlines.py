"""Deadlines of a case's stages on the working-day calendar, and the links to other apps that
the case spine needs for them (locator, SLA rules, calendar) — each behind one small function.

Stages (the taxonomy's SLA stages): ``file`` (reported → filed), ``dispatch`` (filed → dispatched), ``sign_for`` (dispatched →
signed for), ``handle`` (dispatched → resolved), ``verify`` (resolved → verified). A stage with no
limit (no category yet, or the rule leaves it open) has no deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from civicgrid.core import calendar

STAGES = ("file", "dispatch", "sign_for", "handle", "verify")


def locate_region_code(lon: float, lat: float) -> str | None:
    """Code of the finest region containing a WGS-84 point (the regions locator)."""
    from civicgrid.regions.locator import locate

    location = locate(lon, lat)
    return location.code if location is not None else None


def stage_limits(case) -> dict[str, tuple[Decimal, str]]:
    """``{stage: (amount, unit)}`` for the case's category and urgency; empty when the case has no
    category yet.

    THE link to the taxonomy's SLA rules: the category's rule, stage by stage falling back to the
    default rule (the stored one, else the built-in one), resolved by ``civicgrid.taxonomy.sla``.
    """
    if case.category_id is None:
        return {}
    from civicgrid.taxonomy import sla
    from civicgrid.taxonomy.models import SlaRule

    rule = SlaRule.objects.filter(category_id=case.category_id).first()
    default = SlaRule.objects.filter(is_default=True).first() or sla.builtin_default_rule()
    limits = sla.resolve(rule, default, case.urgency == "urgent")
    return {stage: (limit.amount, limit.unit) for stage, limit in limits.items() if stage in STAGES}


def _deadline(case, stage: str, start: datetime) -> datetime | None:
    limit = stage_limits(case).get(stage)
    if limit is None:
        return None
    amount, unit = limit
    return calendar.add_working_time(start, amount, unit)


def file_deadline(case, reported_at: datetime) -> datetime | None:
    return _deadline(case, "file", reported_at)


def dispatch_deadline(case, since: datetime) -> datetime | None:
    return _deadline(case, "dispatch", since)


def assignment_deadlines(case, dispatched_at: datetime) -> tuple[datetime | None, datetime | None]:
    """(sign for by, handle by) for assignments made at ``dispatched_at``."""
    return _deadline(case, "sign_for", dispatched_at), _deadline(case, "handle", dispatched_at)


def rework_deadline(case, since: datetime) -> datetime | None:
    """Rework and reopening get a fresh handling limit from the moment they are ordered."""
    return _deadline(case, "handle", since)


def verify_deadline(case, resolved_at: datetime) -> datetime | None:
    return _deadline(case, "verify", resolved_at)


def paused_working_time(suspended_at: datetime | None, resumed_at: datetime) -> timedelta:
    """Working time a suspension took: the clock stops for exactly this much."""
    if suspended_at is None:
        return timedelta(0)
    return calendar.working_time_between(suspended_at, resumed_at)


def shift(deadline: datetime | None, paused: timedelta) -> datetime | None:
    """``deadline`` moved later by ``paused`` working time."""
    if deadline is None or paused <= timedelta(0):
        return deadline
    hours = Decimal(paused.total_seconds()) / Decimal(3600)
    return calendar.add_working_time(deadline, hours, calendar.HOURS)
