"""Demo geometry: plausible street, community and grid polygons inside real district boundaries.

No street, community or grid boundaries exist in open data, so the demo generates them. Every
polygon made here is labelled demo geometry when stored (``Region.geometry_is_demo``).

How: a polygon is partitioned by straight cuts, each placed (regula falsi on its offset) so the two
sides have the wanted share of the area. Streets and communities come from recursive cuts across
the longer side with a seeded jitter of the angle, so their areas follow the weights; grid cells
come from horizontal bands (north → south) each cut by vertical lines (west → east), i.e.
rectangular cells clipped to the community, numbered in reading order as GB/T 30428.1 asks.

Cutting pieces of pieces in floating point leaves T-junctions (a vertex on one side of an edge but
not the other), hence hair-thin overlaps. So the cuts only decide *which* piece is where: at the end
every district boundary and every cut is noded together on a 1e-7° (≈ 1 cm) grid and polygonized,
and each region is the union of the faces it holds. Districts, streets, communities and grids are
then one exact nested coverage: valid, no overlaps, no gaps, each inside its parent.

Everything is deterministic: randomness comes from ``random.Random`` seeded with the region code.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

GRID_SIZE = 1e-7  # degrees; ≈ 1 cm at Xiamen's latitude
SLIVER_SHARE = 0.02  # a detached part smaller than this share of its piece joins a neighbour
AREA_TOLERANCE = 1e-4  # relative error accepted when placing a cut
JITTER_DEGREES = 15.0  # random tilt of the cuts between streets and between communities
CUT_OVERSHOOT = 1e-6  # degrees a cut is stretched past its ends so it crosses what it ends on
EAST = 0.0  # normal angles of the grid cuts: the near side of an EAST cut is its west side,
SOUTH = -math.pi / 2  # of a SOUTH cut its north side
TOUCH_DISTANCE = 1e-6  # degrees within which a crumb counts as touching a neighbour


# --- small geometry helpers -------------------------------------------------------------------


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal parts of an overlay result, made valid, as a Polygon or MultiPolygon."""
    if geom.is_empty:
        return Polygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polygons = []
    for part in parts:
        polygons.extend(shapely.get_parts(part) if part.geom_type == "MultiPolygon" else [part])
    polygons = [p for p in polygons if p.area > 0]
    if not polygons:
        return Polygon()
    if len(polygons) == 1:
        return polygons[0]
    return MultiPolygon(polygons)


def snap(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` on the 1 cm precision grid every generated polygon uses."""
    return polygonal(shapely.set_precision(geom, GRID_SIZE))


def to_geojson(geom: BaseGeometry) -> dict:
    """A GeoJSON geometry dict with lists (not tuples) and coordinates rounded to the grid."""

    def clean(value):
        if isinstance(value, (list, tuple)):
            if value and isinstance(value[0], float | int):
                return [round(float(v), 7) for v in value]
            return [clean(v) for v in value]
        return value

    data = mapping(geom)
    return {"type": data["type"], "coordinates": clean(data["coordinates"])}


def _lat_scale(geom: BaseGeometry) -> float:
    """East-west shrink factor of a degree of longitude at the geometry's latitude."""
    _, miny, _, maxy = geom.bounds
    return math.cos(math.radians((miny + maxy) / 2))


# --- cutting ----------------------------------------------------------------------------------


def _half_plane(geom: BaseGeometry, angle: float, offset: float) -> Polygon:
    """The part of the plane (around ``geom``) where ``p · n <= offset``, n = (cos a, sin a)."""
    nx, ny = math.cos(angle), math.sin(angle)
    ux, uy = -ny, nx
    coords = shapely.get_coordinates(geom)
    s = coords @ (nx, ny)
    v = coords @ (ux, uy)
    margin = 1.0 + float(s.max() - s.min()) + float(v.max() - v.min())
    s0, v0, v1 = float(s.min()) - margin, float(v.min()) - margin, float(v.max()) + margin
    corners = [(s0, v0), (offset, v0), (offset, v1), (s0, v1)]
    return Polygon([(a * nx + b * ux, a * ny + b * uy) for a, b in corners])


def _cut_segments(geom: BaseGeometry, angle: float, offset: float) -> list[LineString]:
    """The pieces of the cut line inside ``geom``, each stretched by ``CUT_OVERSHOOT`` at both
    ends so that noding finds a proper crossing with the boundary it ends on."""
    nx, ny = math.cos(angle), math.sin(angle)
    ux, uy = -ny, nx
    v = shapely.get_coordinates(geom) @ (ux, uy)
    v0, v1 = float(v.min()) - 1.0, float(v.max()) + 1.0
    line = LineString([(offset * nx + v0 * ux, offset * ny + v0 * uy), (offset * nx + v1 * ux, offset * ny + v1 * uy)])
    segments = []
    for part in shapely.get_parts(shapely.intersection(line, geom)):
        if part.geom_type != "LineString" or part.length == 0:
            continue
        (x0, y0), (x1, y1) = part.coords[0], part.coords[-1]
        dx, dy = (x1 - x0) / part.length * CUT_OVERSHOOT, (y1 - y0) / part.length * CUT_OVERSHOOT
        segments.append(LineString([(x0 - dx, y0 - dy), (x1 + dx, y1 + dy)]))
    return segments


def _share_function(geom: BaseGeometry, angle: float):
    """``t → area of geom where p · n <= t`` as a share of its area, and the range of ``t``."""
    nx, ny = math.cos(angle), math.sin(angle)
    coords = shapely.get_coordinates(geom)
    s = coords @ (nx, ny)
    low, high = float(s.min()), float(s.max())
    total = geom.area
    minx, miny, maxx, maxy = geom.bounds
    pad = 1.0
    if angle == EAST:  # axis-parallel cuts (grid cells) clip by a rectangle: much faster
        return (lambda t: shapely.clip_by_rect(geom, minx - pad, miny - pad, t, maxy + pad).area / total), low, high
    if angle == SOUTH:  # the near side is north of y = -t
        return (lambda t: shapely.clip_by_rect(geom, minx - pad, -t, maxx + pad, maxy + pad).area / total), low, high
    shapely.prepare(geom)
    return (lambda t: shapely.intersection(geom, _half_plane(geom, angle, t)).area / total), low, high


def _find_offset(share, low: float, high: float, fraction: float) -> float:
    """The offset where ``share`` (monotone) reaches ``fraction``: regula falsi with the Illinois
    fix, which needs a handful of evaluations where bisection needs a dozen or more."""
    f_low, f_high = -fraction, 1.0 - fraction
    side = 0
    middle = (low + high) / 2
    for _ in range(60):
        middle = (low * f_high - high * f_low) / (f_high - f_low) if f_high != f_low else (low + high) / 2
        if not low < middle < high:
            middle = (low + high) / 2
        value = share(middle) - fraction
        if abs(value) < AREA_TOLERANCE:
            break
        if value < 0:
            low, f_low = middle, value
            if side == -1:
                f_high /= 2
            side = -1
        else:
            high, f_high = middle, value
            if side == 1:
                f_low /= 2
            side = 1
    return middle


def split(
    geom: BaseGeometry, angle: float, fraction: float, cuts: list | None = None,
) -> tuple[BaseGeometry, BaseGeometry]:
    """Cut ``geom`` by a line with normal angle ``angle`` (radians) so that the side with the
    smaller projection on the normal holds ``fraction`` of the area. Returns (that side, the rest)
    and appends the cut's segments to ``cuts``.
    """
    if fraction <= 0:
        return Polygon(), geom
    if fraction >= 1:
        return geom, Polygon()
    share, low, high = _share_function(geom, angle)
    offset = _find_offset(share, low, high, fraction)
    plane = _half_plane(geom, angle, offset)
    near = polygonal(shapely.intersection(geom, plane))
    far = polygonal(shapely.difference(geom, plane))
    if cuts is not None:
        cuts.extend(_cut_segments(geom, angle, offset))
    return near, far


def _cut_angle(geom: BaseGeometry, rng: random.Random, jitter: float) -> float:
    """Normal angle of a cut across the longer side: pointing east for a wide shape (so the near
    side is the west), south for a tall one (near side north), tilted by up to ``jitter``°."""
    minx, miny, maxx, maxy = geom.bounds
    wide = (maxx - minx) * _lat_scale(geom) >= (maxy - miny)
    base = 0.0 if wide else -math.pi / 2
    tilt = math.radians(rng.uniform(-jitter, jitter)) if jitter else 0.0
    return base + tilt


# --- partitions -------------------------------------------------------------------------------


def _merge_slivers(pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    """Give each small detached part of a piece to the touching sibling it shares most boundary
    with, so no piece is a main body plus crumbs, and the union stays the same."""
    pieces = list(pieces)
    for index, piece in enumerate(pieces):
        if piece.geom_type != "MultiPolygon":
            continue
        parts = sorted(shapely.get_parts(piece), key=lambda p: -p.area)
        keep = [parts[0]]
        for part in parts[1:]:
            if part.area >= SLIVER_SHARE * piece.area:
                keep.append(part)
                continue
            best, best_length = None, 0.0
            grown = part.buffer(TOUCH_DISTANCE)
            for other_index, other in enumerate(pieces):
                if other_index == index or other.is_empty:
                    continue
                shared = shapely.intersection(grown, other.boundary).length
                if shared > best_length:
                    best, best_length = other_index, shared
            if best is None:
                keep.append(part)  # an island on its own: it stays where it is
            else:
                pieces[best] = polygonal(shapely.union(pieces[best], part))
        pieces[index] = polygonal(MultiPolygon(keep)) if len(keep) > 1 else keep[0]
    return pieces


def partition(
    geom: BaseGeometry, weights: Sequence[float], rng: random.Random, *,
    cuts: list | None = None, jitter: float = JITTER_DEGREES,
) -> list[BaseGeometry]:
    """Split ``geom`` into ``len(weights)`` pieces with areas proportional to ``weights``, in order
    roughly west → east / north → south (recursive cuts across the longer side). The pieces are
    approximate (floating-point cuts); ``resolve`` turns them into an exact coverage."""

    def recurse(part: BaseGeometry, chunk: Sequence[float]) -> list[BaseGeometry]:
        if len(chunk) == 1:
            return [part]
        half = len(chunk) // 2
        fraction = sum(chunk[:half]) / sum(chunk)
        near, far = split(part, _cut_angle(part, rng, jitter), fraction, cuts)
        return recurse(near, chunk[:half]) + recurse(far, chunk[half:])

    if not weights:
        return []
    return _merge_slivers(recurse(geom, list(weights)))


def row_counts(geom: BaseGeometry, count: int) -> list[int]:
    """How many cells each band (north → south) gets so that cells come out roughly square."""
    minx, miny, maxx, maxy = geom.bounds
    width = max((maxx - minx) * _lat_scale(geom), 1e-12)
    height = max(maxy - miny, 1e-12)
    rows = max(1, min(count, round(math.sqrt(count * height / width))))
    base, extra = divmod(count, rows)
    return [base + (1 if row < extra else 0) for row in range(rows)]


def grid_cells(geom: BaseGeometry, count: int, cuts: list | None = None) -> list[BaseGeometry]:
    """Split a community into ``count`` cells of equal area: bands from north to south, each cut
    into columns from west to east. The list is in code order (west → east, north → south)."""
    if count <= 1:
        return [geom]
    cells: list[BaseGeometry] = []
    band_of: list[int] = []
    rest = geom
    remaining = count
    for row, columns in enumerate(row_counts(geom, count)):
        band, rest = split(rest, SOUTH, columns / remaining, cuts) if remaining > columns else (rest, None)
        remaining -= columns
        for column in range(columns):
            left = columns - column
            cell, band = split(band, EAST, 1 / left, cuts) if left > 1 else (band, None)
            cells.append(cell)
            band_of.append(row)
    cells = _merge_slivers(cells)
    # Merged crumbs can move a centroid a little: number by band, then by centroid from the west.
    order = sorted(range(len(cells)), key=lambda i: (band_of[i], cells[i].centroid.x))
    return [cells[i] for i in order]


def resolve(
    boundary: BaseGeometry, cuts: Sequence[LineString], leaves: Sequence[BaseGeometry], *,
    borders: Sequence[BaseGeometry] = (),
) -> list[list[Polygon]]:
    """Exact faces for approximate ``leaves`` that partition ``boundary``.

    Floating-point cuts of cuts leave T-junctions whose vertices the neighbour does not have, so
    pieces would overlap by a hair. Instead the boundary (and inner ``borders``, whose boundary
    lines must be kept) and every cut are noded together on the
    1 cm grid and polygonized: the faces form one exact coverage, and each face goes to the
    approximate leaf that holds it. Unions of a leaf's faces then share edges exactly.
    """
    rings = [boundary.boundary, *(border.boundary for border in borders)]
    linework = shapely.union_all([*rings, *cuts], grid_size=GRID_SIZE)
    faces = [
        face for face in shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
        if face.area > 0
    ]
    points = shapely.point_on_surface(faces)
    inside = shapely.contains(boundary, points)
    tree = shapely.STRtree(leaves)
    owners: list[list[Polygon]] = [[] for _ in leaves]
    point_index, leaf_index = tree.query(points, predicate="within")
    owner_of = dict(zip(point_index.tolist(), leaf_index.tolist(), strict=True))
    for index, face in enumerate(faces):
        if not inside[index]:
            continue  # a crumb between overshooting cut ends, outside the region
        owner = owner_of.get(index)
        if owner is None:  # a hair-thin face on an approximate border: nearest leaf
            owner = int(tree.query_nearest(points[index])[0])
        owners[owner].append(face)
    return owners


def merge(faces: Sequence[BaseGeometry]) -> BaseGeometry:
    """Union of faces of one coverage, exact (shared edges cancel), as a Polygon or MultiPolygon."""
    return polygonal(shapely.coverage_union_all(list(faces)))


# --- the demo city --------------------------------------------------------------------------


@dataclass
class Unit:
    """A region to generate geometry for: its code, name and children (empty for communities).
    ``geometry`` is approximate until ``generate_grids`` resolves the district it lies in."""

    code: str
    name: str
    children: list[Unit] = field(default_factory=list)
    geometry: BaseGeometry | None = None
    cuts: list[LineString] = field(default_factory=list)


@dataclass
class Cell:
    code: str
    name: str
    community_code: str
    geometry: BaseGeometry


def seeded(code: str) -> random.Random:
    return random.Random(f"civicgrid-demo:{code}")


def _sorted(units: Sequence[Unit]) -> list[Unit]:
    return sorted(units, key=lambda unit: unit.code)


def generate_district(district: Unit, boundary: BaseGeometry) -> None:
    """Give every street and community of ``district`` an (approximate) polygon inside
    ``boundary``. Streets get area proportional to their number of communities; communities in a
    street share its area with a ±30 % seeded variation."""
    district.geometry = snap(boundary)
    district.cuts = []
    streets = _sorted(district.children)
    weights = [max(1, len(street.children)) for street in streets]
    pieces = partition(district.geometry, weights, seeded(district.code), cuts=district.cuts)
    for street, piece in zip(streets, pieces, strict=True):
        street.geometry = piece
        communities = _sorted(street.children)
        rng = seeded(street.code)
        community_weights = [rng.uniform(0.7, 1.3) for _ in communities]
        cells = partition(piece, community_weights, rng, cuts=district.cuts)
        for community, cell in zip(communities, cells, strict=True):
            community.geometry = cell


def apportion(weights: Sequence[float], total: int, minimum: int = 1) -> list[int]:
    """Integers summing to ``total`` (at least ``minimum`` each), otherwise proportional to
    ``weights``, by the largest-remainder method (ties broken by position, so deterministic)."""
    count = len(weights)
    if count == 0:
        return []
    if total < minimum * count:
        raise ValueError(f"cannot give {count} items at least {minimum} each out of {total}")
    spare = total - minimum * count
    weight_sum = sum(weights)
    quotas = [spare * w / weight_sum for w in weights] if weight_sum > 0 else [spare / count] * count
    counts = [minimum + math.floor(q) for q in quotas]
    left = total - sum(counts)
    by_remainder = sorted(range(count), key=lambda i: (-(quotas[i] - math.floor(quotas[i])), i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


def grid_counts(communities: Sequence[Unit], total: int) -> dict[str, int]:
    """Grid cells per community: at least one, the rest half in equal shares and half by area
    (dense urban communities get more grids than a purely area-based share would give them)."""
    communities = _sorted(communities)
    areas = [community.geometry.area for community in communities]
    area_sum = sum(areas) or 1.0
    weights = [0.5 / len(communities) + 0.5 * area / area_sum for area in areas]
    counts = apportion(weights, total)
    return {community.code: n for community, n in zip(communities, counts, strict=True)}


def short_community_name(name: str) -> str:
    """``岑东社区居委会`` → ``岑东社区``, ``后溪村委会`` → ``后溪村``."""
    for suffix in ("居民委员会", "村民委员会", "居委会"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    if name.endswith("村委会"):
        return name[: -len("委会")]
    return name


def cut_grids(district: Unit, counts: dict[str, int]) -> list[Cell]:
    """Cut every community of a district (after ``generate_district``) into ``counts[code]``
    approximate grid cells. Grid codes are ``<12-digit community code><001…>`` in reading order
    (west → east within a band, bands north → south)."""
    cells: list[Cell] = []
    for street in _sorted(district.children):
        for community in _sorted(street.children):
            name = short_community_name(community.name)
            pieces = grid_cells(community.geometry, counts[community.code], district.cuts)
            for sequence, piece in enumerate(pieces, start=1):
                cells.append(Cell(f"{community.code}{sequence:03d}", f"{name}第{sequence}网格", community.code, piece))
    return cells


def resolve_all(districts: Sequence[Unit], cells: Sequence[Cell]) -> None:
    """Make the districts, their streets, communities and the grid ``cells`` one exact nested
    coverage (in place). All districts are noded together so that neighbours keep one border."""
    boundary = shapely.union_all([district.geometry for district in districts])
    cuts = [cut for district in districts for cut in district.cuts]
    borders = [district.geometry for district in districts]
    faces = resolve(boundary, cuts, [cell.geometry for cell in cells], borders=borders)
    by_code: dict[str, list[Polygon]] = {}
    for cell, own in zip(cells, faces, strict=True):
        cell.geometry = merge(own)
        for prefix in (cell.community_code, cell.community_code[:9], cell.community_code[:6]):
            by_code.setdefault(prefix, []).extend(own)
    for district in districts:
        district.geometry = merge(by_code[district.code[:6]])
        for street in district.children:
            street.geometry = merge(by_code[street.code[:9]])
            for community in street.children:
                community.geometry = merge(by_code[community.code])


def generate(boundaries: dict[str, BaseGeometry], districts: Sequence[Unit], total_grids: int) -> list[Cell]:
    """Everything: streets and communities inside each district's real ``boundaries[code]``,
    ``total_grids`` grid cells apportioned over all communities, one exact nested coverage.
    Returns the grid cells in code order; the units get their final geometry in place."""
    districts = _sorted(districts)
    for district in districts:
        generate_district(district, boundaries[district.code])
    communities = [community for d in districts for street in d.children for community in street.children]
    counts = grid_counts(communities, total_grids)
    cells = [cell for district in districts for cell in cut_grids(district, counts)]
    resolve_all(districts, cells)
    return sorted(cells, key=lambda cell: cell.code)
