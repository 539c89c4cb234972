"""Admin for department webhooks and their (read-only) delivery log.

Lists are scoped by the selectors, saves go through ``civicgrid.webhooks.actions``, and access
follows the ``org.manage`` permission, like the departments themselves. A webhook's secret is shown
once, right after it is created or rotated.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civicgrid.core.api import DomainError
from civicgrid.org.permissions import has_permission
from civicgrid.webhooks import actions, selectors
from civicgrid.webhooks.models import DeliveryAttempt, DepartmentWebhook, WebhookDelivery


def _may_manage(request) -> bool:
    return has_permission(request.user, "org.manage")


class EventTypesField(forms.CharField):
    """Event type patterns typed as one comma-separated line."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return actions.validate_event_types(value)
        except ValidationError as exc:
            raise ValidationError(exc.error_dict["event_types"]) from exc


class WebhookForm(forms.ModelForm):
    event_types = EventTypesField(
        label=_("event types"), initial="*",
        help_text=_('Comma-separated, e.g. "case.dispatched, case.returned"; "case.*" for every case '
                    'event, "*" for all events.'),
    )
    actor = None

    class Meta:
        model = DepartmentWebhook
        fields = ["department", "url", "event_types", "is_active"]

    def _post_clean(self):
        super()._post_clean()
        if "event_types" in self.errors:
            return
        try:
            actions.check_webhook(self.instance, actor=self.actor)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                if field not in self.errors:
                    self.add_error(field if field in self.fields else None, errors)
        except DomainError as exc:
            self.add_error(None, str(exc.detail))


def _show_secret(modeladmin, request, webhook, secret) -> None:
    modeladmin.message_user(request, format_html(
        "{} <code>{}</code><br>{}",
        _("Signing secret of %(webhook)s:") % {"webhook": webhook},
        secret,
        _("Copy it into the department's system now: it will not be shown again."),
    ), messages.WARNING)


@admin.register(DepartmentWebhook)
class DepartmentWebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["department", "url", "event_types_display", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["department__name", "department__code", "url"]
    autocomplete_fields = ["department"]
    readonly_fields = ["created_at"]
    list_select_related = ["department"]
    actions = ["rotate_secrets"]

    def has_module_permission(self, request):
        return _may_manage(request)

    def has_view_permission(self, request, obj=None):
        return _may_manage(request)

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: _may_manage(request)
    )

    def get_queryset(self, request):
        return selectors.webhooks_for(request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    @admin.display(description=_("event types"))
    def event_types_display(self, obj):
        return ", ".join(obj.event_types or [])

    def save_model(self, request, obj, form, change):
        actions.save_webhook(obj, actor=request.user)
        if not change:
            _show_secret(self, request, obj, obj.secret)

    def delete_model(self, request, obj):
        actions.delete_webhook(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for webhook in queryset:
            actions.delete_webhook(webhook, actor=request.user)

    @admin.action(description=_("Generate a new signing secret"), permissions=["change"])
    def rotate_secrets(self, request, queryset):
        for webhook in queryset:
            _show_secret(self, request, webhook, actions.rotate_secret(webhook, actor=request.user))


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return _may_manage(request)

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: False
    )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, with "retry now"."""

    list_display = [
        "created_at", "department", "event_type", "state", "attempts", "last_status_code",
        "next_attempt_at", "delivered_at",
    ]
    list_filter = ["state", "event_type", ("webhook__department", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=event_id", "event_type", "webhook__department__name", "webhook__url"]
    fields = [
        "webhook", "event_id", "event_type", "state", "attempts", "next_attempt_at", "last_status_code",
        "last_error", "created_at", "delivered_at", "payload_json",
    ]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["retry_now"]
    date_hierarchy = "created_at"

    def has_module_permission(self, request):
        return _may_manage(request)

    def has_view_permission(self, request, obj=None):
        return _may_manage(request)

    def has_retry_permission(self, request):
        return _may_manage(request)

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: False
    )

    def get_queryset(self, request):
        return selectors.deliveries_for(request.user)

    @admin.display(description=_("department"), ordering="webhook__department__name")
    def department(self, obj):
        return obj.webhook.department

    @admin.display(description=_("payload"))
    def payload_json(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, ensure_ascii=False, indent=2))

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        count = actions.retry_deliveries(list(queryset), actor=request.user)
        self.message_user(request, ngettext(
            "%(count)d delivery scheduled to be sent again.",
            "%(count)d deliveries scheduled to be sent again.", count) % {"count": count},
            messages.SUCCESS)
