"""Reference data of dispute mediation in the admin: types, the joint-mediation matrix, signal
weights, escalation words and the settings. Disputes themselves change only through actions."""

from django.contrib import admin

from civicgrid.disputes.models import (
    DisputeType,
    EscalationWord,
    JointMediationRule,
    MediationSettings,
    RiskSignalWeight,
)


@admin.register(DisputeType)
class DisputeTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "category_code", "position", "is_active"]
    list_editable = ["position", "is_active"]


@admin.register(JointMediationRule)
class JointMediationRuleAdmin(admin.ModelAdmin):
    list_display = ["dispute_type", "region_prefix", "lead_kind", "assisting_kinds"]
    list_filter = ["dispute_type"]


@admin.register(RiskSignalWeight)
class RiskSignalWeightAdmin(admin.ModelAdmin):
    list_display = ["signal", "weight", "is_active"]
    list_editable = ["weight", "is_active"]


@admin.register(EscalationWord)
class EscalationWordAdmin(admin.ModelAdmin):
    list_display = ["word", "is_active"]
    list_editable = ["is_active"]


@admin.register(MediationSettings)
class MediationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "group_threshold", "resolution_working_days", "confirmation_window_days",
                    "medium_from", "high_from"]

    def has_add_permission(self, request):
        return not MediationSettings.objects.exists()
