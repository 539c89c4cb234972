"""Duplicate candidates for a would-be report (疑似重复件), with a score and the reasons.

Other parts call ``candidates`` (one report: intake, the check API) and ``candidates_many`` (a
batch: the bulk importer). Neither writes anything.

Where we look: open cases within a radius of the report's point (per category, default
``CIVICGRID_DEDUP_RADIUS_M``), reported within a time window of it (default
``CIVICGRID_DEDUP_WINDOW_HOURS``, either side), of the same category or a related one (same major
class 大类, or related in the category's ``DedupRule``; cases still without a category are
"unknown" and stay in). A report without a point looks only at open cases of the same finest
region (grid). The search is one indexed range scan: the partial index
``dedup_open_case_lat_lon`` (open cases by lat, lon, reported_at; migration 0002) answers the
bounding box of the radius and the window.

How we score (0 … 1): closeness in space (most weight), text similarity of character n-grams
(``civicgrid.dedup.text``), the category relation, closeness in time and the same address. Each
candidate carries the figures behind its score in ``reasons``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from civicgrid.cases.workflow import OPEN_STATES
from civicgrid.core import sql
from civicgrid.dedup import text as textsim

# Sorted: the partial index of migration 0002 is declared over exactly this list.
OPEN_STATE_LIST = sorted(str(s) for s in OPEN_STATES)
EARTH_M_PER_DEG = 111_320.0

# Weights of the score's parts (they sum to 1). Space and words decide; the category relation,
# time and address confirm.
W_DISTANCE = 0.45
W_TEXT = 0.20
W_CATEGORY = 0.20
W_TIME = 0.07
W_ADDRESS = 0.08
# Text similarity at or above this counts in full (different registers rarely share more).
TEXT_FULL = 0.55
# A related category (same major class) is weak evidence: at one spot, two different problems of
# one class (a lamp and a manhole cover) are common.
CATEGORY_FACTOR = {"same": 1.0, "related": 0.3, "unknown": 0.4}
NO_POINT_SAME_REGION = 0.5  # the closeness credited when a report has no point but the same grid


@dataclass
class Candidate:
    """One possible original of a report. ``case_id``/``number`` name an open case; for a report
    of the same batch (``candidates_many``) they are None/"" and ``batch_index`` is its position."""

    case_id: int | None
    number: str
    score: float
    reasons: dict = field(default_factory=dict)
    batch_index: int | None = None

    @property
    def mergeable(self) -> bool:
        """Clear enough to merge without a person: at or above the automatic score, both reports
        with a point (without one, "the same grid" may still be hundreds of metres) and both with
        a category (a report still awaiting classification waits for the dispatcher)."""
        return (self.score >= auto_merge_score() and self.reasons.get("distance_m") is not None
                and self.reasons.get("category") in ("same", "related"))

    def as_dict(self) -> dict:
        return {"case_id": self.case_id, "number": self.number, "score": round(self.score, 4),
                "reasons": self.reasons, "batch_index": self.batch_index}


def default_radius_m() -> float:
    return float(getattr(settings, "CIVICGRID_DEDUP_RADIUS_M", 150))


def default_window_hours() -> float:
    return float(getattr(settings, "CIVICGRID_DEDUP_WINDOW_HOURS", 72))


def auto_merge_score() -> float:
    return float(getattr(settings, "CIVICGRID_DEDUP_AUTO_MERGE_SCORE", 0.68))


def suggest_score() -> float:
    return float(getattr(settings, "CIVICGRID_DEDUP_SUGGEST_SCORE", 0.4))


# --- categories: radius, window and relations ---------------------------------------------------


@dataclass
class _CategoryInfo:
    kind: str = ""
    major: str = ""
    radius_m: float = 0.0
    window_h: float = 0.0
    related: frozenset = frozenset()


RULES_RECHECK_SECONDS = 60
_rules_cache: dict = {"at": float("-inf"), "value": None}


def forget_rules() -> None:
    """Drop this process's copy of the duplicate search rules (the admin calls it on a change;
    other processes see a change within ``CIVICGRID_DEDUP_RULES_RECHECK_SECONDS``)."""
    _rules_cache["at"], _rules_cache["value"] = float("-inf"), None


def _rules() -> tuple[dict, dict]:
    """``({category_id: (radius_m, window_h)}, {category_id: {related ids}})`` for every rule,
    kept per process for a minute: the table is small and read on every intake."""
    import time

    from civicgrid.dedup.models import DedupRule

    recheck = float(getattr(settings, "CIVICGRID_DEDUP_RULES_RECHECK_SECONDS", RULES_RECHECK_SECONDS))
    now = time.monotonic()
    if _rules_cache["value"] is not None and now - _rules_cache["at"] < recheck:
        return _rules_cache["value"]
    limits = {c: (r, w) for c, r, w in DedupRule.objects.values_list("category_id", "radius_m", "window_hours")}
    related: dict = {}
    for rule_category, other in DedupRule.related.through.objects.values_list("deduprule__category_id",
                                                                              "category_id"):
        # Relations hold both ways: a rule on A naming B relates B to A as well.
        related.setdefault(rule_category, set()).add(other)
        related.setdefault(other, set()).add(rule_category)
    _rules_cache["at"], _rules_cache["value"] = now, (limits, related)
    return limits, related


def search_radius_m(category_id) -> float:
    """The radius the category's rule sets (no query: the rules are cached), else the default."""
    radius = _rules()[0].get(category_id, (None, None))[0] if category_id is not None else None
    return float(radius or default_radius_m())


def search_window_h(category_id) -> float:
    """The window the category's rule sets (no query), else the default."""
    window = _rules()[0].get(category_id, (None, None))[1] if category_id is not None else None
    return float(window or default_window_hours())


def _category_infos(category_ids: set) -> dict:
    """``{category_id: _CategoryInfo}`` for the reports' categories (from the intake's reference;
    the rules come from ``_rules``), with the platform defaults where no rule overrides them. ``None`` (no
    category) maps to the defaults."""
    from civicgrid.cases import reference  # categories are the intake's reference data

    ids = {c for c in category_ids if c is not None}
    infos = {None: _CategoryInfo(radius_m=default_radius_m(), window_h=default_window_hours())}
    if not ids:
        return infos
    limits, related = _rules()
    ref = reference.current()
    for pk in ids:
        category = ref.category(pk)
        if category is None:  # an unknown id: treat like no category
            infos[pk] = infos[None]
            continue
        radius, window = limits.get(pk, (None, None))
        infos[pk] = _CategoryInfo(
            kind=category.kind, major=category.major_code or "", radius_m=float(radius or default_radius_m()),
            window_h=float(window or default_window_hours()), related=frozenset(related.get(pk, ())),
        )
    return infos


def _relation(info: _CategoryInfo, category_id, other_id, other_kind, other_major) -> str | None:
    """same / related / unknown (either side without a category), or None: not a candidate."""
    if category_id is None or other_id is None:
        return "unknown"
    if other_id == category_id:
        return "same"
    if other_id in info.related or (info.major and other_kind == info.kind and other_major == info.major):
        return "related"
    return None


# --- the search -----------------------------------------------------------------------------------


def _report_fields(report: dict) -> dict:
    at = report.get("at")
    if not isinstance(at, datetime):
        raise TypeError("each report needs 'at' (an aware datetime)")
    lon, lat = report.get("lon"), report.get("lat")
    return {
        "text": report.get("text") or "", "category_id": report.get("category_id"),
        "lon": None if lon is None else float(lon), "lat": None if lat is None else float(lat),
        "at": at, "address": report.get("address") or "", "region_code": report.get("region_code") or "",
        "exclude_case_id": report.get("exclude_case_id"),
    }


def _distance_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (numpy arrays or scalars)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def _score(*, distance_m, radius_m, same_region, minutes, window_h, relation, text_sim, same_address) -> float:
    if distance_m is None:
        closeness = NO_POINT_SAME_REGION if same_region else 0.0
    else:
        # Quadratic: GPS and geocoding put reports of one spot tens of metres apart, so closeness
        # falls slowly near the point and fast towards the radius.
        closeness = max(0.0, 1.0 - (distance_m / radius_m) ** 2)
    recency = max(0.0, 1.0 - abs(minutes) / (window_h * 60.0))
    words = min(1.0, text_sim / TEXT_FULL)
    score = (W_DISTANCE * closeness + W_TEXT * words + W_CATEGORY * CATEGORY_FACTOR[relation]
             + W_TIME * recency + W_ADDRESS * (1.0 if same_address else 0.0))
    if relation != "same":
        # Another category at the same spot is usually another problem: only the words can tell.
        score *= 0.7 + 0.3 * words
    return score


def _reasons(*, distance_m, radius_m, same_region, minutes, window_h, relation, text_sim, same_address) -> dict:
    return {
        "distance_m": None if distance_m is None else round(float(distance_m), 1),
        "radius_m": radius_m, "same_region": same_region,
        "minutes_apart": int(round(minutes)), "window_hours": window_h,
        "category": relation, "text_similarity": round(float(text_sim), 3), "same_address": same_address,
    }


_OPEN_ROW_FIELDS = ("pk", "lat", "lon", "reported_at", "category_id", "category__kind", "category__major_code",
                    "region_code")


def _open_rows(base: QuerySet | None, boxes: list, region_codes: set, t_from: datetime, t_to: datetime) -> list[dict]:
    """Open cases in any of the bounding boxes (or, for reports without a point, the regions)
    and the time range: the numbers needed to filter, without the text (fetched later for the
    few that pass). Without a ``base`` queryset (intake: every case) one plain statement."""
    if base is None:
        return _open_rows_sql(boxes, region_codes, t_from, t_to)
    condition = Q()
    for min_lat, max_lat, min_lon, max_lon in boxes:
        condition |= Q(lat__gte=min_lat, lat__lte=max_lat, lon__gte=min_lon, lon__lte=max_lon)
    if region_codes:
        condition |= Q(region_code__in=sorted(region_codes))
    if not condition:
        return []
    qs = base.filter(condition, state__in=OPEN_STATE_LIST, reported_at__gte=t_from, reported_at__lte=t_to)
    return list(qs.order_by().values(*_OPEN_ROW_FIELDS))


# A box taller or wider than this (about 5 km; a bulk batch's latitude bands span the city) is
# searched through the report-time index (``_open_rows_sql``).
WIDE_BOX_DEGREES = 0.05


def _open_rows_sql(boxes: list, region_codes: set, t_from: datetime, t_to: datetime) -> list[dict]:
    """``_open_rows`` over every case, as SQL written out: the intake runs it on every report, and
    building the ORM query cost more than running it. The state list is the one the partial index
    ``dedup_open_case_lat_lon`` is declared over, so the index answers the boxes."""
    from civicgrid.cases.models import Case
    from civicgrid.taxonomy.models import Category

    if not boxes and not region_codes:
        return []
    quote = connection.ops.quote_name
    ops = connection.ops
    parts, params = [], []
    for min_lat, max_lat, min_lon, max_lon in boxes:
        parts.append("(c.lat >= %s AND c.lat <= %s AND c.lon >= %s AND c.lon <= %s)")
        params += [min_lat, max_lat, min_lon, max_lon]
    if region_codes:
        among, codes = sql.any_of("c.region_code", sorted(region_codes))
        parts.append(among)
        params += codes
    states = ", ".join(f"'{state}'" for state in OPEN_STATE_LIST)
    # Small boxes (a report, a batch in a few neighbourhoods): the time window is written as an
    # expression no index answers. Most recent cases are the open ones, which the planner cannot
    # know, so it would combine the report-time and state indexes (every open case of the window)
    # instead of scanning the boxes in the partial index. A box across a district or the city (a
    # bulk batch spread over the map) would make that scan read every open case ever reported
    # there, which grows with the table: there the time window is left to the report-time index.
    wide = any(max_lat - min_lat > WIDE_BOX_DEGREES or max_lon - min_lon > WIDE_BOX_DEGREES
               for min_lat, max_lat, min_lon, max_lon in boxes)
    window = ("(c.reported_at + interval '0 seconds')" if connection.vendor == "postgresql" and not wide
              else "c.reported_at")
    statement = (f"SELECT c.id, c.lat, c.lon, c.reported_at, c.category_id, t.kind, t.major_code, c.region_code "
                 f"FROM {quote(Case._meta.db_table)} c LEFT JOIN {quote(Category._meta.db_table)} t "
                 f"ON t.id = c.category_id WHERE ({' OR '.join(parts)}) AND c.state IN ({states}) "
                 f"AND {window} >= %s AND {window} <= %s")
    params += [ops.adapt_datetimefield_value(t_from), ops.adapt_datetimefield_value(t_to)]
    with sql.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchall()
    return [dict(zip(_OPEN_ROW_FIELDS, (*row[:3], _aware(row[3]), *row[4:]), strict=True)) for row in found]


def _aware(value) -> datetime:
    """A timestamp as the database gave it back (SQLite: text in UTC) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return parse_datetime(value).replace(tzinfo=UTC)


def _merge_boxes(boxes: list) -> list:
    """Few boxes for the query: a batch's boxes are combined into one per ~1 km latitude band."""
    if len(boxes) <= 8:
        return boxes
    bands: dict = {}
    for b in boxes:
        key = round(b[0] * 100)
        cur = bands.get(key)
        bands[key] = b if cur is None else (min(cur[0], b[0]), max(cur[1], b[1]), min(cur[2], b[2]), max(cur[3], b[3]))
    merged = list(bands.values())
    if len(merged) > 64:  # a batch spread over the whole city: one box
        merged = [(min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes),
                   max(b[3] for b in boxes))]
    return merged


def candidates(*, text: str, category_id: int | None, lon: float | None, lat: float | None, at: datetime,
               address: str = "", region_code: str | None = None, exclude_case_id: int | None = None,
               cases: QuerySet | None = None) -> list[Candidate]:
    """Open cases that may report the same incident as this would-be report, best first, with
    their score and reasons. ``cases`` narrows the search (e.g. to the caller's jurisdiction)."""
    report = {"text": text, "category_id": category_id, "lon": lon, "lat": lat, "at": at, "address": address,
              "region_code": region_code, "exclude_case_id": exclude_case_id}
    return candidates_many([report], cases=cases, within_batch=False)[0]


def candidates_many(reports: list[dict], *, cases: QuerySet | None = None,
                    within_batch: bool = True) -> list[list[Candidate]]:
    """``candidates`` for many reports at once (same keys as its arguments), one list per report.

    Batched: one query for the open cases in all the reports' boxes and windows (numbers only);
    only when some are found, one for the categories and one for the text of those that pass the
    radius, window and category filters; the filters run on numpy arrays sorted by latitude. With ``within_batch`` a report's
    candidates also include the **earlier reports of the same batch** (``batch_index`` = their
    position, ``case_id`` None): the importer creates them in order and merges a report into the
    case it created for that earlier row.
    """

    rows = [_report_fields(r) for r in reports]
    if not rows:
        return []
    # Radius and window come from the cached rules (no query); the categories' kinds and classes
    # are read only when there is something to compare.
    limits = {cid: (search_radius_m(cid), search_window_h(cid)) for cid in {r["category_id"] for r in rows}}
    boxes, regions = [], set()
    for r in rows:
        radius = limits[r["category_id"]][0]
        if r["lat"] is None or r["lon"] is None:
            if r["region_code"]:
                regions.add(r["region_code"])
            continue
        dlat = radius / EARTH_M_PER_DEG
        dlon = radius / (EARTH_M_PER_DEG * max(0.1, math.cos(math.radians(r["lat"]))))
        boxes.append((r["lat"] - dlat, r["lat"] + dlat, r["lon"] - dlon, r["lon"] + dlon))
    max_window = max(window for _radius, window in limits.values())
    t_from = min(r["at"] for r in rows) - timedelta(hours=max_window)
    t_to = max(r["at"] for r in rows) + timedelta(hours=max_window)
    found = _open_rows(cases, _merge_boxes(boxes), regions, t_from, t_to)
    if not found and not (within_batch and len(rows) > 1):
        return [[] for _ in rows]
    infos = _category_infos({r["category_id"] for r in rows})

    # Pairs that pass the radius, window and category filters: (report i, existing row or batch j).
    pairs: list[tuple] = []
    pairs += _pairs_against(rows, infos, found)
    if within_batch and len(rows) > 1:
        pairs += _pairs_within(rows, infos)
    if not pairs:
        return [[] for _ in rows]

    wanted = sorted({p[1]["pk"] for p in pairs if p[1] is not None and "pk" in p[1]})
    texts = {}
    if wanted:
        for pk, number, title, description, address in _texts(wanted):
            texts[pk] = (number, textsim.grams(f"{title} {description}", address), address)
    report_grams = {}
    out: list[list[Candidate]] = [[] for _ in rows]
    for i, other, j, distance, minutes, relation, same_region in pairs:
        r, info = rows[i], infos[rows[i]["category_id"]]
        if i not in report_grams:
            report_grams[i] = textsim.grams(r["text"], r["address"])
        if other is not None:
            number, other_grams, other_address = texts[other["pk"]]
            case_id, batch_index = other["pk"], None
        else:
            if j not in report_grams:
                report_grams[j] = textsim.grams(rows[j]["text"], rows[j]["address"])
            number, other_grams, other_address = "", report_grams[j], rows[j]["address"]
            case_id, batch_index = None, j
        parts = dict(
            distance_m=distance, radius_m=info.radius_m, same_region=same_region, minutes=minutes,
            window_h=info.window_h, relation=relation, text_sim=textsim.similarity(report_grams[i], other_grams),
            same_address=textsim.same_address(r["address"], other_address),
        )
        out[i].append(Candidate(case_id, number, _score(**parts), _reasons(**parts), batch_index))
    for found_for_report in out:
        found_for_report.sort(key=lambda c: (-c.score, c.reasons["distance_m"] or 0.0))
    return out


def _texts(pks: list[int]) -> list[tuple]:
    """(pk, number, title, description, address) of the cases ``pks``."""
    from civicgrid.cases.models import Case

    table = connection.ops.quote_name(Case._meta.db_table)
    among, params = sql.any_of("id", pks)
    with sql.cursor() as cursor:
        cursor.execute(f"SELECT id, number, title, description, address FROM {table} WHERE {among}", params)
        return cursor.fetchall()


# Pairs computed per slice of queries so the arrays stay small however dense the band is.
_BAND_CHUNK = 500_000


def _band_pairs(q_lats, q_lons, q_radius, s_lats, s_lons):
    """Every (query, point) pair whose point lies within the query's radius, all queries at once:
    the points are sorted by latitude, each query's latitude band is found by binary search and
    the bands are expanded into flat arrays for one vectorised distance. Returns (query index,
    point index, distance in metres) arrays, in query order and, per query, in point order."""
    dlat = q_radius / EARTH_M_PER_DEG
    lo = np.searchsorted(s_lats, q_lats - dlat, side="left")
    hi = np.searchsorted(s_lats, q_lats + dlat, side="right")
    counts = np.maximum(hi - lo, 0)
    ends = np.cumsum(counts)
    out_q, out_s, out_d = [], [], []
    first = 0
    while first < len(q_lats):
        # Queries [first, last) hold at most _BAND_CHUNK pairs (at least one query).
        base = int(ends[first - 1]) if first else 0
        last = max(first + 1, int(np.searchsorted(ends, base + _BAND_CHUNK, side="right")))
        part = counts[first:last]
        q = np.repeat(np.arange(first, last), part)
        offsets = np.arange(int(part.sum())) - np.repeat(np.cumsum(part) - part, part)
        s = np.repeat(lo[first:last], part) + offsets
        d = _distance_m(q_lons[q], q_lats[q], s_lons[s], s_lats[s])
        keep = d <= q_radius[q]
        out_q.append(q[keep])
        out_s.append(s[keep])
        out_d.append(d[keep])
        first = last
    if not out_q:
        empty = np.zeros(0, dtype=int)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_q), np.concatenate(out_s), np.concatenate(out_d)


def _point_queries(rows: list[dict], infos: dict) -> tuple:
    """The reports with a point: their positions in ``rows`` and arrays of latitude, longitude,
    time, search radius and window (seconds)."""
    with_point = [i for i, r in enumerate(rows) if r["lat"] is not None and r["lon"] is not None]
    limits = [infos[rows[i]["category_id"]] for i in with_point]
    return (
        np.array(with_point, dtype=int),
        np.array([rows[i]["lat"] for i in with_point], dtype=float),
        np.array([rows[i]["lon"] for i in with_point], dtype=float),
        np.array([rows[i]["at"].timestamp() for i in with_point], dtype=float),
        np.array([info.radius_m for info in limits], dtype=float),
        np.array([info.window_h * 3600.0 for info in limits], dtype=float),
    )


def _pairs_against(rows: list[dict], infos: dict, found: list[dict]) -> list[tuple]:
    if not found:
        return []
    found.sort(key=lambda f: (f["lat"] if f["lat"] is not None else -999.0))
    lats = np.array([f["lat"] if f["lat"] is not None else np.nan for f in found], dtype=float)
    lons = np.array([f["lon"] if f["lon"] is not None else np.nan for f in found], dtype=float)
    times = np.array([f["reported_at"].timestamp() for f in found], dtype=float)
    sorted_lats = np.where(np.isnan(lats), -999.0, lats)
    close: list[tuple] = []  # (report, found row, distance, same region)
    for i, r in enumerate(rows):
        if (r["lat"] is None or r["lon"] is None) and r["region_code"]:
            # No point: the same finest region only.
            window = infos[r["category_id"]].window_h * 3600
            at = r["at"].timestamp()
            close += [(i, k, None, True) for k, f in enumerate(found)
                      if f["region_code"] == r["region_code"] and abs(times[k] - at) <= window]
    queries, q_lats, q_lons, q_times, q_radius, q_window = _point_queries(rows, infos)
    if len(queries):
        q, k, d = _band_pairs(q_lats, q_lons, q_radius, sorted_lats, lons)
        ok = np.abs(times[k] - q_times[q]) <= q_window[q]
        for qi, ki, distance in zip(q[ok].tolist(), k[ok].tolist(), d[ok].tolist(), strict=True):
            i = int(queries[qi])
            region = rows[i]["region_code"]
            close.append((i, ki, distance, bool(region) and found[ki]["region_code"] == region))
    pairs = []
    for i, k, distance, region in close:
        r, f = rows[i], found[k]
        if f["pk"] == r["exclude_case_id"]:
            continue
        relation = _relation(infos[r["category_id"]], r["category_id"], f["category_id"], f["category__kind"],
                             f["category__major_code"])
        if relation is None:
            continue
        pairs.append((i, f, None, distance, (times[k] - r["at"].timestamp()) / 60.0, relation, region))
    return pairs


def _pairs_within(rows: list[dict], infos: dict) -> list[tuple]:
    """Earlier reports of the same batch within the radius and window (all reports at once over
    the latitude-sorted batch)."""
    queries, q_lats, q_lons, q_times, q_radius, q_window = _point_queries(rows, infos)
    if len(queries) < 2:
        return []
    kinds = {pk: info.kind for pk, info in infos.items() if pk is not None}
    majors = {pk: infos[pk].major for pk in infos if pk is not None}
    order = np.argsort(q_lats, kind="stable")
    q, k, d = _band_pairs(q_lats, q_lons, q_radius, q_lats[order], q_lons[order])
    earlier = queries[order][k]
    ok = (earlier < queries[q]) & (np.abs(q_times[order][k] - q_times[q]) <= q_window[q])
    pairs = []
    for qi, j, distance in zip(q[ok].tolist(), earlier[ok].tolist(), d[ok].tolist(), strict=True):
        i = int(queries[qi])
        r, info, other_category = rows[i], infos[rows[i]["category_id"]], rows[j]["category_id"]
        relation = _relation(info, r["category_id"], other_category, kinds.get(other_category),
                             majors.get(other_category))
        if relation is None:
            continue
        region = bool(r["region_code"]) and rows[j]["region_code"] == r["region_code"]
        pairs.append((i, None, j, distance, (rows[j]["at"].timestamp() - r["at"].timestamp()) / 60.0, relation,
                      region))
    return pairs


def explain(reasons: dict) -> str:
    """The reasons in one line of Chinese-friendly text for notes (numbers only, no prose)."""
    distance = "?" if reasons.get("distance_m") is None else f"{reasons['distance_m']:.0f} m"
    return (f"{distance} · {reasons.get('minutes_apart')} min · {reasons.get('category')} · "
            f"text {reasons.get('text_similarity')} · address {'=' if reasons.get('same_address') else '≠'}")

