"""Grid worker page (/grid/), a phone in the street: report what you see in a few taps (category
by everyday words, the phone's position, a photo) and verify resolved cases in your grids."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.cases import actions, selectors
from civicgrid.cases.models import Channel
from civicgrid.org.models import Role
from civicgrid.regions.selectors import regions_for_user
from civicgrid.taxonomy.selectors import categories_for, category_search

from ..dept.access import REFUSED, errors_of, staff_room
from ..portal.forms import parse_point

room = staff_room(Role.GRID_WORKER)


def map_config() -> dict:
    """Map settings for the pages: an optional intranet tile URL, the default centre."""
    return {
        "tiles": getattr(settings, "CIVICGRID_MAP_TILE_URL", ""),
        "attribution": getattr(settings, "CIVICGRID_MAP_TILE_ATTRIBUTION", ""),
        "center": list(getattr(settings, "CIVICGRID_MAP_CENTER", (24.5795, 118.0975))),
        "zoom": int(getattr(settings, "CIVICGRID_MAP_ZOOM", 13)),
    }


def _my_grids(user) -> dict:
    features = [
        {"type": "Feature", "geometry": r.geometry, "properties": {"code": r.code, "name": r.name}}
        for r in regions_for_user(user, level="grid") if r.geometry
    ]
    return {"type": "FeatureCollection", "features": features}


def _index_context(request, errors=None, values=None) -> dict:
    return {
        "to_verify": list(selectors.verification_tasks_for(request.user)[:50]),
        "errors": errors or {}, "values": values or {},
        "map_config": map_config(), "outlines": _my_grids(request.user),
        "picked": _picked(request, (values or {}).get("category")),
    }


def _picked(request, pk):
    if not pk:
        return None
    return categories_for(request.user).filter(pk=pk).first() if str(pk).isdigit() else None


@require_GET
@room
def index(request):
    return render(request, "web/grid/index.html", _index_context(request))


@require_GET
@room
def categories(request):
    """htmx: categories matching everyday words (staff see every active category)."""
    q = request.GET.get("q", "")
    found = category_search(q, categories_for(request.user), limit=8) if q.strip() else []
    return render(request, "web/portal/_categories.html", {"found": found, "q": q})


@require_POST
@room
def report(request):
    data = request.POST
    try:
        category = _picked(request, data.get("category"))
        lon, lat = parse_point(data.get("lon"), data.get("lat"))
        missing = {}
        if category is None:
            missing["category"] = ValidationError(_("Choose what it is."), code="required")
        if lon is None:
            missing["location"] = ValidationError(
                _("Take the phone's location or put the pin on the map."), code="required")
        if missing:
            raise ValidationError(missing)
        description = data.get("description", "").strip()
        case = actions.report_case_with_photos(
            photos=request.FILES.getlist("photos"), channel=Channel.GRID_PATROL, actor=request.user,
            title=category.name, category=category, description=description, lon=lon, lat=lat,
            address=data.get("address", "").strip()[:300],
        )
    except REFUSED as exc:
        errors = errors_of(exc)
        if "region_code" in errors:
            errors.setdefault("location", []).extend(errors.pop("region_code"))
        return render(request, "web/grid/index.html", _index_context(request, errors, data), status=422)
    messages.success(request, _("Reported: case %(number)s.") % {"number": case.number})
    return redirect("web:grid:index")


@require_http_methods(["GET", "POST"])
@room
def verify(request, pk):
    case = selectors.verification_case_for(request.user, pk)
    context = {
        "case": case, "errors": {}, "values": {},
        "photos": list(selectors.attachments_of(case)),
        "assignments": list(selectors.assignments_of(case).filter(result__gt="")),
        "map_config": map_config(),
    }
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        try:
            if outcome not in ("pass", "fail"):
                raise ValidationError({"outcome": ValidationError(_("Choose passed or not passed."),
                                                                  code="required")})
            actions.verify_case_with_photos(case, outcome == "pass", request.user,
                                            request.POST.get("note", ""), photos=request.FILES.getlist("photos"))
        except REFUSED as exc:
            context.update(errors=errors_of(exc), values=request.POST)
            return render(request, "web/grid/verify.html", context, status=422)
        messages.success(request, _("Verified: case closed.") if outcome == "pass"
                         else _("Sent back for rework."))
        return redirect("web:grid:index")
    return render(request, "web/grid/verify.html", context)
