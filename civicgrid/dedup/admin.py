from django.contrib import admin

from civicgrid.dedup import services
from civicgrid.dedup.models import DedupRule, DuplicateCandidate


@admin.register(DedupRule)
class DedupRuleAdmin(admin.ModelAdmin):
    """Per-category radius, window and related categories of the duplicate search (查重规则);
    categories without a rule use the CIVICGRID_DEDUP_* settings."""

    list_display = ["category", "radius_m", "window_hours", "updated_at"]
    search_fields = ["category__name", "category__code"]
    autocomplete_fields = ["category"]
    filter_horizontal = ["related"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.forget_rules()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.forget_rules()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.forget_rules()


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    """Possible duplicates found at intake and what was decided (read-only: decisions are made in
    the console)."""

    list_display = ["case", "candidate", "score", "decision", "decided_by", "decided_at", "created_at"]
    list_filter = ["decision"]
    search_fields = ["case__number", "candidate__number"]
    readonly_fields = [f.name for f in DuplicateCandidate._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
