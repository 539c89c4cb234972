"""Writes of the intake app: client systems and their keys, service attributes, and requests made
through Open311 (which become cases through ``civicgrid.cases.actions.report_case``)."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.actions import report_case
from civicgrid.cases.models import Channel
from civicgrid.intake import selectors
from civicgrid.intake.models import ClientSystem, Open311Request, ServiceAttribute
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


def register_client(client: ClientSystem) -> str:
    """Save a new client system with a fresh API key; the key is returned once and never stored."""
    with transaction.atomic():
        raw = _new_key(client)
        client.full_clean(exclude=["key_prefix", "key_hash"])
        client.save(force_insert=True)
    return raw


def issue_client(name: str, *, region: Region | None = None, contact: str = "") -> tuple[ClientSystem, str]:
    client = ClientSystem(name=name, region=region, contact=contact)
    return client, register_client(client)


def rotate_key(client: ClientSystem) -> str:
    """A new key for ``client``; the old one stops working at once."""
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        raw = _new_key(locked)
        locked.save(update_fields=["key_prefix", "key_hash"])
    client.key_prefix, client.key_hash = locked.key_prefix, locked.key_hash
    return raw


def update_client(client: ClientSystem, *, name: str, region: Region | None, contact: str, is_active: bool) -> ClientSystem:
    with transaction.atomic():
        locked = ClientSystem.objects.select_for_update().get(pk=client.pk)
        locked.name, locked.region, locked.contact, locked.is_active = name, region, contact, is_active
        locked.full_clean(exclude=["key_prefix", "key_hash"])
        locked.save(update_fields=["name", "region", "contact", "is_active"])
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
