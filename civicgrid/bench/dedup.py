"""Duplicate merging: the evaluation figures, and the cost of the candidate search per intake and
per batch, next to the raw query of the same rows.

- quality: ``evaluate_dedup`` on the labelled pairs (precision and recall of automatic merging at
  the configured threshold, and the curve);
- per report: ``services.candidates`` for points and times of existing cases (in-process, one
  call per report, as the intake hook runs it) against the raw bounding-box query alone (the same
  SQL with only the numbers), p50/p99 and checks/s; the query plan shows which index answers it;
- per batch: ``services.candidates_many`` on batches of 1,000 reports (as the bulk importer calls it).

Nothing is written. Targets (printed, not asserted): a check costs a small share of the 3.3 ms an
intake may take at 300 cases/s.
"""

from __future__ import annotations

import random
import time
from io import StringIO

import numpy as np

SAMPLES = 2_000
BATCH = 1_000
BATCHES = 5


def _reports(n: int, seed: int = 7) -> list[dict]:
    from civicgrid.cases.models import Case

    rows = list(Case.objects.filter(lat__isnull=False).order_by("-reported_at")
                .values_list("title", "description", "category_id", "lon", "lat", "reported_at", "address")[:20_000])
    rng = random.Random(seed)
    picked = [rng.choice(rows) for _ in range(n)] if rows else []
    return [{"text": f"{t} {d}", "category_id": c, "lon": lon + rng.uniform(-3e-4, 3e-4),
             "lat": lat + rng.uniform(-3e-4, 3e-4), "at": at, "address": a}
            for t, d, c, lon, lat, at, a in picked]


def _raw_query(report: dict, radius_m: float, window_h: float) -> list:
    import math
    from datetime import timedelta

    from django.db import connection

    from civicgrid.dedup.services import EARTH_M_PER_DEG, OPEN_STATE_LIST

    dlat = radius_m / EARTH_M_PER_DEG
    dlon = radius_m / (EARTH_M_PER_DEG * math.cos(math.radians(report["lat"])))
    states = ", ".join(["%s"] * len(OPEN_STATE_LIST))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, lat, lon, reported_at, category_id FROM cases_case WHERE state IN ({states}) "
            "AND lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s AND reported_at BETWEEN %s AND %s",
            [*OPEN_STATE_LIST, report["lat"] - dlat, report["lat"] + dlat, report["lon"] - dlon,
             report["lon"] + dlon, report["at"] - timedelta(hours=window_h), report["at"] + timedelta(hours=window_h)],
        )
        return cursor.fetchall()


def _plan(report: dict) -> str:
    from datetime import timedelta

    from django.db import connection

    from civicgrid.cases.models import Case
    from civicgrid.dedup.services import OPEN_STATE_LIST

    window = timedelta(hours=72)
    qs = Case.objects.filter(state__in=OPEN_STATE_LIST, lat__gte=report["lat"] - 0.0014,
                             lat__lte=report["lat"] + 0.0014, lon__gte=report["lon"] - 0.0015,
                             lon__lte=report["lon"] + 0.0015, reported_at__gte=report["at"] - window,
                             reported_at__lte=report["at"] + window)
    plan = qs.explain()
    names = [n for n in ("dedup_open_case_lat_lon", "case_reported_at", "case_state_region") if n in plan]
    return f"{connection.vendor} plan uses: {', '.join(names) or 'no index (sequential scan)'}"


def _timed(fn, items) -> np.ndarray:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - started)
    return np.array(out) * 1000


def run() -> dict:
    from django.core.management import call_command

    from civicgrid.cases.models import Case
    from civicgrid.dedup import services

    out = StringIO()
    call_command("evaluate_dedup", stdout=out)
    print(out.getvalue().rstrip())

    reports = _reports(SAMPLES)
    if not reports:
        print("(no cases with coordinates: nothing to measure)")
        return {}
    open_cases = Case.objects.filter(state__in=services.OPEN_STATE_LIST).count()
    print(f"\ncandidate search on {Case.objects.count():,} cases ({open_cases:,} open); {SAMPLES} reports at the "
          f"points and times of existing cases")
    print(_plan(reports[0]))
    radius, window = services.default_radius_m(), services.default_window_hours()
    for r in reports[:50]:  # warm-up
        services.candidates(**r)
        _raw_query(r, radius, window)
    ours = _timed(lambda r: services.candidates(**r), reports)
    raw = _timed(lambda r: _raw_query(r, radius, window), reports)
    found = sum(len(services.candidates(**r)) for r in reports[:200]) / 200
    print(f"services.candidates: p50 {np.percentile(ours, 50):.2f} ms, p99 {np.percentile(ours, 99):.2f} ms, "
          f"{len(ours) / ours.sum() * 1000:,.0f} checks/s ({found:.1f} candidates per report on average)")
    print(f"raw bounding-box query: p50 {np.percentile(raw, 50):.2f} ms, p99 {np.percentile(raw, 99):.2f} ms, "
          f"{len(raw) / raw.sum() * 1000:,.0f} queries/s")
    batches = [_reports(BATCH, seed=100 + i) for i in range(BATCHES)]
    started = time.perf_counter()
    for batch in batches:
        services.candidates_many(batch)
    elapsed = time.perf_counter() - started
    print(f"services.candidates_many: {BATCHES} batches of {BATCH:,}: {BATCH * BATCHES / elapsed:,.0f} reports/s "
          f"(including duplicates within each batch)")
    return {"p50_ms": float(np.percentile(ours, 50)), "p99_ms": float(np.percentile(ours, 99)),
            "batch_reports_per_s": BATCH * BATCHES / elapsed}
