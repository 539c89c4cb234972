"""Background jobs of the core app."""

from celery import shared_task

from civicgrid.core.idempotency import purge_expired


@shared_task(name="civicgrid.core.tasks.purge_idempotency_records_task", ignore_result=True)
def purge_idempotency_records_task() -> int:
    """Drop Idempotency-Key records past their 24 hours (idempotent)."""
    return purge_expired()
