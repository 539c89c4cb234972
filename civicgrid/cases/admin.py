"""Cases in the admin are read-only: every change goes through ``civicgrid.cases.actions``."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseRating,
    CaseRequest,
    Notification,
    Supervision,
)
from civicgrid.core.fields import masked_value


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentInline(ReadOnlyMixin, admin.TabularInline):
    model = Assignment
    extra = 0
    fields = ["department", "role", "state", "sign_deadline", "handle_deadline", "sla_status",
              "supervision_level", "signed_at", "reported_at", "return_reason"]
    readonly_fields = fields


class CaseEventInline(ReadOnlyMixin, admin.TabularInline):
    model = CaseEvent
    extra = 0
    fields = ["at", "actor", "action", "from_state", "to_state", "note"]
    readonly_fields = fields
    ordering = ["at", "pk"]


@admin.register(Case)
class CaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["number", "title", "state", "category", "region_code", "owner_centre", "sla_status",
                    "supervision_level", "reported_at"]
    list_filter = ["state", "channel", "request_type", "urgency", "sla_status", "supervision_level"]
    search_fields = ["number", "title", "external_id", "region_code", "address"]
    date_hierarchy = "reported_at"
    list_select_related = ["category", "owner_centre"]
    inlines = [AssignmentInline, CaseEventInline]
    # Personal data stays masked here too; unmasking is a logged action (docs/personal-data.md).
    exclude = ["reporter_name", "reporter_phone", "reporter_phone_hash"]
    readonly_fields = ["reporter_masked"]

    @admin.display(description=_("reporter"))
    def reporter_masked(self, case):
        return " · ".join(v for v in (masked_value(case, "reporter_name"), masked_value(case, "reporter_phone")) if v)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["case", "department", "role", "state", "handle_deadline"]
    list_filter = ["role", "state"]
    search_fields = ["case__number", "department__name"]
    list_select_related = ["case", "department"]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["case", "at", "actor", "action", "from_state", "to_state"]
    list_filter = ["action"]
    search_fields = ["case__number", "note"]
    list_select_related = ["case", "actor"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["recipient", "case", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "case"]


@admin.register(CaseRequest)
class CaseRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["case", "kind", "state", "amount", "unit", "requested_by", "requested_at", "decided_at"]
    list_filter = ["kind", "state"]
    search_fields = ["case__number", "reason"]
    list_select_related = ["case", "requested_by"]


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["case", "level", "department", "centre", "automatic", "deadline", "issued_at"]
    list_filter = ["level", "automatic"]
    search_fields = ["case__number", "note"]
    list_select_related = ["case", "department", "centre"]


@admin.register(CaseRating)
class CaseRatingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # The token hash stays out of sight: it is not secret by itself, but nobody needs it.
    list_display = ["case", "rating", "issued_at", "rated_at"]
    list_filter = ["rating"]
    search_fields = ["case__number"]
    fields = ["case", "rating", "comment", "issued_at", "rated_at"]
    list_select_related = ["case"]
