"""Admin for departments, command centres, staff and grid assignments.

Lists are scoped by the org selectors, forms check through the same functions the actions use,
and saves go through ``civicgrid.org.actions``. Access follows the ``org.manage`` permission.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.core.api import DomainError
from civicgrid.core.jurisdiction import scope_to_jurisdiction
from civicgrid.org import actions, selectors
from civicgrid.org.models import CommandCentre, Department, GridAssignment, Role, User
from civicgrid.org.permissions import has_permission
from civicgrid.regions.models import Region


class CheckedFormMixin:
    """Runs an action's check on the form's instance after Django's own cleaning, so the admin
    shows the same field-level errors an action would raise. Each form defines ``run_checks()``,
    which calls the check of the action that will save it."""

    actor = None

    def _post_clean(self):
        super()._post_clean()
        try:
            self.run_checks()
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        except DomainError as exc:
            self.add_error(None, str(exc.detail))


class OrgManageMixin:
    """Admin access follows the permission table rather than Django's per-model permissions."""

    def has_module_permission(self, request):
        return has_permission(request.user, "org.manage")

    def has_view_permission(self, request, obj=None):
        return has_permission(request.user, "org.manage")

    def has_add_permission(self, request, *args):
        return has_permission(request.user, "org.manage")

    def has_change_permission(self, request, obj=None):
        return has_permission(request.user, "org.manage")

    def has_delete_permission(self, request, obj=None):
        return has_permission(request.user, "org.manage")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})


# --- departments ---------------------------------------------------------------------------------


class DistrictFilter(admin.SimpleListFilter):
    title = _("district")
    parameter_name = "district"

    def lookups(self, request, model_admin):
        districts = scope_to_jurisdiction(
            Region.objects.filter(level=Region.Level.DISTRICT), request.user, "code"
        )
        return [(d.code, d.name) for d in districts]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(region__code__startswith=selectors.region_filter_prefix(self.value()))


class DepartmentForm(CheckedFormMixin, forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "kind", "region", "phone", "is_active"]

    def run_checks(self):
        actions.check_department(self.instance, actor=self.actor)


@admin.register(Department)
class DepartmentAdmin(OrgManageMixin, admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["name", "code", "kind", "region", "phone", "is_active"]
    list_filter = ["kind", DistrictFilter, "is_active"]
    search_fields = ["name", "code", "region__name", "region__code"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]

    def get_queryset(self, request):
        return selectors.departments_for(request.user)

    def save_model(self, request, obj, form, change):
        actions.save_department(obj, actor=request.user)

    def delete_model(self, request, obj):
        actions.delete_department(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for department in queryset:
            actions.delete_department(department, actor=request.user)


# --- command centres -----------------------------------------------------------------------------


class CentreForm(CheckedFormMixin, forms.ModelForm):
    class Meta:
        model = CommandCentre
        fields = ["name", "region"]

    def run_checks(self):
        # The form has no level field: a centre moved to another region follows its level.
        actions.take_level_from_region(self.instance)
        actions.check_centre(self.instance, actor=self.actor)


@admin.register(CommandCentre)
class CommandCentreAdmin(OrgManageMixin, admin.ModelAdmin):
    form = CentreForm
    fields = ["name", "region", "level"]
    readonly_fields = ["level"]
    list_display = ["name", "level", "region"]
    list_filter = ["level"]
    search_fields = ["name", "region__name", "region__code"]
    autocomplete_fields = ["region"]
    list_select_related = ["region"]

    def get_queryset(self, request):
        return selectors.centres_for(request.user)

    def save_model(self, request, obj, form, change):
        actions.save_centre(obj, actor=request.user)

    def delete_model(self, request, obj):
        actions.delete_centre(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for centre in queryset:
            actions.delete_centre(centre, actor=request.user)


# --- staff ---------------------------------------------------------------------------------------


class GridAssignmentFormSet(forms.BaseInlineFormSet):
    """Checks the worker's grids as they will be after the save, and hands them to the action."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        grids = [
            form.cleaned_data["grid"]
            for form in self.forms
            if form.cleaned_data.get("grid") and not form.cleaned_data.get("DELETE")
        ]
        try:
            actions.check_staff_grids(self.instance, grids, actor=getattr(self, "actor", None))
        except ValidationError as exc:
            raise ValidationError([e for errs in exc.error_dict.values() for e in errs]) from exc
        self.instance._pending_grids = grids


class GridAssignmentInline(admin.TabularInline):
    model = GridAssignment
    fk_name = "worker"
    formset = GridAssignmentFormSet
    autocomplete_fields = ["grid"]
    readonly_fields = ["since"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"actor": request.user})

    def has_view_permission(self, request, obj=None):
        return has_permission(request.user, "org.manage")

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: has_permission(request.user, "org.manage")
    )


class StaffChangeForm(CheckedFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def run_checks(self):
        # Grids are checked by the inline formset, which knows the list as it will be saved.
        actions.check_staff(self.instance, actor=self.actor, check_grids=False)


class StaffCreationForm(CheckedFormMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User

    def run_checks(self):
        actions.check_staff(self.instance, actor=self.actor)


ROLE_FIELDS = ("role", "department", "centre", "jurisdiction", "phone")


@admin.register(User)
class StaffAdmin(OrgManageMixin, DjangoUserAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:2],
        (_("Role and jurisdiction"), {"fields": ROLE_FIELDS}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Role and jurisdiction"), {"classes": ("wide",), "fields": ROLE_FIELDS}),
    )
    list_display = ["username", "get_full_name", "role", "department", "centre", "jurisdiction", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "phone", "email"]
    autocomplete_fields = ["department", "centre", "jurisdiction"]
    inlines = [GridAssignmentInline]

    @admin.display(description=_("full name"))
    def get_full_name(self, obj):
        return obj.get_full_name()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only a superuser hands out superuser status or Django's own permissions.
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def get_queryset(self, request):
        return selectors.staff_for(request.user)

    # A security administrator's account (password, role, activity) is not another account's to
    # change: that would open the access log to them (docs/personal-data.md).
    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.role == Role.SECURITY_ADMIN and obj.pk != request.user.pk:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.role == Role.SECURITY_ADMIN and obj.pk != request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        actions.save_staff(obj, grids=getattr(obj, "_pending_grids", None), actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is GridAssignment:
            # save_staff already made the assignments exactly the checked list; this only fills
            # the formset's record of what changed, for the admin's history.
            formset.save(commit=False)
            return
        super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        actions.delete_staff(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            actions.delete_staff(user, actor=request.user)


# --- grid assignments ----------------------------------------------------------------------------


class GridAssignmentForm(CheckedFormMixin, forms.ModelForm):
    class Meta:
        model = GridAssignment
        fields = ["grid", "worker"]

    def run_checks(self):
        if self.instance.grid_id and self.instance.worker_id:
            actions.check_grid_assignment(self.instance.grid, self.instance.worker, actor=self.actor)


@admin.register(GridAssignment)
class GridAssignmentAdmin(OrgManageMixin, admin.ModelAdmin):
    form = GridAssignmentForm
    list_display = ["grid", "worker", "since"]
    search_fields = ["grid__code", "grid__name", "worker__username", "worker__first_name", "worker__last_name"]
    autocomplete_fields = ["grid", "worker"]
    list_select_related = ["grid", "worker"]

    def has_change_permission(self, request, obj=None):
        return False  # remove and add instead: an assignment is a fact with a start date

    def get_queryset(self, request):
        return selectors.grid_assignments_for(request.user)

    def save_model(self, request, obj, form, change):
        assignment = actions.assign_grid_worker(obj.grid, obj.worker, actor=request.user)
        obj.pk, obj.since = assignment.pk, assignment.since

    def delete_model(self, request, obj):
        actions.unassign_grid_worker(obj.grid, obj.worker, actor=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("grid", "worker"):
            actions.unassign_grid_worker(assignment.grid, assignment.worker, actor=request.user)
