"""Department webhooks (部门推送) and their delivery log."""

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

# Subscribing to this event type means "every event".
ALL_EVENTS = "*"


class DepartmentWebhook(models.Model):
    """An endpoint of a department's own system that receives the events it subscribed to."""

    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="webhooks",
    )
    url = models.CharField(_("URL"), max_length=500, help_text=_("An http:// or https:// address."))
    # Stored in clear because every delivery is signed with it; shown once, when created or rotated.
    secret = models.CharField(_("signing secret"), max_length=128, editable=False)
    event_types = models.JSONField(
        _("event types"), default=list,
        help_text=_('Event types this endpoint receives, e.g. "case.dispatched"; "case.*" for every case '
                    'event, "*" for all events.'),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("department webhook")
        verbose_name_plural = _("department webhooks")
        ordering = ["department__name", "pk"]

    def __str__(self):
        return f"{self.department} → {self.url}"

    def subscribes_to(self, event_type: str) -> bool:
        for pattern in self.event_types or []:
            if pattern == ALL_EVENTS or pattern == event_type:
                return True
            if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
                return True
        return False


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("pending")  # 待发送
    FAILED = "failed", _("failed, will retry")  # 失败待重试
    SUCCEEDED = "succeeded", _("succeeded")  # 已送达
    DEAD = "dead", _("given up")  # 已放弃


# States a delivery can still be sent from.
OPEN_STATES = (DeliveryState.PENDING, DeliveryState.FAILED)


class OutboxMessage(models.Model):
    """What every signed outbound message keeps (sent by ``civicgrid.webhooks.outbox.Outbox``):
    its body's data, where it stands, its attempts and when it is due next."""

    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder)
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        abstract = True


class OutboxAttempt(models.Model):
    """One HTTP attempt of an outbound message, kept for the log."""

    number = models.PositiveSmallIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (start)"), blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"#{self.number}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDelivery(OutboxMessage):
    """One event for one webhook: the delivery log (推送记录)."""

    webhook = models.ForeignKey(
        DepartmentWebhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries",
    )
    # The same for every webhook that receives this event, so a receiver can drop repeats.
    event_id = models.UUIDField(_("event ID"), default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event type"), max_length=100, db_index=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"


class DeliveryAttempt(OutboxAttempt):
    """One HTTP attempt of a delivery, kept for the log."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log",
    )

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number", "pk"]
