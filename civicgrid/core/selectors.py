"""Reads of the core app. The calendar is the same for everyone, so these take no user."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core import calendar
from civicgrid.core.models import CalendarOverride, CalendarYear

UNCONFIRMED_YEAR_WARNING = _(
    "The official holiday schedule for %(year)s has not been confirmed: working-time deadlines "
    "falling in %(year)s use the statutory holidays only, without make-up working days. Enter "
    "the announced schedule as calendar overrides and confirm the year in the administration."
)


def calendar_warnings(today: datetime.date | None = None) -> list[str]:
    """Translated warnings for the current and the next year when their schedule is unconfirmed."""
    today = today or timezone.localdate()
    return [
        str(UNCONFIRMED_YEAR_WARNING % {"year": year})
        for year in (today.year, today.year + 1)
        if calendar.MIN_YEAR <= year <= calendar.MAX_YEAR and not calendar.is_year_confirmed(year)
    ]


def calendar_overrides(year: int | None = None) -> QuerySet[CalendarOverride]:
    qs = CalendarOverride.objects.all()
    if year is not None:
        qs = qs.filter(date__range=(datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
    return qs.order_by("date")


def calendar_year(year: int) -> CalendarYear | None:
    return CalendarYear.objects.filter(year=year).first()
