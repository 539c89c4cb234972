"""Celery tasks: send one delivery, and the periodic sweep that sends due retries.

Both call the idempotent functions in ``civicgrid.webhooks.actions``; the embedded mode calls
those functions directly instead. Retries are driven by the sweep (``CELERY_BEAT_SCHEDULE`` runs it
every minute) rather than by countdown tasks: the database is the one record of what is due, so
nothing is lost when the broker restarts.
"""

from civicgrid.celery import app
from civicgrid.webhooks import actions


@app.task(name="civicgrid.webhooks.tasks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    actions.deliver(delivery_id)


@app.task(name="civicgrid.webhooks.tasks.retry_due_deliveries", ignore_result=True)
def retry_due_deliveries() -> int:
    return actions.retry_due_deliveries()

