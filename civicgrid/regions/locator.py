"""Point → region: which grid (or finest region with a boundary) contains a coordinate.

The polygons live in memory in a shapely 2 STRtree, built from the database and rebuilt when the
region generation changes (one primary-key read per call, however many points). The index holds,
for every part of the map, the finest polygons available there: grids where grids are loaded,
otherwise the deepest divisions that have a boundary (a district with no grids yet is answered at
district level). A point on a shared edge belongs to the region with the lowest code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import shape

from civicgrid.core.geo import CRS_WGS84, to_wgs84
from civicgrid.regions.generation import CachedIndex
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH, Region

Level = Region.Level
_LEVELS_TOP_DOWN = [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.GRID]


@dataclass(frozen=True)
class RegionRef:
    code: str
    level: str
    name: str


@dataclass(frozen=True)
class Location:
    """Where a point lies: the matched region (``code``/``level``/``name``) and its ancestors."""

    lon: float  # WGS-84, after any datum conversion
    lat: float
    code: str
    level: str
    name: str
    is_demo: bool
    ancestors: tuple[RegionRef, ...]  # from the city down, without the matched region

    @property
    def matched(self) -> RegionRef:
        return RegionRef(self.code, self.level, self.name)

    @property
    def path(self) -> tuple[RegionRef, ...]:
        return (*self.ancestors, self.matched)

    @property
    def grid(self) -> RegionRef | None:
        return self.matched if self.level == Level.GRID else None

    def at_level(self, level: str) -> RegionRef | None:
        return next((r for r in self.path if r.level == level), None)


def ancestor_codes(code: str, level: str) -> list[str]:
    """Codes the ancestors of a region would have, from the city down (derived from the prefix)."""
    depth = _LEVELS_TOP_DOWN.index(Level(level))
    codes: list[str] = []
    for upper in _LEVELS_TOP_DOWN[:depth]:
        candidate = code[: LEVEL_PREFIX_LENGTH[upper]].ljust(12, "0")
        if candidate != code and candidate not in codes:
            codes.append(candidate)
    return codes


class RegionIndex:
    """An STRtree over polygons sorted by code, so the lowest tree index is the lowest code."""

    def __init__(self, codes, geoms, levels=None, demo=None):
        order = np.argsort(np.asarray(codes, dtype=str), kind="stable")
        self.codes = np.asarray(codes, dtype=object)[order]
        self.geoms = np.asarray(geoms, dtype=object)[order]
        n = len(self.codes)
        self.levels = np.asarray(levels if levels is not None else [Level.GRID.value] * n, dtype=object)[order]
        self.demo = np.asarray(demo if demo is not None else [False] * n, dtype=bool)[order]
        self.tree = shapely.STRtree(self.geoms)
        # Code lookup with a trailing None so index −1 (no match) maps to None without a branch.
        self._codes_or_none = np.append(self.codes, None)

    def __len__(self):
        return len(self.codes)

    @classmethod
    def from_database(cls) -> RegionIndex:
        rows = list(
            Region.objects.filter(geometry__isnull=False).values_list("code", "level", "geometry", "geometry_is_demo")
        )
        rows = [r for r in rows if r[2]]
        with_geometry = {code: level for code, level, _g, _d in rows}
        has_finer = set()
        for code, level in with_geometry.items():
            for ancestor in ancestor_codes(code, level):
                if ancestor in with_geometry:
                    has_finer.add(ancestor)
        leaves = [r for r in rows if r[0] not in has_finer]
        geoms = [shapely.make_valid(shape(r[2])) for r in leaves]
        return cls([r[0] for r in leaves], geoms, [r[1] for r in leaves], [r[3] for r in leaves])

    def locate_indices(self, lons, lats) -> np.ndarray:
        """Tree index of the region containing each WGS-84 point, −1 where none does."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        out = np.full(lons.shape[0], -1, dtype=np.int64)
        if not len(self.codes) or not lons.shape[0]:
            return out
        points = shapely.points(lons, lats)
        inputs, hits = self.tree.query(points, predicate="intersects")
        out[inputs] = hits
        # A point on a shared edge hits several polygons: keep the lowest code (lowest index).
        counts = np.bincount(inputs, minlength=out.shape[0])
        shared = counts[inputs] > 1
        if shared.any():
            np.minimum.at(out, inputs[shared], hits[shared])
        return out

    def locate_many(self, lons, lats) -> np.ndarray:
        """Code of the region containing each WGS-84 point (object array; None where none does)."""
        return self._codes_or_none[self.locate_indices(lons, lats)]


_index = CachedIndex(RegionIndex.from_database)


def current_index() -> RegionIndex:
    """The index for the current region generation (rebuilt if the regions changed)."""
    return _index.get()


def locate_many(lons, lats, crs: str = CRS_WGS84) -> np.ndarray:
    """Codes of the grids (or finest regions with a boundary) containing each point; None where no
    region does. ``lons``/``lats`` are sequences or numpy arrays in ``crs`` (``wgs84``/``gcj02``)."""
    index = current_index()
    lons, lats = to_wgs84(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), crs)
    return index.locate_many(lons, lats)


def locate_code(lon: float, lat: float, crs: str = CRS_WGS84) -> tuple[str, float, float] | None:
    """(code of the region containing the point, WGS-84 lon, lat), or None outside every region:
    ``locate`` without the ancestors (no query beyond the generation check; intake uses it)."""
    index = current_index()
    lon, lat = to_wgs84(float(lon), float(lat), crs)
    found = int(index.locate_indices([lon], [lat])[0])
    return (index.codes[found], lon, lat) if found >= 0 else None


def locate(lon: float, lat: float, crs: str = CRS_WGS84) -> Location | None:
    """The region containing the point with all its ancestors, or None outside every region."""
    index = current_index()
    lon, lat = to_wgs84(float(lon), float(lat), crs)
    found = int(index.locate_indices([lon], [lat])[0])
    if found < 0:
        return None
    code, level = index.codes[found], index.levels[found]
    wanted = [*ancestor_codes(code, level), code]
    rows = {c: (lvl, name) for c, lvl, name in Region.objects.filter(code__in=wanted).values_list("code", "level", "name")}
    if code not in rows:  # deleted since the index was built; the next generation will drop it
        return None
    ancestors = tuple(RegionRef(c, *rows[c]) for c in wanted[:-1] if c in rows)
    return Location(
        lon=lon, lat=lat, code=code, level=rows[code][0], name=rows[code][1],
        is_demo=bool(index.demo[found]), ancestors=ancestors,
    )
