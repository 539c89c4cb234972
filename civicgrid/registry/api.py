"""The registry API (``/api/v1/registry/``): shapes only; rules live in actions, scope in selectors.

Personal data is always answered masked (张*, 350203********1234, 139****1234); the clear value
of one field comes from ``…/reveal`` (permission, reason, logged, that answer only). Records
outside the caller's scope are 404 on every endpoint.
"""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import DomainError
from civicgrid.core.fields import masked_value
from civicgrid.core.serializers import ChoiceLabelField
from civicgrid.regions.models import Region
from civicgrid.registry import actions, excel, selectors
from civicgrid.registry.models import (
    Address,
    CareTag,
    ChangeRecord,
    House,
    Household,
    HouseUse,
    IdType,
    ItemKind,
    Organisation,
    ResidenceType,
    Resident,
    Visit,
    VisitItem,
)


def _region(code: str, level: str) -> Region:
    region = Region.objects.filter(code=code, level=level).first()
    if region is None:
        raise serializers.ValidationError({level: [_("Unknown region code.")]})
    return region


# --- output shapes --------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class Masked(serializers.Field):
    """An encrypted field, answered masked."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def bind(self, field_name, parent):
        self.model_field = field_name
        super().bind(field_name, parent)

    def to_representation(self, obj):
        return masked_value(obj, self.model_field)


class AddressSerializer(serializers.ModelSerializer):
    community = serializers.CharField(source="community.code", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    grid = serializers.CharField(source="grid.code", read_only=True)
    text = serializers.CharField(read_only=True)

    class Meta:
        model = Address
        fields = ["id", "community", "community_name", "grid", "road", "number", "building", "unit", "room",
                  "text", "lon", "lat"]


class CareTagSerializer(serializers.ModelSerializer):
    class Meta:
        model = CareTag
        fields = ["code", "name", "services", "provider_kind", "visit_every_days"]


class HouseSerializer(serializers.ModelSerializer):
    address = AddressSerializer(read_only=True)
    use_label = ChoiceLabelField(HouseUse.choices, source="use")
    occupants = serializers.SerializerMethodField()

    class Meta:
        model = House
        fields = ["id", "address", "use", "use_label", "is_rented", "owner", "occupants"]

    def get_occupants(self, house) -> int:
        return house.occupants.count()


class ResidentSerializer(serializers.ModelSerializer):
    name = Masked()
    id_number = Masked()
    phone = Masked()
    residence_type_label = ChoiceLabelField(ResidenceType.choices, source="residence_type")
    house = serializers.IntegerField(source="house_id", read_only=True)
    address = serializers.CharField(source="house.address.text", read_only=True)
    community = serializers.CharField(source="house.address.community.name", read_only=True)
    household = serializers.CharField(source="household.number", allow_null=True, read_only=True)
    household_id = serializers.IntegerField(read_only=True)
    care_tags = serializers.SerializerMethodField()

    class Meta:
        model = Resident
        fields = ["id", "name", "id_type", "id_number", "phone", "residence_type", "residence_type_label", "house",
                  "address", "community", "household", "household_id", "relation", "care_tags", "grid_code",
                  "updated_at"]

    def get_care_tags(self, resident) -> list[dict]:
        return [{"code": t.code, "name": t.name} for t in resident.care_tags.all()]


class OrganisationSerializer(serializers.ModelSerializer):
    contact_name = Masked()
    contact_phone = Masked()
    safety_contact_name = Masked()
    safety_contact_phone = Masked()
    address = AddressSerializer(read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "uscc", "kind", "address", "contact_name", "contact_phone", "safety_contact_name",
                  "safety_contact_phone", "grid_code"]


class ChangeSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True, read_only=True)

    class Meta:
        model = ChangeRecord
        fields = ["id", "entity", "object_id", "kind", "actor", "at", "changes"]


class ItemSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", allow_null=True, read_only=True)

    class Meta:
        model = VisitItem
        fields = ["id", "household", "visit", "kind", "text", "state", "case_number", "created_at"]


class VisitSerializer(serializers.ModelSerializer):
    worker = serializers.CharField(source="worker.username", read_only=True)
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "household", "worker", "started_at", "duration_minutes", "notes", "items"]


class HouseholdSerializer(serializers.ModelSerializer):
    members = ResidentSerializer(many=True, read_only=True)
    address = serializers.CharField(source="house.address.text", read_only=True)

    class Meta:
        model = Household
        fields = ["id", "number", "house", "address", "grid_code", "members"]


# --- input shapes ---------------------------------------------------------------------------------


class AddressInput(serializers.Serializer):
    grid = serializers.CharField(max_length=15)
    road = serializers.CharField(max_length=60)
    number = serializers.CharField(max_length=20)
    building = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    room = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    lon = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)


class HouseInput(serializers.Serializer):
    address = serializers.IntegerField()
    use = serializers.CharField(required=False, default="residential")
    is_rented = serializers.BooleanField(required=False, default=False)


class ResidentInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    id_type = serializers.ChoiceField(choices=IdType.choices, required=False, default=IdType.ID_CARD)
    id_number = serializers.CharField(max_length=32)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    residence_type = serializers.ChoiceField(choices=ResidenceType.choices, required=False,
                                             default=ResidenceType.REGISTERED)
    house = serializers.IntegerField()
    household = serializers.IntegerField(required=False, allow_null=True, default=None)
    relation = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    care_tags = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class OrganisationInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    uscc = serializers.CharField(max_length=30)
    kind = serializers.CharField(required=False, default="company")
    address = serializers.IntegerField()
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")
    safety_contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    safety_contact_phone = serializers.CharField(required=False, allow_blank=True, default="")


class RegistryRevealInput(serializers.Serializer):
    field = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class VisitInput(serializers.Serializer):
    household = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    items = serializers.ListField(child=serializers.DictField(child=serializers.CharField()), required=False,
                                  default=list)


class ItemInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ItemKind.choices)
    text = serializers.CharField()


class ItemCaseInput(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.IntegerField(required=False, allow_null=True, default=None)


def _input(serializer_class, request, partial=False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return {k: v for k, v in serializer.validated_data.items() if not partial or k in request.data}


# --- addresses ------------------------------------------------------------------------------------


class AddressList(generics.ListCreateAPIView):
    """Standard addresses in your scope (``?q=`` road contains); POST creates one."""

    serializer_class = AddressSerializer

    def get_queryset(self):
        qs = selectors.addresses_for(self.request.user)
        if q := self.request.query_params.get("q", "").strip():
            qs = qs.filter(road__contains=q)
        return qs

    @extend_schema(request=AddressInput, responses=AddressSerializer)
    def post(self, request):
        data = _input(AddressInput, request)
        grid = _region(data.pop("grid"), Region.Level.GRID)
        address = actions.create_address(request.user, grid=grid, **data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetail(APIView):
    serializer_class = AddressSerializer

    def get(self, request, pk):
        return Response(AddressSerializer(selectors.address_for(request.user, pk)).data)

    @extend_schema(request=AddressInput, responses=AddressSerializer)
    def patch(self, request, pk):
        address = selectors.address_for(request.user, pk)
        data = _input(AddressInput, request, partial=True)
        data.pop("grid", None)
        return Response(AddressSerializer(actions.update_address(request.user, address, **data)).data)


class AddressParse(APIView):
    """Free text → the standard address it names, or which part did not match."""

    @extend_schema(responses=dict)
    def get(self, request):
        match = selectors.find_address(request.user, request.query_params.get("text", ""))
        return Response({
            "text": match.text, "parts": match.parts, "matched": match.matched, "unmatched": match.unmatched,
            "community": match.community.code if match.community else None,
            "address": AddressSerializer(match.address).data if match.address else None,
        })


# --- houses ---------------------------------------------------------------------------------------


class HouseList(generics.ListCreateAPIView):
    serializer_class = HouseSerializer

    def get_queryset(self):
        return selectors.houses_for(self.request.user)

    @extend_schema(request=HouseInput, responses=HouseSerializer)
    def post(self, request):
        data = _input(HouseInput, request)
        address = selectors.address_for(request.user, data.pop("address"))
        house = actions.create_house(request.user, address=address, **data)
        return Response(HouseSerializer(house).data, status=status.HTTP_201_CREATED)


class HouseDetail(APIView):
    serializer_class = HouseSerializer

    def get(self, request, pk):
        return Response(HouseSerializer(selectors.house_for(request.user, pk)).data)

    @extend_schema(request=HouseInput, responses=HouseSerializer)
    def patch(self, request, pk):
        house = selectors.house_for(request.user, pk)
        data = _input(HouseInput, request, partial=True)
        data.pop("address", None)
        if "owner" in request.data:
            owner = request.data["owner"]
            data["owner"] = selectors.resident_for(request.user, owner) if owner else None
        return Response(HouseSerializer(actions.update_house(request.user, house, **data)).data)


class HouseholdDetail(APIView):
    serializer_class = HouseholdSerializer

    def get(self, request, pk):
        return Response(HouseholdSerializer(selectors.household_for(request.user, pk)).data)


# --- residents ------------------------------------------------------------------------------------


class ResidentList(generics.ListCreateAPIView):
    """Residents in your scope; ``?q=`` an ID number or phone (exact, by blind index), a household
    number, a road or community, or a name."""

    serializer_class = ResidentSerializer

    def get_queryset(self):
        return selectors.search_residents(self.request.user, self.request.query_params.get("q", ""))

    @extend_schema(request=ResidentInput, responses=ResidentSerializer)
    def post(self, request):
        data = _input(ResidentInput, request)
        data["house"] = selectors.house_for(request.user, data["house"])
        if data["household"] is not None:
            data["household"] = selectors.household_for(request.user, data["household"])
        resident = actions.create_resident(request.user, **data)
        return Response(ResidentSerializer(resident).data, status=status.HTTP_201_CREATED)


class ResidentDetail(APIView):
    serializer_class = ResidentSerializer

    def get(self, request, pk):
        return Response(ResidentSerializer(selectors.resident_for(request.user, pk)).data)

    @extend_schema(request=ResidentInput, responses=ResidentSerializer)
    def patch(self, request, pk):
        resident = selectors.resident_for(request.user, pk)
        data = _input(ResidentInput, request, partial=True)
        if "house" in data:
            data["house"] = selectors.house_for(request.user, data["house"])
        if "household" in data:
            data["household"] = (selectors.household_for(request.user, data["household"])
                                 if data["household"] else None)
        return Response(ResidentSerializer(actions.update_resident(request.user, resident, **data)).data)

    @extend_schema(request=ReasonInput, responses=None)
    def delete(self, request, pk):
        resident = selectors.resident_for(request.user, pk)
        actions.remove_resident(request.user, resident, _input(ReasonInput, request)["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _reveal(request, obj) -> Response:
    from civicgrid.audit.actions import reveal

    data = _input(RegistryRevealInput, request)
    value = reveal(request.user, obj, data["field"], data["reason"], request)
    return Response({"field": data["field"], "value": value})


class ResidentReveal(APIView):
    """The clear value of one personal field (name, id_number, phone), for this answer only:
    needs the unmask permission and a reason, and is logged."""

    @extend_schema(request=RegistryRevealInput, responses=dict)
    def post(self, request, pk):
        return _reveal(request, selectors.resident_for(request.user, pk))


class ResidentHistory(generics.ListAPIView):
    """Who changed what and when (personal values masked)."""

    serializer_class = ChangeSerializer
    queryset = ChangeRecord.objects.none()  # for the schema; reads go through the selector

    def get_queryset(self):
        resident = selectors.resident_for(self.request.user, self.kwargs["pk"])
        return selectors.history_of(self.request.user, "resident", resident)


class ResidentImport(APIView):
    """Upload an .xlsx (multipart field ``file``): 200 with the counts, or 422 with every bad row
    (row, column, code, message) and nothing loaded."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}}, responses=dict)
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": [_("Choose an Excel file.")]})
        try:
            report = excel.import_residents(request.user, upload, file_name=upload.name)
        except excel.ImportRejected as rejected:
            return Response({"error": {"code": "import_rejected", "message": str(_(
                "Nothing was imported: correct the rows listed and upload the file again.")),
                "fields": {}}, "report": rejected.report.as_dict()}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        return Response(report.as_dict())


class ResidentExport(APIView):
    """An .xlsx of the residents in your scope with clear personal data (the import's columns):
    needs the export permission and a reason; logged in the access log."""

    @extend_schema(request=ReasonInput, responses={(200, "application/vnd.openxmlformats-officedocument."
                                                          "spreadsheetml.sheet"): bytes})
    def post(self, request):
        reason = _input(ReasonInput, request)["reason"]
        residents = selectors.residents_for(request.user)
        data = excel.export_residents(request.user, residents, reason=reason, request=request)
        response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="residents-{timezone.localdate():%Y%m%d}.xlsx"'
        return response


# --- organisations --------------------------------------------------------------------------------


class OrganisationList(generics.ListCreateAPIView):
    serializer_class = OrganisationSerializer

    def get_queryset(self):
        return selectors.organisations_for(self.request.user)

    @extend_schema(request=OrganisationInput, responses=OrganisationSerializer)
    def post(self, request):
        data = _input(OrganisationInput, request)
        address = selectors.address_for(request.user, data.pop("address"))
        org = actions.create_organisation(request.user, address=address, **data)
        return Response(OrganisationSerializer(org).data, status=status.HTTP_201_CREATED)


class OrganisationDetail(APIView):
    serializer_class = OrganisationSerializer

    def get(self, request, pk):
        return Response(OrganisationSerializer(selectors.organisation_for(request.user, pk)).data)

    @extend_schema(request=OrganisationInput, responses=OrganisationSerializer)
    def patch(self, request, pk):
        org = selectors.organisation_for(request.user, pk)
        data = _input(OrganisationInput, request, partial=True)
        if "address" in data:
            data["address"] = selectors.address_for(request.user, data["address"])
        return Response(OrganisationSerializer(actions.update_organisation(request.user, org, **data)).data)


class OrganisationReveal(APIView):
    @extend_schema(request=RegistryRevealInput, responses=dict)
    def post(self, request, pk):
        return _reveal(request, selectors.organisation_for(request.user, pk))


class CareTagList(generics.ListAPIView):
    serializer_class = CareTagSerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.care_tags()


# --- visits ---------------------------------------------------------------------------------------


class VisitList(generics.ListCreateAPIView):
    """Household visits in your scope (newest first); POST records one with its list items
    (``items: [{"kind": "need", "text": "…"}]``)."""

    serializer_class = VisitSerializer

    def get_queryset(self):
        return selectors.visits_for(self.request.user).prefetch_related("items__case")

    @extend_schema(request=VisitInput, responses=VisitSerializer)
    def post(self, request):
        data = _input(VisitInput, request)
        household = selectors.household_for(request.user, data.pop("household"))
        items = [(i.get("kind", ""), i.get("text", "")) for i in data.pop("items")]
        visit = actions.record_visit(request.user, household=household, items=items, **data)
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class VisitDetail(APIView):
    serializer_class = VisitSerializer

    def get(self, request, pk):
        return Response(VisitSerializer(selectors.visit_for(request.user, pk)).data)


class VisitItems(APIView):
    @extend_schema(request=ItemInput, responses=ItemSerializer)
    def post(self, request, pk):
        visit = selectors.visit_for(request.user, pk)
        item = actions.add_item(request.user, visit, **_input(ItemInput, request))
        return Response(ItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemList(generics.ListAPIView):
    """The needs (``?kind=need``), public-sentiment and resource lists in your scope
    (``?household=``, ``?state=open``)."""

    serializer_class = ItemSerializer

    def get_queryset(self):
        params = self.request.query_params
        household = None
        if params.get("household", "").isdigit():
            household = selectors.household_for(self.request.user, params["household"])
        return selectors.items_for(self.request.user, household=household, kind=params.get("kind", ""),
                                   state=params.get("state", ""))


class ItemToCase(APIView):
    """Turn a need or a problem into a case in one step (grid-patrol channel)."""

    @extend_schema(request=ItemCaseInput, responses=ItemSerializer)
    def post(self, request, pk):
        from civicgrid.taxonomy.selectors import categories_for

        item = selectors.item_for(request.user, pk)
        data = _input(ItemCaseInput, request)
        category = None
        if data["category"]:
            category = categories_for(request.user).filter(pk=data["category"]).first()
            if category is None:
                raise DomainError(_("Unknown category."), code="unknown_category", status_code=400)
        item = actions.item_to_case(request.user, item, category=category, title=data["title"])
        return Response(ItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ItemDone(APIView):
    @extend_schema(request=None, responses=ItemSerializer)
    def post(self, request, pk):
        return Response(ItemSerializer(actions.close_item(request.user, selectors.item_for(request.user, pk))).data)


class VisitHours(APIView):
    """Per grid worker and day: visit minutes against the two-hour norm (``?days=7``)."""

    @extend_schema(responses=dict)
    def get(self, request):
        try:
            days = max(1, min(int(request.query_params.get("days", 7)), 62))
        except ValueError:
            days = 7
        rows = selectors.visit_hours(request.user, days=days)
        return Response([{k: v for k, v in r.items() if k != "worker"} for r in rows])
