"""Deadlines of a case's stages on the working-day calendar, and the links to other apps that
the case spine needs for them (locator, SLA rules, calendar) — each behind one small function.

Stages (the taxonomy's SLA stages): ``file`` (reported → filed), ``dispatch`` (filed → dispatched), ``sign_for`` (dispatched →
signed for), ``handle`` (dispatched → resolved), ``verify`` (resolved → verified). A stage with no
limit (no category yet, or the rule leaves it open) has no deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core import calendar

STAGES = ("file", "dispatch", "sign_for", "handle", "verify")


def locate_region_code(lon: float, lat: float) -> str | None:
    """Code of the finest region containing a WGS-84 point (the regions locator)."""
    from civicgrid.regions.locator import locate

    location = locate(lon, lat)
    return location.code if location is not None else None


def stage_limits(case) -> dict[str, tuple[Decimal, str]]:
    """``{stage: (amount, unit)}`` for the case's category and urgency (urgent cases take the
    stricter limits); empty when the case has no category yet.

    THE link to the taxonomy's SLA rules: ``civicgrid.taxonomy.selectors.sla_limits`` (the
    category's rule, stage by stage falling back to the default rule).
    """
    if case.category_id is None:
        return {}
    from civicgrid.taxonomy.selectors import sla_limits

    # One action sets several deadlines of the same case (file, dispatch, sign-for, handle): the
    # case object keeps the limits while its category and urgency stay the same.
    key = (case.category_id, case.urgency)
    memo = getattr(case, "_stage_limits", None)
    if memo is not None and memo[0] == key:
        return memo[1]
    found = clock_limits(sla_limits(case.category, case.urgency == "urgent"))
    case._stage_limits = (key, found)
    return found


def clock_limits(limits: dict) -> dict[str, tuple[Decimal, str]]:
    """The taxonomy's ``{stage: WorkingDuration}`` as the clocks use them: ``{stage: (amount, unit)}``."""
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


def extended(deadline: datetime | None, amount, unit: str, since: datetime) -> datetime:
    """An approved extension: ``amount`` more working time after the deadline (after ``since``
    when the task had no deadline)."""
    return calendar.add_working_time(deadline or since, Decimal(amount), unit)


# --- SLA status ---------------------------------------------------------------------------------

ON_TIME, WARNING, OVERDUE = "on_time", "warning", "overdue"


def warning_share() -> Decimal:
    """The share of a stage's working time after which it is due soon (预警);
    ``CIVICGRID_SLA_WARNING_SHARE``, 0.8 by default."""
    share = Decimal(str(getattr(settings, "CIVICGRID_SLA_WARNING_SHARE", "0.8")))
    if not Decimal(0) < share <= Decimal(1):
        raise ImproperlyConfigured("CIVICGRID_SLA_WARNING_SHARE must lie in (0, 1].")
    return share


def red_margin_hours() -> Decimal:
    """Working hours past a deadline after which the yellow supervision turns red;
    ``CIVICGRID_SUPERVISION_RED_MARGIN_HOURS``, 8 by default."""
    margin = Decimal(str(getattr(settings, "CIVICGRID_SUPERVISION_RED_MARGIN_HOURS", "8")))
    if margin < 0:
        raise ImproperlyConfigured("CIVICGRID_SUPERVISION_RED_MARGIN_HOURS must not be negative.")
    return margin


def warn_moment(start: datetime | None, deadline: datetime | None) -> datetime | None:
    """The moment the warning share of the working time from ``start`` to ``deadline`` is used;
    stored on the clock so the sweep finds due-soon work with an indexed comparison."""
    if deadline is None:
        return None
    if start is None:
        return deadline
    total = calendar.working_hours_between(start, deadline)
    if total <= 0:
        return deadline
    return calendar.add_working_time(start, total * warning_share(), calendar.HOURS)


def sla_status(start: datetime | None, deadline: datetime | None, now: datetime) -> str:
    """``overdue`` from the deadline on; ``warning`` once the warning share of the stage's working
    time is used; otherwise (or without a deadline) ``on_time``. Computed on working time."""
    if deadline is None:
        return ON_TIME
    if now >= deadline:
        return OVERDUE
    if start is None or now <= start:
        return ON_TIME  # no working time used yet (a clock started just now)
    total = calendar.working_time_between(start, deadline)
    used = calendar.working_time_between(start, now)
    if total > timedelta(0) and Decimal(used.total_seconds()) >= Decimal(total.total_seconds()) * warning_share():
        return WARNING
    return ON_TIME


def overdue_hours(deadline: datetime, now: datetime) -> Decimal:
    """Working hours by which ``deadline`` is past at ``now`` (0 when it is not)."""
    return max(Decimal(0), calendar.working_hours_between(deadline, now))
