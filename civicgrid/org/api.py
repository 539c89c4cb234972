"""The org API: the current user, departments and command centres, all scoped to jurisdiction."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.serializers import ChoiceLabelField
from civicgrid.org import selectors
from civicgrid.org.models import CentreLevel, CommandCentre, Department, DepartmentKind, Role, User
from civicgrid.org.permissions import ACTIONS, HasAction
from civicgrid.regions.models import Region


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level"]


class DepartmentSerializer(serializers.ModelSerializer):
    kind_label = ChoiceLabelField(DepartmentKind.choices, source="kind")
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind", "kind_label", "region", "phone", "is_active"]


class DepartmentRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind"]


class CentreSerializer(serializers.ModelSerializer):
    level_label = ChoiceLabelField(CentreLevel.choices, source="level")
    region = RegionRefSerializer(read_only=True)

    class Meta:
        model = CommandCentre
        fields = ["id", "name", "level", "level_label", "region"]


class CentreRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommandCentre
        fields = ["id", "name", "level"]


class StaffSerializer(serializers.ModelSerializer):
    role_label = ChoiceLabelField(Role.choices, source="role")
    department = DepartmentRefSerializer(read_only=True)
    centre = CentreRefSerializer(read_only=True)
    jurisdiction = RegionRefSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "role", "role_label", "department",
                  "centre", "jurisdiction", "phone", "is_active"]


class ActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    is_superuser = serializers.BooleanField(source="user.is_superuser")
    role = serializers.CharField(source="user.role")
    role_label = ChoiceLabelField(Role.choices, source="user.role")
    department = DepartmentRefSerializer(source="user.department", allow_null=True)
    centre = CentreRefSerializer(source="user.centre", allow_null=True)
    jurisdiction = RegionRefSerializer(allow_null=True)
    platform_wide = serializers.BooleanField()
    grid_codes = serializers.ListField(child=serializers.CharField())
    allowed_actions = serializers.SerializerMethodField()

    def get_allowed_actions(self, profile) -> list[dict]:
        return [{"name": a, "label": str(ACTIONS[a])} for a in profile["allowed_actions"]]


class MeView(APIView):
    """The logged-in person: role, placement, jurisdiction, grids and allowed actions."""

    serializer_class = MeSerializer

    def get(self, request):
        return Response(MeSerializer(selectors.profile_of(request.user)).data)


class RegionPrefixFilter(django_filters.CharFilter):
    """``?region=350211`` or ``?region=350211000000``: everything in that region's subtree."""

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__startswith": selectors.region_filter_prefix(value)})


class DepartmentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DepartmentKind.choices)
    region = RegionPrefixFilter(field_name="region__code", label=_("region code or code prefix"))
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Department
        fields = ["kind", "region", "is_active"]


class DepartmentList(generics.ListAPIView):
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter

    def get_queryset(self):
        return selectors.departments_for(self.request.user)


class DepartmentDetail(generics.RetrieveAPIView):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.none()  # for the schema; reads go through the selector

    def get_object(self):
        return selectors.department_detail(self.request.user, self.kwargs["pk"])


class CentreFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=CentreLevel.choices)
    region = RegionPrefixFilter(field_name="region__code", label=_("region code or code prefix"))

    class Meta:
        model = CommandCentre
        fields = ["level", "region"]


class CentreList(generics.ListAPIView):
    serializer_class = CentreSerializer
    filterset_class = CentreFilter

    def get_queryset(self):
        return selectors.centres_for(self.request.user)


class StaffList(generics.ListAPIView):
    """Staff in the caller's jurisdiction (administrators: ``org.manage``)."""

    serializer_class = StaffSerializer
    permission_classes = [HasAction("org.manage")]

    def get_queryset(self):
        return selectors.staff_for(self.request.user)
