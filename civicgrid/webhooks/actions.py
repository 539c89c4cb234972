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

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.org.permissions import require_permission
from civicgrid.webhooks import selectors, transport
from civicgrid.webhooks.models import (
    ALL_EVENTS,
    DeliveryAttempt,
    DeliveryState,
    DepartmentWebhook,
    WebhookDelivery,
)
from civicgrid.webhooks.outbox import Outbox

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


def enqueue_department_event(department, event_type: str, payload: dict) -> list[WebhookDelivery]:
    """Record one delivery of ``event_type`` with ``payload`` for each active webhook of
    ``department`` subscribed to it; they are sent after the surrounding transaction commits
    (nothing is sent if it rolls back). All deliveries of one call share one event id."""
    return enqueue_departments_event([department.pk], event_type, payload)


def enqueue_departments_event(department_ids, event_type: str, payload: dict) -> list[WebhookDelivery]:
    """``enqueue_department_event`` for several departments at once (one read of their webhooks);
    each department's deliveries share one event id."""
    if not EVENT_TYPE_RE.match(event_type or ""):
        raise ValueError(f"Invalid event type {event_type!r}")
    if not isinstance(payload, dict):
        raise TypeError("payload must be a dict")
    # Dates, decimals and UUIDs become JSON strings now, so every attempt sends the same body.
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    webhooks = selectors.subscribed_webhooks_of(department_ids, event_type)
    if not webhooks:
        return []
    event_ids = {}
    now = timezone.now()
    with transaction.atomic():
        deliveries = [
            WebhookDelivery.objects.create(
                webhook=webhook, event_id=event_ids.setdefault(webhook.department_id, uuid.uuid4()),
                event_type=event_type, payload=payload, state=DeliveryState.PENDING, next_attempt_at=now,
            )
            for webhook in webhooks
        ]
    OUTBOX.dispatch_on_commit([d.pk for d in deliveries])
    return deliveries


# --- sending ------------------------------------------------------------------------------------


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


def _target(delivery: WebhookDelivery) -> tuple[str, str, str, bytes]:
    webhook = DepartmentWebhook.objects.select_related("department").get(pk=delivery.webhook_id)
    delivery.webhook = webhook
    return webhook.url, webhook.secret, delivery.event_type, body_of(delivery)


def _enqueue(delivery_id: int) -> None:
    from civicgrid.webhooks import tasks

    tasks.deliver.delay(delivery_id)


OUTBOX = Outbox(
    message_model=WebhookDelivery, attempt_model=DeliveryAttempt, attempt_field="delivery",
    active_filter={"webhook__is_active": True}, target=_target, enqueue=_enqueue, label="webhook delivery",
)
_claim = OUTBOX.claim


def deliver(delivery_id: int, *, now=None) -> WebhookDelivery | None:
    """Send ``delivery_id`` if it is due and no one else is sending it; the delivery as it is
    afterwards, or ``None`` when there was nothing to send."""
    return OUTBOX.deliver(delivery_id, now=now)


def retry_due_deliveries(now=None, *, limit: int = 100) -> int:
    """Send every delivery due at ``now`` (at most ``limit``), one claim at a time so concurrent
    sweeps share the work; returns how many attempts this call made. Safe to run as often as
    wanted: a delivery is due again only after its backoff."""
    return OUTBOX.retry_due(now, limit=limit)


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
    OUTBOX.make_due(rows)
    return len(rows)
