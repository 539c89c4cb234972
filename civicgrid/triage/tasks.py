"""Celery tasks of the dispatch classifier (beat runs ``retrain_classifier_task`` hourly; the
embedded scheduler runs the same entry)."""

from celery import shared_task

from civicgrid.triage.actions import retrain_if_due


@shared_task(name="civicgrid.triage.tasks.retrain_classifier_task", ignore_result=True)
def retrain_classifier_task() -> dict:
    """Retrain when enough new filings arrived; idempotent (nothing new: nothing done)."""
    result = retrain_if_due()
    if result is None:
        return {"trained": False}
    return {"trained": True, "version": result.model.version, "activated": result.activated, "reason": result.reason}
