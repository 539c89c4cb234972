"""Shapes of the disputes API. Personal data of parties is masked here; the clear value is only
given by the logged unmask endpoint (``civicgrid.audit.actions.reveal``)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civicgrid.cases.models import Channel
from civicgrid.core.fields import masked_value
from civicgrid.disputes.models import (
    Agreement,
    Dispute,
    DisputeType,
    FailureRoute,
    FollowUpVisit,
    MediationMethod,
    MediationSession,
    Party,
    PartyRole,
    Performance,
    ReviewDecision,
    RiskLevel,
    RiskReview,
    SessionResult,
)
from civicgrid.org.models import Department

# --- input ---------------------------------------------------------------------------------------


class DisputePartyInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=PartyRole.choices)
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    is_organisation = serializers.BooleanField(required=False, default=False)


class DisputeProfileInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    dispute_type = serializers.SlugRelatedField(slug_field="code", queryset=DisputeType.objects.filter(is_active=True))
    occurred_on = serializers.DateField()
    place = serializers.CharField(max_length=300)
    brief = serializers.CharField()
    people_involved = serializers.IntegerField(min_value=1, default=2)
    organisations_involved = serializers.CharField(required=False, allow_blank=True, default="")
    method = serializers.ChoiceField(choices=MediationMethod.choices, default=MediationMethod.PEOPLE)
    parties = DisputePartyInput(many=True)


class DisputeOpenInput(DisputeProfileInput):
    region_code = serializers.CharField(max_length=15)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default="")
    share = serializers.BooleanField(default=True)


class JointMediationInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    lead_department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), required=False)
    assisting_departments = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), many=True, required=False)


class MediationSessionInput(serializers.Serializer):
    held_at = serializers.DateTimeField()
    place = serializers.CharField(required=False, allow_blank=True, default="")
    online = serializers.BooleanField(default=False)
    mediators = serializers.CharField(max_length=300)
    participants = serializers.CharField()
    minutes = serializers.CharField()
    next_step = serializers.CharField(required=False, allow_blank=True, default="")
    result = serializers.ChoiceField(choices=SessionResult.choices, default=SessionResult.CONTINUING)


class MediationAgreementInput(serializers.Serializer):
    committee = serializers.CharField(max_length=200)
    facts = serializers.CharField()
    terms = serializers.CharField()
    performance = serializers.CharField(required=False, allow_blank=True, default="")
    signed_parties = serializers.ListField(child=serializers.IntegerField())
    mediator_name = serializers.CharField(max_length=100)
    sealed = serializers.BooleanField(default=True)
    effective_on = serializers.DateField()


class MediationFailureInput(serializers.Serializer):
    route = serializers.ChoiceField(choices=FailureRoute.choices)
    guidance = serializers.CharField()


class ConfirmationApplyInput(serializers.Serializer):
    applied_on = serializers.DateField()
    court = serializers.CharField(max_length=200)


class ConfirmationDecisionInput(serializers.Serializer):
    confirmed = serializers.BooleanField()
    decided_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpScheduleInput(serializers.Serializer):
    due_on = serializers.DateField()


class FollowUpVisitInput(serializers.Serializer):
    performance = serializers.ChoiceField(choices=Performance.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reopen = serializers.BooleanField(default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RiskReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    reason = serializers.CharField()
    level = serializers.ChoiceField(choices=RiskLevel.choices, required=False, default="", allow_blank=True,
                                    help_text="For a downgrade: medium or low.")


class DisputeEvaluationInput(serializers.Serializer):
    evaluation = serializers.CharField()


class PartyUnmaskInput(serializers.Serializer):
    field = serializers.ChoiceField(choices=["name", "id_number", "phone"])
    reason = serializers.CharField()


# --- output --------------------------------------------------------------------------------------


class DisputePartySerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = ["id", "role", "name", "id_number", "phone", "is_organisation"]

    def get_name(self, obj) -> str:
        return obj.name if obj.is_organisation else masked_value(obj, "name")

    def get_id_number(self, obj) -> str:
        return masked_value(obj, "id_number")

    def get_phone(self, obj) -> str:
        return masked_value(obj, "phone")


class MediationSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MediationSession
        fields = ["id", "held_at", "place", "online", "centre", "mediators", "participants", "minutes", "next_step",
                  "result", "recorded_at"]


class MediationAgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["id", "number", "committee", "facts", "terms", "performance", "signed_parties", "mediator_name",
                  "sealed", "effective_on", "confirmation_deadline", "confirmation_state", "confirmation_applied_on",
                  "confirmation_court", "confirmation_decided_on", "confirmation_note"]


class FollowUpVisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpVisit
        fields = ["id", "due_on", "visited_at", "performance", "note", "reopened_case"]


class RiskReviewSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="dispute.case.number", read_only=True)
    dispute_name = serializers.CharField(source="dispute.name", read_only=True)

    class Meta:
        model = RiskReview
        fields = ["id", "case_number", "dispute_name", "level", "score", "signals", "created_at", "decision",
                  "decided_level", "reason", "decided_by", "decided_at"]


class DisputeListSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    case_state = serializers.CharField(source="case.state", read_only=True)
    region_code = serializers.CharField(source="case.region_code", read_only=True)
    dispute_type = serializers.CharField(source="dispute_type.code", read_only=True)
    dispute_type_name = serializers.CharField(source="dispute_type.name", read_only=True)
    is_group = serializers.SerializerMethodField()

    class Meta:
        model = Dispute
        fields = ["id", "case_number", "case_state", "region_code", "name", "dispute_type", "dispute_type_name",
                  "occurred_on", "place", "people_involved", "is_group", "method", "outcome", "resolution_deadline",
                  "risk_level", "risk_score", "reviewed_level", "opened_at"]

    def get_is_group(self, obj) -> bool:
        return obj.people_involved >= self.context["group_threshold"]


class DisputeDetailSerializer(DisputeListSerializer):
    parties = DisputePartySerializer(many=True, read_only=True)
    sessions = MediationSessionSerializer(many=True, read_only=True)
    visits = FollowUpVisitSerializer(many=True, read_only=True)
    reviews = RiskReviewSerializer(many=True, read_only=True)
    agreement = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()

    class Meta(DisputeListSerializer.Meta):
        fields = DisputeListSerializer.Meta.fields + [
            "brief", "organisations_involved", "responsible_department", "responsible_person", "failure_route",
            "failure_guidance", "evaluation", "risk_signals", "joint_rule", "parties", "sessions", "agreement",
            "visits", "reviews", "assignments",
        ]

    @extend_schema_field(MediationAgreementSerializer(allow_null=True))
    def get_agreement(self, obj):
        agreement = Agreement.objects.filter(dispute=obj).first()
        return MediationAgreementSerializer(agreement).data if agreement else None

    def get_assignments(self, obj) -> list[dict]:
        return [
            {"id": a.pk, "department": a.department_id, "department_name": a.department.name, "role": a.role,
             "state": a.state, "result": a.result}
            for a in obj.case.assignments.select_related("department").order_by("pk")
        ]


class DisputeFigureRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    received = serializers.IntegerField(help_text=_("排查数: disputes received in the period."))
    resolved = serializers.IntegerField(help_text=_("化解数: case closed and mediation not failed."))
    resolution_rate = serializers.FloatField(allow_null=True)
    mediated = serializers.IntegerField()
    mediation_success = serializers.IntegerField()
    mediation_success_rate = serializers.FloatField(allow_null=True)
    confirmed = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    average_days = serializers.FloatField(allow_null=True)


class DisputeFiguresSerializer(serializers.Serializer):
    definitions = serializers.DictField(child=serializers.CharField())
    total = DisputeFigureRowSerializer()
    rows = DisputeFigureRowSerializer(many=True)
