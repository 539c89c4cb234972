from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.intake import actions, feedback
from civicgrid.intake.models import (
    Alarm,
    AlarmIncident,
    AlarmRule,
    Callback,
    CallbackAttempt,
    ClientSystem,
    ExternalRecord,
    Open311Request,
    ServiceAttribute,
)


def _show_key(request, client, key):
    # The key is not stored; this message is the only time anyone sees it.
    messages.warning(request, format_lazy(
        _("API key of {name}: {key} — copy it now, it will not be shown again."), name=client.name, key=key))


def _show_secret(request, client, secret):
    messages.warning(request, format_lazy(
        _("Callback signing secret of {name}: {secret} — copy it now, it will not be shown again."),
        name=client.name, secret=secret))


class ClientSystemForm(forms.ModelForm):
    class Meta:
        model = ClientSystem
        fields = ["name", "region", "contact", "is_active", "callback_url"]

    def clean(self):
        data = super().clean()
        probe = ClientSystem(callback_url=data.get("callback_url") or "", callback_secret="x")
        try:
            actions.check_callback(probe)
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(ClientSystem)
class ClientSystemAdmin(admin.ModelAdmin):
    form = ClientSystemForm
    list_display = ["name", "key_prefix", "region", "callback_url", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix", "contact"]
    fields = ["name", "region", "contact", "is_active", "callback_url", "key_prefix", "created_at"]
    readonly_fields = ["key_prefix", "created_at"]
    raw_id_fields = ["region"]
    actions = ["issue_new_key", "issue_new_callback_secret"]

    def save_model(self, request, obj, form, change):
        if change:
            had_secret = bool(ClientSystem.objects.filter(pk=obj.pk).values_list("callback_secret", flat=True).first())
            saved = actions.update_client(obj, name=obj.name, region=obj.region, contact=obj.contact,
                                          is_active=obj.is_active, callback_url=obj.callback_url)
            if saved.callback_secret and not had_secret:
                _show_secret(request, saved, saved.callback_secret)
        else:
            _show_key(request, obj, actions.register_client(obj))
            if obj.callback_secret:
                _show_secret(request, obj, obj.callback_secret)

    def has_delete_permission(self, request, obj=None):
        return False  # requests keep pointing at their client; disable it instead

    @admin.action(description=_("Issue a new API key"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            _show_key(request, client, actions.rotate_key(client))

    @admin.action(description=_("Issue a new callback signing secret"))
    def issue_new_callback_secret(self, request, queryset):
        for client in queryset:
            _show_secret(request, client, actions.rotate_callback_secret(client))


class ServiceAttributeForm(forms.ModelForm):
    class Meta:
        model = ServiceAttribute
        fields = ["category", "code", "variable", "datatype", "required", "datatype_description", "order",
                  "description", "values"]

    def clean(self):
        data = super().clean()
        try:
            actions.check_attribute_values(data.get("datatype", ""), data.get("values"))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    form = ServiceAttributeForm
    list_display = ["category", "code", "datatype", "required", "order"]
    list_filter = ["datatype", "category__kind"]
    search_fields = ["code", "description", "category__name", "category__code"]
    raw_id_fields = ["category"]

    def save_model(self, request, obj, form, change):
        actions.save_service_attribute(obj)

    def delete_model(self, request, obj):
        actions.delete_service_attribute(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            actions.delete_service_attribute(obj)


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ["case", "client", "token", "created_at"]
    list_filter = ["client"]
    search_fields = ["case__number", "token"]
    readonly_fields = [f.name for f in Open311Request._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExternalRecord)
class ExternalRecordAdmin(_ReadOnly):
    list_display = ["channel", "external_id", "case", "client", "received_at"]
    list_filter = ["channel", "client"]
    search_fields = ["external_id", "case__number"]
    readonly_fields = [f.name for f in ExternalRecord._meta.fields]


class CallbackAttemptInline(admin.TabularInline):
    model = CallbackAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Callback)
class CallbackAdmin(_ReadOnly):
    """The callback log (回传记录): every message to a client system with every attempt."""

    list_display = ["created_at", "kind", "record", "client", "state", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at"]
    list_filter = ["state", "kind", "client"]
    search_fields = ["record__external_id", "record__case__number", "event_id"]
    readonly_fields = [f.name for f in Callback._meta.fields]
    inlines = [CallbackAttemptInline]
    actions = ["retry_now"]

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        count = feedback.retry_now(list(queryset))
        messages.info(request, format_lazy(_("{count} callbacks scheduled."), count=count))


class AlarmRuleForm(forms.ModelForm):
    class Meta:
        model = AlarmRule
        fields = ["alarm_type", "name", "category", "urgency", "title_template", "unit", "repeat_window_minutes",
                  "require_exceeding", "is_active"]

    def clean(self):
        data = super().clean()
        try:
            actions.check_alarm_rule(AlarmRule(title_template=data.get("title_template") or ""))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    form = AlarmRuleForm
    list_display = ["alarm_type", "name", "category", "urgency", "repeat_window_minutes", "require_exceeding",
                    "is_active"]
    list_filter = ["is_active", "urgency"]
    search_fields = ["alarm_type", "name"]
    raw_id_fields = ["category"]

    def save_model(self, request, obj, form, change):
        actions.save_alarm_rule(obj)

    def has_delete_permission(self, request, obj=None):
        return False  # incidents keep pointing at their rule; deactivate it instead


class AlarmInline(admin.TabularInline):
    model = Alarm
    extra = 0
    can_delete = False
    fields = ["at", "alarm_id", "value", "threshold", "received_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AlarmIncident)
class AlarmIncidentAdmin(_ReadOnly):
    list_display = ["device_id", "rule", "case", "alarm_count", "first_at", "last_at", "max_value"]
    list_filter = ["rule"]
    search_fields = ["device_id", "case__number"]
    readonly_fields = [f.name for f in AlarmIncident._meta.fields]
    inlines = [AlarmInline]
