"""The cases API (``/api/v1/cases/``). Views hold no rules: they check the shape of the input with a
serializer, find the case through a scoped selector (outside the caller's jurisdiction it does not
exist: 404), call one action, and render the case. Every staff POST honours ``Idempotency-Key``
(a verification's stored answer keeps the rating token for the key's 24 hours, so a lost answer
can be fetched again by retrying)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Case as DbCase
from django.db.models import F, IntegerField, Value, When
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.fields import get_error_detail
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.cases import actions, group_commit, reference, selectors
from civicgrid.cases import serializers as s
from civicgrid.cases.filters import CaseFilter
from civicgrid.cases.models import Case, Urgency
from civicgrid.core import idempotency
from civicgrid.core.api import DomainError
from civicgrid.core.idempotency import OPENAPI_PARAMETER, idempotent
from civicgrid.org.models import Role


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(s.ErrorSerializer, description=description)


E400 = _err("Invalid input: `fields` lists each field's errors with a code.")
E403 = _err("The role does not allow this action (`permission_denied`).")
E404 = _err("No such case (or task) in the caller's jurisdiction.")
E409 = _err("The case changed meanwhile (`conflict`), or the same Idempotency-Key is still being "
            "processed (`idempotency_in_progress`).")
E422 = _err("A rule refused the step (`illegal_transition` names the state and the action), or the "
            "Idempotency-Key was used with another body (`idempotency_key_reused`).")
ACTION_ERRORS = {400: E400, 403: E403, 404: E404, 409: E409, 422: E422}


def case_body(request, case: Case, rating_token: str | None = None, *, created: bool = False) -> dict:
    """The case as its detail page sees it, for the request's user (see ``case_body_for``)."""
    return case_body_for(request.user, case, rating_token, created=created)


def case_body_for(user, case: Case, rating_token: str | None = None, *, created: bool = False) -> dict:
    """The case as its detail page sees it, re-read through ``user``'s scope; a case this very
    request ``created`` (inside the caller's jurisdiction, which ``report_case`` checked) is
    rendered from the objects in hand: its events and tasks as the report wrote them, and no
    requests or supervisions, which it cannot have yet."""
    made = getattr(case, "made_by_report", None) if created else None
    if made is not None and user.role != Role.DEPARTMENT_HANDLER:
        timeline, assignments, requests, supervisions = made.events, made.assignments, [], []
    else:
        case = selectors.case_detail(user, case.pk)
        timeline, assignments = selectors.timeline(case), selectors.assignments_of(case)
        requests, supervisions = selectors.requests_of(case), selectors.supervisions_of(case)
    return s.CaseDetailSerializer(case, context={
        "timeline": timeline,
        "assignments": assignments,
        "requests": requests,
        "supervisions": supervisions,
        "available_actions": selectors.available_actions(user, case),
        "rating_token": rating_token,
    }).data


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _call(action, *args, **kwargs):
    """Run an action; its field errors (Django ``ValidationError``) keep their codes."""
    try:
        return action(*args, **kwargs)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(get_error_detail(exc)) from None


# --- list, create, detail ---------------------------------------------------------------------


class CaseListCreate(generics.GenericAPIView):
    """Cases in the caller's jurisdiction, most urgent and soonest due first; and new reports."""

    serializer_class = s.CaseListSerializer
    filterset_class = CaseFilter
    queryset = Case.objects.none()  # for the schema; reads go through the selector

    def dispatch(self, request, *args, **kwargs):
        # One read of the region, reference and auth generations serves the whole request: the
        # token's user, the locator and the reference data answer from it. Neither a list nor a
        # report changes what the generations guard.
        with reference.pinned():
            return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        urgency_rank = DbCase(When(urgency=Urgency.URGENT, then=Value(0)), default=Value(1),
                              output_field=IntegerField())
        return (
            selectors.cases_for(self.request.user)
            .annotate(urgency_rank=urgency_rank)
            .order_by("urgency_rank", F("stage_deadline").asc(nulls_last=True), "-reported_at", "-pk")
        )

    @extend_schema(responses={200: s.CaseListSerializer(many=True), 400: E400})
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.CaseListSerializer(page, many=True).data)

    @extend_schema(
        request=s.CaseCreateSerializer, parameters=[OPENAPI_PARAMETER],
        responses={
            201: OpenApiResponse(s.CaseDetailSerializer, description="The new case, with its number."),
            200: OpenApiResponse(s.CaseDetailSerializer, description=(
                "The case already reported with this channel and external_id (a channel's retry).")),
            400: E400, 403: E403, 409: E409, 422: E422,
        },
    )
    def post(self, request):
        claim = idempotency.claim_of(request)
        data = _valid(s.CaseCreateSerializer, request)
        user = request.user

        def prepare():
            return _call(actions.prepare_report, actor=user, **data)

        # Checked and built here (refusals answer at once); stored with the reports arriving at
        # the same moment (civicgrid.cases.group_commit), with the key's record and answer.
        job = group_commit.Job(prepare=prepare, report=prepare(), answer=lambda report: _report_answer(user, report),
                               claim=claim, language=translation.get_language())
        return group_commit.submit(job)


def _report_answer(user, report) -> Response:
    """The answer to a report: the new case (201), or the case this channel already made of the
    external id (200, a retry)."""
    created = report.existing is None
    try:
        body = case_body_for(user, report.outcome, created=created)
    except Http404:
        # This channel's external id is on a case the caller cannot see.
        raise DomainError(
            _("Another case outside your jurisdiction already carries this external id on this channel."),
            code="external_id_taken", status_code=status.HTTP_409_CONFLICT,
            fields={"external_id": [s._error(_("Already used on this channel."), "taken")]},
        ) from None
    return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CaseDetail(APIView):
    """One case by its number, with its assignments and timeline."""

    @extend_schema(responses={200: s.CaseDetailSerializer, 404: E404})
    def get(self, request, number):
        return Response(case_body(request, selectors.case_by_number(request.user, number)))


# --- one endpoint per action ------------------------------------------------------------------


def _action_view(name: str, summary: str, input_serializer, perform, description: str = ""):
    """A POST view for one case action: ``perform(case, data, user)`` calls the action."""

    class View(APIView):
        @extend_schema(
            operation_id=f"cases_{name}", summary=summary, description=description,
            request=input_serializer, parameters=[OPENAPI_PARAMETER],
            responses={200: s.CaseDetailSerializer, **ACTION_ERRORS},
        )
        @idempotent
        def post(self, request, number):
            case = selectors.case_by_number(request.user, number)
            data = _valid(input_serializer, request) if input_serializer else {}
            result = _call(perform, case, data, request.user)
            return Response(case_body(request, case, rating_token=getattr(result, "rating_token", None)))

    View.__name__ = View.__qualname__ = f"Case{name.title().replace('_', '')}View"
    return View


def _assignment_view(name: str, summary: str, input_serializer, perform, description: str = ""):
    """A POST view for one department's task (assignment) of a case."""

    class View(APIView):
        @extend_schema(
            operation_id=f"cases_assignments_{name}", summary=summary, description=description,
            request=input_serializer, parameters=[OPENAPI_PARAMETER],
            responses={200: s.CaseDetailSerializer, **ACTION_ERRORS},
        )
        @idempotent
        def post(self, request, number, assignment_id):
            case = selectors.case_by_number(request.user, number)
            assignment = selectors.assignments_of(case).filter(pk=assignment_id).first()
            if assignment is None:
                raise Http404
            data = _valid(input_serializer, request) if input_serializer else {}
            _call(perform, assignment, data, request.user)
            return Response(case_body(request, case))

    View.__name__ = View.__qualname__ = f"Assignment{name.title().replace('_', '')}View"
    return View


def _merge(case, data, user):
    try:
        into = selectors.case_by_number(user, data["into"])
    except Http404:
        raise s.serializers.ValidationError({"into": [s._error(
            _("No case with this number in your jurisdiction."), "does_not_exist")]}) from None
    return actions.merge_case(case, into, user, data["note"])


FileView = _action_view(
    "file", "File a report as a case (立案)", s.FileSerializer,
    lambda c, d, u: actions.file_case(c, u, category=d["category"], urgency=d.get("urgency"), note=d["note"]),
)
RejectView = _action_view(
    "reject", "Reject a report (不予立案)", s.ReasonSerializer,
    lambda c, d, u: actions.reject_case(c, d["reason"], u),
)
MergeView = _action_view("merge", "Merge a duplicate report into an open case (合并)", s.MergeSerializer, _merge)
DispatchView = _action_view(
    "dispatch", "Dispatch to a lead and assisting departments (派遣)", s.DispatchSerializer,
    lambda c, d, u: actions.dispatch_case(c, d["lead_department"], d["assisting_departments"], u, d["note"]),
)
CancelView = _action_view(
    "cancel", "Cancel an open case (撤销)", s.ReasonSerializer,
    lambda c, d, u: actions.cancel_case(c, d["reason"], u),
)
SuspendView = _action_view(
    "suspend", "Suspend a case in progress (挂起)", s.ReasonSerializer,
    lambda c, d, u: actions.suspend_case(c, d["reason"], u),
)
ResumeView = _action_view(
    "resume", "Resume a suspended case (恢复)", s.NoteSerializer,
    lambda c, d, u: actions.resume_case(c, u, d["note"]),
)
VerifyView = _action_view(
    "verify", "Verify a resolved case: close it or send it back for rework (核查结案/返工)", s.VerifySerializer,
    lambda c, d, u: actions.verify_case(c, d["passed"], u, d["note"]),
    description="Closing answers with `rating_token`, the reporter's token for rating the closure "
                "(shown only in this answer).",
)
ReopenView = _action_view(
    "reopen", "Reopen a closed case after an unsatisfied rating (重办)", s.ReasonSerializer,
    lambda c, d, u: actions.reopen_case(c, d["reason"], u),
)
EscalateView = _action_view(
    "escalate", "Escalate to the next command centre up (上报上级)", s.ReasonSerializer,
    lambda c, d, u: actions.escalate_case(c, d["reason"], u),
)
SuperviseView = _action_view(
    "supervise", "Issue a supervision notice (督办)", s.SuperviseSerializer,
    lambda c, d, u: actions.supervise_case(c, d["level"], d["note"], u),
)
StageReplyView = _action_view(
    "stage_reply", "Post a progress reply (阶段答复; sent on to 12345 for its work orders)", s.ResultSerializer,
    lambda c, d, u: actions.post_stage_reply(c, d["text"], u),
)

SignForView = _assignment_view(
    "sign_for", "Sign for a task (签收)", None, lambda a, d, u: actions.sign_for(a, u),
)
ReturnView = _assignment_view(
    "return", "Return a task (退单)", s.ReasonSerializer,
    lambda a, d, u: actions.return_assignment(a, d["reason"], u),
)
ReportResultView = _assignment_view(
    "report_result", "Report a handling result (处置反馈)", s.ResultSerializer,
    lambda a, d, u: actions.report_result(a, d["text"], u),
)
RequestExtensionView = _assignment_view(
    "request_extension", "Ask for more time (申请延期)", s.ExtensionRequestSerializer,
    lambda a, d, u: actions.request_extension(a, d["amount"], d["unit"], d["reason"], u),
)
RequestSuspensionView = _assignment_view(
    "request_suspension", "Ask to suspend the case (申请挂起)", s.ReasonSerializer,
    lambda a, d, u: actions.request_suspension(a, d["reason"], u),
)


# --- decisions on extension and suspension requests -------------------------------------------

_DECISIONS = {
    ("extension", "approve"): lambda r, d, u: actions.approve_extension(r, u, d.get("note", "")),
    ("extension", "refuse"): lambda r, d, u: actions.refuse_extension(r, d["reason"], u),
    ("suspension", "approve"): lambda r, d, u: actions.approve_suspension(r, u, d.get("note", "")),
    ("suspension", "refuse"): lambda r, d, u: actions.refuse_suspension(r, d["reason"], u),
}


def _decision_view(decision: str, summary: str, input_serializer):
    class View(APIView):
        @extend_schema(
            operation_id=f"cases_requests_{decision}", summary=summary,
            request=input_serializer, parameters=[OPENAPI_PARAMETER],
            responses={200: s.CaseDetailSerializer, **ACTION_ERRORS},
        )
        @idempotent
        def post(self, request, number, request_id):
            case = selectors.case_by_number(request.user, number)
            case_request = selectors.requests_of(case).filter(pk=request_id).first()
            if case_request is None:
                raise Http404
            data = _valid(input_serializer, request)
            _call(_DECISIONS[(case_request.kind, decision)], case_request, data, request.user)
            return Response(case_body(request, case))

    View.__name__ = View.__qualname__ = f"Request{decision.title()}View"
    return View


ApproveRequestView = _decision_view(
    "approve", "Approve an extension (批准延期) or a suspension (批准挂起) request", s.NoteSerializer,
)
RefuseRequestView = _decision_view(
    "refuse", "Refuse an extension or a suspension request (驳回)", s.ReasonSerializer,
)


# --- the reporter's rating (no login: the token is the credential) ----------------------------


class RatingView(APIView):
    """回访评价: the reporter rates the closure with the token handed to them at closure."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="cases_ratings_read",
        responses={200: s.RatingInvitationSerializer, 404: _err("Unknown token.")},
    )
    def get(self, request, token):
        return Response(s.RatingInvitationSerializer(selectors.rating_by_token(token)).data)

    # Not idempotent by key: a record would keep the token (the credential) in its scope, and a
    # second rating is refused anyway (409 already_rated).
    @extend_schema(
        operation_id="cases_ratings_rate", request=s.RatingInputSerializer,
        responses={
            200: s.RatingSerializer, 400: E400,
            404: _err("Unknown token."), 409: _err("Already rated (`already_rated`)."),
        },
    )
    def post(self, request, token):
        data = _valid(s.RatingInputSerializer, request)
        rating = _call(actions.rate_case, token, data["rating"], data["comment"])
        return Response(s.RatingSerializer(rating).data)
