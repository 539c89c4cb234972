"""Writes of the intake app: client systems and their keys, service attributes, and requests made
through Open311 (which become cases through ``civicgrid.cases.actions.report_case``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.actions import report_case
from civicgrid.cases.models import Case, CaseEvent, Channel
from civicgrid.cases.workflow import OPEN_STATES, Overlay
from civicgrid.intake import alarms, hotline, selectors, szcg
from civicgrid.intake.models import (
    Alarm,
    AlarmIncident,
    AlarmRule,
    ClientSystem,
    ExternalRecord,
    Open311Request,
    ServiceAttribute,
)
from civicgrid.intake.records import NormalizedReport, RecordErrors
from civicgrid.regions.models import Region, significant_prefix

MAX_DESCRIPTION = 4000  # GeoReport v2: description "may not exceed 4,000 characters"


def _error(field: str, message, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


# --- client systems -----------------------------------------------------------------------------


def _new_key(client: ClientSystem) -> str:
    raw = secrets.token_urlsafe(32)
    client.key_prefix = raw[:8]
    client.key_hash = selectors.hash_key(raw)
    return raw


def check_callback(client: ClientSystem) -> None:
    """A callback URL must be an http(s) URL (the webhook rules); one is given a signing secret."""
    from civicgrid.webhooks.actions import generate_secret
    from civicgrid.webhooks.transport import validate_webhook_url

    if not (client.callback_url or "").strip():
        client.callback_url = ""
        return
    try:
        client.callback_url = validate_webhook_url(client.callback_url)
    except ValidationError as exc:
        raise ValidationError({"callback_url": exc.error_dict["url"]}) from None
    if not client.callback_secret:
        client.callback_secret = generate_secret()


def register_client(client: ClientSystem) -> str:
    """Save a new client system with a fresh API key; the key is returned once and never stored.
    With a callback URL it also gets a signing secret (``client.callback_secret``, shown once)."""
    with transaction.atomic():
        raw = _new_key(client)
        check_callback(client)
        client.full_clean(exclude=["key_prefix", "key_hash", "callback_url"])
        client.save(force_insert=True)
    return raw


def issue_client(name: str, *, region: Region | None = None, contact: str = "",
                 callback_url: str = "") -> tuple[ClientSystem, str]:
    client = ClientSystem(name=name, region=region, contact=contact, callback_url=callback_url)
    return client, register_client(client)


def rotate_callback_secret(client: ClientSystem) -> str:
    """A new secret for signing callbacks to ``client``; callbacks sent from now on use it."""
    from civicgrid.webhooks.actions import generate_secret

    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        locked.callback_secret = client.callback_secret = generate_secret()
        locked.save(update_fields=["callback_secret"])
    return locked.callback_secret


def rotate_key(client: ClientSystem) -> str:
    """A new key for ``client``; the old one stops working at once."""
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        raw = _new_key(locked)
        locked.save(update_fields=["key_prefix", "key_hash"])
    client.key_prefix, client.key_hash = locked.key_prefix, locked.key_hash
    return raw


def update_client(client: ClientSystem, *, name: str, region: Region | None, contact: str, is_active: bool,
                  callback_url: str | None = None) -> ClientSystem:
    """Change a client system (``callback_url`` None: keep it). A first callback URL brings a
    signing secret (``.callback_secret`` of the returned client, to show once)."""
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        locked.name, locked.region, locked.contact, locked.is_active = name, region, contact, is_active
        if callback_url is not None:
            locked.callback_url = callback_url
        check_callback(locked)
        locked.full_clean(exclude=["key_prefix", "key_hash", "callback_url"])
        locked.save(update_fields=["name", "region", "contact", "is_active", "callback_url", "callback_secret"])
    return locked


# --- service attributes -------------------------------------------------------------------------


def check_attribute_values(datatype: str, values) -> None:
    """Choice types need ``values`` as a non-empty list of {key, name}; other types none."""
    choice = datatype in (ServiceAttribute.Datatype.SINGLE, ServiceAttribute.Datatype.MULTI)
    values = values or []
    well_formed = isinstance(values, list) and all(
        isinstance(v, dict) and str(v.get("key", "")).strip() and str(v.get("name", "")).strip() for v in values
    )
    if not well_formed:
        raise _error("values", _('Give a list of {"key": …, "name": …} objects.'), "invalid_values")
    if choice and not values:
        raise _error("values", _("A choice question needs at least one choice."), "required")
    if not choice and values:
        raise _error("values", _("Only choice questions have choices."), "unexpected_values")


def save_service_attribute(attribute: ServiceAttribute) -> ServiceAttribute:
    """Create or change an attribute."""
    check_attribute_values(attribute.datatype, attribute.values)
    with transaction.atomic():
        if attribute.pk:
            ServiceAttribute.objects.select_for_update().filter(pk=attribute.pk).first()
        attribute.full_clean()
        attribute.save()
    return attribute


def delete_service_attribute(attribute: ServiceAttribute) -> None:
    with transaction.atomic():
        ServiceAttribute.objects.filter(pk=attribute.pk).delete()


# --- requests -----------------------------------------------------------------------------------


def _coordinate(field: str, value: str, limit: int) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _error(field, _("Give a decimal number."), "invalid") from None
    if not -limit <= number <= limit:
        raise _error(field, format_lazy(_("Must lie between -{limit} and {limit}."), limit=limit), "out_of_range")
    return number


def _location(lat: str, long: str, address_string: str) -> tuple[float | None, float | None, str]:
    """(lat, lon, region code) from a point or, failing that, from the address text."""
    from civicgrid.regions.locator import locate
    from civicgrid.regions.resolver import resolve_address

    if lat or long:
        if not (lat and long):
            missing = "long" if lat else "lat"
            raise _error(missing, _("lat and long must be given together."), "required")
        lat_f, lon_f = _coordinate("lat", lat, 90), _coordinate("long", long, 180)
        location = locate(lon_f, lat_f)
        if location is None:
            raise _error("lat", _("No region of the platform contains this point."), "outside_regions")
        return lat_f, lon_f, location.code
    if address_string:
        resolution = resolve_address(address_string)
        if resolution.code is None:
            raise _error("address_string", _("This address names no region of the platform."), "unknown_address")
        return None, None, resolution.code
    raise _error("location", _("Give lat and long, or address_string."), "required")


def _attribute_values(category, given: dict[str, list[str]]) -> dict:
    defined = {a.code: a for a in category.open311_attributes.all() if a.variable}
    unknown = sorted(set(given) - set(defined))
    if unknown:
        raise _error(f"attribute[{unknown[0]}]", format_lazy(
            _("The service has no attribute “{code}”."), code=unknown[0]), "unknown_attribute")
    out: dict = {}
    for code, attribute in defined.items():
        field = f"attribute[{code}]"
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if attribute.required:
                raise _error(field, _("This attribute is required."), "required")
            continue
        kind = attribute.datatype
        if kind == ServiceAttribute.Datatype.MULTI:
            bad = [v for v in values if v not in attribute.value_keys]
            if bad:
                raise _error(field, format_lazy(_("“{value}” is not a valid choice."), value=bad[0]), "invalid_choice")
            out[code] = values
            continue
        if len(values) > 1:
            raise _error(field, _("Give one value."), "multiple_values")
        value = values[0]
        if kind == ServiceAttribute.Datatype.SINGLE and value not in attribute.value_keys:
            raise _error(field, format_lazy(_("“{value}” is not a valid choice."), value=value), "invalid_choice")
        if kind == ServiceAttribute.Datatype.NUMBER:
            try:
                Decimal(value)
            except InvalidOperation:
                raise _error(field, _("Give a number."), "invalid") from None
        if kind == ServiceAttribute.Datatype.DATETIME and parse_datetime(value) is None:
            raise _error(field, _("Give a date and time like 2026-11-24T09:00:00+08:00."), "invalid")
        out[code] = value
    return out


def create_request(
    client: ClientSystem, *, service_code: str, lat: str = "", long: str = "", address_string: str = "",
    attributes: dict[str, list[str]] | None = None, description: str = "", media_url: str = "",
    email: str = "", device_id: str = "", account_id: str = "", first_name: str = "", last_name: str = "",
    phone: str = "",
) -> Open311Request:
    """POST requests: a new case on the Open311 channel, reported in the client's name.

    Raises Http404 for an unknown service and ValidationError (field-level) for bad input."""
    if not service_code:
        raise _error("service_code", _("This field is required."), "required")
    category = selectors.service_by_code(service_code)
    lat_f, lon_f, region_code = _location(lat.strip(), long.strip(), address_string.strip())
    values = _attribute_values(category, attributes or {})
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise _error("description", format_lazy(
            _("At most {n} characters."), n=MAX_DESCRIPTION), "max_length")
    media_url = media_url.strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise _error("media_url", _("Give an http or https URL."), "invalid") from None
    email = email.strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            raise _error("email", _("Enter a valid email address."), "invalid") from None
    token = secrets.token_hex(16)
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update(of=("self",)).select_related("region").get(pk=client.pk)
        if not locked.is_active:
            raise _error("api_key", _("This client system is disabled."), "inactive")
        if locked.region is not None and not region_code.startswith(
                significant_prefix(locked.region.code, locked.region.level)):
            raise _error("location", _("This place lies outside the client system's jurisdiction."),
                         "outside_jurisdiction")
        case = report_case(
            channel=Channel.OPEN311, external_id=token, title=category.name, category=category,
            region_code=region_code, lon=lon_f, lat=lat_f, address=address_string.strip()[:300],
            description=description, reporter_name=f"{last_name.strip()}{first_name.strip()}"[:100],
            reporter_phone=phone.strip()[:32],
        )
        return Open311Request.objects.create(
            case=case, client=locked, token=token, media_url=media_url, attributes=values,
            account_id=account_id.strip()[:100], device_id=device_id.strip()[:100], email=email,
        )


# --- pushed records: 12345 work orders, 数字城管 cases, alarms --------------------------------------


@dataclass
class Received:
    """What became of one pushed record: the case, and whether this call created it (False: a
    retry of a record already received, or an alarm that updated the device's open case)."""

    case: Case
    created: bool
    repeat: bool = False
    alarm_count: int = 1


def _locked_client(client: ClientSystem, region_code: str | None) -> ClientSystem:
    """The client row, locked (so one client's records are taken in order), active, and allowed to
    report at ``region_code``."""
    locked = ClientSystem.objects.select_for_update(of=("self",)).select_related("region").get(pk=client.pk)
    if not locked.is_active:
        raise _error("api_key", _("This client system is disabled."), "inactive")
    if locked.region is not None and region_code and not region_code.startswith(
            significant_prefix(locked.region.code, locked.region.level)):
        raise _error("location", _("This place lies outside the client system's jurisdiction."),
                     "outside_jurisdiction")
    return locked


def _parse(parse, record: dict) -> NormalizedReport:
    try:
        return parse(record)
    except RecordErrors as exc:
        raise exc.as_validation_error() from None


def _case_of(report: NormalizedReport) -> Case | None:
    return Case.objects.filter(channel=report.channel, external_id=report.external_id).first()


def receive_record(client: ClientSystem | None, report: NormalizedReport) -> Received:
    """A parsed 12345 work order or 数字城管 case → its case, exactly once per (channel, external
    id): a retry answers with the case already made. The record (client, 办理时限, codes) is kept
    as an ``ExternalRecord``; the client hears about the case through its callback URL."""
    with transaction.atomic():
        if client is not None:
            client = _locked_client(client, report.region_code)
        existing = _case_of(report)
        case = existing or report_case(**report.as_report_kwargs())
        ExternalRecord.objects.get_or_create(
            channel=report.channel, external_id=report.external_id,
            defaults={"case": case, "client": client, "extra": report.extra},
        )
    return Received(case=case, created=existing is None)


def receive_order(client: ClientSystem, record: dict) -> Received:
    """A pushed 12345 work order (see ``civicgrid.intake.hotline``)."""
    return receive_record(client, _parse(hotline.parse_order, record))


def receive_szcg_case(client: ClientSystem, record: dict) -> Received:
    """A pushed 数字城管 case (see ``civicgrid.intake.szcg``)."""
    return receive_record(client, _parse(szcg.parse_case, record))


def _open_incident(device_id: str, rule_id: int, at, window: timedelta) -> AlarmIncident | None:
    return (
        AlarmIncident.objects.select_for_update(of=("self",)).select_related("case")
        .filter(device_id=device_id, rule_id=rule_id, case__state__in=sorted(OPEN_STATES), last_at__gte=at - window,
                first_at__lte=at + window)
        .order_by("-last_at", "-pk").first()
    )


def receive_alarm(client: ClientSystem, record: dict) -> Received:
    """An alarm (see ``civicgrid.intake.alarms``). Within the rule's repeat window after the
    device's last alarm, while that case is open, the alarm updates the case (a timeline event
    with the value, a counter) instead of opening another; after the window, or once the case is
    closed, it opens a new one. A resent alarm id changes nothing."""
    report = _parse(alarms.parse_alarm, record)
    extra = report.extra
    at = report.reported_at
    with transaction.atomic():
        client = _locked_client(client, report.region_code)
        if extra["alarm_id"]:
            seen = Alarm.objects.filter(device_id=extra["device_id"], alarm_id=extra["alarm_id"]).select_related(
                "incident__case").first()
            if seen is not None:
                return Received(case=seen.incident.case, created=False, repeat=True,
                                alarm_count=seen.incident.alarm_count)
        window = timedelta(minutes=extra["repeat_window_minutes"])
        incident = _open_incident(extra["device_id"], extra["rule"], at, window)
        if incident is not None:
            case = Case.objects.select_for_update().get(pk=incident.case_id)
            if case.state in OPEN_STATES:
                incident.alarm_count += 1
                incident.first_at, incident.last_at = min(incident.first_at, at), max(incident.last_at, at)
                incident.last_value = extra["value"]
                if extra["value"] is not None:
                    incident.max_value = max(v for v in (incident.max_value, extra["value"]) if v is not None)
                incident.save(update_fields=["alarm_count", "first_at", "last_at", "last_value", "max_value"])
                _alarm(incident, extra, at)
                CaseEvent.objects.create(
                    case=case, actor=None, action=Overlay.ALARM_REPEAT, from_state=case.state, to_state=case.state,
                    note=report.title, at=timezone.now(), data={
                        "device_id": extra["device_id"], "alarm_type": extra["alarm_type"], "value": extra["value"],
                        "threshold": extra["threshold"], "alarm_time": at.isoformat(), "count": incident.alarm_count,
                    },
                )
                return Received(case=case, created=False, repeat=True, alarm_count=incident.alarm_count)
        case = report_case(**{
            **report.as_report_kwargs(),
            "external_id": f"{extra['device_id']}@{extra['alarm_id'] or at.strftime('%Y%m%dT%H%M%S%z')}"[:100],
        })
        # A duplicate check may have merged the new report into an open case: repeats go there.
        target = case.parent if case.parent_id is not None else case
        incident = AlarmIncident.objects.create(
            device_id=extra["device_id"], rule_id=extra["rule"], case=target, client=client, first_at=at,
            last_at=at, last_value=extra["value"], max_value=extra["value"],
        )
        _alarm(incident, extra, at)
    return Received(case=case, created=True)


def _alarm(incident: AlarmIncident, extra: dict, at) -> Alarm:
    return Alarm.objects.create(
        incident=incident, alarm_id=extra["alarm_id"], device_id=extra["device_id"], alarm_type=extra["alarm_type"],
        value=extra["value"], threshold=extra["threshold"], at=at,
    )


# --- alarm rules --------------------------------------------------------------------------------


def check_alarm_rule(rule: AlarmRule) -> None:
    """A title template may use only the known placeholders (shared with the admin form)."""
    try:
        unknown = alarms.template_fields(rule.title_template or "") - alarms.PLACEHOLDERS
    except ValueError:
        raise _error("title_template", _("The template's braces do not match."), "invalid") from None
    if unknown or "" in alarms.template_fields(rule.title_template or ""):
        raise _error("title_template", format_lazy(
            _("Unknown placeholder {name}; use {{name}} {{device_id}} {{value}} {{threshold}} {{unit}}."),
            name=sorted(unknown or {"{}"})[0]), "unknown_placeholder")


def save_alarm_rule(rule: AlarmRule) -> AlarmRule:
    check_alarm_rule(rule)
    with transaction.atomic():
        if rule.pk:
            AlarmRule.objects.select_for_update().filter(pk=rule.pk).first()
        rule.full_clean()
        rule.save()
    return rule


# The rules a new installation starts with: (alarm type, name, category kind, code, urgency, title
# template, unit, repeat window in minutes, value must exceed threshold).
DEFAULT_ALARM_RULES = [
    ("water_level", "积水", "governance", "92004", "urgent",
     "{name}告警：{device_id} 水位 {value}{unit}（阈值 {threshold}{unit}）", "cm", 120, True),
    ("gas", "燃气泄漏", "governance", "92002", "urgent",
     "{name}告警：{device_id} 浓度 {value}{unit}（阈值 {threshold}{unit}）", "%LEL", 60, True),
    ("illegal_parking", "违停", "matter", "09009", "normal", "视频识别{name}：{device_id}", "", 30, False),
    ("garbage_exposed", "垃圾暴露", "matter", "06010", "normal", "视频识别{name}：{device_id}", "", 240, False),
]


def load_default_alarm_rules() -> dict[str, int]:
    """Create the default alarm rules whose categories exist; rules already there (perhaps edited
    in the admin) are left as they are. Returns {label: number of rules} for a summary."""
    from civicgrid.taxonomy.models import Category

    with transaction.atomic():
        for alarm_type, name, kind, code, urgency, template, unit, window, exceed in DEFAULT_ALARM_RULES:
            category = Category.objects.filter(kind=kind, code=code).first()
            if category is None or AlarmRule.objects.filter(alarm_type=alarm_type).exists():
                continue
            save_alarm_rule(AlarmRule(
                alarm_type=alarm_type, name=name, category=category, urgency=urgency, title_template=template,
                unit=unit, repeat_window_minutes=window, require_exceeding=exceed,
            ))
    return {str(AlarmRule._meta.verbose_name_plural): AlarmRule.objects.count()}
