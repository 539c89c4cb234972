"""Background jobs of the access log."""

from celery import shared_task

from civicgrid.audit.actions import purge_expired


@shared_task(name="civicgrid.audit.tasks.purge_access_log_task", ignore_result=True)
def purge_access_log_task() -> int:
    """Delete access-log entries past their retention (never younger than six months; idempotent)."""
    return purge_expired()
