"""Page timings (issue 5): every staff and public page rendered in-process, next to the raw cost of
the page's main query.

Each page is requested with ``django.test.Client`` as the demo user who works on it (the city and
Jimei dispatchers in the console, the chengguan squad's handler in /dept/, the Hujing grid worker in
/grid/, nobody on the portal), against the bench database with the two-year demo history. The
time around ``client.get`` is the server's work (middleware, view, queries, template) without a
network. After a warm-up, ``REQUESTS`` requests each give p50/p95; one more, under
``CaptureQueriesContext``, counts the SQL queries.

Baselines, measured in the same run:

* ``raw ms``: the page's main query (the selector's queryset behind it, compiled to SQL and
  executed and fetched directly through the cursor, no model instances), p50 of as many runs;
* ``sql ms``: every SELECT the page issued, replayed raw one after the other: the database's
  share of the page, the rest being Python (ORM, view, template);
* ``SELECT 1``: a bare round trip, for pages without a query of their own.

Target (printed, not asserted): under 300 ms server time (p95) for each page.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

REQUESTS = 20
WARMUP = 3
TARGET_MS = 300.0


@dataclass
class Page:
    name: str
    url: str
    user: str | None  # demo username, None: anonymous
    raw: Callable[[], object] | None  # the page's main query, run raw
    raw_label: str
    figures: dict = field(default_factory=dict)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def _raw(queryset) -> Callable[[], int]:
    """The queryset's own SQL, executed and fetched through the cursor (no model instances)."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()

    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    return run


def _select_one() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return len(cursor.fetchall())


def _time(fn: Callable[[], object], n: int = REQUESTS, warmup: int = WARMUP) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _replay(sqls: list[str]) -> float:
    """Seconds to run the page's SELECTs raw, best of three passes (cached plans and pages alike)."""
    from django.db import connection

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in sqls:
                cursor.execute(sql)
                cursor.fetchall()
        best = min(best, time.perf_counter() - started)
    return best


# --- what to request ------------------------------------------------------------------------------


def _longest_timeline_case(cases):
    """The case of ``cases`` with the most events (a real case with a long timeline)."""
    from django.db.models import Count

    return cases.annotate(n_events=Count("events", distinct=True)).order_by("-n_events", "pk").first()


def _pages() -> tuple[list[Page], dict]:
    from django.db.models import Count

    from civicgrid.analytics import selectors as figures
    from civicgrid.cases import actions
    from civicgrid.cases import selectors as cases
    from civicgrid.cases.models import Assignment, Case, CaseEvent
    from civicgrid.cases.workflow import OPEN_STATES, State
    from civicgrid.org.models import User
    from civicgrid.regions.models import Region
    from civicgrid.regions.selectors import regions_for_user

    users = {u.username: u for u in User.objects.filter(username__in=[
        "city_dispatcher", "jimei_dispatcher", "chengguan_handler", "grid_worker"])}
    city, jimei = users["city_dispatcher"], users["jimei_dispatcher"]
    handler, worker = users["chengguan_handler"], users["grid_worker"]
    notes: dict = {}
    pages = [
        Page("console queue (city)", "/console/", "city_dispatcher",
             _raw(cases.queue_for(city, "open")[:100]), "queue_for(open)[:100]"),
        Page("console queue (Jimei)", "/console/", "jimei_dispatcher",
             _raw(cases.queue_for(jimei, "open")[:100]), "queue_for(open)[:100]"),
        Page("console queue rows poll (city)", "/console/queue/rows/", "city_dispatcher",
             _raw(cases.queue_for(city, "open")[:100]), "queue_for(open)[:100]"),
    ]

    # Cases with supervision notices are measured apart (below).
    case = _longest_timeline_case(cases.cases_for(city).filter(supervisions__isnull=True))
    if case is not None:
        notes["case"] = f"{case.number} ({case.n_events} events, {case.state})"
        pages.append(Page("console case view", f"/console/cases/{case.number}/", "city_dispatcher",
                          _raw(cases.timeline(case)), "timeline(case)"))
    supervised = _longest_timeline_case(cases.cases_for(city).filter(supervisions__isnull=False).distinct())
    if supervised is not None:
        notes["supervised_case"] = f"{supervised.number} ({supervised.n_events} events, {supervised.state})"
        pages.append(Page("console case view (supervised)", f"/console/cases/{supervised.number}/",
                          "city_dispatcher", _raw(cases.timeline(supervised)), "timeline(case)"))
    open_case = _longest_timeline_case(cases.cases_for(city).filter(state__in=OPEN_STATES))
    if open_case is not None:
        notes["open_case"] = f"{open_case.number} ({open_case.n_events} events, {open_case.state})"
        pages.append(Page("console case view (open)", f"/console/cases/{open_case.number}/", "city_dispatcher",
                          _raw(cases.timeline(open_case)), "timeline(case)"))

    pages.append(Page("console map", "/console/map/", "city_dispatcher", None, "SELECT 1"))
    for level in ("district", "street", "community"):
        qs = regions_for_user(city, level=level).exclude(geometry__isnull=True).select_related(None).only(
            "code", "name", "level", "geometry")
        pages.append(Page(f"map layer {level}", f"/console/map/layers/{level}.geojson", "city_dispatcher",
                          _raw(qs), "regions of level"))
    street = Region.objects.filter(level=Region.Level.STREET, code__startswith="350211").order_by("code").first()
    if street is not None:
        prefix = street.code[:9]
        notes["grid_layer"] = f"grids under street {street.code} {street.name}"
        qs = regions_for_user(city, level="grid").exclude(geometry__isnull=True).filter(
            code__startswith=prefix).select_related(None).only("code", "name", "level", "geometry")
        pages.append(Page("map layer grid (one street)", f"/console/map/layers/grid.geojson?parent={prefix}",
                          "city_dispatcher", _raw(qs), "grids of the street"))
    markers = (cases.cases_for(city).filter(state__in=OPEN_STATES, lon__isnull=False, lat__isnull=False)
               .order_by("-reported_at", "-pk").values_list("number", "title", "state", "sla_status", "lon", "lat")
               [:5000])
    pages.append(Page("map case markers", "/console/map/cases.json", "city_dispatcher", _raw(markers),
                      "open cases with a point [:5000]"))
    busiest = (cases.cases_for(city).filter(state__in=OPEN_STATES).order_by().values("region_code")
               .annotate(n=Count("id")).order_by("-n", "region_code").first())
    if busiest is not None:
        code = busiest["region_code"]
        notes["grid_popup"] = f"grid {code} ({busiest['n']} open cases)"
        popup = cases.cases_for(city).filter(region_code=code, state__in=OPEN_STATES).order_by().values("sla_status")
        pages.append(Page("map grid popup", f"/console/map/grids/{code}/", "city_dispatcher", _raw(popup),
                          "the grid's open cases"))
    period = figures.last_days(30)
    daily = (cases.cases_for(city).filter(reported_at__gte=period.start, reported_at__lt=period.end).order_by()
             .values("category_id").annotate(n=Count("id")))
    pages.append(Page("console dashboard 30 d (city)", "/console/dashboard/", "city_dispatcher", _raw(daily),
                      "30 days' cases by category"))
    period90 = figures.last_days(90)
    daily90 = (cases.cases_for(city).filter(reported_at__gte=period90.start, reported_at__lt=period90.end)
               .order_by().values("category_id").annotate(n=Count("id")))
    pages.append(Page("console dashboard 90 d (city)", "/console/dashboard/?days=90", "city_dispatcher",
                      _raw(daily90), "90 days' cases by category"))
    pages.append(Page("console dashboard 30 d (Jimei)", "/console/dashboard/", "jimei_dispatcher",
                      _raw(cases.cases_for(jimei).filter(reported_at__gte=period.start, reported_at__lt=period.end)
                           .order_by().values("category_id").annotate(n=Count("id"))),
                      "30 days' cases by category"))

    notes["dept_tasks"] = cases.tasks_for(handler).count()
    pages.append(Page("dept inbox", "/dept/", "chengguan_handler", _raw(cases.tasks_for(handler)),
                      "tasks_for(user)"))
    task = (Assignment.objects.filter(department_id=handler.department_id)
            .annotate(n_events=Count("case__events", distinct=True)).order_by("-n_events", "pk").first())
    if task is not None:
        notes["task"] = f"task {task.pk} on {task.case.number} ({task.n_events} events, {task.state})"
        pages.append(Page("dept task", f"/dept/tasks/{task.pk}/", "chengguan_handler",
                          _raw(cases.timeline(task.case)), "timeline(case)"))

    pages.append(Page("grid worker page", "/grid/", "grid_worker",
                      _raw(cases.verification_tasks_for(worker)[:50]), "verification_tasks_for[:50]"))
    to_verify = cases.verification_tasks_for(worker).first()
    if to_verify is not None:
        pages.append(Page("grid verify", f"/grid/verify/{to_verify.pk}/", "grid_worker",
                          _raw(cases.attachments_of(to_verify)), "attachments_of(case)"))

    outlines = Region.objects.filter(level=Region.Level.DISTRICT, geometry__isnull=False).only("code", "name", "geometry")
    pages.append(Page("portal home (anonymous)", "/", None, _raw(outlines), "district outlines"))
    closed = _longest_timeline_case(Case.objects.filter(state=State.CLOSED))
    if closed is not None:
        token = actions.issue_tracking_token(closed)
        notes["tracked"] = f"{closed.number} ({closed.n_events} events)"
        public = CaseEvent.objects.filter(case=closed).order_by("at", "pk")
        pages.append(Page("portal tracking (anonymous)", f"/track/{token}/", None, _raw(public),
                          "the case's events"))
    return pages, notes


# --- running ------------------------------------------------------------------------------------


def _measure(page: Page, clients: dict, n: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = clients[page.user]

    def get():
        response = client.get(page.url)
        if response.status_code != 200:
            raise RuntimeError(f"{page.url} as {page.user or 'anonymous'}: HTTP {response.status_code}")
        return response

    times = _time(get, n)
    with CaptureQueriesContext(connection) as captured:
        response = get()
    sqls = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    raw_times = _time(page.raw or _select_one, n)
    p50 = _ms(statistics.median(times))
    raw_p50 = _ms(statistics.median(raw_times))
    return {
        "page": page.name, "url": page.url, "user": page.user or "anonymous",
        "p50_ms": round(p50, 1), "p95_ms": round(_ms(_percentile(times, 0.95)), 1),
        "queries": len(captured.captured_queries), "bytes": len(response.content),
        "raw_ms": round(raw_p50, 2), "raw": page.raw_label if page.raw else "SELECT 1",
        "sql_ms": round(_ms(_replay(sqls)), 1),
        "ratio": round(p50 / raw_p50, 1) if raw_p50 else None,
        "under_target": _ms(_percentile(times, 0.95)) < TARGET_MS,
    }


def run(n: int = REQUESTS) -> dict:
    from django.conf import settings
    from django.db import connection

    from civicgrid.cases.models import Case, CaseEvent

    if connection.vendor == "postgresql":
        # Plans need current statistics: a bulk-loaded history (or a server with autovacuum off,
        # as here) leaves none, and a production server's autovacuum keeps them.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
    cases, events = Case.objects.count(), CaseEvent.objects.count()
    print(f"data: {cases:,} cases, {events:,} events on {connection.vendor}; {n} requests per page after "
          f"{WARMUP} warm-up; DEBUG={settings.DEBUG}; load average {os.getloadavg()[0]:.1f}")
    if cases < 10_000:
        print("(fewer than 10,000 cases: not the two-year demo history; figures are not the issue's)")
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    # A failing page is reported in one line below, not with the request logger's traceback.
    request_log = logging.getLogger("django.request")
    level, request_log.level = request_log.level, logging.CRITICAL
    try:
        rows, failed = _run_pages(n, hosts)
    finally:
        request_log.level = level
    _print(rows)
    over = [r["page"] for r in rows if not r["under_target"]]
    print(f"\n{len(rows) - len(over)} of {len(rows) + len(failed)} pages under {TARGET_MS:.0f} ms (p95)"
          + (f"; over: {', '.join(over)}" if over else "")
          + (f"; FAILED (not measured): {', '.join(failed)}" if failed else ""))
    return {"cases": cases, "events": events, "pages": rows, "failed": failed}


def _run_pages(n: int, hosts: list[str]) -> tuple[list[dict], list[str]]:
    from django.test import Client
    from django.test.utils import override_settings

    from civicgrid.org.models import User

    rows, failed = [], []
    with override_settings(ALLOWED_HOSTS=hosts):
        pages, notes = _pages()
        for key, value in notes.items():
            print(f"  {key}: {value}")
        clients: dict = {None: Client()}
        for username in {p.user for p in pages if p.user}:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        base = _ms(statistics.median(_time(_select_one)))
        print(f"bare SELECT 1 round trip: {base:.2f} ms")
        for page in pages:
            try:
                rows.append(_measure(page, clients, n))
            except Exception as exc:  # one broken page should not hide the others' figures
                print(f"  {page.name}: FAILED {page.url}: {exc.__class__.__name__}: {exc}")
                failed.append(page.name)
    return rows, failed


def _print(rows: list[dict]) -> None:
    header = f"{'page':34} {'p50 ms':>8} {'p95 ms':>8} {'queries':>7} {'sql ms':>7} {'raw ms':>7} {'ratio':>7}  <300  raw query"
    print("\n" + header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['ratio']:.1f}" if r["ratio"] is not None else "-"
        print(f"{r['page']:34} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['queries']:7d} {r['sql_ms']:7.1f} "
              f"{r['raw_ms']:7.2f} {ratio:>7}  {'yes' if r['under_target'] else 'NO ':4}  {r['raw']}")


if __name__ == "__main__":
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    import django

    django.setup()
    run()
