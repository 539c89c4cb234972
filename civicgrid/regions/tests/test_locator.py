"""Point → grid and ancestors, single and batch, WGS-84 and GCJ-02."""

import numpy as np

from civicgrid.core.geo import wgs84_to_gcj02
from civicgrid.regions import locator
from civicgrid.regions.actions import import_grids
from civicgrid.regions.locator import RegionIndex, locate, locate_many
from civicgrid.regions.tests.conftest import CENDONG, GRID_1, GRID_2, JIMEI, SIMING
from civicgrid.regions.tests.geometry import collection, feature, square


def test_point_resolves_to_grid_with_every_ancestor(grids):
    # when the point is located
    location = locate(118.097, 24.576)
    # then it is grid 1, with city → district → street → community above it
    assert (location.code, location.level) == (GRID_1, "grid")
    assert [(r.level, r.code) for r in location.path] == [
        ("city", "350200000000"), ("district", JIMEI), ("street", "350211001000"),
        ("community", CENDONG), ("grid", GRID_1),
    ]
    assert location.at_level("district").name == "集美区"
    assert location.is_demo is True


def test_point_on_a_shared_edge_goes_to_the_lowest_code(grids):
    # given grids 1 and 2 share the edge lon 118.10 (either polygon's 'intersects' is true)
    # when points exactly on the edge and on the shared corner are located
    for lat in (24.575, 24.57, 24.58):
        # then the lower code wins, every time
        assert locate(118.10, lat).code == GRID_1
    assert list(locate_many([118.10, 118.10], [24.575, 24.58])) == [GRID_1, GRID_1]


def test_outside_every_grid_is_none(grids):
    # a point far outside Xiamen, and one in 集美区 but outside both grids
    assert locate(116.4, 39.9) is None
    assert locate(118.15, 24.65) is None


def test_without_grids_the_finest_polygons_answer(districts):
    # given only district boundaries
    location = locate(118.097, 24.576)
    # then the district answers, and says so
    assert (location.code, location.level, location.name) == (JIMEI, "district", "集美区")
    assert location.grid is None
    # and the shared district edge goes to the lower code (思明区 350203 < 集美区 350211)
    assert locate(118.1, 24.5).code == SIMING


def test_index_follows_imports_without_restart(districts):
    # given the locator answered at district level
    assert locate(118.097, 24.576).level == "district"
    # when grids are imported
    import_grids(collection(feature(GRID_1, square(118.09, 24.57))))
    # then the next call answers at grid level, while the rest of 集美区 (no grid yet) answers nothing
    assert locate(118.097, 24.576).code == GRID_1
    assert locate(118.15, 24.65) is None


def test_batch_locates_many_points_in_one_call(grids):
    # given points in grid 1, grid 2, nowhere, and on the shared edge
    lons = np.array([118.095, 118.105, 100.0, 118.10])
    lats = np.array([24.575, 24.575, 30.0, 24.575])
    # when located together / then each gets its grid or None
    assert list(locate_many(lons, lats)) == [GRID_1, GRID_2, None, GRID_1]


def test_gcj02_input_is_converted_before_locating(grids):
    # given a point in grid 2 near its southern edge, as a phone map shows it (GCJ-02 is shifted
    # ≈ 500 m east and 300 m south in Xiamen)
    gcj_lon, gcj_lat = wgs84_to_gcj02(118.102, 24.571)
    # then read as WGS-84 it lands south of both grids …
    assert locate(gcj_lon, gcj_lat) is None
    # … and read as GCJ-02 it lands in grid 2, singly and in a batch
    assert locate(gcj_lon, gcj_lat, crs="gcj02").code == GRID_2
    assert list(locate_many([gcj_lon], [gcj_lat], crs="gcj02")) == [GRID_2]


def test_index_over_given_polygons_matches_a_brute_force_check():
    # given a 4×4 board of squares in scrambled code order
    import shapely

    codes, geoms = [], []
    for i in range(16):
        codes.append(f"350211001001{(i * 7) % 16 + 1:03d}")
        geoms.append(shapely.box(i % 4, i // 4, i % 4 + 1, i // 4 + 1))
    index = RegionIndex(codes, geoms)
    rng = np.random.default_rng(1)
    lons, lats = rng.uniform(-0.5, 4.5, 2000), rng.uniform(-0.5, 4.5, 2000)
    lons[:50] = np.round(lons[:50])  # some exactly on edges
    # when located / then each equals the lowest code among the squares covering the point
    found = index.locate_many(lons, lats)
    for lon, lat, code in zip(lons, lats, found, strict=True):
        covering = [c for c, g in zip(codes, geoms, strict=True) if g.intersects(shapely.Point(lon, lat))]
        assert code == (min(covering) if covering else None)


def test_index_is_built_once_per_generation(grids, django_assert_num_queries):
    # given the index is warm
    locator.current_index()
    # when many points are located / then one cheap generation read is all it costs
    with django_assert_num_queries(1):
        locate_many(np.full(10_000, 118.095), np.full(10_000, 24.575))
