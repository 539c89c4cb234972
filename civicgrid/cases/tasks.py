"""Celery tasks of the case spine (beat runs ``sweep_deadlines_task`` every minute)."""

from celery import shared_task
from django.utils.dateparse import parse_datetime

from civicgrid.cases.sweep import sweep_deadlines


@shared_task(name="civicgrid.cases.tasks.sweep_deadlines_task", ignore_result=True)
def sweep_deadlines_task(now: str | None = None) -> dict:
    """One deadline sweep (idempotent; overlapping runs are harmless). ``now``: ISO time, for tests."""
    return sweep_deadlines(parse_datetime(now) if now else None).as_dict()
