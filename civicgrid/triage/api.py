"""``POST /api/v1/classify``: the best three categories for a text, with the department each
would go to at the given place, and the confidence. Creates nothing."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.taxonomy.models import CategoryKind
from civicgrid.triage import services


class ClassifyRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000, help_text="The report's words (title and/or description).")
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    region_code = serializers.RegexField(r"^\d{6,15}$", required=False, error_messages={
        "invalid": _("A region code has 6 to 15 digits.")})
    k = serializers.IntegerField(required=False, min_value=1, max_value=10, default=3)

    def validate(self, attrs):
        if ("lon" in attrs) != ("lat" in attrs):
            missing = "lat" if "lon" in attrs else "lon"
            raise serializers.ValidationError({missing: serializers.ErrorDetail(
                _("Give both longitude and latitude."), code="required")})
        if "region_code" not in attrs and "lon" in attrs:
            from civicgrid.cases.deadlines import locate_region_code

            code = locate_region_code(attrs["lon"], attrs["lat"])
            if code is None:
                raise serializers.ValidationError({"location": serializers.ErrorDetail(
                    _("No region of the platform contains this point."), code="outside_regions")})
            attrs["region_code"] = code
        elif "region_code" in attrs:
            from civicgrid.regions.models import Region

            if not Region.objects.filter(code=attrs["region_code"]).exists():
                raise serializers.ValidationError({"region_code": serializers.ErrorDetail(
                    _("Unknown region code."), code="unknown_region")})
        return attrs


class PredictedDepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PredictionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CategoryKind.choices)
    code = serializers.CharField()
    name = serializers.CharField()
    major_name = serializers.CharField()
    confidence = serializers.FloatField(help_text="0–1, calibrated on held-out cases.")
    lead_kind = serializers.CharField(help_text="Department kind the responsibility matrix names as lead.")
    department = PredictedDepartmentSerializer(allow_null=True, help_text="The one lead department serving the place.")


class ClassifyResponseSerializer(serializers.Serializer):
    model_version = serializers.IntegerField()
    region_code = serializers.CharField(allow_blank=True)
    predictions = PredictionSerializer(many=True)


class ClassifyView(APIView):
    """智能分拨: which categories a citizen's words most likely describe."""

    @extend_schema(request=ClassifyRequestSerializer, responses=ClassifyResponseSerializer, tags=["classifier"])
    def post(self, request):
        form = ClassifyRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        region_code = data.get("region_code") or ""
        predictions = services.classify(data["text"], region_code=region_code or None, k=data["k"])
        loaded = services.current()
        return Response({
            "model_version": loaded.version if loaded else 0,
            "region_code": region_code,
            "predictions": [{
                "kind": p.kind, "code": p.code, "name": p.name, "major_name": p.major_name,
                "confidence": p.confidence, "lead_kind": p.lead_kind,
                "department": {"id": p.department_id, "name": p.department_name} if p.department_id else None,
            } for p in predictions],
        })


@extend_schema_view(post=extend_schema(exclude=True))
class ClassifySlashView(ClassifyView):
    """The same endpoint with a trailing slash (not listed twice in the schema)."""
