"""Celery tasks of the intake app: send one 12345 callback, and the sweep that sends due retries
(on ``CELERY_BEAT_SCHEDULE``; the embedded mode runs the same function on its timer)."""

from civicgrid.celery import app
from civicgrid.intake import feedback


@app.task(name="civicgrid.intake.tasks.deliver_callback", ignore_result=True)
def deliver_callback(callback_id: int) -> None:
    feedback.deliver(callback_id)


@app.task(name="civicgrid.intake.tasks.retry_due_callbacks", ignore_result=True)
def retry_due_callbacks() -> int:
    return feedback.retry_due_callbacks()
