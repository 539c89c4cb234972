"""Working time (工作时间) on the Chinese working-day calendar.

Which days are working days
---------------------------
Per year, later sources win:

1. Monday to Friday work, Saturday and Sunday are off.
2. Holidays:
   * years covered by the ``chinesecalendar`` package (2004–2026 in 1.11): the official State
     Council schedule, with its make-up working days (调休上班, e.g. Sunday 2026-09-20 and
     Saturday 2026-10-10 around the 2026-10-01..07 National Day holiday);
   * any other year: the statutory holidays of the ``holidays`` package (China), including the
     substitute days off it derives for holidays falling on a weekend, but *without* make-up
     working days, which are only known once the schedule is announced.
3. ``CalendarOverride`` rows (admin-editable, changed through ``civicgrid.core.actions``): a date
   is a working day or a day off, whatever the sources say.

A year is *confirmed* when ``chinesecalendar`` covers it or its ``CalendarYear`` row is marked
confirmed (after the announced schedule was entered as overrides). An unconfirmed year still
computes, on the statutory holidays, and ``civicgrid.core.selectors.calendar_warnings()`` warns
about it on the home page and the admin index.

Office hours
------------
``settings.CIVICGRID_OFFICE_HOURS`` ("08:30-12:00,14:30-17:30" by default): comma-separated,
ascending, non-overlapping local-time intervals, each half-open ``[open, close)``. A moment is *in
office hours* when it falls on a working day inside one of them. A full office day is the sum of
the intervals (6.5 h by default).

Semantics
---------
* Every moment must be timezone-aware (a naive ``datetime`` raises ``ValueError``); it is taken in
  ``settings.TIME_ZONE`` and every result is returned in that zone.
* ``next_working_moment(dt)``: ``dt`` itself when it is in office hours, otherwise the next
  opening (12:00 → 14:30 the same day; 17:30 or a holiday → 08:30 of the next working day).
* ``add_working_time(start, n, "hours")``: starting from ``next_working_moment(start)``, walk the
  office intervals of working days until ``n`` hours are used. When they run out exactly at a
  closing time the result is that closing time (10:00 + 2 h → 12:00, not 14:30). ``n`` may be
  fractional. ``n == 0`` gives ``next_working_moment(start)``.
* ``add_working_time(start, n, "days")``: the same clock time on the n-th next working day,
  counted from ``next_working_moment(start)`` (so a start outside office hours or on a day off
  counts from the next opening). A case filed on Wednesday 2026-09-30 16:00 with 3 working days
  falls due on Saturday 2026-10-10 16:00 (10-08, 10-09, then the make-up Saturday), not on Monday
  10-12. A fractional part is added afterwards as that share of a full office day, in working
  hours (0.5 day = 3 h 15 min by default).
* ``working_time_between(a, b)``: the office time inside ``[a, b)`` as a ``timedelta``; negative
  when ``b`` is before ``a``. ``working_hours_between`` gives the same in ``Decimal`` hours. These
  are the inverse of ``add_working_time(..., "hours")``.
* ``is_working_day(day)``: whether offices work on that date (an aware datetime is taken at its
  local date).
* Amounts must be non-negative; dates must lie in ``MIN_YEAR``..``MAX_YEAR``.

Speed
-----
Deadlines are computed for every case, so each year's day table (working flags, sorted working
days) is built once per process and kept in memory; all arithmetic is bisection on those tables,
independent of the length of the span. Calendar actions bump ``CalendarRevision`` and drop this
process's tables (at once and again on commit); other processes notice the new revision within
``settings.CIVICGRID_CALENDAR_RECHECK_SECONDS`` (60 s by default, one small query).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

import chinese_calendar
import holidays as holidays_package
from chinese_calendar import constants as chinese_calendar_constants
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

MIN_YEAR = 2000
MAX_YEAR = 2099
HOURS = "hours"
DAYS = "days"
UNITS = (HOURS, DAYS)

SOURCE_OFFICIAL = "chinesecalendar"
SOURCE_STATUTORY = "statutory"

_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_HOUR = 60 * _US_PER_MINUTE
_DEFAULT_RECHECK_SECONDS = 60.0

_OFFICIAL_FIRST_YEAR = min(chinese_calendar_constants.holidays).year
_OFFICIAL_LAST_YEAR = max(chinese_calendar_constants.holidays).year

# Holiday names as the two packages spell them -> one canonical English name each.
_HOLIDAY_ALIASES = {
    "new year's day": "New Year's Day",
    "spring festival": "Spring Festival",
    "chinese new year (spring festival)": "Spring Festival",
    "chinese new year's eve": "Spring Festival",
    "tomb-sweeping day": "Tomb-sweeping Day",
    "labour day": "Labour Day",
    "labor day": "Labour Day",
    "dragon boat festival": "Dragon Boat Festival",
    "mid-autumn festival": "Mid-autumn Festival",
    "national day": "National Day",
    "anti-fascist 70th day": "Victory Day (70th anniversary)",
}
_HOLIDAY_LABELS = {
    "New Year's Day": _("New Year's Day"),
    "Spring Festival": _("Spring Festival"),
    "Tomb-sweeping Day": _("Tomb-sweeping Day"),
    "Labour Day": _("Labour Day"),
    "Dragon Boat Festival": _("Dragon Boat Festival"),
    "Mid-autumn Festival": _("Mid-autumn Festival"),
    "National Day": _("National Day"),
    "Victory Day (70th anniversary)": _("Victory Day (70th anniversary)"),
}


# --- office hours -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeHours:
    """Office intervals as microseconds after local midnight."""

    intervals: tuple[tuple[int, int], ...]
    day_length: int  # microseconds of office time in a full working day


def _parse_clock(text: str, spec: str) -> int:
    try:
        hours, minutes = text.strip().split(":")
        h, m = int(hours), int(minutes)
    except ValueError:
        raise ImproperlyConfigured(f"CIVICGRID_OFFICE_HOURS: bad time {text!r} in {spec!r}") from None
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ImproperlyConfigured(f"CIVICGRID_OFFICE_HOURS: bad time {text!r} in {spec!r}")
    return h * _US_PER_HOUR + m * _US_PER_MINUTE


@lru_cache(maxsize=8)
def parse_office_hours(spec: str) -> OfficeHours:
    """Parse "08:30-12:00,14:30-17:30"; raise ``ImproperlyConfigured`` for anything else."""
    intervals = []
    for part in spec.split(","):
        if not part.strip():
            continue
        try:
            opening, closing = part.split("-")
        except ValueError:
            raise ImproperlyConfigured(f"CIVICGRID_OFFICE_HOURS: bad interval {part!r} in {spec!r}") from None
        start, end = _parse_clock(opening, spec), _parse_clock(closing, spec)
        if start >= end:
            raise ImproperlyConfigured(f"CIVICGRID_OFFICE_HOURS: {part!r} closes before it opens")
        if intervals and start < intervals[-1][1]:
            raise ImproperlyConfigured(
                f"CIVICGRID_OFFICE_HOURS: intervals must be ascending and must not overlap: {spec!r}"
            )
        intervals.append((start, end))
    if not intervals:
        raise ImproperlyConfigured("CIVICGRID_OFFICE_HOURS: no office interval given")
    return OfficeHours(tuple(intervals), sum(end - start for start, end in intervals))


def office_hours() -> OfficeHours:
    return parse_office_hours(settings.CIVICGRID_OFFICE_HOURS)


# --- per-year day tables ------------------------------------------------------------------------


@dataclass
class _YearTable:
    year: int
    first: int  # ordinal of 1 January
    working: bytearray  # 1 = working day, indexed by ordinal - first
    working_ordinals: list[int]  # ascending
    names: dict[int, str]  # ordinal -> holiday/make-up/override name
    overridden: frozenset[int]
    source: str
    confirmed: bool

    @property
    def end(self) -> int:
        return self.first + len(self.working)


class _Cache:
    tables: dict[int, _YearTable] = {}
    revision: int | None = None
    checked_at: float = -math.inf


def clear_cache() -> None:
    """Drop this process's day tables; the next computation reloads them from the database."""
    _Cache.tables = {}
    _Cache.revision = None
    _Cache.checked_at = -math.inf


def _database_revision() -> int:
    from civicgrid.core.models import CalendarRevision

    return CalendarRevision.objects.filter(pk=1).values_list("revision", flat=True).first() or 0


def _recheck() -> None:
    now = time.monotonic()
    interval = getattr(settings, "CIVICGRID_CALENDAR_RECHECK_SECONDS", _DEFAULT_RECHECK_SECONDS)
    if now - _Cache.checked_at < interval:
        return
    revision = _database_revision()
    # "!=", not ">": a rolled-back change leaves tables built from a revision that never committed.
    if revision != _Cache.revision:
        _Cache.tables = {}
        _Cache.revision = revision
    _Cache.checked_at = now


def _canonical_name(raw: str) -> str:
    parts = []
    for part in raw.split(";"):
        part = part.strip()
        while part.endswith(")") and "(" in part:
            # "(observed)", "(estimated)": the day is off all the same.
            head, _sep, tail = part.rpartition("(")
            if tail.rstrip(")").strip() in {"observed", "estimated", "observed, estimated"}:
                part = head.strip()
            else:
                break
        key = _HOLIDAY_ALIASES.get(part.lower(), part)
        if key and key not in parts:
            parts.append(key)
    return "; ".join(parts)


def holiday_label(name: str) -> str:
    """Translated display form of a canonical holiday name (override names pass unchanged)."""
    return "; ".join(str(_HOLIDAY_LABELS.get(part, part)) for part in name.split("; "))


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside the working-day calendar ({MIN_YEAR}–{MAX_YEAR})")


def _build_table(year: int) -> _YearTable:
    from civicgrid.core.models import CalendarOverride, CalendarYear

    first = date(year, 1, 1).toordinal()
    size = date(year + 1, 1, 1).toordinal() - first
    working = bytearray(size)
    names: dict[int, str] = {}
    if _OFFICIAL_FIRST_YEAR <= year <= _OFFICIAL_LAST_YEAR:
        source = SOURCE_OFFICIAL
        for i in range(size):
            working[i] = chinese_calendar.is_workday(date.fromordinal(first + i))
        for table in (chinese_calendar_constants.holidays, chinese_calendar_constants.workdays):
            for day, name in table.items():
                if day.year == year:
                    names[day.toordinal()] = _canonical_name(name)
    else:
        source = SOURCE_STATUTORY
        for i in range(size):
            working[i] = date.fromordinal(first + i).weekday() < 5
        for day, name in holidays_package.China(years=year, language="en_US").items():
            working[day.toordinal() - first] = 0
            names[day.toordinal()] = _canonical_name(name)
    overridden = set()
    overrides = CalendarOverride.objects.filter(date__range=(date(year, 1, 1), date(year, 12, 31)))
    for override in overrides:
        ordinal = override.date.toordinal()
        working[ordinal - first] = override.is_working_day
        names[ordinal] = override.name
        overridden.add(ordinal)
    confirmed = source == SOURCE_OFFICIAL or CalendarYear.objects.filter(year=year, confirmed=True).exists()
    if not confirmed:
        logger.warning(
            "Working-day calendar %s is not confirmed: using statutory holidays without make-up "
            "working days until the announced schedule is entered and the year confirmed.",
            year,
        )
    return _YearTable(
        year=year,
        first=first,
        working=working,
        working_ordinals=[first + i for i in range(size) if working[i]],
        names=names,
        overridden=frozenset(overridden),
        source=source,
        confirmed=confirmed,
    )


def _table(year: int) -> _YearTable:
    # The public functions recheck once each (``_rechecked``): a computation walks many tables.
    table = _Cache.tables.get(year)
    if table is None:
        _check_year(year)
        table = _build_table(year)
        _Cache.tables[year] = table
    return table


def _year_of(ordinal: int) -> int:
    return date.fromordinal(ordinal).year


def _is_working_ordinal(ordinal: int) -> bool:
    table = _table(_year_of(ordinal))
    return bool(table.working[ordinal - table.first])


def _next_working_day(ordinal: int, *, inclusive: bool) -> int:
    year = _year_of(ordinal)
    days = _table(year).working_ordinals
    index = bisect_left(days, ordinal) if inclusive else bisect_right(days, ordinal)
    while index >= len(days):
        year += 1
        days, index = _table(year).working_ordinals, 0
    return days[index]


def _nth_working_day_after(ordinal: int, n: int) -> int:
    """The n-th working day strictly after ``ordinal`` (n >= 1)."""
    year = _year_of(ordinal)
    days = _table(year).working_ordinals
    index = bisect_right(days, ordinal)
    while True:
        available = len(days) - index
        if n <= available:
            return days[index + n - 1]
        n -= available
        year += 1
        days, index = _table(year).working_ordinals, 0


def _count_working_days(start: int, end: int) -> int:
    """Working days in ``[start, end)`` (start <= end)."""
    total = 0
    year = _year_of(start)
    while True:
        table = _table(year)
        low, high = max(start, table.first), min(end, table.end)
        if low < high:
            total += bisect_left(table.working_ordinals, high) - bisect_left(table.working_ordinals, low)
        if end <= table.end:
            return total
        year += 1


# --- moments ------------------------------------------------------------------------------------


def _split(moment: datetime) -> tuple[int, int]:
    """(local date ordinal, microseconds after local midnight)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("working-time arithmetic needs timezone-aware datetimes")
    local = moment.astimezone(timezone.get_default_timezone())
    clock = ((local.hour * 60 + local.minute) * 60 + local.second) * _US_PER_SECOND + local.microsecond
    return local.toordinal(), clock


def _join(ordinal: int, clock: int) -> datetime:
    day = date.fromordinal(ordinal)
    seconds, micro = divmod(clock, _US_PER_SECOND)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return datetime(
        day.year, day.month, day.day, hour, minute, second, micro, tzinfo=timezone.get_default_timezone()
    )


def _normalise(ordinal: int, clock: int, office: OfficeHours) -> tuple[int, int, int]:
    """The first moment in office hours at or after (ordinal, clock), with its interval index."""
    if _is_working_ordinal(ordinal):
        for index, (opening, closing) in enumerate(office.intervals):
            if clock < closing:
                return ordinal, max(clock, opening), index
    return _next_working_day(ordinal, inclusive=False), office.intervals[0][0], 0


def _add_office_time(ordinal: int, clock: int, index: int, amount: int, office: OfficeHours):
    """Walk ``amount`` microseconds of office time from an in-office moment."""
    intervals = office.intervals
    left_today = intervals[index][1] - clock + sum(c - o for o, c in intervals[index + 1 :])
    if amount > left_today:
        amount -= left_today
        full_days, rest = divmod(amount, office.day_length)
        if rest == 0:
            return _nth_working_day_after(ordinal, full_days), intervals[-1][1]
        ordinal = _nth_working_day_after(ordinal, full_days + 1)
        clock, index, amount = intervals[0][0], 0, rest
    for opening, closing in intervals[index:]:
        clock = max(clock, opening)
        if amount <= closing - clock:
            return ordinal, clock + amount
        amount -= closing - clock
    raise AssertionError("office time left over after the last interval")  # pragma: no cover


def _worked_in_day(clock: int, office: OfficeHours) -> int:
    return sum(min(max(clock - opening, 0), closing - opening) for opening, closing in office.intervals)


def _to_decimal(amount) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal | float):
        raise TypeError(f"amount must be an int or a Decimal, got {type(amount).__name__}")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"bad amount {amount!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"amount must be a finite non-negative number, got {amount!r}")
    return value


def _microseconds(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


# --- public API ---------------------------------------------------------------------------------


def _rechecked(function):
    """Recheck the calendar revision once when ``function`` is called (see ``_recheck``)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        _recheck()
        return function(*args, **kwargs)

    return wrapper


@_rechecked
def is_working_day(day: date) -> bool:
    """Whether offices work on ``day`` (an aware datetime counts at its local date)."""
    if isinstance(day, datetime):
        ordinal, _clock = _split(day)
    else:
        ordinal = day.toordinal()
    return _is_working_ordinal(ordinal)


@_rechecked
def is_office_hours(moment: datetime) -> bool:
    """Whether ``moment`` falls inside the office hours of a working day."""
    ordinal, clock = _split(moment)
    return _normalise(ordinal, clock, office_hours())[:2] == (ordinal, clock)


@_rechecked
def next_working_moment(moment: datetime) -> datetime:
    """``moment`` when it is in office hours, otherwise the next opening."""
    ordinal, clock, _index = _normalise(*_split(moment), office_hours())
    return _join(ordinal, clock)


@_rechecked
def add_working_time(start: datetime, amount: int | Decimal, unit: str = HOURS) -> datetime:
    """``start`` plus ``amount`` working hours or working days (see the module docstring)."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    value = _to_decimal(amount)
    office = office_hours()
    ordinal, clock, index = _normalise(*_split(start), office)
    if unit == HOURS:
        extra = _microseconds(value * _US_PER_HOUR)
    else:
        whole = int(value)
        if whole:
            ordinal = _nth_working_day_after(ordinal, whole)
        extra = _microseconds((value - whole) * office.day_length)
    if extra:
        ordinal, clock = _add_office_time(ordinal, clock, index, extra, office)
    return _join(ordinal, clock)


@_rechecked
def working_time_between(start: datetime, end: datetime) -> timedelta:
    """Office time inside ``[start, end)``; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_time_between(end, start)
    office = office_hours()
    start_ordinal, start_clock = _split(start)
    end_ordinal, end_clock = _split(end)
    total = _count_working_days(start_ordinal, end_ordinal) * office.day_length
    if _is_working_ordinal(end_ordinal):
        total += _worked_in_day(end_clock, office)
    if _is_working_ordinal(start_ordinal):
        total -= _worked_in_day(start_clock, office)
    return timedelta(microseconds=total)


def working_hours_between(start: datetime, end: datetime) -> Decimal:
    """``working_time_between`` in hours, to the microsecond."""
    delta = working_time_between(start, end)
    microseconds = (delta.days * 86_400 + delta.seconds) * _US_PER_SECOND + delta.microseconds
    return (Decimal(microseconds) / _US_PER_HOUR).quantize(Decimal("0.000001"))


@_rechecked
def working_days_between(start: date, end: date) -> int:
    """Working days in ``[start, end)``; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    return _count_working_days(start.toordinal(), end.toordinal())


@_rechecked
def is_year_confirmed(year: int) -> bool:
    """Whether the official schedule of ``year`` is known (chinesecalendar or confirmed)."""
    return _table(year).confirmed


@dataclass(frozen=True)
class YearSchedule:
    year: int
    source: str  # SOURCE_OFFICIAL or SOURCE_STATUTORY
    confirmed: bool
    days_off: list[tuple[date, str]]  # named days off (holidays, incl. weekend days inside them)
    makeup_days: list[tuple[date, str]]  # Saturdays and Sundays that are working days
    overridden: list[date]  # days pinned by a CalendarOverride
    working_days: int


@_rechecked
def year_schedule(year: int) -> YearSchedule:
    """The holidays, make-up working days and status of one year, as the calendar computes them."""
    table = _table(year)
    days_off, makeup = [], []
    for offset, flag in enumerate(table.working):
        ordinal = table.first + offset
        day = date.fromordinal(ordinal)
        name = table.names.get(ordinal, "")
        if not flag and name:
            days_off.append((day, name))
        elif flag and day.weekday() >= 5:
            makeup.append((day, name))
    return YearSchedule(
        year=year,
        source=table.source,
        confirmed=table.confirmed,
        days_off=days_off,
        makeup_days=makeup,
        overridden=sorted(date.fromordinal(o) for o in table.overridden),
        working_days=len(table.working_ordinals),
    )
