"""``calendar``: working-time arithmetic and the holiday schedule from the command line."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from civicgrid.core import calendar, selectors

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _moment(text: str) -> datetime.datetime:
    value = parse_datetime(text.strip())
    if value is None:
        day = parse_date(text.strip())
        if day is None:
            raise CommandError(f"not a date or time: {text!r} (use e.g. '2026-09-30 16:00')")
        value = datetime.datetime.combine(day, datetime.time())
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _show(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{local:%Y-%m-%d %H:%M} {WEEKDAYS[local.weekday()]} ({local.isoformat()})"


class Command(BaseCommand):
    help = (
        "Working-time arithmetic on the Chinese working-day calendar and office hours "
        "(settings.CIVICGRID_OFFICE_HOURS). Times without an offset are in settings.TIME_ZONE."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        add = sub.add_parser(
            "add", help="add working hours or days to a moment, e.g. add '2026-09-30 16:00' 3 days"
        )
        add.add_argument("moment", help="start, e.g. '2026-09-30 16:00'")
        add.add_argument("amount", help="number of hours or days (may be fractional)")
        add.add_argument("unit", choices=calendar.UNITS)
        between = sub.add_parser("between", help="office time elapsed between two moments")
        between.add_argument("start")
        between.add_argument("end")
        nxt = sub.add_parser("next", help="the next moment in office hours (the moment itself if it is)")
        nxt.add_argument("moment")
        year = sub.add_parser("year", help="holidays, make-up working days and status of a year")
        year.add_argument("year", type=int)

    def handle(self, *args, subcommand, **options):
        try:
            getattr(self, f"_{subcommand}")(**options)
        except (ValueError, TypeError) as error:
            raise CommandError(str(error)) from error

    def _add(self, moment, amount, unit, **options):
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise CommandError(f"not a number: {amount!r}") from None
        start = _moment(moment)
        self.stdout.write(f"start     {_show(start)}")
        self.stdout.write(f"opening   {_show(calendar.next_working_moment(start))}")
        self.stdout.write(f"+{amount} working {unit}")
        self.stdout.write(f"result    {_show(calendar.add_working_time(start, value, unit))}")

    def _between(self, start, end, **options):
        a, b = _moment(start), _moment(end)
        elapsed = calendar.working_time_between(a, b)
        self.stdout.write(f"from      {_show(a)}")
        self.stdout.write(f"to        {_show(b)}")
        self.stdout.write(f"working   {calendar.working_hours_between(a, b).normalize():f} h ({elapsed})")

    def _next(self, moment, **options):
        self.stdout.write(_show(calendar.next_working_moment(_moment(moment))))

    def _year(self, year, **options):
        info = calendar.year_schedule(year)
        status = "confirmed" if info.confirmed else "NOT CONFIRMED"
        source = (
            "official schedule (chinesecalendar)"
            if info.source == calendar.SOURCE_OFFICIAL
            else "statutory holidays only (holidays package), plus overrides"
        )
        self.stdout.write(f"{year}: {status}; source: {source}; {info.working_days} working days")
        if not info.confirmed:
            self.stderr.write(self.style.WARNING(str(selectors.UNCONFIRMED_YEAR_WARNING % {"year": year})))
        pinned = set(info.overridden)
        self.stdout.write("days off:")
        for day, name in info.days_off:
            mark = " [override]" if day in pinned else ""
            self.stdout.write(f"  {day} {WEEKDAYS[day.weekday()]}  {name}{mark}")
        self.stdout.write("make-up working days:")
        if not info.makeup_days:
            self.stdout.write("  none")
        for day, name in info.makeup_days:
            mark = " [override]" if day in pinned else ""
            self.stdout.write(f"  {day} {WEEKDAYS[day.weekday()]}  {name}{mark}")
        others = [d for d in info.overridden if d not in {x for x, _n in info.days_off + info.makeup_days}]
        for day in others:
            self.stdout.write(f"override: {day} {WEEKDAYS[day.weekday()]} working={calendar.is_working_day(day)}")
