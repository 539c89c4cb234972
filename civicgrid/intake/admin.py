from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.intake import actions
from civicgrid.intake.models import ClientSystem, Open311Request, ServiceAttribute


def _show_key(request, client, key):
    # The key is not stored; this message is the only time anyone sees it.
    messages.warning(request, format_lazy(
        _("API key of {name}: {key} — copy it now, it will not be shown again."), name=client.name, key=key))


@admin.register(ClientSystem)
class ClientSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "region", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "key_prefix", "contact"]
    fields = ["name", "region", "contact", "is_active", "key_prefix", "created_at"]
    readonly_fields = ["key_prefix", "created_at"]
    raw_id_fields = ["region"]
    actions = ["issue_new_key"]

    def save_model(self, request, obj, form, change):
        if change:
            actions.update_client(obj, name=obj.name, region=obj.region, contact=obj.contact,
                                  is_active=obj.is_active)
        else:
            _show_key(request, obj, actions.register_client(obj))

    def has_delete_permission(self, request, obj=None):
        return False  # requests keep pointing at their client; disable it instead

    @admin.action(description=_("Issue a new API key"))
    def issue_new_key(self, request, queryset):
        for client in queryset:
            _show_key(request, client, actions.rotate_key(client))


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
