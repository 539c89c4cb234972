"""Admin for categories (with import/export and their SLA rule inline), SLA rules and the
responsibility matrix. Every save goes through ``civicgrid.taxonomy.actions``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from civicgrid.org.models import DepartmentKind
from civicgrid.taxonomy import actions
from civicgrid.taxonomy.matrix import conflicting_rules, describe_rule, validate_responsibility_rule
from civicgrid.taxonomy.models import Category, ResponsibilityRule, SlaRule, SlaStage
from civicgrid.taxonomy.sla import validate_sla_rule


class CategoryResource(resources.ModelResource):
    class Meta:
        model = Category
        import_id_fields = ("kind", "code")
        fields = ("kind", "code", "major_code", "major_name", "name", "keywords", "description",
                  "is_public", "auto_dispatch", "is_active")
        skip_unchanged = True
        report_skipped = False
        clean_model_instances = True

    def save_instance(self, instance, is_create, row, **kwargs):
        self._actor = kwargs.get("user")
        super().save_instance(instance, is_create, row, **kwargs)

    def do_instance_save(self, instance, is_create):
        actions.save_category(instance, actor=getattr(self, "_actor", None))


def _stage_fieldsets():
    sets = []
    for stage in SlaStage:
        sets.append((stage.label, {"fields": [
            (f"{stage.value}_amount", f"{stage.value}_unit"),
            (f"{stage.value}_urgent_amount", f"{stage.value}_urgent_unit"),
        ]}))
    return sets


class SlaRuleForm(forms.ModelForm):
    class Meta:
        model = SlaRule
        fields = ["category", "note", *(f"{stage}{suffix}_{part}" for stage in SlaStage.values
                                         for suffix in ("", "_urgent") for part in ("amount", "unit"))]

    # Inline forms get their category from the page's category, possibly not saved yet.
    ignore_category = False

    def clean(self):
        cleaned = super().clean()
        rule = self.instance
        for name in self.fields:
            if name in cleaned and name != "category":
                setattr(rule, name, cleaned[name])
        if "category" in cleaned:
            rule.category = cleaned["category"]
        try:
            validate_sla_rule(rule)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                if name == "category" and self.ignore_category:
                    continue
                if name in self.fields and name not in self.errors:
                    self.add_error(name, errors)
                elif name not in self.fields:
                    self.add_error(None, errors)
        return cleaned


class SlaRuleInlineForm(SlaRuleForm):
    ignore_category = True


class SlaRuleInline(admin.StackedInline):
    model = SlaRule
    form = SlaRuleInlineForm
    fk_name = "category"
    extra = 0
    max_num = 1
    can_delete = True
    verbose_name = _("SLA rule of this category")
    fieldsets = [(None, {"fields": ["note"]}), *_stage_fieldsets()]


@admin.register(Category)
class CategoryAdmin(ImportExportModelAdmin):
    resource_classes = [CategoryResource]
    list_display = ["code", "name", "kind", "major_name", "is_public", "auto_dispatch", "is_active",
                    "has_own_sla"]
    list_display_links = ["code", "name"]
    list_filter = ["kind", "major_name", "is_public", "auto_dispatch", "is_active"]
    search_fields = ["code", "name", "keywords", "major_name"]
    list_per_page = 100
    inlines = [SlaRuleInline]
    fieldsets = [
        (None, {"fields": ["kind", "code", "name", "major_code", "major_name"]}),
        (_("For citizens and dispatch"), {"fields": ["keywords", "description", "is_public", "auto_dispatch",
                                                     "is_active"]}),
    ]

    @admin.display(boolean=True, description=_("own SLA rule"))
    def has_own_sla(self, obj):
        return hasattr(obj, "sla_rule")

    def save_model(self, request, obj, form, change):
        actions.save_category(obj, actor=request.user)

    def delete_model(self, request, obj):
        actions.delete_category(obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        for rule in formset.save(commit=False):
            actions.save_sla_rule(rule, actor=request.user)
        for rule in formset.deleted_objects:
            actions.delete_sla_rule(rule, actor=request.user)


@admin.register(SlaRule)
class SlaRuleAdmin(admin.ModelAdmin):
    form = SlaRuleForm
    list_display = ["__str__", "handle_limit", "handle_urgent_limit", "note"]
    list_select_related = ["category"]
    search_fields = ["category__name", "category__code", "note"]
    list_filter = ["is_default", "category__kind"]
    autocomplete_fields = ["category"]
    fieldsets = [(None, {"fields": ["category", "note"]}), *_stage_fieldsets()]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and obj.is_default and "category" in form.base_fields:
            form.base_fields["category"].disabled = True
        return form

    @admin.display(description=_("handle within"))
    def handle_limit(self, obj):
        return self._limit(obj.handle_amount, obj.get_handle_unit_display())

    @admin.display(description=_("handle within (urgent)"))
    def handle_urgent_limit(self, obj):
        return self._limit(obj.handle_urgent_amount, obj.get_handle_urgent_unit_display())

    @staticmethod
    def _limit(amount, unit):
        return "—" if amount is None else f"{amount.normalize():f} {unit}"

    def save_model(self, request, obj, form, change):
        actions.save_sla_rule(obj, actor=request.user)

    def delete_model(self, request, obj):
        actions.delete_sla_rule(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_default)


class ResponsibilityRuleForm(forms.ModelForm):
    assisting_kinds = forms.MultipleChoiceField(
        label=_("assisting department kinds"), choices=DepartmentKind.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ResponsibilityRule
        fields = ["category", "category_kind", "major_code", "region_prefix", "lead_kind", "assisting_kinds",
                  "is_active", "note"]

    def clean_region_prefix(self):
        return (self.cleaned_data.get("region_prefix") or "").strip()

    def clean(self):
        cleaned = super().clean()
        rule = self.instance
        for name in self.Meta.fields:
            if name in cleaned:
                setattr(rule, name, cleaned[name])
        rule.assisting_kinds = list(cleaned.get("assisting_kinds") or [])
        try:
            validate_responsibility_rule(rule)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, errors)
                elif name not in self.fields:
                    self.add_error(None, errors)
        return cleaned


@admin.register(ResponsibilityRule)
class ResponsibilityRuleAdmin(admin.ModelAdmin):
    form = ResponsibilityRuleForm
    list_display = ["pk", "explanation", "is_active", "conflicts", "note"]
    list_display_links = ["pk", "explanation"]
    list_select_related = ["category"]
    list_filter = ["is_active", "lead_kind", "category_kind", "major_code"]
    search_fields = ["category__name", "category__code", "region_prefix", "note", "lead_kind"]
    autocomplete_fields = ["category"]
    fieldsets = [
        (_("Which categories"), {"fields": ["category", ("category_kind", "major_code")],
                                 "description": _("A category; or a group (kind and major class); or "
                                                  "nothing for every category.")}),
        (_("Where"), {"fields": ["region_prefix"]}),
        (_("Who"), {"fields": ["lead_kind", "assisting_kinds"]}),
        (None, {"fields": ["is_active", "note"]}),
    ]

    @admin.display(description=_("rule"))
    def explanation(self, obj):
        return describe_rule(obj)

    @admin.display(description=_("conflicts"))
    def conflicts(self, obj):
        others = conflicting_rules(obj)
        if not others:
            return "—"
        return _("ambiguous with %(rules)s") % {"rules": ", ".join(f"#{r.pk}" for r in others)}

    def save_model(self, request, obj, form, change):
        actions.save_responsibility_rule(obj, actor=request.user)
        others = conflicting_rules(obj)
        if others:
            self.message_user(request, _(
                "Rule #%(pk)s has the same criteria as %(rules)s but a different answer: look-ups it covers "
                "are reported as ambiguous until one of them is changed or deactivated.") % {
                "pk": obj.pk, "rules": ", ".join(f"#{r.pk}" for r in others)}, messages.WARNING)

    def delete_model(self, request, obj):
        actions.delete_responsibility_rule(obj, actor=request.user)
