"""The access log in the admin: a read-only search page for the security administrator only."""

from django.contrib import admin

from civicgrid.audit.models import AccessLogEntry
from civicgrid.org.permissions import has_permission


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "role", "action", "object_type", "object_label", "fields", "reason", "ip"]
    list_filter = ["action", "at", "object_type", "role"]
    search_fields = ["username", "object_id", "object_label", "reason", "ip"]
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    # Only the security administrator's role grants reading; nobody may add, change or delete —
    # not even a superuser (the model and the database refuse it as well).
    def has_module_permission(self, request):
        return has_permission(request.user, "audit.view")

    def has_view_permission(self, request, obj=None):
        return has_permission(request.user, "audit.view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
