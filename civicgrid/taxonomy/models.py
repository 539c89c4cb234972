"""Categories of cases (GB/T 47678.5 部件/事项 + social-governance categories), their SLA rules and
the responsibility matrix (权责清单).

Changed only through ``civicgrid.taxonomy.actions``; read through ``civicgrid.taxonomy.selectors``.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.org.models import DepartmentKind


class CategoryKind(models.TextChoices):
    """部件 and 事项 share their 5-digit codes in GB/T 47678.5, so a category's key is (kind, code)."""

    COMPONENT = "component", _("city component")  # 部件
    MATTER = "matter", _("matter")  # 事项
    GOVERNANCE = "governance", _("governance matter")  # 社会治理事项 (not in the standard)


class RequestType(models.TextChoices):
    """What a request asks for (12345 诉求类型); a field of a case, listed here as reference data."""

    CONSULTATION = "consultation", _("consultation")  # 咨询
    HELP = "help", _("request for help")  # 求助
    COMPLAINT = "complaint", _("complaint")  # 投诉
    REPORT = "report", _("report of wrongdoing")  # 举报
    SUGGESTION = "suggestion", _("suggestion")  # 建议
    FIELD_REPORT = "field_report", _("field report")  # 上报 (grid workers, supervisors, sensors)


class Category(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices,
                            default=CategoryKind.MATTER, db_index=True)
    code = models.CharField(_("code"), max_length=5,
                            help_text=_("Five digits: two for the major class, three for the minor class."))
    major_code = models.CharField(_("major class code"), max_length=2, blank=True, db_index=True)
    major_name = models.CharField(_("major class"), max_length=50, blank=True)
    name = models.CharField(_("name"), max_length=100)
    keywords = models.TextField(
        _("keywords"), blank=True,
        help_text=_("Everyday words people use for this category, separated by 、 or commas."),
    )
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(_("open to citizens"), default=True,
                                    help_text=_("Citizens may pick this category when they report."))
    auto_dispatch = models.BooleanField(
        _("dispatch automatically"), default=False,
        help_text=_("Cases of this category go straight to the responsible department once filed."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="taxonomy_category_kind_code")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.code} {self.name}"

    @property
    def keyword_list(self) -> list[str]:
        from civicgrid.taxonomy.keywords import split_keywords

        return split_keywords(self.keywords)


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("working hours")
    DAYS = "days", _("working days")


class SlaStage(models.TextChoices):
    """Stages with a time limit. ``file``: reported → filed (includes on-site confirmation 核实);
    ``dispatch``: filed → dispatched; ``sign_for``: dispatched → signed for; ``handle``: dispatched →
    resolved; ``verify``: resolved → verified (核查)."""

    FILE = "file", _("file")  # 立案
    DISPATCH = "dispatch", _("dispatch")  # 派遣
    SIGN_FOR = "sign_for", _("sign for")  # 签收
    HANDLE = "handle", _("handle")  # 处置
    VERIFY = "verify", _("verify")  # 核查


def _amount(verbose):
    return models.DecimalField(verbose, max_digits=6, decimal_places=2, null=True, blank=True)


def _unit(verbose):
    return models.CharField(verbose, max_length=5, choices=TimeUnit.choices, blank=True)


class SlaRule(models.Model):
    """Time limits per stage for one category, or the default rule (no category).

    A category rule's empty stage takes the default rule's limits for that stage; an empty urgent
    limit means the normal limit also applies to urgent cases.
    """

    category = models.OneToOneField(Category, verbose_name=_("category"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="sla_rule")
    is_default = models.BooleanField(_("default rule"), default=False,
                                     help_text=_("Applies to every category that has no rule of its own."))

    file_amount = _amount(_("file within"))
    file_unit = _unit(_("file unit"))
    file_urgent_amount = _amount(_("file within (urgent)"))
    file_urgent_unit = _unit(_("file unit (urgent)"))
    dispatch_amount = _amount(_("dispatch within"))
    dispatch_unit = _unit(_("dispatch unit"))
    dispatch_urgent_amount = _amount(_("dispatch within (urgent)"))
    dispatch_urgent_unit = _unit(_("dispatch unit (urgent)"))
    sign_for_amount = _amount(_("sign for within"))
    sign_for_unit = _unit(_("sign for unit"))
    sign_for_urgent_amount = _amount(_("sign for within (urgent)"))
    sign_for_urgent_unit = _unit(_("sign for unit (urgent)"))
    handle_amount = _amount(_("handle within"))
    handle_unit = _unit(_("handle unit"))
    handle_urgent_amount = _amount(_("handle within (urgent)"))
    handle_urgent_unit = _unit(_("handle unit (urgent)"))
    verify_amount = _amount(_("verify within"))
    verify_unit = _unit(_("verify unit"))
    verify_urgent_amount = _amount(_("verify within (urgent)"))
    verify_urgent_unit = _unit(_("verify unit (urgent)"))

    note = models.CharField(_("note"), max_length=200, blank=True,
                            help_text=_("Where the limits come from (local rule, document number)."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA rule")
        verbose_name_plural = _("SLA rules")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="taxonomy_sla_one_default"),
            models.CheckConstraint(
                condition=Q(is_default=True, category__isnull=True) | Q(is_default=False, category__isnull=False),
                name="taxonomy_sla_default_xor_category",
            ),
        ]

    def __str__(self):
        return str(_("default SLA rule")) if self.is_default else f"SLA {self.category}"


class ResponsibilityRule(models.Model):
    """One line of the responsibility matrix (权责清单): which department kind leads, and which assist,
    for a category, a category group (kind + major class) or everything, in a region prefix or
    everywhere. The most specific active rule wins (see ``civicgrid.taxonomy.matrix``)."""

    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="responsibility_rules")
    category_kind = models.CharField(
        _("category kind"), max_length=16, choices=CategoryKind.choices, blank=True,
        help_text=_("With a major class: the rule covers that whole group. Leave both empty (and no "
                    "category) for a rule covering everything."),
    )
    major_code = models.CharField(_("major class code"), max_length=2, blank=True)
    region_prefix = models.CharField(
        _("region code prefix"), max_length=15, blank=True, db_index=True,
        help_text=_("For example 350211 for one district. Empty: everywhere."),
    )
    lead_kind = models.CharField(_("lead department kind"), max_length=32, choices=DepartmentKind.choices)
    assisting_kinds = models.JSONField(_("assisting department kinds"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True,
                            help_text=_("Legal basis or the local document this line comes from."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("responsibility rule")
        verbose_name_plural = _("responsibility matrix")
        ordering = ["category_kind", "major_code", "category__code", "region_prefix", "pk"]
        indexes = [models.Index(fields=["category_kind", "major_code"], name="taxonomy_rule_group")]

    def __str__(self):
        from civicgrid.taxonomy.matrix import describe_rule

        return describe_rule(self)

    @property
    def scope(self) -> str:
        """``category``, ``group`` or ``all``."""
        if self.category_id:
            return "category"
        if self.category_kind or self.major_code:
            return "group"
        return "all"
