"""The command-centre console (指挥中心工作台): live queue, case view with every action the
dispatcher may take, map and leader dashboard. Views parse input, call selectors and actions,
and render; they hold no rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from civicgrid.analytics import selectors as figures
from civicgrid.cases import actions, selectors
from civicgrid.cases.models import RequestKind, RequestState
from civicgrid.cases.workflow import OPEN_STATES, Action, State
from civicgrid.core.api import DomainError
from civicgrid.core.selectors import calendar_warnings
from civicgrid.org.models import Role
from civicgrid.org.permissions import has_permission
from civicgrid.org.selectors import department_names
from civicgrid.regions.models import Region
from civicgrid.regions.selectors import level_geojson_for_user, region_for_user, regions_for_user
from civicgrid.taxonomy.selectors import categories_for
from civicgrid.web.console import forms
from civicgrid.web.console.pii import reporter_context

CENTRE_ROLES = frozenset({Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR})
QUEUE_LIMIT = 100
POLL_SECONDS = 4


def centre_staff(view):
    """Logged-in staff of a command centre (dispatchers, leaders, administrators) only: others
    are sent to log in, or get 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or user.role in CENTRE_ROLES):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


# --- the queue ----------------------------------------------------------------------------------

TAB_LABELS = {
    "open": _("All open"),
    "reported": _("To file"),  # 待立案
    "filed": _("To dispatch"),  # 待派遣
    "handling": _("Being handled"),  # 处置中
    "resolved": _("To verify"),  # 待核查
    "closed": _("Closed"),  # 已结案
    "ended": _("Rejected, merged, cancelled"),
}


def _filter_form(request):
    regions = regions_for_user(request.user).filter(level__in=[Region.Level.DISTRICT, Region.Level.STREET])
    return forms.QueueFilterForm(
        request.GET or None, categories=categories_for(request.user).only("pk", "name"),
        regions=regions.select_related(None).only("code", "name", "level"),
    )


def _queue_context(request) -> dict:
    form = _filter_form(request)
    filters = form.filters() if request.GET else {}
    tab = request.GET.get("tab") or "open"
    if tab not in selectors.QUEUE_TABS:
        tab = "open"
    counts = selectors.queue_tab_counts(request.user, **filters)
    rows = list(selectors.queue_for(request.user, tab, **filters)[:QUEUE_LIMIT])
    query = request.GET.copy()
    query.pop("tab", None)
    return {
        "form": form, "tab": tab, "rows": rows, "total": counts.get(tab, 0), "limit": QUEUE_LIMIT,
        "tabs": [{"key": k, "label": TAB_LABELS[k], "count": counts.get(k, 0)} for k in selectors.QUEUE_TABS],
        "query": query.urlencode(), "poll_seconds": POLL_SECONDS, "nav": "queue",
    }


@require_GET
@centre_staff
def queue(request):
    """The live queue (受理队列)."""
    return render(request, "web/console/queue.html", _queue_context(request))


@require_GET
@centre_staff
def queue_rows(request):
    """The polled partial: tab counts and rows."""
    return render(request, "web/console/_queue.html", _queue_context(request))


# --- the case view and its actions ----------------------------------------------------------------


@dataclass
class ConsoleAction:
    key: str
    label: str
    form: Callable  # (request, case, data) -> Form
    run: Callable  # (request, case, cleaned_data) -> None
    field_map: dict | None = None  # action error field → form field


def _file_form(request, case, data=None):
    return forms.FileForm(data, categories=categories_for(request.user),
                          initial={"category": case.category_id, "urgency": case.urgency})


def _dispatch_form(request, case, data=None):
    suggestion = selectors.routing_suggestion(case)
    lead = suggestion.get("lead_department") or next(iter(suggestion.get("lead_candidates") or []), None)
    return forms.DispatchForm(
        data, departments=selectors.departments_serving(case.region_code),
        initial={"lead_department": lead, "assisting_departments": suggestion.get("assisting_departments", [])},
    )


def _merge(request, case, d):
    try:
        into = selectors.case_by_number(request.user, d["into"].strip())
    except Http404:
        raise ValidationError({"into": ValidationError(_("No case with this number in your jurisdiction."),
                                                       code="not_found")}) from None
    actions.merge_case(case, into, request.user, d["note"])


def _decide(request, case, d):
    pending = selectors.requests_of(case).filter(state=RequestState.PENDING, pk=d["request"]).first()
    if pending is None:
        raise DomainError(_("This request has already been decided."), code="already_decided")
    approve = d["decision"] == "approve"
    if pending.kind == RequestKind.EXTENSION:
        run = actions.approve_extension if approve else actions.refuse_extension
    else:
        run = actions.approve_suspension if approve else actions.refuse_suspension
    if approve:
        run(pending, request.user, d["reason"])
    else:
        run(pending, d["reason"], request.user)


CONSOLE_ACTIONS: dict[str, ConsoleAction] = {a.key: a for a in [
    ConsoleAction("file", _("File the case"), _file_form,
                  lambda r, c, d: actions.file_case(c, r.user, category=d["category"], urgency=d["urgency"],
                                                    note=d["note"])),
    ConsoleAction("reject", _("Reject the report"), lambda r, c, data=None: forms.ReasonForm(data),
                  lambda r, c, d: actions.reject_case(c, d["reason"], r.user)),
    ConsoleAction("merge", _("Merge into another case"), lambda r, c, data=None: forms.MergeForm(data),
                  _merge),
    ConsoleAction("dispatch", _("Dispatch to departments"), _dispatch_form,
                  lambda r, c, d: actions.dispatch_case(c, d["lead_department"], d["assisting_departments"],
                                                        r.user, d["note"])),
    ConsoleAction("suspend", _("Suspend the case"), lambda r, c, data=None: forms.ReasonForm(data),
                  lambda r, c, d: actions.suspend_case(c, d["reason"], r.user)),
    ConsoleAction("resume", _("Resume the case"), lambda r, c, data=None: forms.ResumeForm(data),
                  lambda r, c, d: actions.resume_case(c, r.user, d["note"])),
    ConsoleAction("verify", _("Verify the result"), lambda r, c, data=None: forms.VerifyForm(data),
                  lambda r, c, d: actions.verify_case(c, d["passed"], r.user, d["note"])),
    ConsoleAction("reopen", _("Reopen the case"), lambda r, c, data=None: forms.ReasonForm(data),
                  lambda r, c, d: actions.reopen_case(c, d["reason"], r.user)),
    ConsoleAction("cancel", _("Cancel the case"), lambda r, c, data=None: forms.ReasonForm(data),
                  lambda r, c, d: actions.cancel_case(c, d["reason"], r.user)),
    ConsoleAction("supervise", _("Issue a supervision notice"), lambda r, c, data=None: forms.SuperviseForm(data),
                  lambda r, c, d: actions.supervise_case(c, d["level"], d["note"], r.user)),
    ConsoleAction("escalate", _("Escalate to the next centre"),
                  lambda r, c, data=None: forms.ReasonForm(data),
                  lambda r, c, d: actions.escalate_case(c, d["reason"], r.user)),
    ConsoleAction("decide", _("Decide a request"), lambda r, c, data=None: forms.DecisionForm(data),
                  _decide),
]}


def _offered(user, case, pending_requests) -> list[str]:
    """The console actions to offer now: the workflow's (``available_actions``) and the
    overlays the user's role allows on this case."""
    workflow = set(selectors.available_actions(user, case))
    keys = [k for k in ("file", "reject", "merge", "dispatch", "suspend", "resume", "verify", "reopen")
            if k in workflow]
    if case.state in OPEN_STATES:
        keys += [k for k, perm in (("supervise", "case.supervise"), ("escalate", "case.escalate"))
                 if has_permission(user, perm)]
    if Action.CANCEL in workflow:
        keys.append("cancel")
    return keys


def _pending_decidable(user, case):
    pending = list(selectors.requests_of(case).filter(state=RequestState.PENDING).order_by("requested_at", "pk"))
    return [p for p in pending if has_permission(
        user, "case.approve_extension" if p.kind == RequestKind.EXTENSION else "case.approve_suspension")]


def _region_feature(user, code):
    try:
        region = region_for_user(user, code)
    except Http404:
        return None
    if not region.geometry:
        return None
    return {"type": "Feature", "geometry": region.geometry,
            "properties": {"code": region.code, "name": region.name, "level": region.level}}


ROUTING_REASONS = {
    "ready": _("clear: one rule, one department of each kind"),
    "no_category": _("no category yet"),
    "no_rule": _("no rule covers this category here"),
    "ambiguous": _("ambiguous: equally specific rules disagree"),
    "no_lead_department": _("no department of the lead kind serves this place"),
    "several_lead_departments": _("several departments of the lead kind serve this place"),
    "assisting_unresolved": _("some assisting departments could not be determined"),
    "auto_dispatch_off": _("clear, but this category is not dispatched automatically"),
}


def _case_context(request, case, bound: dict | None = None) -> dict:
    user = request.user
    pending = _pending_decidable(user, case)
    offered = _offered(user, case, pending)
    bound = bound or {}
    panels = []
    for key in offered:
        spec = CONSOLE_ACTIONS[key]
        form = bound.get(key) or spec.form(request, case)
        form.auto_id = f"{key}-%s"  # several forms on one page: distinct ids
        panels.append({"key": key, "label": spec.label, "form": form, "open": key in bound})
    decisions = []
    for p in pending:
        form = bound.get(f"decide-{p.pk}") or forms.DecisionForm(initial={"request": p.pk})
        form.auto_id = f"decide-{p.pk}-%s"
        decisions.append({"request": p, "form": form, "open": f"decide-{p.pk}" in bound})
    suggestion = selectors.routing_suggestion(case)
    names = department_names([suggestion.get("lead_department"), *suggestion.get("lead_candidates", []),
                               *suggestion.get("assisting_departments", [])])
    return {
        "case": case,
        "sla_now": selectors.case_sla_status(case),
        "reporter": reporter_context(user, case),
        "events": list(selectors.timeline(case)),
        "assignments": list(selectors.assignments_of(case)),
        "requests": list(selectors.requests_of(case)),
        "supervisions": list(selectors.supervisions_of(case)),
        "attachments": list(selectors.attachments_of(case)),
        "grid_feature": _region_feature(user, case.region_code),
        "point": [case.lon, case.lat] if case.lon is not None and case.lat is not None else None,
        "suggestion": suggestion,
        "suggestion_reason": ROUTING_REASONS.get(suggestion.get("reason"), suggestion.get("reason")),
        "suggested_lead": names.get(suggestion.get("lead_department")),
        "suggested_candidates": [names[p] for p in suggestion.get("lead_candidates", []) if p in names],
        "suggested_assisting": [names[p] for p in suggestion.get("assisting_departments", []) if p in names],
        "panels": panels,
        "decisions": decisions,
        "tile_url": getattr(settings, "CIVICGRID_MAP_TILE_URL", ""),
        "merged_into": case.parent if case.state == State.MERGED else None,
        "nav": "queue",
    }


@require_GET
@centre_staff
def case_view(request, number):
    case = selectors.case_by_number(request.user, number)
    return render(request, "web/console/case.html", _case_context(request, case))


def _put_errors(form, error) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    elif isinstance(error, ValidationError):
        for message in error.messages:
            form.add_error(None, message)
    else:
        form.add_error(None, str(error.detail if hasattr(error, "detail") else error))


@require_POST
@centre_staff
def case_action(request, number, action):
    """Run one console action on the case; on success back to the case with a message, else the
    case page again with the errors next to the fields (400)."""
    case = selectors.case_by_number(request.user, number)
    spec = CONSOLE_ACTIONS.get(action)
    if spec is None:
        raise Http404
    form = spec.form(request, case, request.POST)
    key = action
    if action == "decide":
        key = f"decide-{request.POST.get('request', '')}"
    if form.is_valid():
        try:
            spec.run(request, case, form.cleaned_data)
        except (ValidationError, DomainError) as error:
            _put_errors(form, error)
        else:
            messages.success(request, _("%(action)s: done.") % {"action": spec.label})
            return redirect("web:console:case", number=case.number)
    case.refresh_from_db()
    context = _case_context(request, case, bound={key: form})
    context["failed_action"] = spec.label
    # Also listed at the top: the form may not be on the page (an action this role may not take).
    context["failed_errors"] = [str(m) for errors in form.errors.values() for m in errors]
    return render(request, "web/console/case.html", context, status=400)


# --- the map --------------------------------------------------------------------------------------

MAP_LEVELS = (Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY, Region.Level.GRID)


@require_GET
@centre_staff
def map_view(request):
    return render(request, "web/console/map.html", {
        "tile_url": getattr(settings, "CIVICGRID_MAP_TILE_URL", ""),
        "levels": [{"key": lvl.value, "label": str(lvl.label)} for lvl in MAP_LEVELS],
        "strings": {"cases": str(_("Open cases")), "loading": str(_("Loading…")),
                    "loaded": str(_("Map loaded.")), "failed": str(_("The map data could not be loaded."))},
        "nav": "map",
    })


@require_GET
@centre_staff
def map_layer(request, level):
    """One layer's polygons (GeoJSON) inside the jurisdiction; grids only below one community or
    street (``?parent=<code prefix>``), since a city has thousands."""
    if level not in {lvl.value for lvl in MAP_LEVELS}:
        raise Http404
    parent = request.GET.get("parent", "")
    if level == Region.Level.GRID and len(parent) < 9:
        return JsonResponse({"error": {"code": "parent_required",
                                       "message": str(_("Give the street or community (parent) of the grids.")),
                                       "fields": {}}}, status=400)
    return JsonResponse(level_geojson_for_user(request.user, level, parent))


@require_GET
@centre_staff
def map_cases(request):
    return JsonResponse({"cases": figures.case_markers(request.user),
                         "url": reverse("web:console:case", args=["NUMBER"])})


@require_GET
@centre_staff
def map_grid(request, code):
    """The popup of one grid: its open and overdue cases and its grid workers."""
    return render(request, "web/console/_grid_popup.html", figures.grid_figures(request.user, code))


# --- the dashboard --------------------------------------------------------------------------------

PERIOD_CHOICES = (7, 30, 90)


@require_GET
@centre_staff
def dashboard(request):
    if not has_permission(request.user, "dashboard.view"):
        raise PermissionDenied
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in PERIOD_CHOICES:
        days = 30
    data = figures.dashboard(request.user, figures.last_days(days))
    charts = {
        "intake": [{"name": r["label"], "value": r["count"]} for r in data["intake"]],
        "by_category": data["by_category"], "by_district": data["by_district"],
        "departments": [{"name": r["name"], "value": r["overdue"]} for r in data["departments"]],
    }
    return render(request, "web/console/dashboard.html", {
        **data, "days": days, "period_choices": PERIOD_CHOICES, "charts": charts,
        "intake_total": sum(r["count"] for r in data["intake"]),
        "calendar_warnings": calendar_warnings(), "nav": "dashboard",
    })
