"""Sensor and video-analytics alarms (物联感知告警): the wire format and the rules that turn them
into reports.

An alarm names a device, an alarm type, a value and its threshold, a time and a place (a point, or
a region/grid code). The active :class:`AlarmRule` of the alarm type decides the category,
urgency and title, and whether the value must exceed the threshold. No images or persons are
part of the format: video analytics send only what they detected (illegal parking, exposed
garbage …), never faces or identities.

``parse_alarm`` turns one record into a :class:`NormalizedReport` (channel ``sensor``) or raises
:class:`RecordErrors` listing every problem; it writes nothing. Whether an alarm opens a case or
updates the device's open one is decided by ``civicgrid.intake.actions.receive_alarm``.
"""

from __future__ import annotations

import re
import string

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.intake.records import NormalizedReport
from civicgrid.intake.wire import Record, locate_point, memoised, moment_field, number_field, point_fields
from civicgrid.regions.models import Region

CHANNEL = "sensor"
FIELDS: dict[str, tuple[str, ...]] = {
    "device_id": ("device_id", "设备编号"),
    "alarm_type": ("alarm_type", "告警类型"),
    "alarm_id": ("alarm_id", "告警编号"),
    "value": ("value", "监测值"),
    "threshold": ("threshold", "阈值"),
    "alarm_time": ("alarm_time", "告警时间"),
    "lon": ("lon", "经度"),
    "lat": ("lat", "纬度"),
    "region_code": ("region_code", "区划代码", "grid_code", "单元网格码"),
    "address": ("address", "位置描述"),
    "description": ("description", "告警描述"),
}
DEVICE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-.:/]{0,99}$")
PLACEHOLDERS = frozenset({"name", "device_id", "value", "threshold", "unit"})


def template_fields(template: str) -> set[str]:
    """The placeholders of a title template (``ValueError`` for a malformed one)."""
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None}


def render_title(rule, *, device_id: str, value, threshold) -> str:
    def shown(number):
        if number is None:
            return ""
        return str(int(number)) if float(number).is_integer() else f"{number:g}"

    try:
        return rule.title_template.format(
            name=rule.name, device_id=device_id, value=shown(value), threshold=shown(threshold), unit=rule.unit)
    except (KeyError, IndexError, ValueError):
        return rule.name  # a template edited outside the admin's check: fall back to the rule's name


def rule_for(alarm_type: str):
    """The active rule of ``alarm_type`` with its category, or None."""
    from civicgrid.intake.models import AlarmRule

    return memoised(("alarm_rule", alarm_type), lambda: AlarmRule.objects.filter(
        alarm_type=alarm_type, is_active=True, category__is_active=True).select_related("category").first())


def parse_alarm(record: dict) -> NormalizedReport:
    """One alarm → a report on the ``sensor`` channel (``extra`` holds the device, type, value,
    threshold, alarm id and the rule's pk and repeat window); ``RecordErrors`` lists every problem."""
    rec = Record(record, FIELDS)
    device_id = rec.text("device_id", required=True, max_length=100)
    if device_id and not rec.has_error("device_id") and not DEVICE_ID.match(device_id):
        rec.error("device_id", "invalid", _("A device id has letters, digits, and - _ . : / only."))
    alarm_type = rec.text("alarm_type", required=True, max_length=50)
    rule = rule_for(alarm_type) if alarm_type and not rec.has_error("alarm_type") else None
    if alarm_type and rule is None and not rec.has_error("alarm_type"):
        rec.error("alarm_type", "unknown_alarm_type", format_lazy(
            _("No active rule handles alarms of type “{type}”."), type=alarm_type))
    alarm_id = rec.text("alarm_id", max_length=100)
    value = number_field(rec, "value")
    threshold = number_field(rec, "threshold")
    if rule is not None and rule.require_exceeding:
        for name, number in (("value", value), ("threshold", threshold)):
            if number is None and not rec.has_error(name):
                rec.error(name, "required", _("This alarm type needs a value and a threshold."))
        if value is not None and threshold is not None and value <= threshold:
            rec.error("value", "below_threshold", format_lazy(
                _("The value {value} does not exceed the threshold {threshold}."), value=value, threshold=threshold))
    at = moment_field(rec, "alarm_time", required=True)

    lon, lat = point_fields(rec)
    region_code = None
    raw_region = rec.text("region_code", max_length=15)
    if lon is not None:
        region_code = locate_point(rec, lon, lat)
    elif raw_region:
        if not raw_region.isdigit() or len(raw_region) not in (12, 15):
            rec.error("region_code", "invalid_format", _("A region code has 12 digits, a grid code 15."))
        elif not Region.objects.filter(code=raw_region).exists():
            rec.error("region_code", "unknown_region", format_lazy(_("Unknown region code {code}."), code=raw_region))
        else:
            region_code = raw_region
    elif not rec.has_error("lon") and not rec.has_error("lat"):
        rec.error("lon", "required", _("Give the place: longitude and latitude, or a region or grid code."))
    address = rec.text("address", max_length=300)
    description = rec.text("description", max_length=2000)
    rec.raise_errors()

    title = render_title(rule, device_id=device_id, value=value, threshold=threshold)
    extra = {
        "device_id": device_id, "alarm_type": alarm_type, "alarm_id": alarm_id, "value": value,
        "threshold": threshold, "unit": rule.unit, "rule": rule.pk, "repeat_window_minutes": rule.repeat_window_minutes,
    }
    return NormalizedReport(
        channel=CHANNEL, title=title[:200], external_id="", description=description or title,
        request_type="field_report", urgency=rule.urgency, category_id=rule.category_id, lon=lon, lat=lat,
        address=address, region_code=region_code, reporter_name=device_id, reported_at=at, extra=extra,
    )
