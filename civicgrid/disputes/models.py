"""Dispute mediation (矛盾纠纷多元化解): the mediation profile a case carries, following the 矛盾纠纷
items of GB/T 31000-2015, with its parties, joint-mediation matrix, mediation sessions, written
agreement and judicial confirmation (人民调解法 Art. 28–33), follow-up visits (回访) and the
explainable early warning with its review queue (研判).

Data only: every change goes through ``civicgrid.disputes.actions``. A dispute is a case: its
state, departments, deadlines, escalation and timeline are the case spine's.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.fields import BlindIndexField, EncryptedCharField
from civicgrid.org.models import DepartmentKind


class DisputeType(models.Model):
    """A type of dispute (纠纷类型): a configurable list, each filed under a governance category."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    category_code = models.CharField(
        _("category code"), max_length=5, blank=True,
        help_text=_("The governance category (kind governance) a dispute of this type is filed under, e.g. 91001."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dispute type")
        verbose_name_plural = _("dispute types")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.name

    @property
    def category(self):
        """The case category (``None`` when the taxonomy has no such governance category)."""
        from civicgrid.taxonomy.models import Category, CategoryKind

        if not self.category_code:
            return None
        return Category.objects.filter(kind=CategoryKind.GOVERNANCE, code=self.category_code).first()


class MediationMethod(models.TextChoices):
    PEOPLE = "people", _("people's mediation")  # 人民调解
    ADMINISTRATIVE = "administrative", _("administrative mediation")  # 行政调解
    JUDICIAL = "judicial", _("judicial mediation")  # 司法调解
    LITIGATION_LINK = "litigation_link", _("litigation–mediation link")  # 诉调对接
    ARBITRATION = "arbitration", _("arbitration")  # 仲裁
    PETITION = "petition", _("letters and visits")  # 信访
    OTHER = "other", _("other")  # 其他


class Outcome(models.TextChoices):
    PENDING = "pending", _("being mediated")  # 调解中
    AGREEMENT = "agreement", _("agreement reached")  # 调解成功
    FAILED = "failed", _("mediation failed")  # 调解不成


class FailureRoute(models.TextChoices):
    """Where the parties were guided when mediation failed (告知其他途径)."""

    LITIGATION = "litigation", _("litigation")  # 诉讼
    ARBITRATION = "arbitration", _("arbitration")  # 仲裁
    ADMINISTRATIVE = "administrative", _("administrative route")  # 行政途径
    PETITION = "petition", _("letters and visits")  # 信访


class RiskLevel(models.TextChoices):
    LOW = "low", _("low")  # 低
    MEDIUM = "medium", _("medium")  # 中
    HIGH = "high", _("high")  # 高


class MediationSettings(models.Model):
    """The configurable numbers of dispute mediation (one row; the defaults apply without it)."""

    group_threshold = models.PositiveSmallIntegerField(
        _("group dispute from (people)"), default=5,
        help_text=_("A dispute involving at least this many people is a group dispute (群体性)."),
    )
    resolution_working_days = models.PositiveSmallIntegerField(
        _("resolution limit (working days)"), default=22,
        help_text=_("Default resolution deadline (化解时限) after intake, on the working-day calendar."),
    )
    confirmation_window_days = models.PositiveSmallIntegerField(
        _("judicial confirmation window (days)"), default=30,
        help_text=_("Days after an agreement takes effect within which the parties may jointly apply for "
                    "judicial confirmation (人民调解法 Art. 33)."),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up visit after (days)"), default=15,
        help_text=_("A follow-up visit on performance (回访) is scheduled this many days after an agreement."),
    )
    repeat_window_days = models.PositiveSmallIntegerField(_("repeat window (days)"), default=90)
    type_history_days = models.PositiveSmallIntegerField(_("type history (days)"), default=365)
    type_history_min = models.PositiveSmallIntegerField(
        _("escalated disputes that mark a type"), default=3,
        help_text=_("A type with at least this many escalated disputes in the district within the type "
                    "history period raises the type-history signal."),
    )
    medium_from = models.PositiveSmallIntegerField(_("medium risk from (score)"), default=3)
    high_from = models.PositiveSmallIntegerField(_("high risk from (score)"), default=6)

    class Meta:
        verbose_name = _("mediation settings")
        verbose_name_plural = _("mediation settings")

    def __str__(self):
        return str(_("mediation settings"))


class JointMediationRule(models.Model):
    """联调矩阵: for a dispute type (and optionally a place), the department kinds to involve — one
    lead, any number assisting. The rule with the longest matching region prefix wins."""

    dispute_type = models.ForeignKey(
        DisputeType, verbose_name=_("dispute type"), on_delete=models.CASCADE, related_name="joint_rules",
    )
    region_prefix = models.CharField(
        _("region prefix"), max_length=15, blank=True,
        help_text=_("Code prefix of the place the rule applies to; empty for everywhere."),
    )
    lead_kind = models.CharField(_("lead department kind"), max_length=32, choices=DepartmentKind.choices)
    assisting_kinds = models.JSONField(_("assisting department kinds"), default=list, blank=True)

    class Meta:
        verbose_name = _("joint mediation rule")
        verbose_name_plural = _("joint mediation matrix")
        ordering = ["dispute_type", "region_prefix"]
        constraints = [
            models.UniqueConstraint(fields=["dispute_type", "region_prefix"], name="joint_rule_unique_place"),
        ]

    def __str__(self):
        return f"{self.dispute_type} {self.region_prefix or '*'} → {self.lead_kind}"


class Dispute(models.Model):
    """The mediation profile of a case (矛盾纠纷登记, GB/T 31000-2015 items)."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("case"), on_delete=models.CASCADE, related_name="dispute",
    )
    name = models.CharField(_("dispute name"), max_length=200)
    occurred_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=300)
    dispute_type = models.ForeignKey(
        DisputeType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="disputes",
    )
    people_involved = models.PositiveIntegerField(_("people involved"), default=2)
    brief = models.TextField(_("brief"))
    organisations_involved = models.TextField(_("organisations involved"), blank=True)
    resolution_deadline = models.DateTimeField(_("resolution deadline"))
    method = models.CharField(
        _("resolution method"), max_length=24, choices=MediationMethod.choices, default=MediationMethod.PEOPLE,
    )
    responsible_department = models.ForeignKey(
        "org.Department", verbose_name=_("responsible organisation"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible person"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    failure_route = models.CharField(_("route advised"), max_length=16, choices=FailureRoute.choices, blank=True)
    failure_guidance = models.TextField(_("guidance given"), blank=True)
    evaluation = models.TextField(_("evaluation"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    joint_rule = models.ForeignKey(
        JointMediationRule, verbose_name=_("joint mediation rule"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    # The latest early-warning assessment (computed from the case and its history only).
    risk_level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0)
    risk_signals = models.JSONField(_("risk signals"), default=list, blank=True)
    risk_assessed_at = models.DateTimeField(_("risk assessed at"), null=True, blank=True)
    reviewed_level = models.CharField(
        _("level after review"), max_length=8, choices=RiskLevel.choices, blank=True,
        help_text=_("The level a person set in the review queue (研判); empty until reviewed."),
    )

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["risk_level"], name="dispute_risk_level")]

    def __str__(self):
        return self.name


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("applicant")  # 申请人
    RESPONDENT = "respondent", _("respondent")  # 被申请人
    OTHER = "other", _("other party")  # 其他当事人


class Party(models.Model):
    """A party to a dispute (当事人). Name, ID number and phone are personal data: encrypted at
    rest, masked on screen, searchable only through keyed blind indexes."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("role"), max_length=16, choices=PartyRole.choices)
    name = EncryptedCharField(_("name"), max_length=100, mask="name")
    id_number = EncryptedCharField(_("ID number"), max_length=32, blank=True, mask="id_number")
    phone = EncryptedCharField(_("phone"), max_length=32, blank=True, mask="phone")
    id_number_index = BlindIndexField(_("ID number index"), source="id_number", kind="id_number")
    phone_index = BlindIndexField(_("phone index"), source="phone", kind="phone")
    is_organisation = models.BooleanField(_("organisation"), default=False)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["dispute", "pk"]

    def __str__(self):
        return f"{self.dispute_id} {self.role}"

    def access_log_label(self) -> str:
        """How the access log names this party: the case number, never personal data."""
        return f"{self.dispute.case.number} {self.role}"


class SessionResult(models.TextChoices):
    CONTINUING = "continuing", _("to be continued")  # 继续调解
    AGREEMENT = "agreement", _("agreement reached")  # 达成协议
    FAILED = "failed", _("no agreement")  # 调解不成


class MediationSession(models.Model):
    """One mediation session (调解记录): when, where (or online), who mediated, who took part,
    the minutes and the next step."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=False)
    centre = models.ForeignKey(
        "org.CommandCentre", verbose_name=_("mediation centre"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
        help_text=_("The one-stop mediation centre (调处化解中心) that held the session."),
    )
    mediators = models.CharField(_("mediators"), max_length=300)
    participants = models.TextField(_("participants"))
    minutes = models.TextField(_("minutes"))
    next_step = models.TextField(_("next step"), blank=True)
    result = models.CharField(_("result"), max_length=16, choices=SessionResult.choices, default=SessionResult.CONTINUING)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["dispute", "held_at", "pk"]

    def __str__(self):
        return f"{self.dispute_id} {self.held_at:%Y-%m-%d}"


class ConfirmationState(models.TextChoices):
    NOT_APPLIED = "not_applied", _("not applied for")  # 未申请
    APPLIED = "applied", _("applied for")  # 已申请
    CONFIRMED = "confirmed", _("confirmed")  # 已确认
    REJECTED = "rejected", _("not confirmed")  # 不予确认
    EXPIRED = "expired", _("window passed")  # 逾期未申请


class Agreement(models.Model):
    """The written mediation agreement (人民调解协议书): effective once the parties have signed
    and the mediator signed and the committee sealed it (Art. 28–29); the parties may jointly apply
    for judicial confirmation within 30 days of it taking effect (Art. 33)."""

    dispute = models.OneToOneField(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="agreement")
    number = models.CharField(_("agreement number"), max_length=40, unique=True)
    committee = models.CharField(_("mediation committee"), max_length=200)
    facts = models.TextField(_("facts and issues"))
    terms = models.TextField(_("terms"))
    performance = models.TextField(_("manner and time of performance"), blank=True)
    signed_parties = models.ManyToManyField(Party, verbose_name=_("parties who signed"), related_name="+")
    mediator_name = models.CharField(_("mediator's signature"), max_length=100)
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("mediator"), on_delete=models.PROTECT, related_name="+",
    )
    sealed = models.BooleanField(_("committee seal affixed"), default=True)
    effective_on = models.DateField(_("effective date"))
    confirmation_deadline = models.DateField(_("apply for judicial confirmation by"))
    confirmation_state = models.CharField(
        _("judicial confirmation"), max_length=16, choices=ConfirmationState.choices,
        default=ConfirmationState.NOT_APPLIED,
    )
    confirmation_applied_on = models.DateField(_("applied on"), null=True, blank=True)
    confirmation_court = models.CharField(_("court"), max_length=200, blank=True)
    confirmation_decided_on = models.DateField(_("decided on"), null=True, blank=True)
    confirmation_note = models.TextField(_("confirmation note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")
        indexes = [models.Index(fields=["confirmation_state", "confirmation_deadline"], name="agreement_window")]

    def __str__(self):
        return self.number


class Performance(models.TextChoices):
    PERFORMED = "performed", _("performed")  # 已履行
    PARTLY = "partly", _("partly performed")  # 部分履行
    NOT_PERFORMED = "not_performed", _("not performed")  # 未履行


class FollowUpVisit(models.Model):
    """A follow-up visit on the performance of an agreement (回访)."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="visits")
    due_on = models.DateField(_("due on"))
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visited by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    performance = models.CharField(_("performance"), max_length=16, choices=Performance.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    reopened_case = models.BooleanField(_("case reopened"), default=False)

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["dispute", "due_on", "pk"]

    def __str__(self):
        return f"{self.dispute_id} {self.due_on}"


class RiskSignal(models.TextChoices):
    """The early-warning signals: each about the dispute and its history, never about a person."""

    REPEAT_PARTIES = "repeat_parties", _("repeat dispute between the same parties")  # 同一当事人重复纠纷
    REPEAT_ADDRESS = "repeat_address", _("repeat dispute at the same address")  # 同一地址重复纠纷
    MANY_PARTIES = "many_parties", _("many people involved (group dispute)")  # 群体性
    MEDIATION_FAILED = "mediation_failed", _("a mediation failed")  # 调解失败
    DEADLINE_PASSED = "deadline_passed", _("resolution deadline passed")  # 超过化解时限
    ESCALATION_WORDS = "escalation_words", _("words signalling escalation")  # 激化言语
    TYPE_HISTORY = "type_history", _("type with a history of escalation")  # 类型有激化历史


class RiskSignalWeight(models.Model):
    """The configurable weight of one signal (0 or inactive: not counted)."""

    signal = models.CharField(_("signal"), max_length=32, choices=RiskSignal.choices, unique=True)
    weight = models.PositiveSmallIntegerField(_("weight"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("risk signal weight")
        verbose_name_plural = _("risk signal weights")
        ordering = ["signal"]

    def __str__(self):
        return f"{self.get_signal_display()} {self.weight}"


class EscalationWord(models.Model):
    """A word whose presence in the record signals escalation (扬言, 极端, 上访 …)."""

    word = models.CharField(_("word"), max_length=30, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation word")
        verbose_name_plural = _("escalation words")
        ordering = ["word"]

    def __str__(self):
        return self.word


class ReviewDecision(models.TextChoices):
    CONFIRM = "confirm", _("confirm high risk")  # 确认
    DOWNGRADE = "downgrade", _("downgrade")  # 降级
    ESCALATE = "escalate", _("escalate")  # 升级处置


class RiskReview(models.Model):
    """One entry of the review queue (研判): a high-risk assessment waiting for, or carrying, a
    person's decision with a reason."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="reviews")
    level = models.CharField(_("computed level"), max_length=8, choices=RiskLevel.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    signals = models.JSONField(_("signals"), default=list)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    decision = models.CharField(_("decision"), max_length=16, choices=ReviewDecision.choices, blank=True)
    decided_level = models.CharField(_("level decided"), max_length=8, choices=RiskLevel.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk review")
        verbose_name_plural = _("risk reviews")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["dispute"], condition=Q(decision=""), name="risk_review_one_pending"),
        ]

    def __str__(self):
        return f"{self.dispute_id} {self.level} {self.decision or '-'}"
