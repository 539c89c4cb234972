"""Geometry helpers: GCJ-02 ⇄ WGS-84, GeoJSON parsing and validation, summaries.

Chinese phone maps (AMap, Tencent, and Baidu after its own extra shift) show GCJ-02 coordinates,
an obfuscated datum offset from WGS-84 by a few hundred metres. The forward transform (WGS-84 →
GCJ-02) is the public "Krasovsky" formula; there is no closed-form inverse, so we invert it by
fixed-point iteration, which converges to well under a millimetre in a few steps.

Every function here works on scalars and on numpy arrays alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import shape

# Constants of the GCJ-02 formula (Krasovsky 1940 ellipsoid).
_A = 6378245.0
_EE = 0.00669342162296594323

# GCJ-02 applies only inside this box (the common "out of China" test); outside it equals WGS-84.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)  # min lon, min lat, max lon, max lat

CRS_WGS84 = "wgs84"
CRS_GCJ02 = "gcj02"
SUPPORTED_CRS = (CRS_WGS84, CRS_GCJ02)


def in_china(lon, lat):
    """True where GCJ-02 obfuscation applies (scalar or array)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (
        (lon >= CHINA_BBOX[0]) & (lon <= CHINA_BBOX[2]) & (lat >= CHINA_BBOX[1]) & (lat <= CHINA_BBOX[3])
    )


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(lon, lat):
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _out(lon, lat, scalar: bool):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon, lat):
    """WGS-84 → GCJ-02 (the forward, published formula)."""
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return _out(lon + dlon, lat + dlat, scalar)


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-10, max_iterations: int = 30):
    """GCJ-02 → WGS-84 by iterating the forward formula: w ← w + (g − forward(w)).

    The offset field is smooth and changes by far less than 1 per degree, so each step shrinks the
    error by orders of magnitude; ``tolerance`` (degrees, 1e-10 ≈ 0.01 mm) is reached in 2–4 steps.
    """
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        d_lon = g_lon - f_lon
        d_lat = g_lat - f_lat
        w_lon = w_lon + d_lon
        w_lat = w_lat + d_lat
        if np.all(np.abs(d_lon) < tolerance) and np.all(np.abs(d_lat) < tolerance):
            break
    return _out(w_lon, w_lat, scalar)


def to_wgs84(lon, lat, crs: str = CRS_WGS84):
    """Normalise coordinates given in ``crs`` to WGS-84."""
    crs = (crs or CRS_WGS84).lower()
    if crs == CRS_WGS84:
        if np.ndim(lon) == 0 and np.ndim(lat) == 0:
            return float(lon), float(lat)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if crs == CRS_GCJ02:
        return gcj02_to_wgs84(lon, lat)
    raise ValueError(f"Unsupported coordinate system {crs!r}; use one of {', '.join(SUPPORTED_CRS)}.")


def haversine_m(lon1, lat1, lon2, lat2) -> float:
    """Great-circle distance in metres (for tests and diagnostics)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# --- GeoJSON --------------------------------------------------------------------------------------

POLYGONAL_TYPES = ("Polygon", "MultiPolygon")


class GeometryProblem(ValueError):
    """A GeoJSON geometry that cannot be used as a region boundary; ``str()`` says why."""


def _check_ring_closed(ring, where: str) -> None:
    if not isinstance(ring, list | tuple) or len(ring) < 4:
        raise GeometryProblem(f"{where} needs at least 4 positions (a closed ring), got {len(ring) if isinstance(ring, list | tuple) else 0}.")
    for position in ring:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
            or not all(math.isfinite(v) for v in position[:2])
        ):
            raise GeometryProblem(f"{where} has a position that is not a [lon, lat] pair of numbers: {position!r}.")
        if not (-180 <= position[0] <= 180 and -90 <= position[1] <= 90):
            raise GeometryProblem(f"{where} has a position outside WGS-84 lon/lat range: {list(position[:2])}.")
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise GeometryProblem(f"{where} is not closed (first position {list(ring[0][:2])} ≠ last {list(ring[-1][:2])}).")


def polygon_from_geojson(geometry) -> shapely.Geometry:
    """Parse a GeoJSON Polygon/MultiPolygon (or a Feature holding one) into a valid shapely geometry.

    Checks what shapely would silently repair or accept: rings must be explicitly closed, positions
    numeric and in lon/lat range, and the result valid (no self-intersection) with positive area.
    Raises ``GeometryProblem`` with the reason.
    """
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if not isinstance(geometry, dict):
        raise GeometryProblem("Geometry is missing or not a GeoJSON object.")
    kind = geometry.get("type")
    if kind not in POLYGONAL_TYPES:
        raise GeometryProblem(f"Geometry type must be Polygon or MultiPolygon, got {kind!r}.")
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise GeometryProblem("Geometry has no coordinates.")
    for p, rings in enumerate(polygons):
        if not isinstance(rings, list) or not rings:
            raise GeometryProblem(f"Polygon {p} has no rings.")
        for r, ring in enumerate(rings):
            where = f"ring {r}" if kind == "Polygon" else f"polygon {p} ring {r}"
            _check_ring_closed(ring, where.capitalize())
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        raise GeometryProblem(f"Geometry cannot be read: {exc}.") from exc
    if not shapely.is_valid(geom):
        raise GeometryProblem(f"Polygon is not valid: {shapely.is_valid_reason(geom)}.")
    if geom.is_empty or geom.area <= 0:
        raise GeometryProblem("Polygon has no area.")
    return geom


# Rough metres per degree, good enough for summaries (not for measurement).
_M_PER_DEG_LAT = 111_320.0


def approx_area_km2(geom: shapely.Geometry) -> float:
    """Area in km² using a local equirectangular scale at the centroid latitude."""
    if geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    return geom.area * _M_PER_DEG_LAT * _M_PER_DEG_LAT * math.cos(math.radians(lat)) / 1e6


@dataclass(frozen=True)
class GeometrySummary:
    kind: str
    polygons: int
    vertices: int
    area_km2: float
    bounds: tuple[float, float, float, float]
    centroid: tuple[float, float]


def summarize(geometry: dict | None) -> GeometrySummary | None:
    """A short description of a stored GeoJSON boundary, for admin and APIs."""
    if not geometry:
        return None
    geom = shape(geometry)
    parts = shapely.get_num_geometries(geom)
    return GeometrySummary(
        kind=geometry.get("type", ""),
        polygons=int(parts),
        vertices=int(shapely.get_num_coordinates(geom)),
        area_km2=round(approx_area_km2(geom), 4),
        bounds=tuple(round(v, 6) for v in geom.bounds),
        centroid=(round(geom.centroid.x, 6), round(geom.centroid.y, 6)),
    )
