"""Admin for the working-day calendar. Every save goes through ``civicgrid.core.actions``."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from civicgrid.core import actions as core_actions
from civicgrid.core import calendar
from civicgrid.core.models import CalendarOverride, CalendarYear

# The admin index shows the unconfirmed-calendar warnings (template extends admin/index.html).
admin.site.index_template = "admin/civicgrid_index.html"

WEEKDAYS = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _adopt(obj, saved) -> None:
    """Let the admin's bookkeeping (messages, log entry, redirect) see what the action saved."""
    obj.pk = saved.pk
    obj._state.adding = False
    obj._state.db = saved._state.db
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))


class CalendarOverrideForm(forms.ModelForm):
    class Meta:
        model = CalendarOverride
        fields = ["date", "is_working_day", "name", "note"]

    def clean_date(self):
        day = self.cleaned_data["date"]
        core_actions.validate_calendar_year(day.year)
        return day


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    form = CalendarOverrideForm
    list_display = ("date", "weekday", "is_working_day", "name", "note", "updated_at")
    list_filter = ("is_working_day",)
    date_hierarchy = "date"
    search_fields = ("name", "note")

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return WEEKDAYS[obj.date.weekday()]

    def get_readonly_fields(self, request, obj=None):
        # The date is the key of an override: to move one, delete it and add another.
        return ("date",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        saved = core_actions.set_calendar_override(obj.date, obj.is_working_day, obj.name, note=obj.note)
        _adopt(obj, saved)

    def delete_model(self, request, obj):
        core_actions.remove_calendar_override(obj.date)

    def delete_queryset(self, request, queryset):
        for day in queryset.values_list("date", flat=True):
            core_actions.remove_calendar_override(day)


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ["year", "confirmed", "note"]

    def clean_year(self):
        year = self.cleaned_data["year"]
        core_actions.validate_calendar_year(year)
        return year


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    form = CalendarYearForm
    list_display = ("year", "confirmed", "confirmed_at", "source", "note")
    list_filter = ("confirmed",)
    actions = ["confirm_selected", "unconfirm_selected"]

    def get_fields(self, request, obj=None):
        fields = ["year", "confirmed", "note"]
        return [*fields, "confirmed_at", "source", "schedule"] if obj is not None else fields

    def get_readonly_fields(self, request, obj=None):
        return ("year", "confirmed_at", "source", "schedule") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # withdraw a confirmation by unticking it; the row is the record of who did

    @admin.display(description=_("source of holidays"))
    def source(self, obj):
        if calendar.year_schedule(obj.year).source == calendar.SOURCE_OFFICIAL:
            return _("official schedule (chinesecalendar)")
        return _("statutory holidays only, plus overrides")

    @admin.display(description=_("computed schedule"))
    def schedule(self, obj):
        info = calendar.year_schedule(obj.year)
        days_off = format_html_join(
            "", "<li>{} {} — {}</li>",
            ((day.isoformat(), WEEKDAYS[day.weekday()], calendar.holiday_label(name)) for day, name in info.days_off),
        )
        makeup = format_html_join(
            "", "<li>{} {} — {}</li>",
            ((day.isoformat(), WEEKDAYS[day.weekday()], calendar.holiday_label(name)) for day, name in info.makeup_days),
        )
        return format_html(
            "<p>{}</p><h4>{}</h4><ul>{}</ul><h4>{}</h4><ul>{}</ul>",
            _("%(count)s working days.") % {"count": info.working_days},
            _("Days off"), days_off,
            _("Make-up working days"), makeup or _("none"),
        )

    def save_model(self, request, obj, form, change):
        saved = core_actions.confirm_year(obj.year, obj.confirmed, note=obj.note)
        _adopt(obj, saved)

    @admin.action(description=_("Confirm the schedule of the selected years"))
    def confirm_selected(self, request, queryset):
        self._set_confirmed(request, queryset, True)

    @admin.action(description=_("Withdraw the confirmation of the selected years"))
    def unconfirm_selected(self, request, queryset):
        self._set_confirmed(request, queryset, False)

    def _set_confirmed(self, request, queryset, confirmed):
        years = list(queryset.values_list("year", flat=True))
        for year in years:
            core_actions.confirm_year(year, confirmed)
        self.message_user(
            request,
            ngettext("%(count)d year updated.", "%(count)d years updated.", len(years)) % {"count": len(years)},
            messages.SUCCESS,
        )
