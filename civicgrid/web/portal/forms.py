"""Input checks of the citizen portal (and the grid page's point): types and lengths only; every
rule about cases lives in the actions."""

import math

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.core.identifiers import normalize_mobile


def parse_point(lon, lat) -> tuple[float | None, float | None]:
    """A WGS-84 point from form text, ``(None, None)`` when both are empty."""
    if not (lon or "").strip() and not (lat or "").strip():
        return None, None
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        x = y = math.nan
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise ValidationError({"location": ValidationError(_("This is not a valid position."), code="invalid")})
    return x, y


def clean_contact(name: str, phone: str) -> tuple[str, str]:
    """Optional contact: a name of at most 50 characters and a mainland mobile number."""
    name, phone = (name or "").strip(), (phone or "").strip()
    errors = {}
    if len(name) > 50:
        errors["name"] = ValidationError(_("Keep the name under 50 characters."), code="max_length")
    if phone:
        try:
            phone = normalize_mobile(phone)
        except ValidationError as exc:
            errors["phone"] = exc
    if errors:
        raise ValidationError(errors)
    return name, phone
