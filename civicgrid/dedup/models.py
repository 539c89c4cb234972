"""Duplicate merging (重复件合并): per-category search settings and the candidates kept for the
dispatcher. Data only: scoring lives in ``civicgrid.dedup.services``, every write in
``civicgrid.dedup.actions``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DedupRule(models.Model):
    """How far and how long back to look for duplicates of one category (查重规则), and which other
    categories count as related. Categories without a rule use the ``CIVICGRID_DEDUP_*`` defaults;
    categories of the same major class (大类) are always related."""

    category = models.OneToOneField(
        "taxonomy.Category", verbose_name=_("category"), on_delete=models.CASCADE, related_name="dedup_rule",
    )
    radius_m = models.PositiveIntegerField(
        _("radius (m)"), null=True, blank=True,
        help_text=_("Reports farther apart than this are never duplicates. Empty: the platform default."),
    )
    window_hours = models.PositiveIntegerField(
        _("time window (hours)"), null=True, blank=True,
        help_text=_("Only open cases reported this recently are candidates. Empty: the platform default."),
    )
    related = models.ManyToManyField(
        "taxonomy.Category", verbose_name=_("related categories"), blank=True, related_name="+",
        help_text=_("Other categories a report of this one may duplicate (besides its own major class)."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("duplicate search rule")
        verbose_name_plural = _("duplicate search rules")
        ordering = ["category"]

    def __str__(self):
        return str(self.category)


class Decision(models.TextChoices):
    PENDING = "pending", _("awaiting a decision")  # 待判定
    MERGED = "merged", _("merged")  # 已合并
    KEPT_APART = "kept_apart", _("kept apart")  # 不合并


class DuplicateCandidate(models.Model):
    """A possible duplicate found at intake (疑似重复): ``case`` may report the same incident as the
    older open case ``candidate``; the dispatcher merges or keeps them apart."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("new report"), on_delete=models.CASCADE, related_name="duplicate_candidates",
    )
    candidate = models.ForeignKey(
        "cases.Case", verbose_name=_("possible original"), on_delete=models.CASCADE, related_name="+",
    )
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("reasons"), default=dict, blank=True)
    decision = models.CharField(_("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", help_text=_("Empty when merged automatically."),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("found at"), auto_now_add=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["case", "-score", "pk"]
        indexes = [models.Index(fields=["candidate", "decision"], name="dedup_candidate_decision")]
        constraints = [
            models.UniqueConstraint(fields=["case", "candidate"], name="dedup_candidate_once_per_pair"),
            models.CheckConstraint(condition=Q(decision__in=["pending", "merged", "kept_apart"]),
                                   name="dedup_decision_valid"),
            models.CheckConstraint(condition=~Q(case=models.F("candidate")), name="dedup_candidate_not_self"),
        ]

    def __str__(self):
        return f"{self.case_id} ~ {self.candidate_id} ({self.score:.2f}, {self.decision})"
