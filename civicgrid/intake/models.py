"""Intake channels: the Open311 GeoReport v2 server (``open311.py``, mounted at ``/open311/v2/``),
12345 work orders (``hotline.py``) with status callbacks (``feedback.py``), 数字城管 cases
(``szcg.py``) and sensor/video alarms (``alarms.py``); formats in ``docs/exchange-formats.md``.

Service codes are ``<category kind>-<category code>``, e.g. ``matter-06010``, ``component-01001``,
``governance-91001`` (see ``civicgrid.intake.selectors.service_code``). A service request id is the
case number. Changed only through ``civicgrid.intake.actions``.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Urgency
from civicgrid.webhooks.models import OutboxAttempt, OutboxMessage


class ClientSystem(models.Model):
    """A system allowed to create requests through Open311; its API key is stored only hashed."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_prefix = models.CharField(_("key prefix"), max_length=8, unique=True, editable=False,
                                  help_text=_("The first characters of the key, to recognise it."))
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("jurisdiction"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Requests must lie inside this region. Empty: anywhere on the platform."),
    )
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Status back to the client (12345 回传: 签收, 阶段答复, 办结答复, 退回), signed with the secret.
    callback_url = models.CharField(
        _("callback URL"), max_length=500, blank=True,
        help_text=_("Where status changes of its work orders are sent (http:// or https://). Empty: none."),
    )
    # Stored in clear because every callback is signed with it; shown once, when issued.
    callback_secret = models.CharField(_("callback signing secret"), max_length=128, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("client system")
        verbose_name_plural = _("client systems")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ServiceAttribute(models.Model):
    """An extra question of a service (Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", _("string")
        NUMBER = "number", _("number")
        DATETIME = "datetime", _("date and time")
        TEXT = "text", _("text")
        SINGLE = "singlevaluelist", _("single choice")
        MULTI = "multivaluelist", _("multiple choice")

    category = models.ForeignKey("taxonomy.Category", verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="open311_attributes")
    code = models.SlugField(_("code"), max_length=50)
    variable = models.BooleanField(_("variable"), default=True,
                                   help_text=_("Unticked: an information line, not a question."))
    datatype = models.CharField(_("data type"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("required"), default=False)
    datatype_description = models.CharField(_("data type description"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    description = models.CharField(_("question"), max_length=300)
    values = models.JSONField(
        _("choices"), default=list, blank=True,
        help_text=_('For choice types: a list of {"key": …, "name": …}.'),
    )

    class Meta:
        verbose_name = _("service attribute")
        verbose_name_plural = _("service attributes")
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="intake_attribute_code")]

    def __str__(self):
        return f"{self.category} · {self.code}"

    @property
    def value_keys(self) -> list[str]:
        return [str(v.get("key")) for v in self.values if isinstance(v, dict)]


class Open311Request(models.Model):
    """How a case came in through Open311: which client, the token and what only Open311 carries."""

    case = models.OneToOneField("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE,
                                related_name="open311")
    client = models.ForeignKey(ClientSystem, verbose_name=_("client system"), on_delete=models.PROTECT,
                               related_name="requests")
    token = models.CharField(_("token"), max_length=32, unique=True)
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-created_at"]

    def __str__(self):
        return self.token


class ExternalRecord(models.Model):
    """A record another system sent us (外部来件): a 12345 work order or a 数字城管 case, with the
    client that sent it and what the case does not hold as a column (办理时限, codes, source)."""

    channel = models.CharField(_("channel"), max_length=32)
    external_id = models.CharField(_("external id"), max_length=100)
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="external_records")
    client = models.ForeignKey(ClientSystem, verbose_name=_("client system"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="records",
                               help_text=_("Empty for records imported from a file."))
    extra = models.JSONField(_("details"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("external record")
        verbose_name_plural = _("external records")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="intake_record_channel_external_id"),
        ]

    def __str__(self):
        return f"{self.channel} {self.external_id}"


class CallbackKind(models.TextChoices):
    """What a status callback to the 12345 hotline says."""

    SIGN_FOR = "sign_for", _("signed for")  # 签收
    STAGE_REPLY = "stage_reply", _("progress reply")  # 阶段答复
    FINAL_REPLY = "final_reply", _("final reply")  # 办结答复
    RETURN = "return", _("returned")  # 退回


class Callback(OutboxMessage):
    """One status message to a client system about one of its records (回传记录), sent signed and
    retried with back-off; states as for department webhooks."""

    record = models.ForeignKey(ExternalRecord, verbose_name=_("external record"), on_delete=models.CASCADE,
                               related_name="callbacks")
    client = models.ForeignKey(ClientSystem, verbose_name=_("client system"), on_delete=models.CASCADE,
                               related_name="callbacks")
    event_id = models.UUIDField(_("event ID"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=CallbackKind.choices)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="intake_callback_due")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.record}"


class CallbackAttempt(OutboxAttempt):
    """One HTTP attempt of a callback, kept for the log."""

    callback = models.ForeignKey(Callback, verbose_name=_("callback"), on_delete=models.CASCADE,
                                 related_name="attempt_log")

    class Meta:
        verbose_name = _("callback attempt")
        verbose_name_plural = _("callback attempts")
        ordering = ["callback", "number", "pk"]


class AlarmRule(models.Model):
    """How alarms of one type become cases (告警规则): category, urgency, title, the window in which
    repeats from the same device update the open case, and whether the value must exceed the
    threshold to count."""

    alarm_type = models.SlugField(_("alarm type"), max_length=50, unique=True,
                                  help_text=_("As the devices send it, e.g. water_level."))
    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey("taxonomy.Category", verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="alarm_rules")
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    title_template = models.CharField(
        _("title template"), max_length=200, default="{name}",
        help_text=_("Placeholders: {name} {device_id} {value} {threshold} {unit}."),
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, help_text=_("Unit of the value, e.g. cm."))
    repeat_window_minutes = models.PositiveIntegerField(
        _("repeat window (minutes)"), default=60,
        help_text=_("Repeats from one device within this time after its last alarm update the open case."),
    )
    require_exceeding = models.BooleanField(
        _("value must exceed threshold"), default=True,
        help_text=_("Ticked: an alarm whose value does not exceed its threshold is refused."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["alarm_type"]

    def __str__(self):
        return f"{self.name} ({self.alarm_type})"


class AlarmIncident(models.Model):
    """The alarms of one device and type that one case stands for (告警事件): how many, the first
    and the last."""

    device_id = models.CharField(_("device id"), max_length=100)
    rule = models.ForeignKey(AlarmRule, verbose_name=_("alarm rule"), on_delete=models.PROTECT,
                             related_name="incidents")
    # Usually the case the first alarm opened; the open case it was merged into after a merge.
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="alarm_incidents")
    client = models.ForeignKey(ClientSystem, verbose_name=_("client system"), on_delete=models.PROTECT,
                               related_name="alarm_incidents")
    alarm_count = models.PositiveIntegerField(_("alarms"), default=1)
    first_at = models.DateTimeField(_("first alarm at"))
    last_at = models.DateTimeField(_("last alarm at"))
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    max_value = models.FloatField(_("highest value"), null=True, blank=True)

    class Meta:
        verbose_name = _("alarm incident")
        verbose_name_plural = _("alarm incidents")
        ordering = ["-last_at", "-pk"]
        indexes = [models.Index(fields=["device_id", "rule", "last_at"], name="intake_incident_device")]

    def __str__(self):
        return f"{self.device_id} · {self.rule.alarm_type} × {self.alarm_count}"


class Alarm(models.Model):
    """One alarm as received (告警记录), kept for the log and so a resent alarm id is answered
    with the case it already went to."""

    incident = models.ForeignKey(AlarmIncident, verbose_name=_("alarm incident"), on_delete=models.CASCADE,
                                 related_name="alarms")
    alarm_id = models.CharField(_("alarm id"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100)
    alarm_type = models.CharField(_("alarm type"), max_length=50)
    value = models.FloatField(_("value"), null=True, blank=True)
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    at = models.DateTimeField(_("alarm time"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["device_id", "alarm_id"], condition=~models.Q(alarm_id=""),
                                    name="intake_alarm_device_alarm_id"),
        ]

    def __str__(self):
        return f"{self.device_id} {self.alarm_type} {self.at:%Y-%m-%d %H:%M}"
