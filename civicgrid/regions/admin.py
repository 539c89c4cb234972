"""Region admin: browse and search the tree. Read-only: regions change only through the import
actions (import_divisions, import_grids, import_boundaries), which validate whole files and refresh
the locator."""

from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civicgrid.core.geo import summarize
from civicgrid.regions.models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "has_geometry", "geometry_is_demo"]
    list_filter = ["level", "geometry_is_demo"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]
    fields = ["code", "name", "level", "parent", "geometry_summary", "geometry_is_demo", "updated_at"]
    readonly_fields = fields
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # A code search is a prefix match, so "350211" finds the district and everything inside it.
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("geometry").annotate(
            _has_geometry=ExpressionWrapper(Q(geometry__isnull=False), output_field=BooleanField()))

    @admin.display(description=_("boundary"), boolean=True, ordering="_has_geometry")
    def has_geometry(self, region):
        return region._has_geometry

    @admin.display(description=_("boundary (summary)"))
    def geometry_summary(self, region):
        summary = summarize(Region.objects.values_list("geometry", flat=True).get(pk=region.pk))
        if summary is None:
            return _("none")
        return format_html(
            "{}: {} {}, {} {}, {} km²<br>{}: {}<br>{}: {}",
            summary.kind, summary.polygons, _("polygon(s)"), summary.vertices, _("vertices"),
            summary.area_km2, _("bounds"), ", ".join(f"{v:.6f}" for v in summary.bounds),
            _("centroid"), f"{summary.centroid[0]:.6f}, {summary.centroid[1]:.6f}",
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
