"""The Open311 GeoReport v2 server (https://wiki.open311.org/GeoReport_v2).

Plain Django views: each endpoint answers in the format of its suffix, XML (the spec's default) or
JSON with the same data. Errors are the spec's list of ``{code, description}`` with the HTTP status
as code: 403 for a missing or wrong ``api_key``, 404 for an unknown service, request, token or
jurisdiction, 400 for everything else (one entry per field problem, ``"field: message"``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.intake import actions, selectors

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = timedelta(days=90)
_CHILD = {
    "services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
    "endpoints": "endpoint", "formats": "format", "errors": "error",
}


class Open311Error(Exception):
    def __init__(self, status: int, descriptions: list[str]):
        self.status = status
        self.descriptions = descriptions


# --- rendering ----------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, tag: str, value) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, list):
        for item in value:
            _append(element, _CHILD.get(tag, "item"), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    else:
        element.text = _text(value)


def to_xml(root: str, data) -> bytes:
    element = ET.Element(root)
    items = data if isinstance(data, list) else None
    if items is not None:
        for item in items:
            _append(element, _CHILD[root], item)
    else:
        for key, value in data.items():
            _append(element, key, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _respond(fmt: str, root: str, data, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(json.dumps(data, ensure_ascii=False), status=status,
                            content_type="application/json; charset=utf-8")
    return HttpResponse(to_xml(root, data), status=status, content_type="text/xml; charset=utf-8")


def _w3c(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    return _respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status)


def _validation_descriptions(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {message}" for field, errors in exc.error_dict.items()
                for error in errors for message in error.messages]
    return [str(m) for m in exc.messages]


def open311_view(func):
    """Turn the domain's exceptions into the spec's error answers."""

    def wrapper(request, *args, fmt="xml", **kwargs):
        try:
            return func(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return _errors(fmt, exc.status, exc.descriptions)
        except Http404 as exc:
            return _errors(fmt, 404, [str(exc)])
        except ValidationError as exc:
            return _errors(fmt, 400, _validation_descriptions(exc))

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def service_data(category) -> dict:
    return {
        "service_code": selectors.service_code(category),
        "service_name": category.name,
        "description": category.description,
        "metadata": any(a for a in category.open311_attributes.all()),
        "type": "realtime",
        "keywords": ",".join(category.keyword_list),
        "group": category.major_name,
    }


def attribute_data(attribute) -> dict:
    data = {
        "variable": attribute.variable, "code": attribute.code, "datatype": attribute.datatype,
        "required": attribute.required, "datatype_description": attribute.datatype_description,
        "order": attribute.order, "description": attribute.description,
    }
    if attribute.values:
        data["values"] = [{"key": str(v["key"]), "name": str(v["name"])} for v in attribute.values]
    return data


def request_data(case) -> dict:
    is_open = case.state in OPEN_STATES
    lead = getattr(case, "lead_assignments", None)
    agency = lead[0].department.name if lead else (case.owner_centre.name if case.owner_centre_id else "")
    note = getattr(case, "state_note", "") or str(case.get_state_display())
    open311 = getattr(case, "open311", None)
    return {
        "service_request_id": case.number,
        "status": "open" if is_open else "closed",
        "status_notes": note,
        "service_name": case.category.name,
        "service_code": selectors.service_code(case.category),
        "description": case.description,
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": _w3c(case.reported_at),
        "updated_datetime": _w3c(case.updated_at),
        "expected_datetime": _w3c(case.due_at) if is_open else None,
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lon,
        "media_url": open311.media_url if open311 is not None else "",
    }


# --- views --------------------------------------------------------------------------------------


@require_GET
@open311_view
def discovery(request, fmt):
    changeset = selectors.public_services().aggregate(at=Max("updated_at"))["at"] or timezone.now()
    root = request.build_absolute_uri("/open311/v2")
    return _respond(fmt, "discovery", {
        "changeset": _w3c(changeset),
        "contact": str(_("Ask the platform's administrators (the command centre).")),
        "key_service": str(_("API keys are issued per client system by the platform's administrators.")),
        "endpoints": [{
            "specification": SPECIFICATION, "url": root, "changeset": _w3c(changeset), "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    })


@require_GET
@open311_view
def services(request, fmt):
    return _respond(fmt, "services", [service_data(c) for c in selectors.public_services()])


@require_GET
@open311_view
def service_definition(request, service_code, fmt):
    category = selectors.service_by_code(service_code)
    return _respond(fmt, "service_definition", {
        "service_code": selectors.service_code(category),
        "attributes": [attribute_data(a) for a in category.open311_attributes.all()],
    })


def _date(field: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = parse_datetime(value.strip().replace(" ", "+"))  # a raw "+" in a query string is a space
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({field: ValidationError(
            _("Give a W3C date and time like 2026-11-24T09:00:00+08:00."), code="invalid")})
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _list(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _window(params) -> tuple[datetime, datetime]:
    start, end = _date("start_date", params.get("start_date", "")), _date("end_date", params.get("end_date", ""))
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise ValidationError({"end_date": ValidationError(_("Must not be before start_date."), code="invalid")})
    if end - start > MAX_SPAN:
        raise ValidationError({"end_date": ValidationError(
            _("The range may not span more than 90 days."), code="too_long")})
    return start, end


def _get_requests(request, fmt):
    params = request.GET
    jurisdiction_id = params.get("jurisdiction_id")
    ids = _list(params.get("service_request_id", ""))
    if ids:  # the spec: ids override every other filter
        cases = selectors.requests_by_ids(ids, jurisdiction_id)
    else:
        statuses = _list(params.get("status", "").lower())
        bad = [s for s in statuses if s not in ("open", "closed")]
        if bad:
            raise ValidationError({"status": ValidationError(
                format_lazy(_("“{value}” is not open or closed."), value=bad[0]), code="invalid_choice")})
        start, end = _window(params)
        cases = selectors.requests_matching(
            start=start, end=end, service_codes=_list(params.get("service_code", "")), statuses=statuses,
            jurisdiction_id=jurisdiction_id,
        )
    return _respond(fmt, "service_requests", [request_data(c) for c in cases])


def _attributes(post) -> dict[str, list[str]]:
    """``attribute[code]=v`` and, for multi-value lists, ``attribute[code][]=v`` (repeated)."""
    out: dict[str, list[str]] = {}
    for key in post:
        if key.startswith("attribute[") and "]" in key:
            code = key[len("attribute["):key.index("]")]
            out.setdefault(code, []).extend(post.getlist(key))
    return out


def _post_request(request, fmt):
    post = request.POST
    client = selectors.client_for_key(post.get("api_key") or request.GET.get("api_key"))
    if client is None:
        raise Open311Error(403, [str(_("api_key: missing or invalid API key."))])
    if post.get("jurisdiction_id"):
        selectors.jurisdiction_prefix(post["jurisdiction_id"])
    fields = {f: post.get(f, "") for f in (
        "service_code", "lat", "long", "address_string", "description", "media_url", "email", "device_id",
        "account_id", "first_name", "last_name", "phone")}
    created = actions.create_request(client, attributes=_attributes(post), **fields)
    return _respond(fmt, "service_requests", [{
        "service_request_id": created.case.number,
        "token": created.token,
        "service_notice": "",
        "account_id": created.account_id,
    }], status=201)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@open311_view
def requests_(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt)


@require_GET
@open311_view
def request_detail(request, service_request_id, fmt):
    case = selectors.request_detail(service_request_id, request.GET.get("jurisdiction_id"))
    return _respond(fmt, "service_requests", [request_data(case)])


@require_GET
@open311_view
def token(request, token, fmt):
    found = selectors.request_for_token(token)
    return _respond(fmt, "service_requests", [{"service_request_id": found.case.number, "token": found.token}])
