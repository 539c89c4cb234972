"""Writes of the core app: the working-day calendar's overrides and year confirmations.

Every calendar write locks the ``CalendarRevision`` row (so calendar changes queue), checks,
changes, bumps the revision and drops the in-memory day tables of this process at once and
again on commit (other processes follow within the recheck interval, see ``core.calendar``).
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core import calendar
from civicgrid.core.models import CalendarOverride, CalendarRevision, CalendarYear

logger = logging.getLogger(__name__)


def _lock_calendar() -> CalendarRevision:
    revision, _created = CalendarRevision.objects.select_for_update().get_or_create(pk=1)
    return revision


def validate_calendar_year(year: int) -> None:
    """Django validator: ``year`` lies inside the working-day calendar."""
    if not calendar.MIN_YEAR <= year <= calendar.MAX_YEAR:
        raise ValidationError(
            _("The working-day calendar covers the years %(min)s to %(max)s."),
            code="out_of_range",
            params={"min": calendar.MIN_YEAR, "max": calendar.MAX_YEAR},
        )


def _check_year(year: int, field: str) -> None:
    try:
        validate_calendar_year(year)
    except ValidationError as error:
        raise ValidationError({field: error}) from None


def _bump_revision() -> None:
    CalendarRevision.objects.filter(pk=1).update(revision=F("revision") + 1, changed_at=timezone.now())
    # At once, so later reads in this transaction see the change; on commit, because another
    # thread may have rebuilt a table from the old state in between.
    calendar.clear_cache()
    transaction.on_commit(calendar.clear_cache)


@transaction.atomic
def set_calendar_override(
    date: datetime.date, is_working_day: bool, name: str, *, note: str = ""
) -> CalendarOverride:
    """Make ``date`` a working day or a day off, whatever the holiday sources say."""
    _lock_calendar()
    if not isinstance(date, datetime.date) or isinstance(date, datetime.datetime):
        raise ValidationError({"date": ValidationError(_("Enter a valid date."), code="invalid")})
    _check_year(date.year, "date")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ValidationError(_("Give the override a name."), code="required")})
    if len(name) > CalendarOverride._meta.get_field("name").max_length:
        raise ValidationError({"name": ValidationError(_("The name is too long."), code="max_length")})
    override, _created = CalendarOverride.objects.update_or_create(
        date=date, defaults={"is_working_day": bool(is_working_day), "name": name, "note": note or ""}
    )
    _bump_revision()
    logger.info("Calendar override %s: working=%s (%s)", date, is_working_day, name)
    return override


@transaction.atomic
def remove_calendar_override(date: datetime.date) -> bool:
    """Drop the override of ``date``; the sources decide again. False when there was none."""
    _lock_calendar()
    deleted, _detail = CalendarOverride.objects.filter(date=date).delete()
    if deleted:
        _bump_revision()
        logger.info("Calendar override %s removed", date)
    return bool(deleted)


@transaction.atomic
def confirm_year(year: int, confirmed: bool = True, *, note: str | None = None) -> CalendarYear:
    """Mark the official schedule of ``year`` as entered and checked (or withdraw that)."""
    _lock_calendar()
    _check_year(year, "year")
    entry, _created = CalendarYear.objects.get_or_create(year=year)
    if confirmed and not entry.confirmed:
        entry.confirmed_at = timezone.now()
    elif not confirmed:
        entry.confirmed_at = None
    entry.confirmed = confirmed
    if note is not None:
        entry.note = note
    entry.save()
    _bump_revision()
    logger.info("Calendar year %s confirmed=%s", year, confirmed)
    return entry
