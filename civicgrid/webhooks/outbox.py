"""Signed outbound messages with a delivery log: the one sending mechanism behind department
webhooks and the status callbacks to the 12345 hotline.

An attempt is *claimed* in one short transaction (the row is locked with ``skip_locked`` and leased
by moving ``next_attempt_at`` ahead), the HTTP request runs outside any transaction, and its outcome
is recorded in a second one — so no transaction waits on a slow endpoint and two workers never send
the same attempt. Failures back off (``CIVICGRID_WEBHOOK_*``) until the retry sweep sends them;
after ``max_attempts`` a message is given up (dead) until someone retries it.

A message model has ``attempts``, ``next_attempt_at``, ``state`` (``DeliveryState``),
``last_status_code``, ``last_error``, ``delivered_at`` and ``event_id``; its attempt model records
each try (``number``, ``started_at``, ``duration_ms``, ``status_code``, ``error``,
``response_excerpt``) under a foreign key to the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from civicgrid.webhooks import conf, transport
from civicgrid.webhooks.models import OPEN_STATES, DeliveryState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbox:
    message_model: type
    attempt_model: type
    attempt_field: str  # the attempt's foreign key to the message
    # Messages whose receiver is switched off are not sent, e.g. {"webhook__is_active": True}.
    active_filter: dict
    # message → (url, secret, event type, body bytes): read fresh for every attempt.
    target: Callable
    # message pk → hands the message to a Celery worker (``task.delay``).
    enqueue: Callable
    label: str

    def dispatch(self, message_ids: list[int]) -> None:
        """Send now (eager mode), on the embedded mode's threads, or through a Celery worker. A
        message that cannot be handed over stays due, and the retry sweep sends it."""
        if conf.send_inline():
            for pk in message_ids:
                self.deliver(pk)
            return
        if conf.embedded():
            from civicgrid.webhooks import scheduler

            for pk in message_ids:
                scheduler.submit(self.deliver, pk)
            return
        for pk in message_ids:
            try:
                self.enqueue(pk)
            except Exception:  # broker down: the sweep picks the message up later
                log.warning("could not enqueue %s #%s; the retry sweep will send it", self.label, pk,
                            exc_info=True)

    def dispatch_on_commit(self, message_ids: list[int]) -> None:
        if message_ids:
            transaction.on_commit(partial(self.dispatch, list(message_ids)), robust=True)

    def claim(self, now, **filters):
        """Lock one due message that no one else holds, count the attempt and lease it."""
        with transaction.atomic():
            message = (
                self.message_model.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(state__in=OPEN_STATES, next_attempt_at__lte=now, **self.active_filter, **filters)
                .order_by("next_attempt_at", "pk")
                .first()
            )
            if message is None:
                return None
            message.attempts += 1
            message.next_attempt_at = now + timedelta(seconds=conf.lease_seconds())
            message.save(update_fields=["attempts", "next_attempt_at"])
        return message

    def attempt(self, message, now):
        url, secret, event_type, body = self.target(message)
        started_at = timezone.now()
        answer = transport.post(url, secret, body, {
            "X-Civicgrid-Event": event_type,
            "X-Civicgrid-Delivery": str(message.event_id),
            "X-Civicgrid-Attempt": str(message.attempts),
        })
        error = answer.error or ("" if answer.ok else f"HTTP {answer.status_code}: {answer.excerpt[:200]}".strip())
        with transaction.atomic():
            current = self.message_model.objects.select_for_update().get(pk=message.pk)
            self.attempt_model.objects.create(
                **{self.attempt_field: current}, number=message.attempts, started_at=started_at,
                duration_ms=answer.duration_ms, status_code=answer.status_code, error=error,
                response_excerpt=answer.excerpt[:transport.RESPONSE_EXCERPT_BYTES],
            )
            if current.attempts != message.attempts or current.state not in OPEN_STATES:
                return current  # our lease ran out and someone else took over: log only
            current.last_status_code, current.last_error = answer.status_code, error
            if answer.ok:
                current.state, current.delivered_at, current.next_attempt_at = (
                    DeliveryState.SUCCEEDED, timezone.now(), None)
            elif current.attempts >= conf.max_attempts():
                current.state, current.next_attempt_at = DeliveryState.DEAD, None
            else:
                current.state = DeliveryState.FAILED
                current.next_attempt_at = now + timedelta(seconds=conf.backoff_seconds(current.attempts))
            current.save(update_fields=["state", "last_status_code", "last_error", "delivered_at", "next_attempt_at"])
        log.log(logging.INFO if answer.ok else logging.WARNING, "%s #%s attempt %s: %s", self.label, current.pk,
                current.attempts, answer.status_code or error)
        return current

    def deliver(self, message_id: int, *, now=None):
        """Send ``message_id`` if it is due and no one else is sending it; the message as it is
        afterwards, or ``None`` when there was nothing to send."""
        now = now or timezone.now()
        message = self.claim(now, pk=message_id)
        return None if message is None else self.attempt(message, now)

    def retry_due(self, now=None, *, limit: int = 100) -> int:
        """Send every message due at ``now`` (at most ``limit``), one claim at a time so concurrent
        sweeps share the work; returns how many attempts this call made."""
        now = now or timezone.now()
        sent = 0
        while sent < limit:
            message = self.claim(now)
            if message is None:
                break
            self.attempt(message, now)
            sent += 1
        return sent

    def make_due(self, rows) -> list[int]:
        """"Retry now" on locked rows (not delivered ones): due at once, a given-up one gets one
        more attempt; they are sent after commit. Returns their pks."""
        now = timezone.now()
        for row in rows:
            if row.state == DeliveryState.DEAD:
                row.state = DeliveryState.FAILED
            row.next_attempt_at = now
            row.save(update_fields=["state", "next_attempt_at"])
        ids = [row.pk for row in rows]
        self.dispatch_on_commit(ids)
        return ids
