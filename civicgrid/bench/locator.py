"""Locator throughput: ``locate_many`` against a raw shapely STRtree query on the same polygons.

Uses the grids in the database when the demo (or a city's grids) is loaded, else a synthetic 64×64
grid of squares over Xiamen's bounding box. Prints points/s for both and their ratio; asserts
nothing (targets: ratio ≥ 0.5 and ≥ 100,000 points/s).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import shapely

POINTS = 1_000_000
REPEATS = 3
XIAMEN_BBOX = (117.87, 24.42, 118.43, 24.91)  # lon/lat, WGS-84


def _synthetic_grid(bbox=XIAMEN_BBOX, n: int = 64):
    minx, miny, maxx, maxy = bbox
    xs = np.linspace(minx, maxx, n + 1)
    ys = np.linspace(miny, maxy, n + 1)
    x0, y0 = np.meshgrid(xs[:-1], ys[:-1])
    x1, y1 = np.meshgrid(xs[1:], ys[1:])
    geoms = shapely.box(x0.ravel(), y0.ravel(), x1.ravel(), y1.ravel())
    # Codes shaped like real grid codes, unique per square.
    codes = [f"350299{i // 999:06d}{i % 999 + 1:03d}" for i in range(len(geoms))]
    return codes, geoms


def _best_of_interleaved(first, second, repeats=REPEATS):
    """Best time of each, alternating runs so drift in machine load hits both alike."""
    best = [float("inf"), float("inf")]
    results = [None, None]
    for _ in range(repeats):
        for i, fn in enumerate((first, second)):
            started = time.perf_counter()
            results[i] = fn()
            best[i] = min(best[i], time.perf_counter() - started)
    return best, results


def _database_grids():
    """The locator's own index and ``locate_many`` when grids are loaded, else None."""
    try:
        from civicgrid.regions import locator
        from civicgrid.regions.models import Region

        if not Region.objects.filter(level=Region.Level.GRID, geometry__isnull=False).exists():
            return None
        return locator.current_index(), locator.locate_many
    except Exception as exc:  # no database or not migrated: fall back to synthetic polygons
        print(f"(database not usable: {exc.__class__.__name__}; using synthetic grid)")
        return None


def run(points: int = POINTS) -> dict:
    from civicgrid.regions.locator import RegionIndex

    loaded = _database_grids()
    if loaded is not None:
        index, locate_many = loaded
        source = "database grids"
    else:
        codes, geoms = _synthetic_grid()
        index = RegionIndex(codes, geoms)
        locate_many = index.locate_many
        source = "synthetic 64x64 squares"
    polygons = index.geoms
    # Points fall over the grids (other cities' district polygons may share the index).
    grids = polygons[index.levels == "grid"]
    minx, miny, maxx, maxy = shapely.total_bounds(grids if len(grids) else polygons)
    rng = np.random.default_rng(20261124)
    lons = rng.uniform(minx, maxx, points)
    lats = rng.uniform(miny, maxy, points)

    raw_tree = shapely.STRtree(polygons)

    def raw():
        return raw_tree.query(shapely.points(lons, lats), predicate="intersects")

    def ours():
        return locate_many(lons, lats)

    # Warm both paths (index build on first use, caches) before timing.
    locate_many(lons[:1000], lats[:1000])
    raw_tree.query(shapely.points(lons[:1000], lats[:1000]), predicate="intersects")

    (raw_seconds, our_seconds), ((inputs, _hits), codes) = _best_of_interleaved(raw, ours)
    located = int(np.count_nonzero(np.not_equal(codes, None)))
    raw_located = int(np.unique(inputs).size)
    figures = {
        "source": source,
        "polygons": len(polygons),
        "points": points,
        "raw_strtree_points_per_s": round(points / raw_seconds),
        "locate_many_points_per_s": round(points / our_seconds),
        "ratio": round(raw_seconds / our_seconds, 3),
        "located": located,
        "raw_located": raw_located,
    }
    print(f"polygons: {figures['polygons']} ({source}); points: {points:,} (best of {REPEATS})")
    print(f"raw STRtree.query(points, predicate='intersects'): {figures['raw_strtree_points_per_s']:,} points/s")
    print(f"locate_many:                                       {figures['locate_many_points_per_s']:,} points/s")
    print(f"ratio locate_many / raw: {figures['ratio']:.3f}   located: {located:,} (raw: {raw_located:,})")
    return figures


if __name__ == "__main__":
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    import django

    django.setup()
    run(int(sys.argv[1]) if len(sys.argv) > 1 else POINTS)
