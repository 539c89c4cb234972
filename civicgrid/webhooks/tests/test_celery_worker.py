"""The production path: the delivery goes through Redis to a real Celery worker (in a thread).

Runs only when Redis answers at 127.0.0.1:6379; it uses database 15 so it never touches the
broker queues of a running installation.
"""

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections, transaction

from civicgrid.celery import app
from civicgrid.webhooks import actions
from civicgrid.webhooks.models import DeliveryState
from civicgrid.webhooks.signing import verify_signature

BROKER_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER_URL, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.skipif(not _redis_answers(), reason="needs Redis at 127.0.0.1:6379"),
    pytest.mark.django_db(transaction=True),
]


def _close_worker_connections(**kwargs):
    # The worker thread opens its own database connection; close it so the test database can be
    # flushed and dropped afterwards.
    connections.close_all()


def _reset_producer_pools():
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_on_redis(settings):
    """The project's Celery app publishing to Redis database 15 instead of running eagerly."""
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "worker_hijack_root_logger")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=BROKER_URL, task_always_eager=False, worker_hijack_root_logger=False)
    _reset_producer_pools()
    task_postrun.connect(_close_worker_connections, weak=False)
    yield client
    task_postrun.disconnect(_close_worker_connections)
    app.conf.update(saved)
    _reset_producer_pools()
    client.flushdb()
    client.close()


def test_a_celery_worker_delivers_through_redis(police, receiver, celery_on_redis):
    # given a webhook and an event committed while no worker runs
    webhook = actions.create_webhook(department=police, url=receiver.url)
    with transaction.atomic():
        [delivery] = actions.enqueue_department_event(police, "case.dispatched", {"case": "JM-0001"})
    # then the task waits in the Redis queue and nothing was sent in this process
    assert celery_on_redis.llen("celery") == 1
    assert receiver.requests == []
    # when a worker starts
    with start_worker(app, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        # then it takes the task and delivers the event (the worker finishes the task before it
        # stops, so the log is read afterwards: in-memory SQLite cannot be read during a write)
        assert receiver.arrived.wait(timeout=10), "the worker did not deliver the event"
    assert celery_on_redis.llen("celery") == 0
    [got] = receiver.requests
    assert got.headers["X-Civicgrid-Delivery"] == str(delivery.event_id)
    assert verify_signature(webhook.secret, got.headers["X-Civicgrid-Timestamp"], got.body,
                            got.headers["X-Civicgrid-Signature"])
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.SUCCEEDED, 1, 200)
