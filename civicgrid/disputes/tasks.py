"""Background jobs of dispute mediation (beat runs ``sweep_disputes_task`` every five minutes; the
embedded mode runs the same schedule in-process)."""

from celery import shared_task
from django.utils.dateparse import parse_datetime

from civicgrid.disputes import actions


@shared_task(name="civicgrid.disputes.tasks.sweep_disputes_task", ignore_result=True)
def sweep_disputes_task(now: str | None = None) -> dict:
    """Close passed judicial-confirmation windows and reassess disputes past their resolution
    deadline (idempotent). ``now``: ISO time, for tests."""
    return actions.sweep(parse_datetime(now) if now else None)
