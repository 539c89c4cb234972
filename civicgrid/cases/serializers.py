"""Shapes of the cases API: what a request must look like (input serializers check form only; the
actions check the rules) and how a case is rendered (reporter data always masked)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civicgrid.cases import reference
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseRequest,
    Channel,
    Rating,
    Supervision,
    Urgency,
)
from civicgrid.cases.workflow import EVENT_CHOICES, AssignmentRole, AssignmentState, State
from civicgrid.core.geo import CRS_WGS84, SUPPORTED_CRS
from civicgrid.core.identifiers import mask_name, mask_phone, normalize_mobile, validate_mobile
from civicgrid.core.serializers import ChoiceLabelField, InputSerializer, RenderSerializer
from civicgrid.org.models import Department
from civicgrid.regions.locator import locate_code
from civicgrid.regions.resolver import resolve_address
from civicgrid.taxonomy.models import Category, CategoryKind, RequestType, TimeUnit

# Reports may carry the reporting system's clock; a little skew is normal, a future date is not.
CLOCK_SKEW = timedelta(minutes=5)


def _error(message, code: str) -> serializers.ErrorDetail:
    return serializers.ErrorDetail(str(message), code=code)


# --- input ------------------------------------------------------------------------------------


class CategoryRefMixin(serializers.Serializer):
    """A category given as ``category_id`` or as ``category_kind`` + ``category_code``."""

    category_id = serializers.IntegerField(required=False, min_value=1)
    category_kind = serializers.ChoiceField(choices=CategoryKind.choices, required=False)
    category_code = serializers.RegexField(
        r"^\d{5}$", required=False, error_messages={"invalid": _("A category code has five digits.")},
    )

    def _category(self, data) -> Category | None:
        cid, kind, code = data.pop("category_id", None), data.pop("category_kind", None), data.pop("category_code", None)
        if cid is not None and (kind or code):
            raise serializers.ValidationError({"category_id": [_error(
                _("Give the category either by id or by kind and code, not both."), "ambiguous")]})
        # Categories are platform-wide reference data, held per process (civicgrid.cases.reference).
        ref = reference.current()
        if cid is not None:
            category = ref.category(cid)
            if category is None or not category.is_active:
                raise serializers.ValidationError({"category_id": [_error(
                    _("No active category has this id."), "does_not_exist")]})
            return category
        if kind or code:
            missing = "category_code" if kind else "category_kind"
            if not (kind and code):
                raise serializers.ValidationError({missing: [_error(
                    _("Give both the category kind and its code."), "required")]})
            category = ref.category_by_code(kind, code)
            if category is None or not category.is_active:
                raise serializers.ValidationError({"category_code": [_error(
                    _("No active category of this kind has this code."), "does_not_exist")]})
            return category
        return None


class PlaceMixin(serializers.Serializer):
    """A place given as a point (``lon``/``lat``, WGS-84 unless ``crs`` says ``gcj02``) and/or an
    ``address``; the point wins when both are given. ``_place(data)`` sets ``region_code`` (and
    the point in WGS-84) or raises the field's error."""

    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    crs = serializers.ChoiceField(choices=SUPPORTED_CRS, default=CRS_WGS84)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def _place(self, data) -> None:
        lon, lat = data.get("lon"), data.get("lat")
        if (lon is None) != (lat is None):
            missing = "lat" if lat is None else "lon"
            raise serializers.ValidationError({missing: [_error(
                _("Give both longitude and latitude."), "required")]})
        crs = data.pop("crs")
        if lon is not None:
            located = locate_code(lon, lat, crs)
            if located is None:
                raise serializers.ValidationError({"location": [_error(
                    _("No region of the platform contains this point."), "outside_regions")]})
            # Stored in WGS-84 whatever datum the caller used (report_case checks the code exists).
            data["region_code"], data["lon"], data["lat"] = located
        elif data["address"].strip():
            resolution = resolve_address(data["address"])
            if resolution.code is None:
                raise serializers.ValidationError({"address": [_error(
                    _("No region of the platform could be recognised in this address."), "unresolved")]})
            data["region_code"] = resolution.code
        else:
            raise serializers.ValidationError({"location": [_error(
                _("Give a point (lon and lat) or an address."), "required")]})


class CaseCreateSerializer(CategoryRefMixin, PlaceMixin, InputSerializer):
    """A report, at a place (see ``PlaceMixin``). Its fields are built once (``InputSerializer``):
    every report is checked by it."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    request_type = serializers.ChoiceField(choices=RequestType.choices, default=RequestType.FIELD_REPORT)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    reporter_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reporter_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", validators=[validate_mobile],
    )
    reported_at = serializers.DateTimeField(required=False)

    def validate_reporter_phone(self, value):
        return normalize_mobile(value) if value else ""

    def validate_reported_at(self, value):
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError(_("The report time lies in the future."), code="in_future")
        return value

    def validate(self, data):
        data["category"] = self._category(data)
        self._place(data)
        return data


class FileSerializer(CategoryRefMixin):
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, data):
        data["category"] = self._category(data)
        return data


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MergeSerializer(NoteSerializer):
    into = serializers.CharField(max_length=32, help_text="Number of the open case this one duplicates.")


class DispatchSerializer(NoteSerializer):
    # Departments are routing reference data: any department may be named here; the action
    # refuses those that do not serve the case's place (code not_serving).
    lead_department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.select_related("region"))
    assisting_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.select_related("region"), many=True, required=False, default=list,
    )


class VerifySerializer(NoteSerializer):
    passed = serializers.BooleanField(help_text="true: close the case; false: send it back for rework (note required).")


class ResultSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000, help_text="What the department did.")


class SuperviseSerializer(serializers.Serializer):
    # An integer rather than an enum in the schema ("level" names the region levels' enum); the
    # action refuses other values with invalid_choice.
    level = serializers.IntegerField(help_text="1 yellow card (黄牌), 2 red card (红牌).")
    note = serializers.CharField(max_length=2000)


class ExtensionRequestSerializer(ReasonSerializer):
    amount = serializers.DecimalField(max_digits=6, decimal_places=2, help_text="How much more working time.")
    unit = serializers.ChoiceField(choices=TimeUnit.choices)


class RatingInputSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- output -----------------------------------------------------------------------------------


class CategoryRefSerializer(RenderSerializer):
    class Meta:
        model = Category
        fields = ["id", "kind", "code", "name"]


class CaseListSerializer(RenderSerializer):
    state_label = ChoiceLabelField(State.choices, source="state")
    category = CategoryRefSerializer(read_only=True, allow_null=True)
    owner_centre = serializers.CharField(source="owner_centre.name", default=None, read_only=True)
    reporter_name = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "number", "channel", "request_type", "category", "urgency", "title", "state", "state_label",
            "sla_status", "region_code", "owner_centre", "reporter_name", "reporter_phone",
            "escalation_level", "supervision_level", "reported_at", "stage_deadline", "due_at",
        ]

    def get_reporter_name(self, case) -> str:
        return mask_name(case.reporter_name)

    def get_reporter_phone(self, case) -> str:
        return mask_phone(case.reporter_phone) if case.reporter_phone else ""


class EventSerializer(RenderSerializer):
    action_label = ChoiceLabelField(EVENT_CHOICES, source="action")
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)
    from_state = serializers.CharField(read_only=True, help_text="A case state; empty for the report.")
    to_state = serializers.CharField(read_only=True, help_text="A case state.")

    class Meta:
        model = CaseEvent
        fields = ["at", "action", "action_label", "from_state", "to_state", "actor", "note", "data"]


class TaskDepartmentSerializer(RenderSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind"]


class AssignmentSerializer(RenderSerializer):
    department = TaskDepartmentSerializer(read_only=True)
    # Plain strings in the schema: one enum component per field name ("state") is all the schema
    # generator allows, and the case's state has it.
    state = serializers.CharField(read_only=True, help_text=" | ".join(AssignmentState.values))
    role = serializers.CharField(read_only=True, help_text=" | ".join(AssignmentRole.values))
    state_label = ChoiceLabelField(AssignmentState.choices, source="state")

    class Meta:
        model = Assignment
        fields = [
            "id", "department", "role", "state", "state_label", "sign_deadline", "handle_deadline",
            "dispatched_at", "signed_at", "reported_at", "returned_at", "released_at", "result", "return_reason",
        ]


class CaseRequestSerializer(RenderSerializer):
    assignment = serializers.IntegerField(source="assignment_id", read_only=True)
    department = serializers.CharField(source="assignment.department.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", default=None, read_only=True)
    state = serializers.CharField(read_only=True, help_text="pending | approved | refused")

    class Meta:
        model = CaseRequest
        fields = ["id", "kind", "state", "assignment", "department", "amount", "unit", "reason",
                  "requested_by", "requested_at", "decided_by", "decided_at", "decision_note"]


class SupervisionSerializer(RenderSerializer):
    department = serializers.CharField(source="department.name", default=None, read_only=True)
    centre = serializers.CharField(source="centre.name", default=None, read_only=True)
    issued_by = serializers.CharField(source="issued_by.username", default=None, read_only=True)
    level = serializers.IntegerField(read_only=True, help_text="1 yellow card, 2 red card.")

    class Meta:
        model = Supervision
        fields = ["id", "level", "automatic", "assignment", "department", "centre", "deadline", "note",
                  "issued_by", "issued_at"]


class CaseDetailSerializer(CaseListSerializer):
    parent = serializers.CharField(source="parent.number", default=None, read_only=True)
    timeline = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()
    available_actions = serializers.SerializerMethodField()
    requests = serializers.SerializerMethodField()
    supervisions = serializers.SerializerMethodField()
    rating_token = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields, "external_id", "description", "lon", "lat", "address",
            "parent", "rework_count", "filed_at", "dispatched_at", "resolved_at", "closed_at",
            "suspended_at", "available_actions", "assignments", "requests", "supervisions", "timeline",
            "rating_token",
        ]

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, case):
        return EventSerializer.render_many(self.context["timeline"])

    @extend_schema_field(AssignmentSerializer(many=True))
    def get_assignments(self, case):
        return AssignmentSerializer.render_many(self.context["assignments"])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_actions(self, case) -> list[str]:
        return self.context["available_actions"]

    @extend_schema_field(CaseRequestSerializer(many=True))
    def get_requests(self, case):
        return CaseRequestSerializer.render_many(self.context["requests"])

    @extend_schema_field(SupervisionSerializer(many=True))
    def get_supervisions(self, case):
        return SupervisionSerializer.render_many(self.context["supervisions"])

    @extend_schema_field(serializers.CharField(allow_null=True, help_text=(
        "Only in the answer to a verification that closed the case: the reporter's rating token "
        "(回访), shown this once. Hand it to the reporter; only its hash is kept.")))
    def get_rating_token(self, case):
        return self.context.get("rating_token")


class RatingSerializer(serializers.Serializer):
    case = serializers.CharField(source="case.number")
    rating = serializers.ChoiceField(choices=Rating.choices)
    comment = serializers.CharField()
    rated_at = serializers.DateTimeField()


class RatingInvitationSerializer(serializers.Serializer):
    """What the reporter sees behind their token: the case and its outcome, no personal data."""

    case = serializers.CharField(source="case.number")
    title = serializers.CharField(source="case.title")
    category = serializers.CharField(source="case.category.name", default=None)
    closed_at = serializers.DateTimeField(source="issued_at")
    rated = serializers.SerializerMethodField()
    rating = serializers.CharField()
    comment = serializers.CharField()
    rated_at = serializers.DateTimeField()

    def get_rated(self, obj) -> bool:
        return obj.rated_at is not None


# --- errors (for the schema) ------------------------------------------------------------------


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code to branch on, e.g. invalid, illegal_transition.")
    message = serializers.CharField(help_text="Human-readable (translated) message.")
    fields = serializers.DictField(
        child=FieldErrorSerializer(many=True), help_text="Per field: its errors, each with a code.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()
