"""The file formats of the bulk importer (``import_cases --format …``): reading rows from a file and
turning one row into a :class:`NormalizedReport` or :class:`RecordErrors` (every problem of the row).

* ``12345`` — 12345 hotline work orders (``civicgrid.intake.hotline.parse_order``).
* ``szcg`` — 数字城管 cases (``civicgrid.intake.szcg.parse_case``).
* ``open311-csv`` — Open311 GeoReport v2 service requests, one per row, columns named as the
  spec's fields (``service_request_id``, ``service_code``, ``lat``, ``long`` …).
* ``csv`` — civicgrid's own columns, one case per row (``external_id``, ``channel``, ``title`` …).

The columns of the last two are defined here and documented in ``docs/bulk-import.md``. Their
parsers do not locate points: the importer locates a whole batch at once (``locate_many``). Files
are CSV (UTF-8 with or without BOM, or GB18030) or Excel ``.xlsx``; the first row names the
columns; row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.intake.records import NormalizedReport, RecordError, RecordErrors
from civicgrid.intake.wire import Record, make_title, memoised, moment_field, point_fields

EXTERNAL_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-./:]{0,99}$")
MAX_DESCRIPTION = 4000

# --- reading files -------------------------------------------------------------------------------


def _encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``gb18030`` (checked in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _clean_header(value) -> str:
    return str(value or "").strip().lstrip("\ufeff").strip()


def read_rows(path) -> Iterator[tuple[int, dict]]:
    """(row number, record) for every non-empty row of a CSV or ``.xlsx`` file, streamed (a file
    of a million rows is never held in memory)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from civicgrid.intake.hotline import read_orders

        yield from read_orders(path)
        return
    encoding = _encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        keys = [_clean_header(h) for h in header]
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            yield number, {k: v for k, v in zip(keys, row, strict=False) if k}


# --- shared field checks -------------------------------------------------------------------------


def _external_id(rec: Record, name: str) -> str:
    value = rec.text(name, required=True, max_length=100)
    if value and not rec.has_error(name) and not EXTERNAL_ID.match(value):
        rec.error(name, "invalid", _("An external id has letters, digits, and - _ . / : only."))
    return value


def category_by_code(kind_code: str):
    """(pk, name) of the active category named ``kind-code`` (e.g. ``matter-06010``), or None."""
    from civicgrid.taxonomy.models import Category

    kind, sep, code = kind_code.partition("-")
    if not sep:
        return None
    active = memoised("bulk-categories", lambda: {
        (k, c): (pk, name) for pk, k, c, name in Category.objects.filter(is_active=True).values_list(
            "pk", "kind", "code", "name")})
    return active.get((kind, code))


def _category(rec: Record, name: str, *, required: bool):
    value = rec.text(name, required=required)
    if not value:
        return None
    found = category_by_code(value)
    if found is None:
        rec.error(name, "unknown_category", format_lazy(
            _("“{value}” is no active category; write kind-code, e.g. matter-06010."), value=value))
    return found


_CHOICE_VALUES: dict = {}


def _choice(rec: Record, name: str, choices, default: str) -> str:
    value = rec.text(name)
    if not value:
        return default
    allowed = _CHOICE_VALUES.get(choices)
    if allowed is None:
        allowed = _CHOICE_VALUES[choices] = frozenset(choices.values)
    if value not in allowed:
        rec.error(name, "invalid_choice", format_lazy(
            _("“{value}” is not one of: {choices}."), value=value, choices=", ".join(choices.values)))
        return default
    return value


def _region_code(rec: Record, name: str) -> str | None:
    value = rec.text(name)
    if not value:
        return None
    if not value.isdigit() or len(value) not in (6, 9, 12, 15):
        rec.error(name, "invalid_format", _("A region code has 6, 9, 12 or 15 digits."))
        return None
    return value


# --- csv: civicgrid's own columns ----------------------------------------------------------------

CSV_FIELDS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "外部编号"),
    "channel": ("channel", "渠道"),
    "title": ("title", "标题"),
    "description": ("description", "描述"),
    "category": ("category", "分类"),
    "request_type": ("request_type", "诉求类型"),
    "urgency": ("urgency", "紧急程度"),
    "lon": ("lon", "经度"),
    "lat": ("lat", "纬度"),
    "region_code": ("region_code", "区域代码"),
    "address": ("address", "地址"),
    "reporter_name": ("reporter_name", "上报人"),
    "reporter_phone": ("reporter_phone", "联系电话"),
    "reported_at": ("reported_at", "上报时间"),
}
CSV_COLUMNS = tuple(names[0] for names in CSV_FIELDS.values())


def parse_csv_row(record: dict) -> NormalizedReport:
    """One row of civicgrid's own CSV format → a report (not yet located)."""
    from civicgrid.cases.models import Channel, Urgency
    from civicgrid.taxonomy.models import RequestType

    rec = Record(record, CSV_FIELDS)
    external_id = _external_id(rec, "external_id")
    channel = _choice(rec, "channel", Channel, Channel.API)
    description = rec.text("description", max_length=MAX_DESCRIPTION)
    title = rec.text("title", max_length=200) or make_title(description)
    if not title and not rec.has_error("title"):
        rec.error("title", "required", _("Give a title or a description."))
    category = _category(rec, "category", required=False)
    request_type = _choice(rec, "request_type", RequestType, RequestType.FIELD_REPORT)
    urgency = _choice(rec, "urgency", Urgency, Urgency.NORMAL)
    lon, lat = point_fields(rec)
    region_code = _region_code(rec, "region_code")
    if lon is None and region_code is None and not any(
            rec.has_error(n) for n in ("lon", "lat", "region_code")):
        rec.error("lon", "required", _("Give lon and lat, or a region code."))
    address = rec.text("address", max_length=300)
    reporter_name = rec.text("reporter_name", max_length=100)
    reporter_phone = rec.text("reporter_phone", max_length=32)
    reported_at = moment_field(rec, "reported_at", required=False)
    rec.raise_errors()
    return NormalizedReport(
        channel=channel, title=title, external_id=external_id, description=description,
        request_type=request_type, urgency=urgency, category_id=category[0] if category else None,
        lon=lon, lat=lat, address=address, region_code=region_code if lon is None else None,
        reporter_name=reporter_name, reporter_phone=reporter_phone, reported_at=reported_at,
    )


# --- open311-csv: GeoReport v2 service requests ----------------------------------------------------

OPEN311_FIELDS: dict[str, tuple[str, ...]] = {
    "service_request_id": ("service_request_id",),
    "service_code": ("service_code",),
    "description": ("description",),
    "lat": ("lat",),
    "long": ("long",),
    "address": ("address", "address_string"),
    "requested_datetime": ("requested_datetime",),
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "phone": ("phone",),
    "email": ("email",),
    "media_url": ("media_url",),
}
OPEN311_COLUMNS = tuple(names[0] for names in OPEN311_FIELDS.values())


def parse_open311_row(record: dict) -> NormalizedReport:
    """One GeoReport v2 service request → a report on the ``open311`` channel (not yet located).
    As a request posted to our Open311 server: the title is the service's name and the reporter
    is last name + first name."""
    rec = Record(record, OPEN311_FIELDS)
    external_id = _external_id(rec, "service_request_id")
    category = _category(rec, "service_code", required=True)
    description = rec.text("description", max_length=MAX_DESCRIPTION)
    lon, lat = point_fields(rec, lon_name="long", lat_name="lat")
    if lon is None and not rec.has_error("long") and not rec.has_error("lat"):
        rec.error("lat", "required", _("Give lat and long."))
    address = rec.text("address", max_length=300)
    reported_at = moment_field(rec, "requested_datetime", required=False)
    name = f"{rec.text('last_name')}{rec.text('first_name')}"[:100]
    phone = rec.text("phone", max_length=32)
    extra = {k: v for k in ("email", "media_url") if (v := rec.text(k, max_length=1000))}
    rec.raise_errors()
    return NormalizedReport(
        channel="open311", title=category[1], external_id=external_id, description=description,
        category_id=category[0], lon=lon, lat=lat, address=address, reporter_name=name, reporter_phone=phone,
        reported_at=reported_at, extra=extra,
    )


# --- the registry of formats -----------------------------------------------------------------------


def _parse_12345(record: dict) -> NormalizedReport:
    from civicgrid.intake.hotline import parse_order

    return parse_order(record)


def _parse_szcg(record: dict) -> NormalizedReport:
    from civicgrid.intake.szcg import parse_case

    return parse_case(record)


PARSERS = {
    "12345": _parse_12345,
    "szcg": _parse_szcg,
    "open311-csv": parse_open311_row,
    "csv": parse_csv_row,
}
FORMATS = tuple(PARSERS)


def parse_row(fmt: str, record: dict) -> NormalizedReport:
    """The report of one row of format ``fmt``; ``RecordErrors`` with every problem otherwise."""
    try:
        return PARSERS[fmt](record)
    except RecordError as exc:
        raise RecordErrors([exc]) from None
