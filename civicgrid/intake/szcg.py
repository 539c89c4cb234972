"""数字城管 (digital city management) cases: the wire format and its codes.

A 数字城管 case names what is wrong by one of two GB/T 47678.5 codes and where by a unit grid code
(GB/T 30428.1):

* 事项代码 (matter code), 11 digits: 6-digit county code + 5-digit matter category
  (2-digit 大类 + 3-digit 小类), e.g. ``35021106010``.
* 部件标识码 (component id), 17 digits: 6-digit county code + 5-digit component category + 6-digit
  sequence number of the component, e.g. ``35021101001000123``.
* 单元网格码 (unit grid code), 15 digits: 6 county + 3 street/town + 3 community + 3 grid sequence.

Neither standard defines a check digit for these codes, so the checks are structural: digits and
length, a county (not a city) code, non-zero segments, a category code the standard lists for
that kind, a category this platform has, a grid inside the same county, and a grid we know.

``parse_case`` turns one record into a :class:`NormalizedReport` (channel ``digital_city``,
external id = 案卷编号) or raises :class:`RecordErrors` listing every problem; it writes nothing.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.intake.records import NormalizedReport
from civicgrid.intake.wire import Record, memoised, moment_field, point_fields, region_at
from civicgrid.regions.generation import CachedIndex
from civicgrid.regions.models import Region
from civicgrid.taxonomy.actions import DIRECTORY_CSV

CHANNEL = "digital_city"
MATTER_CODE_LENGTH = 11
COMPONENT_ID_LENGTH = 17
GRID_CODE_LENGTH = 15

FIELDS: dict[str, tuple[str, ...]] = {
    "case_no": ("case_no", "案卷编号", "案卷号"),
    "matter_code": ("matter_code", "事项代码"),
    "component_id": ("component_id", "部件标识码"),
    "grid_code": ("grid_code", "单元网格码", "网格码"),
    "description": ("description", "问题描述"),
    "address": ("address", "位置描述", "地址"),
    "reported_at": ("reported_at", "上报时间"),
    "reporter": ("reporter", "上报人", "监督员"),
    "urgency": ("urgency", "紧急程度"),
    "source": ("source", "信息来源", "来源"),
    "lon": ("lon", "经度"),
    "lat": ("lat", "纬度"),
}
COLUMNS = ("案卷编号", "事项代码", "部件标识码", "单元网格码", "问题描述", "位置描述", "上报时间", "上报人",
           "紧急程度", "信息来源", "经度", "纬度")
URGENCIES = {"一般": "normal", "普通": "normal", "紧急": "urgent", "特急": "urgent", "normal": "normal",
             "urgent": "urgent"}
CASE_NO = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-./]{0,63}$")
_KINDS = {"部件": "component", "事项": "matter"}


@lru_cache(maxsize=1)
def standard_directory() -> frozenset[tuple[str, str]]:
    """(kind, 5-digit code) of every category in GB/T 47678.5 (the project's copy of the table)."""
    with open(DIRECTORY_CSV, encoding="utf-8-sig", newline="") as handle:
        return frozenset((_KINDS[row["kind"].strip()], row["code"].strip()) for row in csv.DictReader(handle))


def _region_codes() -> dict[str, frozenset[str]]:
    rows = Region.objects.filter(level__in=[Region.Level.DISTRICT, Region.Level.GRID]).values_list("code", "level")
    districts, grids = set(), set()
    for code, level in rows.iterator(chunk_size=5000):
        (grids if level == Region.Level.GRID else districts).add(code if level == Region.Level.GRID else code[:6])
    return {"districts": frozenset(districts), "grids": frozenset(grids)}


_regions = CachedIndex(_region_codes)


def category_for(kind: str, code: str):
    """(pk, name) of this platform's active category (kind, code), or None."""
    from civicgrid.taxonomy.models import Category

    return memoised(("category", kind, code), lambda: Category.objects.filter(
        kind=kind, code=code, is_active=True).values_list("pk", "name").first())


def _digits(rec: Record, name: str, value: str, length: int, what) -> bool:
    if not value.isdigit():
        rec.error(name, "invalid_format", format_lazy(_("{what} consists of digits only."), what=what))
        return False
    if len(value) != length:
        rec.error(name, "invalid_length", format_lazy(
            _("{what} has {n} digits; this one has {length}."), what=what, n=length, length=len(value)))
        return False
    return True


def _county(rec: Record, name: str, county: str, districts: frozenset[str]) -> bool:
    if county[4:6] == "00":
        rec.error(name, "invalid_structure", format_lazy(
            _("Digits 1–6 must be a county code; {county} is a city or province code."), county=county))
        return False
    if county not in districts:
        rec.error(name, "unknown_division", format_lazy(
            _("County {county} is not a district of this platform."), county=county))
        return False
    return True


def check_item_code(rec: Record, name: str, value: str, kind: str, districts: frozenset[str]):
    """Validate a 事项代码 (kind ``matter``) or 部件标识码 (``component``): (county, category pk,
    category name) or None after recording the errors."""
    length = MATTER_CODE_LENGTH if kind == "matter" else COMPONENT_ID_LENGTH
    what = _("A matter code (事项代码)") if kind == "matter" else _("A component id (部件标识码)")
    if not _digits(rec, name, value, length, what):
        return None
    county, category_code = value[:6], value[6:11]
    ok = _county(rec, name, county, districts)
    if kind == "component" and value[11:] == "000000":
        rec.error(name, "invalid_structure", _("Digits 12–17 (the component's sequence number) cannot be 000000."))
        ok = False
    if (kind, category_code) not in standard_directory():
        rec.error(name, "unknown_code", format_lazy(
            _("{code} is not a {kind} category of GB/T 47678.5."), code=category_code,
            kind=_("matter") if kind == "matter" else _("component")))
        return None
    category = category_for(kind, category_code)
    if category is None:
        rec.error(name, "category_not_available", format_lazy(
            _("Category {code} of GB/T 47678.5 is not handled on this platform."), code=category_code))
        return None
    return (county, *category) if ok else None


def check_grid_code(rec: Record, name: str, value: str, county: str | None, grids: frozenset[str]) -> str | None:
    if not _digits(rec, name, value, GRID_CODE_LENGTH, _("A unit grid code (单元网格码)")):
        return None
    if value[4:6] == "00" or "000" in (value[6:9], value[9:12], value[12:15]):
        rec.error(name, "invalid_structure", _(
            "A unit grid code is a county code followed by non-zero street, community and grid numbers "
            "(3 digits each)."))
        return None
    if county is not None and value[:6] != county:
        rec.error(name, "grid_mismatch", format_lazy(
            _("The grid lies in county {grid_county}, the code names county {county}."),
            grid_county=value[:6], county=county))
        return None
    if value not in grids:
        rec.error(name, "unknown_grid", format_lazy(_("Grid {code} is not a grid of this platform."), code=value))
        return None
    return value


def parse_case(record: dict) -> NormalizedReport:
    """One 数字城管 case → a report on the ``digital_city`` channel; ``RecordErrors`` lists every
    problem of the record."""
    rec = Record(record, FIELDS)
    regions = memoised(("szcg_regions",), _regions.get)
    case_no = rec.text("case_no", required=True, max_length=64)
    if case_no and not rec.has_error("case_no") and not CASE_NO.match(case_no):
        rec.error("case_no", "invalid", _("A case number has letters, digits, and - _ . / only."))
    matter = rec.text("matter_code")
    component = rec.text("component_id")
    checked = None
    if matter and component:
        rec.error("component_id", "both_codes", _("Give either a matter code (事项代码) or a component id (部件标识码), not both."))
    elif matter:
        checked = check_item_code(rec, "matter_code", matter, "matter", regions["districts"])
    elif component:
        checked = check_item_code(rec, "component_id", component, "component", regions["districts"])
    else:
        rec.error("matter_code", "required", _("Give a matter code (事项代码) or a component id (部件标识码)."))
    # The grid must lie in the code's county, when that county itself is good.
    item = matter or component
    item_county = item[:6] if item.isdigit() and item[:6] in regions["districts"] else None
    grid = rec.text("grid_code", required=True)
    grid_code = check_grid_code(rec, "grid_code", grid, item_county, regions["grids"]) if grid else None

    description = rec.text("description", max_length=4000)
    address = rec.text("address", max_length=300)
    reported_at = moment_field(rec, "reported_at", required=True)
    reporter = rec.text("reporter", max_length=100)
    urgency = "normal"
    raw_urgency = rec.text("urgency")
    if raw_urgency:
        urgency = URGENCIES.get(raw_urgency.lower(), "")
        if not urgency:
            rec.error("urgency", "invalid_choice", format_lazy(
                _("“{value}” is not an urgency (一般 or 紧急)."), value=raw_urgency))
    lon, lat = point_fields(rec)
    if lon is not None and grid_code is not None:
        # The point must agree with the grid when the grid has a mapped boundary.
        located = region_at(lon, lat)
        if located is not None and len(located) == GRID_CODE_LENGTH and located != grid_code:
            rec.error("lon", "grid_mismatch", format_lazy(
                _("The point lies in grid {located}, not in grid {grid}."), located=located, grid=grid_code))
    source = rec.text("source", max_length=50)
    rec.raise_errors()

    _county_code, category_id, category_name = checked
    extra = {"case_no": case_no, "grid_code": grid_code}
    if matter:
        extra["matter_code"] = matter
    else:
        extra["component_id"] = component
    if source:
        extra["source"] = source
    title = category_name if not address else f"{category_name} · {address}"
    return NormalizedReport(
        channel=CHANNEL, title=title[:200], external_id=case_no, description=description,
        request_type="field_report", urgency=urgency, category_id=category_id, lon=lon, lat=lat, address=address,
        region_code=grid_code, reporter_name=reporter, reported_at=reported_at, extra=extra,
    )
