"""Citizen portal (/): report a problem without an account, get a receipt with a private tracking
link, follow the public steps of the case and rate its outcome. Also serves case photos to staff
who may see the case (there is no public media URL for them)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from civicgrid.cases import actions, selectors
from civicgrid.cases.models import Channel, Rating
from civicgrid.cases.workflow import State
from civicgrid.dedup import selectors as dedup_selectors
from civicgrid.regions.resolver import resolve_address
from civicgrid.regions.selectors import public_outlines
from civicgrid.taxonomy.selectors import categories_for_public, category_search

from ..dept.access import REFUSED, errors_of
from ..grid.views import map_config
from .forms import clean_contact, parse_point

# An address naming no more than a district is too vague to send anyone to.
MIN_ADDRESS_CONFIDENCE = 0.5
_RECEIPT_KEY = "civicgrid_receipt"


def _form_context(errors=None, values=None) -> dict:
    values = values or {}
    picked = None
    if str(values.get("category", "")).isdigit():
        picked = categories_for_public().filter(pk=values["category"]).first()
    return {
        "errors": errors or {}, "values": values, "picked": picked,
        "map_config": map_config(), "outlines": public_outlines(),
    }


@require_GET
def index(request):
    return render(request, "web/portal/index.html", _form_context())


@require_GET
def categories(request):
    """htmx: public categories matching the citizen's words."""
    q = request.GET.get("q", "")
    found = category_search(q, categories_for_public(), limit=8) if q.strip() else []
    return render(request, "web/portal/_categories.html", {"found": found, "q": q})


def _where(data) -> dict:
    """``lon``/``lat`` from the pin or the phone, else the region the address names."""
    lon, lat = parse_point(data.get("lon"), data.get("lat"))
    address = data.get("address", "").strip()
    if len(address) > 300:
        raise ValidationError({"address": ValidationError(_("Keep the address under 300 characters."),
                                                          code="max_length")})
    if lon is not None:
        return {"lon": lon, "lat": lat, "address": address}
    if not address:
        raise ValidationError({"location": ValidationError(
            _("Put a pin on the map, use your location, or type the address."), code="required")})
    resolution = resolve_address(address)
    if resolution.code is None or resolution.confidence < MIN_ADDRESS_CONFIDENCE or resolution.level in (
        "city", "district",
    ):
        raise ValidationError({"address": ValidationError(
            _("We could not find this address precisely enough; add the street or community, or put a "
              "pin on the map."), code="unresolved")})
    return {"region_code": resolution.code, "address": address}


@require_POST
def report(request):
    data = request.POST
    try:
        category = None
        if data.get("category"):
            category = categories_for_public().filter(pk=data["category"]).first() if data["category"].isdigit() else None
            if category is None:
                raise ValidationError({"category": ValidationError(_("Choose a category from the list."),
                                                                   code="invalid_choice")})
        description = data.get("description", "").strip()
        if category is None and not description:
            raise ValidationError({"what": ValidationError(
                _("Say what the problem is: pick a category or describe it."), code="required")})
        if len(description) > 2000:
            raise ValidationError({"description": ValidationError(
                _("Keep the description under 2000 characters."), code="max_length")})
        name, phone = clean_contact(data.get("name"), data.get("phone"))
        where = _where(data)
        title = category.name if category else description[:40]
        case, token = actions.report_citizen_case(
            photos=request.FILES.getlist("photos"), channel=Channel.WEB, title=title, category=category,
            description=description, reporter_name=name, reporter_phone=phone, **where,
        )
    except REFUSED as exc:
        errors = errors_of(exc)
        if "region_code" in errors:
            errors.setdefault("location", []).extend(errors.pop("region_code"))
        return render(request, "web/portal/index.html", _form_context(errors, data), status=422)
    # The token exists only here (its hash is stored): the receipt shows it from the session.
    request.session[_RECEIPT_KEY] = {"number": case.number, "token": token}
    return redirect("web:portal:receipt")


@never_cache
@require_GET
def receipt(request):
    data = request.session.get(_RECEIPT_KEY)
    if not data:
        return redirect("web:portal:index")
    link = request.build_absolute_uri(reverse("web:portal:track", args=[data["token"]]))
    return render(request, "web/portal/receipt.html", {"number": data["number"], "link": link,
                                                        "token": data["token"]})


_STEP_LABELS = {
    "report": _("Reported"),
    "file": _("Accepted"),
    "reject": _("Not accepted"),
    "merge": _("Merged with a report of the same problem"),
    "dispatch": _("Sent to the responsible department"),
    "sign_for": _("Being handled"),
    "report_result": _("Handled"),
    "suspend": _("Paused"),
    "resume": _("Handling resumed"),
    "verify": _("Checked on site and closed"),
    "rework": _("Sent back for more work"),
    "reopen": _("Reopened"),
    "cancel": _("Withdrawn"),
}


def _tracking_context(case, token, errors=None, values=None) -> dict:
    steps = selectors.public_progress(case)
    # A report merged into another case follows that case's progress and rating (duplicates).
    outcome = dedup_selectors.outcome_case(case)
    if outcome.pk != case.pk:
        since = dedup_selectors.merged_at(case)
        steps += [s for s in selectors.public_progress(outcome) if s["action"] != "report" and s["at"] >= since]
    for step in steps:
        step["label"] = _STEP_LABELS.get(step["action"], step["action"])
    rating = selectors.latest_rating(outcome)
    return {
        "case": case, "token": token, "steps": steps, "photos": list(selectors.public_photos(case)),
        "state_label": outcome.get_state_display(),
        "can_rate": outcome.state == State.CLOSED and rating is not None and rating.rated_at is None,
        "rating": rating if rating is not None and rating.rated_at is not None else None,
        "ratings": Rating.choices, "errors": errors or {}, "values": values or {},
    }


@never_cache
@require_GET
def track(request, token):
    case = selectors.case_by_tracking_token(token)
    response = render(request, "web/portal/track.html", _tracking_context(case, token))
    # The token is in the URL: keep it out of other sites' Referer headers.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
def rate(request, token):
    case = selectors.case_by_tracking_token(token)
    try:
        actions.rate_case_by_tracking(token, request.POST.get("rating", ""), request.POST.get("comment", ""))
    except REFUSED as exc:
        context = _tracking_context(case, token, errors_of(exc), request.POST)
        return render(request, "web/portal/track.html", context, status=422)
    return redirect("web:portal:track", token=token)


def _photo_response(attachment):
    try:
        response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    except FileNotFoundError:
        raise Http404 from None
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = "inline"
    return response


@require_GET
def track_photo(request, token, pk):
    case = selectors.case_by_tracking_token(token)
    response = _photo_response(selectors.public_photo(case, pk))
    response["Referrer-Policy"] = "same-origin"
    return response


@require_GET
@login_required
def attachment(request, pk):
    """A case photo for staff who may see the case (404 otherwise)."""
    return _photo_response(selectors.attachment_for(request.user, pk))
