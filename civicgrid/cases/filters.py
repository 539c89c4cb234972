"""Query filters of the case list (applied to the already scoped queryset of ``cases_for``)."""

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case, Channel, SlaStatus, Urgency
from civicgrid.cases.workflow import State
from civicgrid.core.fields import blind_lookup
from civicgrid.org.selectors import region_filter_prefix
from civicgrid.taxonomy.models import CategoryKind

_DIGITS = RegexValidator(r"^\d{1,15}$", _("A region code or prefix has 1 to 15 digits."), code="invalid")


class CaseFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=State.choices, label=_("state (repeatable)"))
    sla_status = django_filters.MultipleChoiceFilter(choices=SlaStatus.choices, label=_("SLA status (repeatable)"))
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, label=_("channel (repeatable)"))
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, label=_("urgency"))
    category = django_filters.NumberFilter(field_name="category_id", label=_("category id"))
    category_kind = django_filters.ChoiceFilter(
        field_name="category__kind", choices=CategoryKind.choices, label=_("category kind"),
    )
    category_code = django_filters.CharFilter(field_name="category__code", label=_("category code"))
    region = django_filters.CharFilter(
        method="filter_region", validators=[_DIGITS],
        label=_("region code or code prefix: everything inside that region"),
    )
    reported_from = django_filters.IsoDateTimeFilter(
        field_name="reported_at", lookup_expr="gte", label=_("reported at or after (ISO 8601)"),
    )
    reported_to = django_filters.IsoDateTimeFilter(
        field_name="reported_at", lookup_expr="lt", label=_("reported before (ISO 8601)"),
    )
    q = django_filters.CharFilter(method="filter_text", label=_("text in the number, title or description"))
    reporter_phone = django_filters.CharFilter(
        method="filter_reporter_phone", label=_("reporter phone, exact (searched by its keyed hash)"),
    )

    class Meta:
        model = Case
        fields = [
            "state", "sla_status", "channel", "urgency", "category", "category_kind", "category_code",
            "region", "reported_from", "reported_to", "q", "reporter_phone",
        ]

    def filter_region(self, queryset, name, value):
        return queryset.filter(region_code__startswith=region_filter_prefix(value)) if value else queryset

    def filter_reporter_phone(self, queryset, name, value):
        # Never a plaintext comparison: the phone column is encrypted (docs/personal-data.md).
        return queryset.filter(**blind_lookup(Case, "reporter_phone", value)) if value.strip() else queryset

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(title__icontains=value) | Q(description__icontains=value)
        )
