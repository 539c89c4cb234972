from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from civicgrid.triage import actions
from civicgrid.triage.models import CasePrediction, ClassifierModel


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ["version", "source", "trained_at", "examples", "cases", "heldout_examples", "top1", "top3",
                    "is_active", "payload_bytes"]
    list_filter = ["source", "is_active"]
    exclude = ["payload"]
    readonly_fields = [f.name for f in ClassifierModel._meta.fields if f.name != "payload"]
    actions = ["make_active"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Activate the selected version"))
    def make_active(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one version."), messages.ERROR)
            return
        model = actions.activate(queryset.get())
        self.message_user(request, _("Version %(version)s is active.") % {"version": model.version})


@admin.register(CasePrediction)
class CasePredictionAdmin(admin.ModelAdmin):
    list_display = ["case", "version", "applied", "created_at"]
    list_filter = ["applied"]
    raw_id_fields = ["case"]
    readonly_fields = ["case", "version", "top", "threshold", "applied", "created_at"]

    def has_add_permission(self, request):
        return False
