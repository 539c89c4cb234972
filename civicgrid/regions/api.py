"""The regions API: the tree (scoped to jurisdiction), map GeoJSON, point location, address resolution."""

import math

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import DomainError
from civicgrid.core.geo import CRS_WGS84, SUPPORTED_CRS, summarize
from civicgrid.core.serializers import ChoiceLabelField
from civicgrid.regions import selectors
from civicgrid.regions.models import Region

Level = Region.Level
MAX_BATCH_POINTS = 10_000


def _ref(code, level, name) -> dict:
    return {"code": code, "level": level, "level_label": str(Level(level).label), "name": name}


class RegionSerializer(serializers.ModelSerializer):
    level_label = ChoiceLabelField(Region.Level.choices, source="level")
    parent = serializers.CharField(source="parent.code", default=None, read_only=True)
    has_geometry = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["code", "level", "level_label", "name", "parent", "has_geometry", "geometry_is_demo"]

    def get_has_geometry(self, region) -> bool:
        return bool(region.geometry)


class RegionDetailSerializer(RegionSerializer):
    ancestors = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()
    geometry_summary = serializers.SerializerMethodField()

    class Meta(RegionSerializer.Meta):
        fields = [*RegionSerializer.Meta.fields, "ancestors", "children", "geometry_summary", "geometry"]

    def get_ancestors(self, region) -> list[dict]:
        return [_ref(r.code, r.level, r.name) for r in selectors.ancestors_of(region)]

    def get_children(self, region) -> int:
        return self.context["children"]

    def get_geometry_summary(self, region) -> dict | None:
        summary = summarize(region.geometry)
        return summary.__dict__ if summary else None


class RegionFilterSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    parent = serializers.RegexField(r"^\d{12}$", required=False, error_messages={
        "invalid": gettext_lazy("A parent code is 12 digits.")})


class RegionList(generics.ListAPIView):
    """Regions in the caller's jurisdiction; ``?level=`` and ``?parent=<code>`` filter."""

    serializer_class = RegionSerializer
    filter_backends: list = []

    @extend_schema(parameters=[
        OpenApiParameter("level", str, enum=Level.values), OpenApiParameter("parent", str),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = RegionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.regions_for_user(self.request.user, **filters.validated_data)


class RegionDetail(APIView):
    @extend_schema(responses=RegionDetailSerializer)
    def get(self, request, code):
        region = selectors.region_for_user(request.user, code)
        children = selectors.children_for_user(request.user, code).count()
        return Response(RegionDetailSerializer(region, context={"children": children}).data)


class ChildrenGeoJSON(APIView):
    """The region's children as a GeoJSON FeatureCollection (for maps)."""

    @extend_schema(responses={(200, "application/geo+json"): OpenApiTypes.OBJECT})
    def get(self, request, code):
        collection = selectors.children_geojson_for_user(request.user, code)
        return JsonResponse(collection, content_type="application/geo+json",
                            json_dumps_params={"ensure_ascii": False})


# --- locate ---------------------------------------------------------------------------------------


class FiniteFloatField(serializers.FloatField):
    default_error_messages = {"not_finite": gettext_lazy("A finite number is required.")}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


class PointSerializer(serializers.Serializer):
    lon = FiniteFloatField(min_value=-180, max_value=180, help_text=gettext_lazy("longitude"))
    lat = FiniteFloatField(min_value=-90, max_value=90, help_text=gettext_lazy("latitude"))


class LocateQuerySerializer(PointSerializer):
    crs = serializers.ChoiceField(choices=SUPPORTED_CRS, default=CRS_WGS84)


class LocateBatchSerializer(serializers.Serializer):
    points = serializers.ListField(child=serializers.JSONField(), allow_empty=False, max_length=MAX_BATCH_POINTS)
    crs = serializers.ChoiceField(choices=SUPPORTED_CRS, default=CRS_WGS84)

    def validate_points(self, points):
        # Validated by hand rather than with one nested serializer per point: a batch of 10,000
        # points must not spend its time in serializer machinery. Errors keep per-point paths.
        lons, lats, errors = [], [], {}
        field = PointSerializer()
        for i, point in enumerate(points):
            if isinstance(point, list | tuple) and len(point) == 2:
                point = {"lon": point[0], "lat": point[1]}
            if not isinstance(point, dict):
                errors[i] = {"non_field_errors": [serializers.ErrorDetail(
                    _("A point is {\"lon\": …, \"lat\": …} or [lon, lat]."), code="invalid")]}
                continue
            point_errors = {}
            values = {}
            for name in ("lon", "lat"):
                try:
                    values[name] = field.fields[name].run_validation(point.get(name, serializers.empty))
                except serializers.ValidationError as exc:
                    point_errors[name] = exc.detail
            if point_errors:
                errors[i] = point_errors
            else:
                lons.append(values["lon"])
                lats.append(values["lat"])
        if errors:
            raise serializers.ValidationError(errors)
        return {"lons": lons, "lats": lats}


def _location_body(location, crs: str, lon: float, lat: float) -> dict:
    return {
        "point": {"lon": lon, "lat": lat, "crs": crs, "wgs84": {"lon": round(location.lon, 8), "lat": round(location.lat, 8)}},
        "matched_level": location.level,
        "matched": _ref(location.code, location.level, location.name),
        "grid": _ref(location.code, location.level, location.name) if location.grid else None,
        "path": [_ref(r.code, r.level, r.name) for r in location.path],
        "is_demo": location.is_demo,
    }


class Locate(APIView):
    """Point → grid (or the finest region with a boundary) and all its ancestors."""

    @extend_schema(parameters=[LocateQuerySerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        query = LocateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lon, lat, crs = (query.validated_data[k] for k in ("lon", "lat", "crs"))
        location = selectors.locate_for_user(request.user, lon, lat, crs)
        if location is None:
            raise DomainError(
                _("No grid or region with a boundary contains the point (%(lon)s, %(lat)s, %(crs)s).")
                % {"lon": lon, "lat": lat, "crs": crs},
                code="not_located", status_code=404,
            )
        return Response(_location_body(location, crs, lon, lat))

    @extend_schema(request=LocateBatchSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        batch = LocateBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        points, crs = batch.validated_data["points"], batch.validated_data["crs"]
        codes = selectors.locate_many_for_user(request.user, points["lons"], points["lats"], crs)
        found = {
            code: (level, name)
            for code, level, name in Region.objects.filter(code__in={c for c in codes if c}).values_list(
                "code", "level", "name")
        }
        results = []
        for lon, lat, code in zip(points["lons"], points["lats"], codes, strict=True):
            if code is None or code not in found:
                results.append({"lon": lon, "lat": lat, "matched": None, "matched_level": None})
            else:
                level, name = found[code]
                results.append({"lon": lon, "lat": lat, "matched_level": level, "matched": _ref(code, level, name)})
        located = sum(1 for r in results if r["matched"])
        return Response({"crs": crs, "count": len(results), "located": located, "results": results})


# --- resolve --------------------------------------------------------------------------------------


class ResolveQuerySerializer(serializers.Serializer):
    address = serializers.CharField(max_length=500, trim_whitespace=True)


class Resolve(APIView):
    """Address text → the deepest region it names, with the code path and a confidence."""

    @extend_schema(parameters=[ResolveQuerySerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        query = ResolveQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        resolution = selectors.resolve_for_user(request.user, query.validated_data["address"])
        if resolution is None:
            raise DomainError(_("The address lies outside your jurisdiction."), code="not_found", status_code=404)
        return Response({
            "address": resolution.text,
            "matched_level": resolution.level,
            "matched": _ref(resolution.code, resolution.level, resolution.name) if resolution.code else None,
            "path": [_ref(r.code, r.level, r.name) for r in resolution.path],
            "remainder": resolution.remainder,
            "confidence": resolution.confidence,
            "candidates": list(resolution.candidates),
            "parsed": resolution.parsed,
        })
