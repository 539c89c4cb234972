"""The access-log API: ``GET /api/v1/audit/access-log`` for the security administrator."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.audit import revealable, selectors
from civicgrid.audit.actions import reveal
from civicgrid.audit.models import AccessAction, AccessLogEntry
from civicgrid.core.serializers import ChoiceLabelField
from civicgrid.org.permissions import HasAction


class AccessLogEntrySerializer(serializers.ModelSerializer):
    action_label = ChoiceLabelField(AccessAction.choices, source="action")

    class Meta:
        model = AccessLogEntry
        fields = ["id", "at", "user", "username", "role", "action", "action_label", "object_type",
                  "object_id", "object_label", "fields", "reason", "ip", "user_agent", "path", "detail"]


class FilterSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, allow_blank=True, help_text=_("username"))
    action = serializers.ChoiceField(choices=AccessAction.choices, required=False)
    object_type = serializers.CharField(required=False, allow_blank=True)
    object_id = serializers.CharField(required=False, allow_blank=True)
    since = serializers.CharField(required=False, allow_blank=True)
    until = serializers.CharField(required=False, allow_blank=True)

    def _moment(self, value, *, end: bool):
        if not value:
            return None
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise serializers.ValidationError(
                    _("Use a date (2026-11-24) or a date and time (2026-11-24T08:30:00+08:00)."),
                    code="invalid_date",
                )
            # A date means the whole local day: ``until`` includes it.
            moment = datetime.datetime.combine(day + datetime.timedelta(days=1 if end else 0), datetime.time())
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    def validate_since(self, value):
        return self._moment(value, end=False)

    def validate_until(self, value):
        return self._moment(value, end=True)


@extend_schema(
    summary="The personal-data access log (security administrator only)",
    parameters=[
        OpenApiParameter("user", OpenApiTypes.STR, description="username"),
        OpenApiParameter("action", OpenApiTypes.STR, enum=AccessAction.values),
        OpenApiParameter("object_type", OpenApiTypes.STR, description="app_label.model, e.g. cases.case"),
        OpenApiParameter("object_id", OpenApiTypes.STR),
        OpenApiParameter("since", OpenApiTypes.STR, description="date or date-time, inclusive"),
        OpenApiParameter("until", OpenApiTypes.STR, description="date (inclusive) or date-time (exclusive)"),
    ],
)
class AccessLogList(generics.ListAPIView):
    """访问日志: who unmasked or exported which personal data, when, why and from where."""

    serializer_class = AccessLogEntrySerializer
    permission_classes = [HasAction("audit.view")]
    filter_backends = []

    def get_queryset(self):
        params = FilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return selectors.access_log(
            self.request.user, username=data.get("user") or "", action=data.get("action") or "",
            object_type=data.get("object_type") or "", object_id=data.get("object_id") or "",
            since=data.get("since"), until=data.get("until"),
        )


class RevealInput(serializers.Serializer):
    object_type = serializers.ChoiceField(choices=sorted(revealable.LOOKUPS), help_text=_("e.g. cases.case"))
    object_id = serializers.CharField(max_length=64, help_text=_("The record's key, e.g. the case number."))
    fields = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1, max_length=10)
    reason = serializers.CharField(max_length=500, allow_blank=True, trim_whitespace=True)


class RevealOutput(serializers.Serializer):
    values = serializers.DictField(child=serializers.CharField(allow_blank=True))


@extend_schema(request=RevealInput, responses=RevealOutput,
               summary="Show masked personal data of one record, with a reason (logged)")
class RevealView(APIView):
    """查看明文: the clear values of the named fields of one record in your jurisdiction, for this
    answer only (not cached). Needs the ``pii.unmask`` permission and a reason; each field is one
    entry in the access log."""

    permission_classes = [HasAction("pii.unmask")]

    def post(self, request):
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        obj = revealable.find(request.user, data.validated_data["object_type"], data.validated_data["object_id"])
        fields = list(dict.fromkeys(data.validated_data["fields"]))
        with transaction.atomic():  # all fields logged, or none (then nothing is shown)
            values = {f: reveal(request.user, obj, f, data.validated_data["reason"], request) for f in fields}
        return Response({"values": values}, headers={"Cache-Control": "no-store"})
