"""The embedded mode (SQLite, no Celery workers): deliveries go out on the process's own threads."""

import threading
import time

import pytest
from django.db import transaction

from civicgrid.webhooks import actions, scheduler
from civicgrid.webhooks.models import DeliveryState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def embedded(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CIVICGRID_INPROCESS_SCHEDULER = True


def test_embedded_mode_sends_after_commit_on_its_own_thread(embedded, police, receiver):
    # given a webhook and a receiver that holds its answer until told
    actions.create_webhook(department=police, url=receiver.url)
    release = threading.Event()
    original = receiver.answer
    receiver.answer = lambda: release.wait(5) and original()
    # when an event commits
    started = time.monotonic()
    with transaction.atomic():
        [delivery] = actions.enqueue_department_event(police, "case.dispatched", {"case": "JM-2"})
    # then the committing code did not wait for the slow receiver
    assert time.monotonic() - started < 2
    release.set()
    # and the delivery arrives from the background and is logged (once the pool is done: the test
    # database is an in-memory SQLite that cannot be read while another thread writes)
    assert receiver.arrived.wait(timeout=10)
    scheduler.shutdown(wait=True)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 1)


