"""Taxonomy API: categories (public read, since citizens pick them), request types, and the
responsibility matrix's explanation (staff only)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.serializers import ChoiceLabelField
from civicgrid.org.models import DepartmentKind
from civicgrid.taxonomy import selectors
from civicgrid.taxonomy.models import Category, CategoryKind


class CategorySerializer(serializers.ModelSerializer):
    kind_label = ChoiceLabelField(CategoryKind.choices, source="kind")
    keywords = serializers.ListField(source="keyword_list", child=serializers.CharField(), read_only=True)

    class Meta:
        model = Category
        fields = ["kind", "kind_label", "code", "major_code", "major_name", "name", "keywords",
                  "is_public", "auto_dispatch"]


class DurationSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=6, decimal_places=2)
    unit = serializers.CharField()


class StageLimitSerializer(serializers.Serializer):
    normal = DurationSerializer()
    urgent = DurationSerializer()
    source = serializers.ChoiceField(choices=["category", "default"])


class CategoryDetailSerializer(CategorySerializer):
    sla = serializers.SerializerMethodField()

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "description", "sla"]

    def get_sla(self, category) -> dict:
        return {stage: StageLimitSerializer(value).data for stage, value in selectors.sla_table(category).items()}


class CategoryFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    kind = serializers.ChoiceField(choices=CategoryKind.choices, required=False)
    major = serializers.RegexField(r"^\d{2}$", required=False, error_messages={
        "invalid": _("A major class code has two digits.")})
    public = serializers.BooleanField(required=False, allow_null=True, default=None)


@extend_schema(parameters=[
    OpenApiParameter("q", str, description="Text to search in names and keywords"),
    OpenApiParameter("kind", str, enum=CategoryKind.values),
    OpenApiParameter("major", str, description="Major class code (2 digits)"),
    OpenApiParameter("public", bool, description="Only categories open (true) or closed (false) to citizens"),
])
class CategoryListView(generics.ListAPIView):
    """Active categories; anonymous callers see only those open to citizens."""

    permission_classes = [AllowAny]
    serializer_class = CategorySerializer
    filter_backends: list = []

    def get_queryset(self):
        params = CategoryFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        queryset = selectors.categories_for(self.request.user)
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("major"):
            queryset = queryset.filter(major_code=data["major"])
        if data.get("public") is not None:
            queryset = queryset.filter(is_public=data["public"])
        if data.get("q"):
            return selectors.category_search(data["q"], queryset)
        return queryset.order_by("kind", "code")


class CategoryDetailView(generics.RetrieveAPIView):
    """One category with its time limits (SLA) per stage."""

    permission_classes = [AllowAny]
    serializer_class = CategoryDetailSerializer

    def get_object(self):
        return selectors.category_detail(self.request.user, self.kwargs["kind"], self.kwargs["code"])


class ExplainQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CategoryKind.choices)
    code = serializers.RegexField(r"^\d{5}$", error_messages={"invalid": _("A category code has five digits.")})
    region = serializers.RegexField(r"^\d{1,15}$", error_messages={
        "invalid": _("A region code has up to 15 digits.")})

    def validate(self, data):
        category = Category.objects.filter(kind=data["kind"], code=data["code"]).first()
        if category is None:
            raise serializers.ValidationError(
                {"code": serializers.ErrorDetail(str(_("No category of this kind has this code.")),
                                                 code="not_found")})
        data["category"] = category
        return data


class ConsideredSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    description = serializers.CharField()
    outcome = serializers.CharField()
    reason = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    category = CategorySerializer()
    region_code = serializers.CharField()
    rule = serializers.IntegerField(allow_null=True)
    lead_kind = serializers.ChoiceField(choices=DepartmentKind.choices, allow_null=True)
    assisting_kinds = serializers.ListField(child=serializers.ChoiceField(choices=DepartmentKind.choices))
    ambiguous = serializers.BooleanField()
    tied_rules = serializers.ListField(child=serializers.IntegerField())
    matched = serializers.ListField(child=serializers.CharField())
    summary = serializers.CharField()
    considered = ConsideredSerializer(many=True)


class ExplainView(APIView):
    """Which department kinds lead and assist for a category at a region, and why."""

    @extend_schema(parameters=[ExplainQuerySerializer], responses=ExplanationSerializer)
    def get(self, request):
        query = ExplainQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        category = query.validated_data["category"]
        body = selectors.explain(category, query.validated_data["region"]).as_dict()
        body["category"] = CategorySerializer(category).data
        return Response(body)


class RequestTypeSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class RequestTypeListView(APIView):
    """The 12345 request types (咨询/求助/投诉/举报/建议 and 上报)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=RequestTypeSerializer(many=True))
    def get(self, request):
        return Response([{"value": value, "label": label} for value, label in selectors.request_types()])

