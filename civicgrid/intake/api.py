"""Push endpoints for other government systems (``/api/v1/intake/``): 12345 work orders, 数字城管
cases and sensor/video alarms. A client system authenticates with its API key in the ``X-Api-Key``
header (issued in the admin, as for Open311). Errors use the project's one shape; the formats are
in ``docs/exchange-formats.md``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import DomainError
from civicgrid.intake import actions, selectors

API_KEY_HEADER = "X-Api-Key"
MAX_BATCH = 500


def _client(request):
    client = selectors.client_for_key(request.headers.get(API_KEY_HEADER))
    if client is None:
        raise DomainError(_("Missing or unknown API key (header X-Api-Key)."), code="invalid_api_key",
                          status_code=status.HTTP_403_FORBIDDEN)
    return client


def _answer(received: actions.Received) -> dict:
    case = received.case
    body = {"case_number": case.number, "state": case.state, "created": received.created}
    if case.parent_id is not None:
        body["merged_into"] = case.parent.number
    if received.repeat:
        body.update(repeat=True, alarm_count=received.alarm_count)
    return body


def _field_errors(exc: ValidationError) -> dict:
    return {field: [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in errors]
            for field, errors in exc.error_dict.items()}


_KEY = OpenApiParameter(API_KEY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                        description="The client system's API key (issued in the admin).")


def _push_schema(summary: str):
    return extend_schema(
        summary=summary, parameters=[_KEY], request=OpenApiTypes.OBJECT,
        description="One record (a JSON object) or a list of up to 500; formats in docs/exchange-formats.md.",
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT,
                   403: OpenApiTypes.OBJECT},
    )


class _PushView(APIView):
    """POST one record (an object) → 201 (new case) or 200 (a retry / a repeat); or a list of up to
    ``MAX_BATCH`` records → 200 with one result per record, in order."""

    authentication_classes: list = []
    permission_classes: list = []
    receive = None  # the action taking (client, record)

    def post(self, request):
        client = _client(request)
        data = request.data
        if isinstance(data, list):
            if len(data) > MAX_BATCH:
                raise DomainError(_("Send at most 500 records at once."), code="too_many_records",
                                  status_code=status.HTTP_400_BAD_REQUEST)
            results = []
            for index, record in enumerate(data):
                try:
                    results.append({"index": index, "ok": True, **_answer(type(self).receive(client, record))})
                except ValidationError as exc:
                    results.append({"index": index, "ok": False, "errors": _field_errors(exc)})
            return Response({"results": results})
        if not isinstance(data, dict):
            raise DomainError(_("Send a JSON object or a list of them."), code="invalid",
                              status_code=status.HTTP_400_BAD_REQUEST)
        received = type(self).receive(client, data)
        return Response(_answer(received), status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK)


class HotlineOrdersView(_PushView):
    """12345 work orders (工单推送)."""

    receive = staticmethod(actions.receive_order)

    @_push_schema("Push 12345 work orders (工单推送)")
    def post(self, request):
        return super().post(request)


class SzcgCasesView(_PushView):
    """数字城管 cases (案卷推送)."""

    receive = staticmethod(actions.receive_szcg_case)

    @_push_schema("Push 数字城管 cases (案卷推送)")
    def post(self, request):
        return super().post(request)


class AlarmsView(_PushView):
    """Sensor and video-analytics alarms (告警推送)."""

    receive = staticmethod(actions.receive_alarm)

    @_push_schema("Push sensor and video alarms (告警推送)")
    def post(self, request):
        return super().post(request)
