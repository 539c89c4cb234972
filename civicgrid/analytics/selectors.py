"""Figures for leaders and dispatchers (统计分析), each scoped to the user's jurisdiction.

Every figure reads cases through ``civicgrid.cases.selectors.cases_for(user)``, so a district
leader sees their district and a platform-wide administrator the whole platform. The definition of
each figure is written in its docstring and, in the same words, next to the figure on the
dashboard (``DEFINITIONS``).

Periods are ``[start, end)`` in aware datetimes; days are local days (``TIME_ZONE``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q
from django.db.models.functions import Substr, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Assignment, CaseRating, Channel, Rating, SlaStatus
from civicgrid.cases.selectors import cases_for
from civicgrid.cases.workflow import OPEN_STATES, AssignmentState, State
from civicgrid.core.jurisdiction import scope_to_jurisdiction
from civicgrid.org.models import Department, GridAssignment
from civicgrid.regions.models import Region
from civicgrid.regions.selectors import region_for_user
from civicgrid.taxonomy.models import Category

# Weight of 基本满意 (basically satisfied) in the satisfaction rate.
BASICALLY_SATISFIED_WEIGHT = Decimal("0.9")

DEFINITIONS = {
    "intake": _("Cases reported today (local day), by the channel they came through."),
    "open": _("Cases in an open state: reported, filed, dispatched, in progress, suspended or "
              "awaiting verification."),
    "overdue": _("Open cases whose current stage is past its deadline (as last recorded by the "
                 "deadline sweep or an action)."),
    "on_time": _("On-time closure rate (按期结案率) = cases closed in the period whose result was "
                 "reported by the resolution deadline ÷ all cases closed in the period. A case "
                 "without a resolution deadline counts as on time."),
    "satisfaction": _("Satisfaction rate (满意率) = (satisfied + 0.9 × basically satisfied) ÷ "
                      "ratings given in the period."),
    "trends": _("Cases reported per day in the period, by category (the most frequent ones) and "
                "by district."),
    "departments": _("Departments with the most overdue tasks: their active tasks (awaiting "
                     "sign-for, signed for) on open cases whose deadline has passed."),
}


@dataclass(frozen=True)
class Period:
    start: datetime.datetime
    end: datetime.datetime

    @property
    def days(self) -> list[datetime.date]:
        first = timezone.localtime(self.start).date()
        last = timezone.localtime(self.end - datetime.timedelta(microseconds=1)).date()
        return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def local_day(day: datetime.date | None = None) -> Period:
    """The local day ``day`` (today by default) as a period."""
    day = day or timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return Period(start, timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1),
                                                                         datetime.time.min)))


def last_days(n: int, today: datetime.date | None = None) -> Period:
    """The ``n`` local days ending with today (inclusive)."""
    today = today or timezone.localdate()
    return Period(local_day(today - datetime.timedelta(days=n - 1)).start, local_day(today).end)


def _rate(numerator, denominator) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- the figures ----------------------------------------------------------------------------------


def intake_by_channel(user, day: datetime.date | None = None) -> list[dict]:
    """Cases reported on the local ``day`` (today by default), per channel: every channel with
    its label and count (zeros included), most first, ties in the order of ``Channel``."""
    period = local_day(day)
    counts = dict(
        cases_for(user).filter(reported_at__gte=period.start, reported_at__lt=period.end)
        .order_by().values_list("channel").annotate(n=Count("id")).values_list("channel", "n")
    )
    order = {c: i for i, c in enumerate(Channel.values)}
    rows = [{"channel": c.value, "label": str(c.label), "count": counts.get(c.value, 0)} for c in Channel]
    return sorted(rows, key=lambda r: (-r["count"], order[r["channel"]]))


def open_counts(user) -> dict:
    """``open``: cases in an open state; ``overdue`` and ``warning``: open cases whose stored SLA
    status (recorded by the deadline sweep or the last action) is overdue / due soon."""
    return cases_for(user).filter(state__in=OPEN_STATES).order_by().aggregate(
        open=Count("id"),
        overdue=Count("id", filter=Q(sla_status=SlaStatus.OVERDUE)),
        warning=Count("id", filter=Q(sla_status=SlaStatus.WARNING)),
    )


def on_time_closure_rate(user, period: Period) -> dict:
    """按期结案率: of the cases closed (state ``closed``, ``closed_at`` in the period), the share
    whose result was reported (``resolved_at``) no later than the resolution deadline
    (``due_at``, which extensions and suspensions move). A case without ``due_at`` counts as on
    time. Returns ``closed``, ``on_time`` and ``rate`` (percent, one decimal; None when nothing
    was closed)."""
    figures = cases_for(user).filter(
        state=State.CLOSED, closed_at__gte=period.start, closed_at__lt=period.end,
    ).order_by().aggregate(
        closed=Count("id"),
        on_time=Count("id", filter=Q(due_at__isnull=True) | Q(resolved_at__lte=F("due_at"))),
    )
    return {**figures, "rate": _rate(figures["on_time"], figures["closed"])}


def satisfaction_rate(user, period: Period) -> dict:
    """满意率: ratings given in the period (``rated_at``) on cases the user may see:
    (满意 + 0.9 × 基本满意) ÷ all ratings. Returns the three counts, ``rated`` and ``rate``
    (percent, one decimal; None without ratings)."""
    figures = CaseRating.objects.filter(
        case__in=cases_for(user).values("pk"), rated_at__gte=period.start, rated_at__lt=period.end,
    ).exclude(rating="").order_by().aggregate(
        rated=Count("id"),
        satisfied=Count("id", filter=Q(rating=Rating.SATISFIED)),
        basically_satisfied=Count("id", filter=Q(rating=Rating.BASICALLY_SATISFIED)),
        unsatisfied=Count("id", filter=Q(rating=Rating.UNSATISFIED)),
    )
    score = figures["satisfied"] + BASICALLY_SATISFIED_WEIGHT * figures["basically_satisfied"]
    return {**figures, "rate": _rate(score, figures["rated"])}


def _daily(queryset, period: Period, key: str) -> dict[tuple, int]:
    tz = timezone.get_current_timezone()
    rows = (
        queryset.filter(reported_at__gte=period.start, reported_at__lt=period.end).order_by()
        .annotate(day=TruncDate("reported_at", tzinfo=tz)).values("day", key).annotate(n=Count("id"))
    )
    return {(r["day"], r[key]): r["n"] for r in rows}


def _series(counts: dict[tuple, int], period: Period, names: dict, top: int | None) -> dict:
    days = period.days
    totals: dict = {}
    for (_day, key), n in counts.items():
        totals[key] = totals.get(key, 0) + n
    keys = sorted(totals, key=lambda k: (-totals[k], k is None, str(names.get(k, k))))
    shown, rest = (keys[:top], keys[top:]) if top else (keys, [])
    series = [
        {"key": k, "name": str(names.get(k, k)), "total": totals[k],
         "data": [counts.get((d, k), 0) for d in days]}
        for k in shown
    ]
    if rest:
        series.append({
            "key": "other", "name": str(_("other")), "total": sum(totals[k] for k in rest),
            "data": [sum(counts.get((d, k), 0) for k in rest) for d in days],
        })
    return {"days": [d.isoformat() for d in days], "series": series}


def trend_by_category(user, period: Period, top: int = 8) -> dict:
    """Cases reported per local day in the period by category: ``days`` (ISO dates) and
    ``series`` (the ``top`` categories with most cases, then ``other`` for the rest; cases without
    a category are their own series), each with ``name``, ``total`` and daily ``data``."""
    counts = _daily(cases_for(user), period, "category_id")
    ids = {k for (_d, k) in counts if k is not None}
    names = dict(Category.objects.filter(pk__in=ids).values_list("pk", "name"))
    names[None] = _("no category yet")
    return _series(counts, period, names, top)


def trend_by_district(user, period: Period) -> dict:
    """Cases reported per local day in the period by district (the first six digits of the
    case's region code): ``days`` and ``series`` as in ``trend_by_category``."""
    counts = _daily(cases_for(user).annotate(district=Substr("region_code", 1, 6)), period, "district")
    codes = {k for (_d, k) in counts}
    names = {code[:6]: name for code, name in Region.objects.filter(
        level=Region.Level.DISTRICT, code__in=[c.ljust(12, "0") for c in codes],
    ).values_list("code", "name")}
    return _series(counts, period, names, None)


def departments_most_overdue(user, limit: int = 10) -> list[dict]:
    """Departments by their overdue tasks: active assignments (awaiting sign-for or signed for;
    a reported result no longer runs late) with SLA status overdue, on open cases the user may
    see. Each row: ``department`` (pk), ``name``, ``overdue``; most first, at most ``limit``."""
    rows = (
        Assignment.objects.filter(
            case__in=cases_for(user).filter(state__in=OPEN_STATES).values("pk"),
            state__in=[AssignmentState.PENDING, AssignmentState.SIGNED], sla_status=SlaStatus.OVERDUE,
        ).order_by().values("department").annotate(overdue=Count("id"))
        .order_by("-overdue", "department")[:limit]
    )
    rows = list(rows)
    names = dict(Department.objects.filter(pk__in=[r["department"] for r in rows]).values_list("pk", "name"))
    return [{"department": r["department"], "name": names[r["department"]], "overdue": r["overdue"]} for r in rows]


def dashboard(user, period: Period, today: datetime.date | None = None) -> dict:
    """Every figure of the leader dashboard at once."""
    return {
        "period": period,
        "intake": intake_by_channel(user, today),
        "open": open_counts(user),
        "on_time": on_time_closure_rate(user, period),
        "satisfaction": satisfaction_rate(user, period),
        "by_category": trend_by_category(user, period),
        "by_district": trend_by_district(user, period),
        "departments": departments_most_overdue(user),
        "definitions": DEFINITIONS,
    }


# --- map figures ----------------------------------------------------------------------------------


def case_markers(user, limit: int = 5000) -> list[dict]:
    """Open cases with a location, for the map: number, title, state, SLA status, lon/lat; the
    most recent ``limit`` of them."""
    rows = (
        cases_for(user).filter(state__in=OPEN_STATES, lon__isnull=False, lat__isnull=False)
        .order_by("-reported_at", "-pk")
        .values_list("number", "title", "state", "sla_status", "lon", "lat")[:limit]
    )
    return [{"number": n, "title": t, "state": s, "sla": sla, "lon": lon, "lat": lat}
            for n, t, s, sla, lon, lat in rows]


def grid_figures(user, code: str) -> dict:
    """A grid's open and overdue cases and its grid workers; ``Http404`` outside the user's
    jurisdiction (or when ``code`` is not a grid)."""
    grid = region_for_user(user, code)
    if grid.level != Region.Level.GRID:
        raise Http404
    counts = cases_for(user).filter(region_code=grid.code, state__in=OPEN_STATES).order_by().aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(sla_status=SlaStatus.OVERDUE)),
    )
    workers = [
        ga.worker for ga in scope_to_jurisdiction(
            GridAssignment.objects.filter(grid=grid).select_related("worker"), user, "grid__code",
        ).order_by("worker__username")
    ]
    return {"grid": grid, "open": counts["open"], "overdue": counts["overdue"], "workers": workers}
