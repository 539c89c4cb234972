"""12345 hotline work orders (12345 热线工单): the wire format, its validation and files of orders.

A work order arrives pushed as JSON (``POST /api/v1/intake/12345/orders``) or in a file (CSV or
Excel). Either way each order is a flat record whose fields may be named by the Chinese column
headers the hotline systems export (工单编号, 来电时间 …) or by the documented ASCII keys
(``order_no``, ``called_at`` …); see ``FIELDS`` and ``docs/exchange-formats.md``.

``parse_order`` turns one record into a :class:`NormalizedReport` (channel ``hotline_12345``,
external id = 工单编号) or raises :class:`RecordErrors` with every problem of the record. It
writes nothing, so the bulk importer and the push endpoint share it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.core.identifiers import normalize_mobile
from civicgrid.intake.records import NormalizedReport, RecordError, RecordErrors
from civicgrid.intake.wire import (
    Record,
    locate_point,
    make_title,
    moment_field,
    parse_moment,
    point_fields,
    resolve_address_field,
)

CHANNEL = "hotline_12345"
MAX_CONTENT = 4000

# field → (ASCII key, Chinese header, other accepted names)
FIELDS: dict[str, tuple[str, ...]] = {
    "order_no": ("order_no", "工单编号", "工单号"),
    "called_at": ("called_at", "来电时间", "受理时间"),
    "request_type": ("request_type", "诉求类型"),
    "content": ("content", "诉求内容"),
    "address": ("address", "诉求地址"),
    "contact_name": ("contact_name", "联系人"),
    "contact_phone": ("contact_phone", "联系电话"),
    "urgency": ("urgency", "紧急程度"),
    "time_limit": ("time_limit", "办理时限"),
    "source": ("source", "来源"),
    "title": ("title", "标题"),
    "lon": ("lon", "经度"),
    "lat": ("lat", "纬度"),
}
# The columns of a file of orders, in the order a template lists them.
COLUMNS = ("工单编号", "来电时间", "诉求类型", "诉求内容", "诉求地址", "联系人", "联系电话", "紧急程度",
           "办理时限", "来源")

# 诉求类型 → our request type (the English values are accepted too).
REQUEST_TYPES = {
    "咨询": "consultation", "求助": "help", "投诉": "complaint", "举报": "report", "建议": "suggestion",
}
# 紧急程度 → our urgency.
URGENCIES = {
    "一般": "normal", "普通": "normal", "正常": "normal", "紧急": "urgent", "加急": "urgent", "特急": "urgent",
    "特别紧急": "urgent", "normal": "normal", "urgent": "urgent",
}
ORDER_NO = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-./]{0,63}$")
# Landline with area code: 0592-1234567, 05921234567, (0592)1234567, or a short service number.
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}(\d{1,5})?$")
# 办理时限 as an amount: "5个工作日", "3工作日", "2天", "24小时", "4 working hours" …
TIME_LIMIT = re.compile(
    r"^(?P<amount>\d+(?:\.\d+)?)\s*(?:个)?\s*(?P<unit>工作日|自然日|天|日|工作小时|小时|working days?|days?|"
    r"working hours?|hours?|h|d)$",
    re.IGNORECASE,
)
_UNITS = {
    "工作日": "working_days", "working day": "working_days", "working days": "working_days",
    "自然日": "days", "天": "days", "日": "days", "day": "days", "days": "days", "d": "days",
    "工作小时": "working_hours", "working hour": "working_hours", "working hours": "working_hours",
    "小时": "hours", "hour": "hours", "hours": "hours", "h": "hours",
}


def _phone(rec: Record) -> str:
    raw = rec.text("contact_phone", max_length=32)
    if not raw or rec.has_error("contact_phone"):
        return ""
    compact = re.sub(r"[\s\-()（）]", "", raw)
    if compact.startswith("0") and not compact.startswith("00") and LANDLINE.match(compact):
        return compact
    try:
        return normalize_mobile(raw)
    except ValidationError as exc:
        rec.error("contact_phone", exc.code or "invalid", _(
            "Give a mainland mobile number (11 digits, starting with 13 to 19) or a landline with its "
            "area code, e.g. 0592-1234567."))
        return ""


def parse_time_limit(value) -> dict | None:
    """办理时限 as sent: a deadline (date/time) or an amount with a unit. ``{"text", "deadline"}``
    or ``{"text", "amount", "unit"}``; None when it cannot be read."""
    text = str(value).strip()
    match = TIME_LIMIT.match(text)
    if match:
        unit = _UNITS[match["unit"].lower()]
        return {"text": text, "amount": str(Decimal(match["amount"]).normalize()), "unit": unit}
    moment = parse_moment(value) if not re.fullmatch(r"\d+", text) else None
    if moment is not None:
        return {"text": text if not isinstance(value, datetime) else moment.isoformat(), "deadline": moment.isoformat()}
    return None


def parse_order(record: dict) -> NormalizedReport:
    """One 12345 work order → a report on the ``hotline_12345`` channel; ``RecordErrors`` lists
    every problem of the record (field = the name the record used, stable code, message)."""
    rec = Record(record, FIELDS)
    order_no = rec.text("order_no", required=True, max_length=64)
    if order_no and not rec.has_error("order_no") and not ORDER_NO.match(order_no):
        rec.error("order_no", "invalid", _("A work order number has letters, digits, and - _ . / only."))
    called_at = moment_field(rec, "called_at", required=True)

    request_type = ""
    raw_type = rec.text("request_type", required=True)
    if raw_type:
        request_type = REQUEST_TYPES.get(raw_type) or (raw_type if raw_type in REQUEST_TYPES.values() else "")
        if not request_type:
            rec.error("request_type", "invalid_choice", format_lazy(
                _("“{value}” is not a request type (咨询, 求助, 投诉, 举报 or 建议)."), value=raw_type))

    content = rec.text("content", required=True, max_length=MAX_CONTENT)
    address = rec.text("address", max_length=300)
    name = rec.text("contact_name", max_length=100)
    phone = _phone(rec)

    urgency = "normal"
    raw_urgency = rec.text("urgency")
    if raw_urgency:
        urgency = URGENCIES.get(raw_urgency.lower(), "")
        if not urgency:
            rec.error("urgency", "invalid_choice", format_lazy(
                _("“{value}” is not an urgency (一般 or 紧急)."), value=raw_urgency))

    extra: dict = {"order_no": order_no}
    raw_limit = rec.value("time_limit")
    if raw_limit is not None and str(raw_limit).strip():
        limit = parse_time_limit(raw_limit)
        if limit is None:
            rec.error("time_limit", "invalid", _(
                "Give the time limit as a deadline (2026-11-30 18:00) or an amount such as 5个工作日 or 24小时."))
        else:
            extra["time_limit"] = limit
    source = rec.text("source", max_length=50)
    if source:
        extra["source"] = source

    lon, lat = point_fields(rec)
    region_code = None
    if lon is not None:
        region_code = locate_point(rec, lon, lat)
    elif address:
        region_code = resolve_address_field(rec, "address", address)
    elif not rec.has_error("lon") and not rec.has_error("lat"):
        rec.error("address", "required", _("Give the address of the request (or its longitude and latitude)."))

    title = rec.text("title", max_length=200) or make_title(content)
    rec.raise_errors()
    return NormalizedReport(
        channel=CHANNEL, title=title, external_id=order_no, description=content, request_type=request_type,
        urgency=urgency, lon=lon, lat=lat, address=address, region_code=region_code, reporter_name=name,
        reporter_phone=phone, reported_at=called_at, extra=extra,
    )


# --- files of orders ----------------------------------------------------------------------------


def _clean_header(value) -> str:
    return str(value or "").strip().lstrip("\ufeff").strip()


def _rows_from_csv(path: Path) -> Iterator[tuple[int, dict]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RecordErrors([RecordError("file", "invalid_encoding", _("The file is neither UTF-8 nor GB18030 text."))])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    keys = [_clean_header(h) for h in header]
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        yield number, {k: v for k, v in zip(keys, row, strict=False) if k}


def _rows_from_xlsx(path: Path) -> Iterator[tuple[int, dict]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        keys = [_clean_header(h) for h in header]
        for number, row in enumerate(rows, start=2):
            if all(cell is None or str(cell).strip() == "" for cell in row):
                continue
            yield number, {k: v for k, v in zip(keys, row, strict=False) if k}
    finally:
        workbook.close()


def read_orders(path) -> Iterator[tuple[int, dict]]:
    """(row number in the file, record) for every non-empty row of a CSV (UTF-8 or GB18030) or
    Excel .xlsx file of work orders whose first row holds the column headers. Row numbers count
    the header as row 1, as a spreadsheet shows them."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        yield from _rows_from_xlsx(path)
    else:
        yield from _rows_from_csv(path)
