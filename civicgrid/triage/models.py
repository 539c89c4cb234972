"""The dispatch classifier's data (智能分拨): stored model versions and what the classifier said
about each case at intake.

Changed only through ``civicgrid.triage.actions``; read through ``civicgrid.triage.selectors``.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ModelSource(models.TextChoices):
    COLD_START = "cold_start", _("cold start (taxonomy only)")  # 冷启动
    TRAINED = "trained", _("trained on confirmed cases")  # 训练


class ClassifierModel(models.Model):
    """One version of the text classifier (分拨模型版本): when and on what it was trained, its
    held-out figures, and the serialized model. Exactly one version is active at a time."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    # Random per stored model: processes caching a model compare it, not the reusable version number.
    key = models.CharField(_("key"), max_length=32, editable=False)
    source = models.CharField(_("source"), max_length=16, choices=ModelSource.choices)
    trained_at = models.DateTimeField(_("trained at"))
    examples = models.PositiveIntegerField(_("training examples"), default=0,
                                           help_text=_("Cases and taxonomy phrases the model learnt from."))
    cases = models.PositiveIntegerField(_("training cases"), default=0,
                                        help_text=_("Cases whose category a person set or confirmed."))
    categories = models.PositiveIntegerField(_("categories"), default=0)
    heldout_examples = models.PositiveIntegerField(_("held-out cases"), default=0)
    top1 = models.FloatField(_("held-out top-1"), null=True, blank=True)
    top3 = models.FloatField(_("held-out top-3"), null=True, blank=True)
    per_major = models.JSONField(_("figures per major class"), default=dict, blank=True)
    confusions = models.JSONField(_("most confused pairs"), default=list, blank=True)
    # The latest labelled case the training saw: a retrain is due only when newer ones exist.
    last_label_id = models.BigIntegerField(_("last labelled event"), default=0)
    seconds = models.FloatField(_("training seconds"), default=0)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    payload = models.BinaryField(_("serialized model"), editable=False)
    payload_bytes = models.PositiveIntegerField(_("model size (bytes)"), default=0)

    class Meta:
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True),
                                               name="triage_one_active_model")]

    def __str__(self):
        return f"v{self.version} ({self.get_source_display()})"


class CasePrediction(models.Model):
    """What the classifier proposed for a case reported without a category (案件分类预测): the
    best three with their confidence, and whether the best was applied without a person."""

    case = models.OneToOneField("cases.Case", verbose_name=_("case"), on_delete=models.CASCADE,
                                related_name="triage_prediction")
    # The model version, not a key: versions are kept, and a prediction outlives a deleted version.
    version = models.PositiveIntegerField(_("model version"), default=0)
    # [{"category": id, "kind", "code", "name", "confidence"}], best first.
    top = models.JSONField(_("best categories"), default=list)
    threshold = models.FloatField(_("threshold"))
    applied = models.BooleanField(_("applied"), default=False,
                                  help_text=_("The best category was confident enough to be set without a person."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case prediction")
        verbose_name_plural = _("case predictions")

    def __str__(self):
        return f"{self.case_id} → {self.top[0]['code'] if self.top else '—'}"

    @property
    def best_category_id(self) -> int | None:
        return self.top[0]["category"] if self.top else None
