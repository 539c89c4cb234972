"""Every change to department webhooks and their deliveries.

Configuration changes follow the usual shape (lock → check → change → on_commit). Sending is the
exception on purpose: an attempt is *claimed* in one short transaction (the row is locked with
``skip_locked`` and leased by moving ``next_attempt_at`` ahead), the HTTP request runs outside any
transaction, and its outcome is recorded in a second one. So no transaction waits on a slow
endpoint, and two workers never send the same attempt.

``actor`` is the person asking (needs ``org.manage`` and the department inside their
jurisdiction); ``None`` means the system itself.
"""

import json
import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.org.permissions import require_permission
from civicgrid.webhooks import conf, selectors, transport
from civicgrid.webhooks.models import (
    ALL_EVENTS,
    OPEN_STATES,
    DeliveryAttempt,
    DeliveryState,
    DepartmentWebhook,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
SECRET_PREFIX = "whsec_"


# --- configuration ------------------------------------------------------------------------------


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def validate_event_types(value) -> list[str]:
    """Event type patterns from a list or a comma/space-separated text: ``case.dispatched``,
    ``case.*`` or ``*``. Raises ``ValidationError`` on field ``event_types``."""
    items = re.split(r"[\s,，]+", value) if isinstance(value, str) else list(value or [])
    patterns: list[str] = []
    errors = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        name = item[:-2] if item.endswith(".*") else item
        if item != ALL_EVENTS and not EVENT_TYPE_RE.match(name):
            errors.append(ValidationError(
                _('"%(value)s" is not an event type (like "case.dispatched", "case.*" or "*").'),
                code="invalid_event_type", params={"value": item}))
        elif item not in patterns:
            patterns.append(item)
    if not errors and not patterns:
        errors.append(ValidationError(_("Choose at least one event type, or * for all."), code="required"))
    if errors:
        raise ValidationError({"event_types": errors})
    return [ALL_EVENTS] if ALL_EVENTS in patterns else patterns


def _check_actor(actor, department) -> None:
    if actor is None:
        return
    require_permission(actor, "org.manage")
    if department is not None and not code_in_jurisdiction(actor, department.region.code):
        raise ValidationError({"department": [ValidationError(
            _("%(department)s lies outside your jurisdiction."), code="outside_your_jurisdiction",
            params={"department": str(department)})]})


def check_webhook(webhook: DepartmentWebhook, *, actor=None) -> None:
    """Every check of a webhook before saving, as one ``ValidationError`` with field errors
    (shared with the admin form). Normalises ``url`` and ``event_types`` in place."""
    errors: dict[str, list] = {}
    department = webhook.department if webhook.department_id else None
    checks = [lambda: _check_actor(actor, department)]
    checks.append(lambda: setattr(webhook, "url", transport.validate_webhook_url(webhook.url)))
    checks.append(lambda: setattr(webhook, "event_types", validate_event_types(webhook.event_types)))
    if department is None:
        errors["department"] = [ValidationError(_("Choose a department."), code="required")]
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            for field, errs in exc.error_dict.items():
                errors.setdefault(field, []).extend(errs)
    if errors:
        raise ValidationError(errors)


def _visible_or_404(actor, webhook_pk) -> DepartmentWebhook:
    qs = DepartmentWebhook.objects.select_for_update(of=("self",)).select_related("department__region")
    old = qs.filter(pk=webhook_pk).first()
    if old is None or (actor is not None and not code_in_jurisdiction(actor, old.department.region.code)):
        raise Http404
    return old


@transaction.atomic
def save_webhook(webhook: DepartmentWebhook, *, actor=None) -> DepartmentWebhook:
    """Create or update a webhook. A new one gets a fresh secret in ``webhook.secret``, which the
    caller shows once."""
    if webhook.pk:
        old = _visible_or_404(actor, webhook.pk)
        webhook.secret = old.secret  # only rotate_secret changes it
    else:
        webhook.secret = generate_secret()
    check_webhook(webhook, actor=actor)
    webhook.full_clean(exclude=["url", "event_types"])
    webhook.save()
    transaction.on_commit(lambda: log.info("webhook #%s of %s saved", webhook.pk, webhook.department_id))
    return webhook


def create_webhook(
    *, department, url: str, event_types=(ALL_EVENTS,), is_active: bool = True, actor=None,
) -> DepartmentWebhook:
    """A new webhook; its secret is in ``.secret`` (show it once; it is not shown again)."""
    return save_webhook(
        DepartmentWebhook(department=department, url=url, event_types=list(event_types), is_active=is_active),
        actor=actor,
    )


@transaction.atomic
def rotate_secret(webhook: DepartmentWebhook, *, actor=None) -> str:
    """Give the webhook a new secret and return it; deliveries from now on are signed with it."""
    current = _visible_or_404(actor, webhook.pk)
    _check_actor(actor, current.department)
    current.secret = webhook.secret = generate_secret()
    current.save(update_fields=["secret"])
    transaction.on_commit(lambda: log.info("webhook #%s secret rotated", current.pk))
    return current.secret


@transaction.atomic
def delete_webhook(webhook: DepartmentWebhook, *, actor=None) -> None:
    """Delete a webhook with its delivery log."""
    current = _visible_or_404(actor, webhook.pk)
    _check_actor(actor, current.department)
    current.delete()


# --- events -------------------------------------------------------------------------------------


@transaction.atomic
def enqueue_department_event(department, event_type: str, payload: dict) -> list[WebhookDelivery]:
    """Record one delivery of ``event_type`` with ``payload`` for each active webhook of
    ``department`` subscribed to it; they are sent after the surrounding transaction commits
    (nothing is sent if it rolls back). All deliveries of one call share one event id."""
    if not EVENT_TYPE_RE.match(event_type or ""):
        raise ValueError(f"Invalid event type {event_type!r}")
    if not isinstance(payload, dict):
        raise TypeError("payload must be a dict")
    # Dates, decimals and UUIDs become JSON strings now, so every attempt sends the same body.
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    webhooks = selectors.subscribed_webhooks(department, event_type)
    if not webhooks:
        return []
    event_id = uuid.uuid4()
    now = timezone.now()
    deliveries = [
        WebhookDelivery.objects.create(
            webhook=webhook, event_id=event_id, event_type=event_type, payload=payload,
            state=DeliveryState.PENDING, next_attempt_at=now,
        )
        for webhook in webhooks
    ]
    transaction.on_commit(partial(_dispatch, [d.pk for d in deliveries]), robust=True)
    return deliveries


def _dispatch(delivery_ids: list[int]) -> None:
    """Send now (eager mode), on the embedded mode's threads, or through a Celery worker. A
    delivery that cannot be handed over stays due, and the retry sweep sends it."""
    if conf.send_inline():
        for pk in delivery_ids:
            deliver(pk)
        return
    if conf.embedded():
        from civicgrid.webhooks import scheduler

        for pk in delivery_ids:
            scheduler.submit(deliver, pk)
        return
    from civicgrid.webhooks import tasks

    for pk in delivery_ids:
        try:
            tasks.deliver.delay(pk)
        except Exception:  # broker down: the sweep picks the delivery up later
            log.warning("could not enqueue webhook delivery #%s; the retry sweep will send it", pk,
                        exc_info=True)


# --- sending ------------------------------------------------------------------------------------


def _claim(now, **filters) -> WebhookDelivery | None:
    """Lock one due delivery that no one else holds, count the attempt and lease it."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state__in=OPEN_STATES, next_attempt_at__lte=now, webhook__is_active=True, **filters)
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=conf.lease_seconds())
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body sent for ``delivery`` (the same bytes on every attempt)."""
    department = delivery.webhook.department
    envelope = {
        "id": str(delivery.event_id),
        "type": delivery.event_type,
        "created_at": delivery.created_at.isoformat(),
        "department": {"code": department.code, "name": department.name},
        "data": delivery.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _attempt(delivery: WebhookDelivery, now) -> WebhookDelivery:
    webhook = DepartmentWebhook.objects.select_related("department").get(pk=delivery.webhook_id)
    delivery.webhook = webhook
    started_at = timezone.now()
    answer = transport.post(webhook.url, webhook.secret, body_of(delivery), {
        "X-Civicgrid-Event": delivery.event_type,
        "X-Civicgrid-Delivery": str(delivery.event_id),
        "X-Civicgrid-Attempt": str(delivery.attempts),
    })
    error = answer.error or ("" if answer.ok else f"HTTP {answer.status_code}: {answer.excerpt[:200]}".strip())
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        DeliveryAttempt.objects.create(
            delivery=current, number=delivery.attempts, started_at=started_at,
            duration_ms=answer.duration_ms, status_code=answer.status_code, error=error,
            response_excerpt=answer.excerpt[:transport.RESPONSE_EXCERPT_BYTES],
        )
        if current.attempts != delivery.attempts or current.state not in OPEN_STATES:
            return current  # our lease ran out and someone else took over: log only
        current.last_status_code = answer.status_code
        current.last_error = error
        if answer.ok:
            current.state = DeliveryState.SUCCEEDED
            current.delivered_at = timezone.now()
            current.next_attempt_at = None
        elif current.attempts >= conf.max_attempts():
            current.state = DeliveryState.DEAD
            current.next_attempt_at = None
        else:
            current.state = DeliveryState.FAILED
            current.next_attempt_at = now + timedelta(seconds=conf.backoff_seconds(current.attempts))
        current.save(update_fields=[
            "state", "last_status_code", "last_error", "delivered_at", "next_attempt_at",
        ])
    level = logging.INFO if answer.ok else logging.WARNING
    log.log(level, "webhook delivery #%s attempt %s: %s", current.pk, current.attempts,
            answer.status_code or error)
    return current


def deliver(delivery_id: int, *, now=None) -> WebhookDelivery | None:
    """Send ``delivery_id`` if it is due and no one else is sending it; the delivery as it is
    afterwards, or ``None`` when there was nothing to send."""
    now = now or timezone.now()
    delivery = _claim(now, pk=delivery_id)
    return None if delivery is None else _attempt(delivery, now)


def retry_due_deliveries(now=None, *, limit: int = 100) -> int:
    """Send every delivery due at ``now`` (at most ``limit``), one claim at a time so concurrent
    sweeps share the work; returns how many attempts this call made. Safe to run as often as
    wanted: a delivery is due again only after its backoff."""
    now = now or timezone.now()
    sent = 0
    while sent < limit:
        delivery = _claim(now)
        if delivery is None:
            break
        _attempt(delivery, now)
        sent += 1
    return sent


@transaction.atomic
def retry_deliveries(deliveries: Iterable[WebhookDelivery], *, actor=None) -> int:
    """"Retry now": make the given deliveries due at once and send them after commit. A delivery
    that was given up gets one more attempt. Delivered ones are left alone; returns how many were
    scheduled."""
    if actor is not None:
        require_permission(actor, "org.manage")
        queryset = selectors.deliveries_for(actor)
    else:
        queryset = WebhookDelivery.objects.all()
    ids = sorted({d.pk for d in deliveries})
    rows = list(
        queryset.select_for_update(of=("self",)).filter(pk__in=ids).exclude(state=DeliveryState.SUCCEEDED)
        .order_by("pk")
    )
    if actor is not None and len(rows) < len(ids):
        visible = set(selectors.deliveries_for(actor).filter(pk__in=ids).values_list("pk", flat=True))
        if visible != set(ids):
            raise Http404
    now = timezone.now()
    for row in rows:
        if row.state == DeliveryState.DEAD:
            row.state = DeliveryState.FAILED
        row.next_attempt_at = now
        row.save(update_fields=["state", "next_attempt_at"])
    if rows:
        transaction.on_commit(partial(_dispatch, [r.pk for r in rows]), robust=True)
    return len(rows)
