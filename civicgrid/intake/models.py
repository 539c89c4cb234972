"""Intake channels. So far: the Open311 GeoReport v2 server (``open311.py``, mounted at
``/open311/v2/``).

Service codes are ``<category kind>-<category code>``, e.g. ``matter-06010``, ``component-01001``,
``governance-91001`` (see ``civicgrid.intake.selectors.service_code``). A service request id is the
case number. Changed only through ``civicgrid.intake.actions``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
