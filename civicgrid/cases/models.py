"""The case spine: one Case for every governance matter, its assignments to departments, its
append-only timeline, and the in-app notifications it raises. Data only: every change goes
through ``civicgrid.cases.actions``; the lifecycle lives in ``civicgrid.cases.workflow``."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.workflow import (
    ACTIVE_ASSIGNMENT_STATES,
    EVENT_CHOICES,
    AssignmentRole,
    AssignmentState,
    State,
)
from civicgrid.core.crypto import PHONE
from civicgrid.core.fields import BlindIndexField, EncryptedCharField
from civicgrid.taxonomy.models import RequestType, TimeUnit


class Channel(models.TextChoices):
    """Where a report came from (受理渠道). Adapters live in the intake app."""

    WEB = "web", _("web form")  # 网页
    MOBILE = "mobile", _("mobile app")  # 移动端
    WECHAT = "wechat", _("WeChat mini program")  # 微信小程序
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")  # 12345 热线
    DIGITAL_CITY = "digital_city", _("digital city management")  # 数字城管
    GRID_PATROL = "grid_patrol", _("grid worker patrol")  # 网格员巡查
    WALK_IN = "walk_in", _("walk-in")  # 来访
    SENSOR = "sensor", _("sensor alarm")  # 物联感知
    API = "api", _("external system")  # 外部系统
    OPEN311 = "open311", _("Open311")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")  # 一般
    URGENT = "urgent", _("urgent")  # 紧急


class SlaStatus(models.TextChoices):
    ON_TIME = "on_time", _("on time")  # 正常
    WARNING = "warning", _("due soon")  # 预警
    OVERDUE = "overdue", _("overdue")  # 超期


class Case(models.Model):
    """One governance matter (事件/案件), from report to closure."""

    number = models.CharField(_("case number"), max_length=32, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True,
        help_text=_("The number the reporting system gave this matter, if any."),
    )
    request_type = models.CharField(
        _("request type"), max_length=16, choices=RequestType.choices, default=RequestType.FIELD_REPORT,
    )
    category = models.ForeignKey(
        "taxonomy.Category", verbose_name=_("category"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="cases",
    )
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # The code of the finest region (usually a grid) containing the case: "everything in a
    # district" is one prefix range scan on this column.
    region_code = models.CharField(_("region code"), max_length=15)
    # Personal data (docs/personal-data.md): encrypted at rest, shown masked, unmasked only through
    # civicgrid.audit.actions.reveal (logged); exact search by phone through its blind index.
    reporter_name = EncryptedCharField(_("reporter name"), max_length=100, blank=True, mask="name")
    reporter_phone = EncryptedCharField(_("reporter phone"), max_length=32, blank=True, mask="phone")
    # Indexed in Meta without the pattern-ops twin a CharField's db_index adds on PostgreSQL: a
    # blind index is only ever compared whole. The owner centre's own index would repeat the
    # leading column of ``case_centre_state``. Every index is paid for on every insert.
    reporter_phone_hash = BlindIndexField(source="reporter_phone", kind=PHONE, db_index=False)
    owner_centre = models.ForeignKey(
        "org.CommandCentre", verbose_name=_("owning command centre"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="cases", db_index=False,
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.REPORTED)
    # Overlays (not states): how many centres above the owner hold it, supervision, SLA.
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    supervision_level = models.PositiveSmallIntegerField(
        _("supervision level"), default=0, help_text=_("0 = not supervised (督办)."),
    )
    sla_status = models.CharField(
        _("SLA status"), max_length=8, choices=SlaStatus.choices, default=SlaStatus.ON_TIME,
    )
    # The running stage's clock: started (moved later by suspensions), warning from, due.
    stage_started_at = models.DateTimeField(_("current stage started"), null=True, blank=True)
    stage_warn_at = models.DateTimeField(_("current stage due soon from"), null=True, blank=True)
    stage_deadline = models.DateTimeField(_("current stage due"), null=True, blank=True)
    due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    # What the responsibility matrix suggests (智能派单), kept for the dispatcher's queue: lead
    # department, assisting ones, the rule and why, and why it was not dispatched automatically.
    routing_suggestion = models.JSONField(_("routing suggestion"), default=dict, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-reported_at", "-pk"]
        indexes = [
            models.Index(fields=["region_code"], name="case_region_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["state", "region_code"], name="case_state_region"),
            models.Index(fields=["owner_centre", "state"], name="case_centre_state"),
            models.Index(fields=["reported_at"], name="case_reported_at"),
            models.Index(fields=["state", "stage_deadline"], name="case_state_deadline"),
            models.Index(fields=["reporter_phone_hash"], name="case_reporter_phone_hash"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""),
                name="case_unique_channel_external_id",
            ),
            models.CheckConstraint(condition=Q(state__in=State.values), name="case_state_valid"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(state=State.MERGED), name="case_parent_only_when_merged",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class CaseNumberCounter(models.Model):
    """The last sequence number handed out per district and local day; the row is locked while a
    number is taken, so concurrent reports never share one."""

    district_code = models.CharField(_("district code"), max_length=6)
    day = models.DateField(_("day"))
    last = models.PositiveIntegerField(_("last sequence number"), default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")
        constraints = [
            models.UniqueConstraint(fields=["district_code", "day"], name="case_counter_unique_day"),
        ]

    def __str__(self):
        return f"{self.district_code} {self.day}: {self.last}"


class Assignment(models.Model):
    """One department's share of a case (派单): the lead (主办) or an assisting one (协办)."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="assignments",
    )
    role = models.CharField(_("role"), max_length=16, choices=AssignmentRole.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=AssignmentState.choices, default=AssignmentState.PENDING,
    )
    return_reason = models.TextField(_("return reason"), blank=True)
    result = models.TextField(_("result"), blank=True)
    sign_deadline = models.DateTimeField(_("sign for by"), null=True, blank=True)
    handle_deadline = models.DateTimeField(_("handle by"), null=True, blank=True)
    # The clock of this task: started at dispatch (moved later by suspensions); from the warning
    # moments on it is due soon (预警).
    clock_started_at = models.DateTimeField(_("clock started"), null=True, blank=True)
    sign_warn_at = models.DateTimeField(_("sign-for due soon from"), null=True, blank=True)
    handle_warn_at = models.DateTimeField(_("handling due soon from"), null=True, blank=True)
    sla_status = models.CharField(
        _("SLA status"), max_length=8, choices=SlaStatus.choices, default=SlaStatus.ON_TIME,
    )
    supervision_level = models.PositiveSmallIntegerField(
        _("supervision level"), default=0, help_text=_("Highest supervision (督办) on the current deadline."),
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), default=timezone.now)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("result reported at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["case", "pk"]
        indexes = [
            models.Index(fields=["department", "state"], name="assignment_department_state"),
            models.Index(fields=["state", "handle_deadline"], name="assignment_state_handle"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(role=AssignmentRole.LEAD, state__in=sorted(ACTIVE_ASSIGNMENT_STATES)),
                name="assignment_one_active_lead",
            ),
            models.UniqueConstraint(
                fields=["case", "department"], condition=Q(state__in=sorted(ACTIVE_ASSIGNMENT_STATES)),
                name="assignment_one_active_per_department",
            ),
            models.CheckConstraint(condition=Q(state__in=AssignmentState.values), name="assignment_state_valid"),
        ]

    def __str__(self):
        return f"{self.case.number} → {self.department} ({self.get_role_display()})"

    @property
    def is_lead(self) -> bool:
        return self.role == AssignmentRole.LEAD


class AppendOnly(Exception):
    pass


class CaseEvent(models.Model):
    """One entry of a case's timeline (append-only): who did what, when, from which state to
    which, with a note and structured data (assignment, department, reason …)."""

    # Indexed by ``case_event_case_at``, whose leading column it is.
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="events",
                             db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="case_events", help_text=_("Empty when a channel or the system acted."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    action = models.CharField(_("action"), max_length=32, choices=EVENT_CHOICES)
    from_state = models.CharField(_("from state"), max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, choices=State.choices)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at")]

    def __str__(self):
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("The case timeline is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("The case timeline is append-only.")


class NotificationKind(models.TextChoices):
    NEW_TASK = "new_task", _("new task")  # 新任务
    TASK_RETURNED = "task_returned", _("task returned")  # 退单
    CASE_RESOLVED = "case_resolved", _("case awaiting verification")  # 待核查
    REWORK = "rework", _("rework required")  # 返工
    CASE_REOPENED = "case_reopened", _("case reopened")  # 重办
    CASE_SUSPENDED = "case_suspended", _("case suspended")  # 挂起
    CASE_RESUMED = "case_resumed", _("case resumed")  # 恢复
    CASE_CANCELLED = "case_cancelled", _("case cancelled")  # 撤销
    SLA_WARNING = "sla_warning", _("due soon")  # 预警
    OVERDUE = "overdue", _("overdue")  # 超期
    SUPERVISED = "supervised", _("supervision notice")  # 督办
    ESCALATED = "escalated", _("case escalated")  # 升级
    REQUEST_MADE = "request_made", _("request awaiting decision")  # 延期/挂起申请
    REQUEST_DECIDED = "request_decided", _("request decided")  # 审批结果
    RATED = "rated", _("case rated")  # 回访评价


class Notification(models.Model):
    """An in-app message to a member of staff about a case (站内消息)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
        related_name="notifications",
    )
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    text = models.CharField(_("text"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self):
        return self.text


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("extension")  # 延期
    SUSPENSION = "suspension", _("suspension")  # 挂起


class RequestState(models.TextChoices):
    PENDING = "pending", _("pending")  # 待审批
    APPROVED = "approved", _("approved")  # 已批准
    REFUSED = "refused", _("refused")  # 不予批准


class CaseRequest(models.Model):
    """A department asks its centre for more time (延期) or to stop the clock (挂起)."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="requests")
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("task"), on_delete=models.CASCADE, related_name="requests",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RequestKind.choices)
    state = models.CharField(_("state"), max_length=16, choices=RequestState.choices, default=RequestState.PENDING)
    amount = models.DecimalField(_("amount"), max_digits=6, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=5, choices=TimeUnit.choices, blank=True)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("extension or suspension request")
        verbose_name_plural = _("extension and suspension requests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One open question per task and kind: asking again waits for the answer.
            models.UniqueConstraint(
                fields=["assignment", "kind"], condition=Q(state="pending"), name="case_request_one_pending",
            ),
            models.CheckConstraint(
                condition=~Q(kind="extension") | Q(amount__gt=0, unit__in=["hours", "days"]),
                name="case_request_extension_amount",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.state}"


class SupervisionLevel(models.IntegerChoices):
    YELLOW = 1, _("yellow card")  # 黄牌督办
    RED = 2, _("red card")  # 红牌督办


class Supervision(models.Model):
    """A supervision notice (督办单) addressed to a department (or, before dispatch, to the owning
    centre). The sweep issues at most one per task, level and deadline; people may issue more."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="supervisions")
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("task"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="supervisions",
    )
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="supervisions",
    )
    centre = models.ForeignKey(
        "org.CommandCentre", verbose_name=_("command centre"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="supervisions",
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=SupervisionLevel.choices)
    automatic = models.BooleanField(_("issued by the deadline sweep"), default=False)
    deadline = models.DateTimeField(_("deadline missed"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            # Two sweeps racing cannot both issue the notice for the same missed deadline.
            models.UniqueConstraint(
                fields=["assignment", "level", "deadline"], condition=Q(automatic=True),
                name="supervision_once_per_deadline",
            ),
        ]

    def __str__(self):
        return f"{self.case_id} L{self.level}"


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")  # 满意
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("unsatisfied")  # 不满意


def rating_token_hash(token: str) -> str:
    """What is stored of a rating token: the token is the reporter's credential."""
    return hashlib.sha256(token.encode()).hexdigest()


class CaseRating(models.Model):
    """The reporter's rating of one closure (回访评价). Only a hash of the token is stored; the
    token itself is handed out once, at closure."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="ratings")
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    rating = models.CharField(_("rating"), max_length=24, choices=Rating.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["case", "-issued_at", "-pk"]

    def __str__(self):
        return f"{self.case_id} {self.rating or '-'}"


# --- photo attachments and the reporter's tracking link (pages: issue 5) ---------------------


class AttachmentKind(models.TextChoices):
    REPORT = "report", _("report photo")  # 上报照片
    RESULT = "result", _("result photo")  # 处置照片
    VERIFICATION = "verification", _("verification photo")  # 核查照片


class Attachment(models.Model):
    """A photo of a case, re-encoded without metadata and stored under a generated name. It is
    served only through a view that checks who may see the case: there is no public URL."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="attachments")
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("task"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="attachments",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices)
    file = models.FileField(_("file"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=32)
    size = models.PositiveIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", help_text=_("Empty when the reporter uploaded it."),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["case", "uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["report", "result", "verification"]),
                                   name="attachment_kind_valid"),
        ]

    def __str__(self):
        return f"{self.case_id} {self.kind} {self.file.name}"


class CaseTracking(models.Model):
    """The reporter's private tracking link (查询码). Only a hash of the token is stored; the token
    is shown once, on the receipt. It also lets the reporter rate the closure."""

    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="tracking")
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")

    def __str__(self):
        return f"{self.case_id}"
