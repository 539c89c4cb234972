"""Shared pieces of the wire-format adapters (12345, 数字城管, alarms): reading a field under any
of its names, collecting every problem of one record, and parsing times, numbers and places.

Every helper here is pure (database reads only, through cached indexes), so the bulk importer can
call the adapters for millions of rows.
"""

from __future__ import annotations

import math
import re
import threading
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.intake.records import RecordError, RecordErrors

# A time may lie this far in the future (clocks of client systems drift).
FUTURE_TOLERANCE = timedelta(minutes=10)

_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分", "%Y年%m月%d日%H:%M",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日")


_memo = threading.local()
MAX_MEMO = 100_000


@contextmanager
def cached_lookups():
    """Within this block, reference lookups of the adapters (categories, alarm rules) are
    memoised in this thread: for a bulk import, where the reference data does not change. Outside
    it, every record reads the current rows (one indexed query each)."""
    outer = getattr(_memo, "cache", None)
    _memo.cache = {} if outer is None else outer
    try:
        yield
    finally:
        _memo.cache = outer


def memoised(key, load):
    """``load()``, remembered under ``key`` while ``cached_lookups`` is active."""
    cache = getattr(_memo, "cache", None)
    if cache is None:
        return load()
    if key not in cache:
        if len(cache) >= MAX_MEMO:
            cache.clear()  # many distinct addresses: start again rather than grow without bound
        cache[key] = load()
    return cache[key]


class Record:
    """One wire record being parsed: values by any of their names, and every error found."""

    def __init__(self, record: dict, aliases: dict[str, tuple[str, ...]]):
        if not isinstance(record, dict):
            raise RecordErrors([RecordError("record", "invalid", _("A record is an object of named fields."))])
        self.raw = record
        self.aliases = aliases
        self.errors: list[RecordError] = []
        # A record written with the Chinese headers names its missing fields in Chinese too.
        self.chinese = any(not str(k).isascii() for k in record)

    def key(self, name: str) -> str:
        """The wire name the record used for field ``name``; when absent, the ASCII key (the
        second alias, the Chinese header, for a record written in Chinese)."""
        aliases = self.aliases[name]
        for alias in aliases:
            if alias in self.raw:
                return alias
        return aliases[1] if self.chinese and len(aliases) > 1 else aliases[0]

    def value(self, name: str):
        for alias in self.aliases[name]:
            if alias in self.raw and self.raw[alias] not in (None, ""):
                return self.raw[alias]
        return None

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        raw = self.value(name)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # spreadsheets hand numbers in text columns over as floats
        value = "" if raw is None else str(raw).strip()
        if not value:
            if required:
                self.error(name, "required", _("This field is required."))
            return ""
        if max_length is not None and len(value) > max_length:
            self.error(name, "too_long", format_lazy(_("At most {n} characters."), n=max_length))
            return value[:max_length]
        return value

    def error(self, name: str, code: str, message) -> None:
        self.errors.append(RecordError(self.key(name), code, message))

    def has_error(self, name: str) -> bool:
        key = self.key(name)
        return any(e.field == key for e in self.errors)

    def raise_errors(self) -> None:
        if self.errors:
            raise RecordErrors(self.errors)


def parse_moment(value) -> datetime | None:
    """A timezone-aware moment from an ISO text, a common Chinese layout, a date or a datetime
    (naive ones are local time); None when it cannot be read."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value).strip()
        moment = None
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for layout in _DATETIME_FORMATS + _DATE_FORMATS:
                try:
                    moment = datetime.strptime(text, layout)
                    break
                except ValueError:
                    continue
        if moment is None:
            return None
    if timezone.is_naive(moment):
        # The zone is looked up once per import (``cached_lookups``), not per row.
        moment = timezone.make_aware(moment, memoised("current timezone", timezone.get_current_timezone))
    return moment


def moment_field(rec: Record, name: str, *, required: bool, now: datetime | None = None) -> datetime | None:
    raw = rec.value(name)
    if raw is None:
        if required:
            rec.error(name, "required", _("This field is required."))
        return None
    moment = parse_moment(raw)
    if moment is None:
        rec.error(name, "invalid", _("Give a date and time like 2026-11-24 09:30:00 or 2026-11-24T09:30:00+08:00."))
        return None
    if moment > (now or timezone.now()) + FUTURE_TOLERANCE:
        rec.error(name, "in_future", _("This time lies in the future."))
        return None
    return moment


def number_field(rec: Record, name: str, *, required: bool = False) -> float | None:
    raw = rec.value(name)
    if raw is None:
        if required:
            rec.error(name, "required", _("This field is required."))
        return None
    try:
        number = float(str(raw).strip()) if not isinstance(raw, (int, float)) else float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        rec.error(name, "invalid", _("Give a decimal number."))
        return None
    return number


def point_fields(rec: Record, lon_name: str = "lon", lat_name: str = "lat") -> tuple[float | None, float | None]:
    """A WGS-84 point from two fields: both or neither, each within range."""
    lon, lat = number_field(rec, lon_name), number_field(rec, lat_name)
    if rec.has_error(lon_name) or rec.has_error(lat_name):
        return None, None
    if (lon is None) != (lat is None):
        missing = lat_name if lat is None else lon_name
        rec.error(missing, "required", _("Longitude and latitude must be given together."))
        return None, None
    if lon is None:
        return None, None
    ok = True
    if not -180 <= lon <= 180:
        rec.error(lon_name, "out_of_range", format_lazy(_("Must lie between -{limit} and {limit}."), limit=180))
        ok = False
    if not -90 <= lat <= 90:
        rec.error(lat_name, "out_of_range", format_lazy(_("Must lie between -{limit} and {limit}."), limit=90))
        ok = False
    return (lon, lat) if ok else (None, None)


def region_at(lon: float, lat: float) -> str | None:
    """The code of the finest mapped region containing the point (the locator's index; within
    ``cached_lookups`` even its generation check is made once)."""
    from civicgrid.regions.locator import current_index

    index = memoised(("region_index",), current_index)
    found = int(index.locate_indices([lon], [lat])[0])
    return index.codes[found] if found >= 0 else None


def locate_point(rec: Record, lon: float, lat: float, field: str = "lon") -> str | None:
    """The code of the finest region containing the point, or an ``outside_regions`` error."""
    code = region_at(lon, lat)
    if code is None:
        rec.error(field, "outside_regions", _("No region of the platform contains this point."))
    return code


def resolve_address_field(rec: Record, name: str, address: str) -> str | None:
    """The region an address names (via the address resolver; within ``cached_lookups`` each
    distinct address text is resolved once), or an ``unknown_address`` error."""
    from civicgrid.regions.resolver import resolve_address

    code = memoised(("address", address), lambda: resolve_address(address).code)
    if code is None:
        rec.error(name, "unknown_address", _("This address names no region of the platform."))
    return code


_SPACE = re.compile(r"\s+")


def make_title(text: str, limit: int = 60) -> str:
    """A case title from free text: its first line, at most ``limit`` characters."""
    first = _SPACE.sub(" ", (text or "").strip().splitlines()[0] if (text or "").strip() else "")
    return first if len(first) <= limit else first[: limit - 1] + "…"
