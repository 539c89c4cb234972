"""Care tags are configured in the admin. Residents, houses and organisations are not shown
here: they hold personal data and are edited through the registry's pages and API (masked,
scoped, with history)."""

from django.contrib import admin

from civicgrid.registry.models import CareTag


@admin.register(CareTag)
class CareTagAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "provider_kind", "visit_every_days", "is_active", "order"]
    list_editable = ["is_active", "order"]
    search_fields = ["name", "code", "services"]
