"""The disputes API (``/api/v1/disputes/``). Views hold no rules: they check the input's shape,
find the dispute through a scoped selector (outside the caller's jurisdiction: 404), call one
action and render the dispute. Errors have the platform's one shape (``civicgrid.core.api``)."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.audit.actions import reveal
from civicgrid.cases import selectors as case_selectors
from civicgrid.core.idempotency import OPENAPI_PARAMETER, idempotent
from civicgrid.disputes import actions, figures, risk, selectors
from civicgrid.disputes import serializers as s
from civicgrid.disputes.models import Dispute, DisputeType, Party
from civicgrid.regions.selectors import region_for_user


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _call(action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(get_error_detail(exc)) from None


def _context() -> dict:
    return {"group_threshold": risk.current_settings().group_threshold}


def dispute_body(request, dispute: Dispute) -> dict:
    dispute = selectors.dispute_by_number(request.user, dispute.case.number)
    return s.DisputeDetailSerializer(dispute, context=_context()).data


def _parties(data: dict) -> dict:
    data["parties"] = [dict(p) for p in data.get("parties", [])]
    return data


class DisputeListCreate(generics.GenericAPIView):
    """Disputes in the caller's jurisdiction (newest first); and a dispute opened directly by a
    department, grid worker or mediator."""

    serializer_class = s.DisputeListSerializer
    queryset = Dispute.objects.none()

    def get_queryset(self):
        qs = selectors.disputes_for(self.request.user)
        for param, field in (("risk_level", "risk_level"), ("type", "dispute_type__code"), ("outcome", "outcome")):
            value = self.request.query_params.get(param)
            if value:
                qs = qs.filter(**{field: value})
        return qs.order_by("-opened_at", "-pk")

    @extend_schema(parameters=[OpenApiParameter("risk_level"), OpenApiParameter("type"), OpenApiParameter("outcome")])
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.DisputeListSerializer(page, many=True, context=_context()).data)

    @extend_schema(request=s.DisputeOpenInput, parameters=[OPENAPI_PARAMETER], responses={201: s.DisputeDetailSerializer})
    @idempotent
    def post(self, request):
        data = _parties(_valid(s.DisputeOpenInput, request))
        dispute = _call(actions.open_dispute, actor=request.user, **data)
        return Response(dispute_body(request, dispute), status=status.HTTP_201_CREATED)


class ProfileForCase(APIView):
    """A case from any channel becomes a dispute (its mediation profile is added)."""

    @extend_schema(request=s.DisputeProfileInput, parameters=[OPENAPI_PARAMETER], responses={201: s.DisputeDetailSerializer})
    @idempotent
    def post(self, request, number):
        case = case_selectors.case_by_number(request.user, number)
        data = _parties(_valid(s.DisputeProfileInput, request))
        dispute = _call(actions.add_dispute_profile, case, request.user, **data)
        return Response(dispute_body(request, dispute), status=status.HTTP_201_CREATED)


class DisputeDetail(APIView):
    @extend_schema(operation_id="disputes_detail", responses={200: s.DisputeDetailSerializer})
    def get(self, request, number):
        return Response(dispute_body(request, selectors.dispute_by_number(request.user, number)))


def _action_view(name: str, summary: str, input_serializer, perform):
    """A POST view for one dispute action: ``perform(dispute, data, user)``."""

    class View(APIView):
        @extend_schema(operation_id=f"disputes_{name}", summary=summary, request=input_serializer,
                       parameters=[OPENAPI_PARAMETER], responses={200: s.DisputeDetailSerializer})
        @idempotent
        def post(self, request, number, **kwargs):
            dispute = selectors.dispute_by_number(request.user, number)
            data = _valid(input_serializer, request)
            _call(perform, dispute, data, request.user, **kwargs)
            return Response(dispute_body(request, dispute))

    View.__name__ = View.__qualname__ = f"Dispute{name.title().replace('_', '')}View"
    return View


def _visit(dispute, visit_id):
    visit = selectors.visits_of(dispute).filter(pk=visit_id).first()
    if visit is None:
        raise Http404
    return visit


JointView = _action_view(
    "joint_mediation", "Start joint mediation (联调): file and dispatch to the matrix's departments", s.JointMediationInput,
    lambda d, data, u: actions.start_joint_mediation(
        d, u, data["note"], lead=data.get("lead_department"), assisting=data.get("assisting_departments")),
)
PartyView = _action_view(
    "party", "Add a party (当事人)", s.DisputePartyInput,
    lambda d, data, u: actions.add_party(d, u, role=data["role"], name=data["name"], id_number=data["id_number"],
                                         phone=data["phone"]),
)
SessionView = _action_view(
    "session", "Record a mediation session (调解记录)", s.MediationSessionInput,
    lambda d, data, u: actions.record_session(d, u, **data),
)
AgreementView = _action_view(
    "agreement", "Record the written mediation agreement (调解协议书)", s.MediationAgreementInput,
    lambda d, data, u: actions.record_agreement(d, u, **data),
)
FailureView = _action_view(
    "failure", "Record that mediation failed, with the route advised (调解不成)", s.MediationFailureInput,
    lambda d, data, u: actions.record_failure(d, u, **data),
)
ApplyConfirmationView = _action_view(
    "confirmation_apply", "The parties' joint application for judicial confirmation (司法确认申请)", s.ConfirmationApplyInput,
    lambda d, data, u: actions.apply_for_confirmation(d, u, **data),
)
DecideConfirmationView = _action_view(
    "confirmation_decide", "The court's ruling on judicial confirmation (司法确认结果)", s.ConfirmationDecisionInput,
    lambda d, data, u: actions.record_confirmation(d, u, **data),
)
ScheduleVisitView = _action_view(
    "visit_schedule", "Schedule a follow-up visit (回访)", s.FollowUpScheduleInput,
    lambda d, data, u: actions.schedule_follow_up(d, u, data["due_on"]),
)
RecordVisitView = _action_view(
    "visit_record", "Record a follow-up visit on performance (回访); may reopen the case", s.FollowUpVisitInput,
    lambda d, data, u, visit_id: actions.record_follow_up(_visit(d, visit_id), u, **data),
)
EvaluationView = _action_view(
    "evaluation", "Evaluate the handling (评价)", s.DisputeEvaluationInput,
    lambda d, data, u: actions.evaluate(d, u, data["evaluation"]),
)


class UnmaskView(APIView):
    """The clear value of one party field, for this answer only; needs ``pii.unmask`` and a reason,
    and is written to the access log."""

    @extend_schema(request=s.PartyUnmaskInput, responses={200: {"type": "object", "properties": {
        "field": {"type": "string"}, "value": {"type": "string"}}}})
    def post(self, request, number, party_id):
        dispute = selectors.dispute_by_number(request.user, number)
        party = Party.objects.filter(dispute=dispute, pk=party_id).first()
        if party is None:
            raise Http404
        data = _valid(s.PartyUnmaskInput, request)
        value = reveal(request.user, party, data["field"], data["reason"], request=request)
        return Response({"field": data["field"], "value": value})


class ReviewQueue(generics.ListAPIView):
    """High-risk disputes waiting for review (研判), oldest first."""

    serializer_class = s.RiskReviewSerializer

    def get_queryset(self):
        return selectors.review_queue(self.request.user)


class ReviewDecide(APIView):
    """Confirm, downgrade or escalate one high-risk dispute, with a reason."""

    @extend_schema(request=s.RiskReviewInput, parameters=[OPENAPI_PARAMETER], responses={200: s.RiskReviewSerializer})
    @idempotent
    def post(self, request, review_id):
        from civicgrid.disputes.models import RiskReview

        review = RiskReview.objects.filter(pk=review_id, dispute__in=selectors.disputes_for(request.user)).first()
        if review is None:
            raise Http404
        data = _valid(s.RiskReviewInput, request)
        review = _call(actions.decide_review, review, request.user, **data)
        return Response(s.RiskReviewSerializer(review).data)


def _day(value: str, field: str):
    try:
        return timezone.make_aware(datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time.min))
    except (TypeError, ValueError):
        raise exceptions.ValidationError({field: ["Use YYYY-MM-DD."]}) from None


class FiguresView(APIView):
    """排查数, 化解数, 化解率, 调解数, 调解成功数, 调解成功率, 司法确认数, on-time rate and average
    days to resolution for disputes received in ``[start, end]`` (dates), optionally inside
    ``region`` and of ``type``, grouped by ``group_by`` (region, type, month). Definitions are in
    the answer."""

    @extend_schema(parameters=[OpenApiParameter("start", required=True), OpenApiParameter("end", required=True),
                               OpenApiParameter("region"), OpenApiParameter("type"), OpenApiParameter("group_by")],
                   responses={200: s.DisputeFiguresSerializer})
    def get(self, request):
        q = request.query_params
        start, end = _day(q.get("start"), "start"), _day(q.get("end"), "end") + timedelta(days=1)
        region = region_for_user(request.user, q["region"]) if q.get("region") else None
        dispute_type = DisputeType.objects.filter(code=q["type"]).first() if q.get("type") else None
        group_by = q.get("group_by", "")
        if group_by not in ("", *figures.GROUPS):
            raise exceptions.ValidationError({"group_by": [f"One of {', '.join(figures.GROUPS)}."]})
        result = figures.dispute_figures(request.user, start=start, end=end, region=region,
                                         dispute_type=dispute_type, group_by=group_by)
        return Response({
            "definitions": {key: str(text) for key, _label, text in figures.DEFINITIONS},
            "total": result["total"].as_dict(),
            "rows": [row.as_dict() for row in result["rows"]],
        })
