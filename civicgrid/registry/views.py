"""The registry section of the grid worker's phone page (/grid/registry/): search a resident in
my grids, edit, record a household visit, list its needs / public-sentiment / resource items and
turn one into a case, and my visit hours against the two-hour norm. Personal data is shown
masked."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.core.fields import masked_value
from civicgrid.org.models import Role
from civicgrid.registry import actions, selectors
from civicgrid.registry.models import HouseUse, ItemKind, ItemState, ResidenceType
from civicgrid.web.dept.access import REFUSED, errors_of, staff_room

room = staff_room(Role.GRID_WORKER)
ITEM_SLOTS = 3


def _masked(resident) -> dict:
    return {"obj": resident, "name": masked_value(resident, "name"), "id_number": masked_value(resident, "id_number"),
            "phone": masked_value(resident, "phone"), "tags": [t.name for t in resident.care_tags.all()]}


@require_http_methods(["GET", "POST"])
@room
def index(request):
    # Searched by POST: an ID number or phone typed here never lands in a URL or an access log.
    q = request.POST.get("q", "").strip() if request.method == "POST" else ""
    found = list(selectors.search_residents(request.user, q)[:30]) if q else []
    hours = selectors.visit_hours(request.user, worker=request.user, days=7)
    return render(request, "registry/index.html", {
        "q": q, "found": [_masked(r) for r in found],
        "hours": list(reversed(hours)), "norm_hours": selectors.DAILY_VISIT_NORM_MINUTES / 60,
        "open_items": list(selectors.items_for(request.user, state=ItemState.OPEN)
                           .exclude(kind=ItemKind.RESOURCE)[:20]),
        "households": selectors.households_for(request.user).count(),
        "due": selectors.households_due_for_visit(request.user, limit=20),
    })


@require_http_methods(["GET", "POST"])
@room
def resident(request, pk):
    person = selectors.resident_for(request.user, pk)
    context = {"r": _masked(person), "errors": {}, "values": {}, "tags": selectors.care_tags(),
               "residence_types": ResidenceType.choices,
               "history": list(selectors.history_of(request.user, "resident", person)[:20])}
    if request.method == "POST":
        data = request.POST
        values = {"residence_type": data.get("residence_type", person.residence_type),
                  "relation": data.get("relation", ""), "care_tags": data.getlist("care_tags")}
        # Personal fields are shown masked: an empty box keeps the stored value.
        for field in ("name", "id_number", "phone"):
            if data.get(field, "").strip():
                values[field] = data[field]
        try:
            actions.update_resident(request.user, person, **values)
        except REFUSED as exc:
            context.update(errors=errors_of(exc), values=data)
            return render(request, "registry/resident.html", context, status=422)
        messages.success(request, _("Saved."))
        return redirect("web:registry:resident", pk=person.pk)
    return render(request, "registry/resident.html", context)


def _household_context(request, household, errors=None, values=None) -> dict:
    return {
        "household": household, "house": household.house, "address": household.house.address,
        "members": [_masked(m) for m in household.members.prefetch_related("care_tags")],
        "items": list(selectors.items_for(request.user, household=household)),
        "visits": list(selectors.visits_for(request.user).filter(household=household)[:10]),
        "kinds": ItemKind.choices, "slots": range(ITEM_SLOTS), "uses": HouseUse.choices,
        "errors": errors or {}, "values": values or {},
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }


@require_GET
@room
def household(request, pk):
    home = selectors.household_for(request.user, pk)
    return render(request, "registry/household.html", _household_context(request, home))


@require_POST
@room
def visit(request, pk):
    home = selectors.household_for(request.user, pk)
    data = request.POST
    try:
        started_at = parse_datetime(data.get("started_at", ""))
        if started_at is None:
            raise ValidationError({"started_at": ValidationError(_("Enter a valid date and time."), code="invalid")})
        items = [(data.get(f"kind_{i}", ""), data.get(f"text_{i}", "")) for i in range(ITEM_SLOTS)]
        actions.record_visit(request.user, household=home, started_at=started_at,
                             duration_minutes=data.get("duration_minutes"), notes=data.get("notes", ""), items=items)
    except REFUSED as exc:
        return render(request, "registry/household.html", _household_context(request, home, errors_of(exc), data),
                      status=422)
    messages.success(request, _("Visit recorded."))
    return redirect("web:registry:household", pk=home.pk)


@require_POST
@room
def house(request, pk):
    home = selectors.household_for(request.user, pk)
    try:
        actions.update_house(request.user, home.house, use=request.POST.get("use", ""),
                             is_rented=request.POST.get("is_rented") == "on")
    except REFUSED as exc:
        return render(request, "registry/household.html", _household_context(request, home, errors_of(exc)),
                      status=422)
    messages.success(request, _("Saved."))
    return redirect("web:registry:household", pk=home.pk)


@require_POST
@room
def item_case(request, pk):
    item = selectors.item_for(request.user, pk)
    try:
        item = actions.item_to_case(request.user, item)
    except REFUSED as exc:
        for message in errors_of(exc).get("general", []) or [str(_("This item cannot become a case."))]:
            messages.error(request, message)
        return redirect("web:registry:household", pk=item.household_id)
    messages.success(request, _("Case %(number)s reported.") % {"number": item.case.number})
    return redirect("web:registry:household", pk=item.household_id)


@require_POST
@room
def item_done(request, pk):
    item = selectors.item_for(request.user, pk)
    try:
        actions.close_item(request.user, item)
    except REFUSED as exc:
        for message in errors_of(exc).get("general", []):
            messages.error(request, message)
    return redirect("web:registry:household", pk=item.household_id)
