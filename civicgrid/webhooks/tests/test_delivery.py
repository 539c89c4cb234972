import json
import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from civicgrid.webhooks import actions
from civicgrid.webhooks.models import DeliveryAttempt, DeliveryState, WebhookDelivery
from civicgrid.webhooks.signing import verify_signature

PAYLOAD = {"case": "JM20260101-0001", "category": "市容环境", "deadline": "2026-01-05T17:30:00+08:00"}


def send_event(capture, department, event_type="case.dispatched", payload=PAYLOAD):
    """Enqueue an event and run what the commit would run."""
    with capture(execute=True):
        return actions.enqueue_department_event(department, event_type, payload)


def test_delivery_reaches_the_receiver_signed(police, receiver, django_capture_on_commit_callbacks):
    # given a webhook of 集美派出所 for every case event
    webhook = actions.create_webhook(department=police, url=receiver.url, event_types=["case.*"])
    # when a case is dispatched to the department
    [delivery] = send_event(django_capture_on_commit_callbacks, police)
    # then the receiver got one POST whose signature checks out with the webhook's secret
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert got.path == "/civicgrid/hook"
    assert headers["x-civicgrid-event"] == "case.dispatched"
    assert headers["x-civicgrid-delivery"] == str(delivery.event_id)
    assert headers["content-type"] == "application/json; charset=utf-8"
    timestamp, signature = headers["x-civicgrid-timestamp"], headers["x-civicgrid-signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(webhook.secret, timestamp, got.body, signature)
    assert not verify_signature("whsec_wrong", timestamp, got.body, signature)
    assert not verify_signature(webhook.secret, timestamp, got.body + b" ", signature)
    # and the body is the event envelope with the payload as data
    body = json.loads(got.body)
    assert body["id"] == str(delivery.event_id) and body["type"] == "case.dispatched"
    assert body["department"] == {"code": "jm-police", "name": "集美派出所"}
    assert body["data"] == PAYLOAD
    # and the delivery log says delivered after one attempt
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.SUCCEEDED, 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    [attempt] = DeliveryAttempt.objects.filter(delivery=delivery)
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.duration_ms < 5000 and "ok" in attempt.response_excerpt


def test_server_error_is_retried_with_backoff_then_given_up(
    police, receiver, settings, django_capture_on_commit_callbacks,
):
    # given a receiver that always answers 500, and three attempts allowed
    settings.CIVICGRID_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [500]
    actions.create_webhook(department=police, url=receiver.url)
    # when the event is sent
    before = timezone.now()
    [delivery] = send_event(django_capture_on_commit_callbacks, police)
    after = timezone.now()
    # then the first attempt failed and the next one is due a minute later
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (DeliveryState.FAILED, 1, 500)
    assert "HTTP 500" in delivery.last_error
    assert before + timedelta(seconds=60) <= delivery.next_attempt_at <= after + timedelta(seconds=60)
    # when the sweep runs before that, nothing is sent
    assert actions.retry_due_deliveries(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0
    # when it runs once due, the second attempt fails and the wait grows to five minutes
    second = delivery.next_attempt_at
    assert actions.retry_due_deliveries(now=second) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 2)
    assert delivery.next_attempt_at == second + timedelta(minutes=5)
    # when the third (last) attempt fails too, the delivery is given up
    assert actions.retry_due_deliveries(now=delivery.next_attempt_at) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.DEAD, 3, None)
    assert actions.retry_due_deliveries(now=timezone.now() + timedelta(days=30)) == 0
    # then the receiver saw three identical bodies with the same event id, and each try is logged
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1
    assert {r.headers["X-Civicgrid-Delivery"] for r in receiver.requests} == {str(delivery.event_id)}
    assert [r.headers["X-Civicgrid-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    log = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
    assert log == [(1, 500), (2, 500), (3, 500)]


def test_a_later_success_ends_the_retries(police, receiver, django_capture_on_commit_callbacks):
    # given a receiver that fails once, then recovers
    receiver.statuses = [503, 204]
    actions.create_webhook(department=police, url=receiver.url)
    [delivery] = send_event(django_capture_on_commit_callbacks, police)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    # when the retry comes due
    assert actions.retry_due_deliveries(now=delivery.next_attempt_at) == 1
    # then it is delivered and the error is cleared
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryState.SUCCEEDED, 2, 204, "")


def test_connection_refused_is_logged_as_an_error(police, refused_url, django_capture_on_commit_callbacks):
    # given a webhook whose endpoint is down
    actions.create_webhook(department=police, url=refused_url)
    # when an event is sent
    [delivery] = send_event(django_capture_on_commit_callbacks, police)
    # then the attempt is logged with the error, no status, and a retry is scheduled
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.last_status_code is None
    assert "ConnectionRefusedError" in delivery.last_error
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code is None and "Connection refused" in attempt.error


def test_redirects_are_not_followed(police, receiver, django_capture_on_commit_callbacks):
    # given a receiver that answers with a redirect
    receiver.statuses = [302]
    actions.create_webhook(department=police, url=receiver.url)
    # when an event is sent
    [delivery] = send_event(django_capture_on_commit_callbacks, police)
    # then the redirect counts as a failed attempt and nothing else is requested
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code) == (DeliveryState.FAILED, 302)
    assert len(receiver.requests) == 1


def test_only_active_subscribed_webhooks_of_the_department_receive(
    police, city_management, receiver, django_capture_on_commit_callbacks,
):
    # given an inactive webhook, one for closed cases only, one for every case event, and one of
    # another department
    actions.create_webhook(department=police, url=receiver.url + "/inactive", is_active=False)
    actions.create_webhook(department=police, url=receiver.url + "/closed", event_types=["case.closed"])
    actions.create_webhook(department=police, url=receiver.url + "/cases", event_types=["case.*"])
    actions.create_webhook(department=city_management, url=receiver.url + "/other")
    # when a case is dispatched to the police
    deliveries = send_event(django_capture_on_commit_callbacks, police)
    # then only the case.* webhook got it
    assert [d.webhook.url for d in deliveries] == [receiver.url + "/cases"]
    assert [r.path for r in receiver.requests] == ["/civicgrid/hook/cases"]
    # when an event nobody subscribed to happens, nothing is recorded or sent
    assert send_event(django_capture_on_commit_callbacks, police, "mediation.recorded") == []
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_enqueue_in_a_rolled_back_transaction_sends_nothing(police, receiver):
    # given a webhook
    actions.create_webhook(department=police, url=receiver.url)
    # when the event is enqueued in a transaction that then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.enqueue_department_event(police, "case.dispatched", PAYLOAD)
        raise RuntimeError("the case action failed after enqueueing")
    # then nothing was sent or recorded
    assert receiver.requests == [] and WebhookDelivery.objects.count() == 0
    # while the same call in a committed transaction is sent once it commits
    with transaction.atomic():
        actions.enqueue_department_event(police, "case.dispatched", PAYLOAD)
        assert receiver.requests == []
    assert len(receiver.requests) == 1


def test_retry_sweep_is_idempotent(police, receiver, django_capture_on_commit_callbacks):
    # given two deliveries recorded but not yet sent (their on-commit hand-over was lost)
    actions.create_webhook(department=police, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        first = actions.enqueue_department_event(police, "case.dispatched", PAYLOAD)
        second = actions.enqueue_department_event(police, "case.returned", PAYLOAD)
    # when the sweep runs three times
    sent = [actions.retry_due_deliveries(), actions.retry_due_deliveries(), actions.retry_due_deliveries()]
    # then each delivery was sent exactly once
    assert sent == [2, 0, 0]
    assert sorted(r.headers["X-Civicgrid-Event"] for r in receiver.requests) == ["case.dispatched", "case.returned"]
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    # and a late task for an already delivered one sends nothing
    assert actions.deliver(first[0].pk) is None and actions.deliver(second[0].pk) is None
    assert len(receiver.requests) == 2


def test_a_claimed_attempt_is_not_sent_twice_until_its_lease_runs_out(
    police, receiver, django_capture_on_commit_callbacks,
):
    # given a delivery that a worker has claimed and then crashed while sending
    actions.create_webhook(department=police, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        [delivery] = actions.enqueue_department_event(police, "case.dispatched", PAYLOAD)
    now = timezone.now()
    assert actions._claim(now, pk=delivery.pk) is not None
    # when another sweep runs meanwhile, it leaves the attempt alone
    assert actions.retry_due_deliveries(now=now) == 0 and receiver.requests == []
    # when the lease has run out, the delivery is sent as the second attempt
    assert actions.retry_due_deliveries(now=now + timedelta(minutes=5)) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 2)
    assert receiver.requests[0].headers["X-Civicgrid-Attempt"] == "2"


def test_deliveries_of_an_inactive_webhook_wait(police, receiver, django_capture_on_commit_callbacks):
    # given a delivery whose webhook is switched off before it is sent
    webhook = actions.create_webhook(department=police, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        [delivery] = actions.enqueue_department_event(police, "case.dispatched", PAYLOAD)
    webhook.is_active = False
    actions.save_webhook(webhook)
    # then the sweep does not send it, until the webhook is switched on again
    assert actions.retry_due_deliveries() == 0
    webhook.is_active = True
    actions.save_webhook(webhook)
    assert actions.retry_due_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED


def test_retry_now_gives_a_dead_delivery_one_more_attempt(
    police, receiver, settings, django_capture_on_commit_callbacks,
):
    # given a delivery given up after one failed attempt
    settings.CIVICGRID_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.statuses = [500, 500, 200]
    actions.create_webhook(department=police, url=receiver.url)
    [delivery] = send_event(django_capture_on_commit_callbacks, police)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
    # when it is retried by hand and fails again, it is given up again at once
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry_deliveries([delivery]) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DEAD, 2)
    # when it is retried by hand and the receiver has recovered, it is delivered
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry_deliveries([delivery]) == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 3)
    # and a delivered one is not sent again
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry_deliveries([delivery]) == 0
    assert len(receiver.requests) == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_never_send_the_same_attempt(police, receiver):
    # given 30 due deliveries, recorded while their hand-over was lost (embedded mode off, no broker)
    actions.create_webhook(department=police, url=receiver.url)
    with transaction.atomic():
        for n in range(30):
            WebhookDelivery.objects.create(
                webhook=police.webhooks.get(), event_type="case.dispatched", payload={"n": n},
                next_attempt_at=timezone.now(),
            )
    # when two sweeps run at the same time in two threads
    counts = []

    def sweep():
        try:
            counts.append(actions.retry_due_deliveries())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then together they sent each delivery exactly once
    assert sum(counts) == 30
    assert len(receiver.requests) == 30
    assert len({r.headers["X-Civicgrid-Delivery"] for r in receiver.requests}) == 30
    assert DeliveryAttempt.objects.count() == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_skips_a_delivery_another_worker_holds(police, receiver):
    # given two due deliveries, one of them locked by another worker's open transaction
    actions.create_webhook(department=police, url=receiver.url)
    held, free = (
        WebhookDelivery.objects.create(
            webhook=police.webhooks.get(), event_type="case.dispatched", payload={"n": n},
            next_attempt_at=timezone.now(),
        )
        for n in range(2)
    )
    counts = []

    def sweep():
        try:
            counts.append(actions.retry_due_deliveries())
        finally:
            connections.close_all()

    with transaction.atomic():
        WebhookDelivery.objects.select_for_update().get(pk=held.pk)
        # when a sweep runs meanwhile in another thread
        thread = threading.Thread(target=sweep)
        thread.start()
        thread.join(timeout=10)
        # then it neither waits for the lock nor sends the held delivery
        assert not thread.is_alive(), "the sweep waited for the locked row"
    assert counts == [1]
    assert [r.headers["X-Civicgrid-Delivery"] for r in receiver.requests] == [str(free.event_id)]
    # and once the lock is released, the next sweep sends it
    assert actions.retry_due_deliveries() == 1
    held.refresh_from_db()
    assert held.state == DeliveryState.SUCCEEDED
