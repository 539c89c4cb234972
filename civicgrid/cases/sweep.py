"""The periodic deadline sweep: due-soon and overdue marks, supervision notices (督办) and
escalation of undispatched cases.

Production runs ``civicgrid.cases.tasks.sweep_deadlines_task`` every minute from Celery beat; the
embedded (SQLite) mode runs the same beat schedule in-process (``civicgrid.core.scheduler``);
operators can run ``manage.py sweep_deadlines``. Overlapping or repeated sweeps are harmless: each row is handled in
its own transaction under a row lock (``SKIP LOCKED`` on PostgreSQL), every condition is checked
again under that lock, and automatic notices are unique per task, level and deadline.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from civicgrid.cases import actions, deadlines
from civicgrid.cases.models import Assignment, Case, SlaStatus
from civicgrid.cases.workflow import RUNNING_STATES, WORKING_CASE_STATES, AssignmentState, State

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    checked_cases: int = 0
    checked_assignments: int = 0
    warnings: int = 0
    overdue: int = 0
    supervisions: int = 0
    escalations: int = 0

    def add(self, counts: dict[str, int]) -> None:
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def case_candidates(now: datetime) -> list[int]:
    """Cases whose stage clock may have crossed its warning moment or deadline, and undispatched
    overdue cases a sweep may escalate. The exact checks happen under the row lock."""
    due = Q(stage_deadline__lte=now) & ~Q(sla_status=SlaStatus.OVERDUE)
    warn = Q(sla_status=SlaStatus.ON_TIME, stage_warn_at__lte=now)
    escalate = Q(
        state__in=[State.REPORTED, State.FILED], stage_deadline__lte=now,
        owner_centre__level__in=sorted(actions.auto_escalate_levels()),
    )
    qs = Case.objects.filter(state__in=sorted(RUNNING_STATES), stage_deadline__isnull=False)
    return list(qs.filter(due | warn | escalate).order_by("pk").values_list("pk", flat=True))


def assignment_candidates(now: datetime) -> list[int]:
    """Open tasks past their warning moment, or past their deadline and not yet supervised at the
    level the time past it calls for (working time ≤ calendar time, so the red margin in calendar
    time is a safe pre-filter)."""
    red_before = now - timedelta(hours=float(deadlines.red_margin_hours()))
    pending, signed = AssignmentState.PENDING, AssignmentState.SIGNED
    q = (
        Q(state=pending, sla_status=SlaStatus.ON_TIME, sign_warn_at__lte=now)
        | Q(state=signed, sla_status=SlaStatus.ON_TIME, handle_warn_at__lte=now)
        | Q(state=pending, supervision_level=0, sign_deadline__lte=now)
        | Q(state=signed, supervision_level=0, handle_deadline__lte=now)
        | Q(state=pending, supervision_level=1, sign_deadline__lte=red_before)
        | Q(state=signed, supervision_level=1, handle_deadline__lte=red_before)
    )
    qs = Assignment.objects.filter(case__state__in=sorted(WORKING_CASE_STATES)).filter(q)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def sweep_deadlines(now: datetime | None = None) -> SweepResult:
    """One sweep at ``now`` (the current time by default). Safe to run again or concurrently."""
    now = now or timezone.now()
    result = SweepResult()
    for pk in case_candidates(now):
        result.checked_cases += 1
        result.add(actions.sweep_case(pk, now))
    for pk in assignment_candidates(now):
        result.checked_assignments += 1
        result.add(actions.sweep_assignment(pk, now))
    if result.warnings or result.overdue or result.supervisions or result.escalations:
        logger.info("deadline sweep at %s: %s", now.isoformat(), result.as_dict())
    return result
