"""``POST /api/v1/duplicates/check``: the candidate cases a would-be report would be merged
into or shown beside, with scores and reasons. Creates nothing."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.cases.serializers import CategoryRefMixin, ErrorSerializer, PlaceMixin
from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.dedup import selectors, services


class CheckSerializer(CategoryRefMixin, PlaceMixin):
    """A would-be report: words, category (``category_id`` or ``category_kind`` +
    ``category_code``), a point (``lon``/``lat``, WGS-84 unless ``crs`` is ``gcj02``) or an
    address, and the report time (default now)."""

    text = serializers.CharField(max_length=5000)
    reported_at = serializers.DateTimeField(required=False)

    def validate(self, data):
        data["category"] = self._category(data)
        data["region_code"] = None
        self._place(data)
        return data


class ReasonsSerializer(serializers.Serializer):
    distance_m = serializers.FloatField(allow_null=True, help_text="Metres between the points (null: no point).")
    radius_m = serializers.FloatField(help_text="The search radius of the category.")
    same_region = serializers.BooleanField(help_text="Both lie in the same finest region (grid).")
    minutes_apart = serializers.IntegerField(help_text="Candidate's report time minus this one's, in minutes.")
    window_hours = serializers.FloatField(help_text="The search window of the category.")
    category = serializers.ChoiceField(choices=["same", "related", "unknown"])
    text_similarity = serializers.FloatField(help_text="0 … 1, character n-grams without place names.")
    same_address = serializers.BooleanField()


class CandidateSerializer(serializers.Serializer):
    number = serializers.CharField(source="case.number")
    title = serializers.CharField(source="case.title")
    state = serializers.CharField(source="case.state")
    channel = serializers.CharField(source="case.channel")
    category = serializers.CharField(source="case.category.name", default=None)
    reported_at = serializers.DateTimeField(source="case.reported_at")
    address = serializers.CharField(source="case.address")
    score = serializers.FloatField()
    reasons = ReasonsSerializer()
    would_merge = serializers.BooleanField(help_text="The report would be merged into this case automatically "
                                                     "(score at or above auto_merge_score, both with a point).")


class CheckResultSerializer(serializers.Serializer):
    auto_merge_score = serializers.FloatField()
    suggest_score = serializers.FloatField()
    candidates = CandidateSerializer(many=True)


class DuplicateCheck(APIView):
    @extend_schema(
        operation_id="duplicates_check",
        summary="Candidate duplicates of a would-be report (查重), creating nothing",
        request=CheckSerializer,
        responses={200: CheckResultSerializer,
                   400: OpenApiResponse(ErrorSerializer, description="Invalid input: `fields` lists each "
                                                                     "field's errors with a code."),
                   404: OpenApiResponse(ErrorSerializer, description="The place lies outside the caller's "
                                                                     "jurisdiction.")},
    )
    def post(self, request):
        serializer = CheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not code_in_jurisdiction(request.user, data["region_code"]):
            raise Http404
        category = data["category"]
        rows = selectors.check(
            request.user, text=data["text"], category_id=category.pk if category else None, lon=data.get("lon"),
            lat=data.get("lat"), at=data.get("reported_at") or timezone.now(), address=data["address"],
            region_code=data["region_code"],
        )
        return Response(CheckResultSerializer(
            {"auto_merge_score": services.auto_merge_score(), "suggest_score": services.suggest_score(),
             "candidates": rows},
        ).data)
