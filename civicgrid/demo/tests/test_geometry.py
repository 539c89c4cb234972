"""The demo geometry generator on its own (no database): one real district, cut and checked."""

import csv
import json
import math
import random

import pytest
import shapely
from shapely.geometry import Point, Polygon, box, shape

from civicgrid.demo import geometry
from civicgrid.demo.actions import DISTRICTS_GEOJSON, DIVISIONS_CSV

JIMEI = "350211000000"


def jimei_tree() -> tuple[geometry.Unit, object]:
    """集美区 with its real streets and communities, and its real boundary."""
    rows = [r for r in csv.DictReader(DIVISIONS_CSV.open(encoding="utf-8")) if r["code"].startswith("350211")]
    units = {r["code"]: geometry.Unit(r["code"], r["name"]) for r in rows}
    for r in rows:
        if r["parent_code"] in units:
            units[r["parent_code"]].children.append(units[r["code"]])
    features = json.loads(DISTRICTS_GEOJSON.read_text(encoding="utf-8"))["features"]
    boundary = next(shape(f["geometry"]) for f in features if f["properties"]["code"] == JIMEI)
    return units[JIMEI], boundary


def generate_jimei(total: int = 800):
    district, boundary = jimei_tree()
    cells = geometry.generate({JIMEI: boundary}, [district], total)
    return district, boundary, cells


@pytest.fixture(scope="module")
def jimei():
    return generate_jimei()


def max_overlap(geoms) -> float:
    """Largest area shared by two of ``geoms`` (pairs found with an STRtree)."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    if not keep.any():
        return 0.0
    pairs = shapely.intersection([geoms[i] for i in left[keep]], [geoms[j] for j in right[keep]])
    return float(shapely.area(pairs).max())


def test_split_puts_the_asked_share_of_the_area_on_the_near_side():
    # given an L-shaped polygon
    shape_ = Polygon([(0, 0), (4, 0), (4, 1), (1, 1), (1, 3), (0, 3)])
    for angle, fraction in [(0.0, 0.3), (-math.pi / 2, 0.5), (0.4, 0.75)]:
        # when it is cut
        near, far = geometry.split(shape_, angle, fraction)
        # then the near side holds the share, and both sides make up the whole without overlap
        assert near.area / shape_.area == pytest.approx(fraction, abs=2 * geometry.AREA_TOLERANCE)
        assert near.union(far).symmetric_difference(shape_).area == pytest.approx(0, abs=1e-12)
        assert near.intersection(far).area == pytest.approx(0, abs=1e-12)


def test_apportion_gives_everyone_the_minimum_and_sums_exactly():
    # given very unequal weights
    weights = [100.0, 1.0, 1.0, 0.0, 37.5]
    # when 50 units are apportioned
    counts = geometry.apportion(weights, 50)
    # then the total is exact, nobody gets less than one, and the largest weight gets the most
    assert sum(counts) == 50
    assert min(counts) >= 1
    assert counts[0] == max(counts)
    with pytest.raises(ValueError):
        geometry.apportion(weights, 4)


def test_grid_cells_are_equal_and_numbered_west_to_east_then_north_to_south():
    # given a wide rectangle cut into 6 cells
    cells = geometry.grid_cells(box(118.0, 24.5, 118.06, 24.53), 6)
    # then every cell has a sixth of the area
    assert [round(c.area / 0.0018, 3) for c in cells] == [round(1 / 6, 3)] * 6
    # and the order is reading order: 2 bands of 3, west → east in each, the northern band first
    centres = [(c.centroid.x, c.centroid.y) for c in cells]
    expected = [(118.01, 24.5225), (118.03, 24.5225), (118.05, 24.5225),
                (118.01, 24.5075), (118.03, 24.5075), (118.05, 24.5075)]
    assert centres == [pytest.approx(point, abs=1e-6) for point in expected]


def test_a_district_becomes_an_exact_nested_coverage(jimei):
    district, boundary, cells = jimei
    streets = district.children
    communities = [c for s in streets for c in s.children]
    # then every level has a valid polygon for each region
    assert len(streets) == 10 and len(communities) == 73
    assert len(cells) == 800
    every = [district.geometry, *(s.geometry for s in streets), *(c.geometry for c in communities),
             *(c.geometry for c in cells)]
    assert all(g.geom_type in ("Polygon", "MultiPolygon") and g.is_valid and g.area > 0 for g in every)
    # and siblings do not overlap at any level
    assert max_overlap([c.geometry for c in cells]) == 0
    assert max_overlap([c.geometry for c in communities]) == 0
    assert max_overlap([s.geometry for s in streets]) == 0
    # and each level covers its parent exactly, and the parent contains it
    by_code = {c.code: c for c in communities}
    assert all(by_code[cell.community_code].geometry.covers(cell.geometry) for cell in cells)
    assert all(s.geometry.covers(c.geometry) for s in streets for c in s.children)
    assert shapely.union_all([c.geometry for c in cells]).symmetric_difference(district.geometry).area < 1e-12
    # and the district is the official polygon up to the 1 cm grid
    assert district.geometry.symmetric_difference(boundary).area / boundary.area < 1e-5


def test_streets_get_area_by_their_number_of_communities(jimei):
    district, _boundary, _cells = jimei
    total = district.geometry.area
    communities = sum(len(s.children) for s in district.children)
    for street in district.children:
        share = street.geometry.area / total
        assert share == pytest.approx(len(street.children) / communities, rel=0.05)


def test_grid_codes_extend_their_community_in_reading_order(jimei):
    _district, _boundary, cells = jimei
    by_community: dict[str, list] = {}
    for cell in cells:
        assert len(cell.code) == 15 and cell.code.isdigit()
        assert cell.code.startswith(cell.community_code)
        by_community.setdefault(cell.community_code, []).append(cell)
    for community, own in by_community.items():
        # sequences run 001, 002 … without gaps
        assert [c.code[12:] for c in own] == [f"{n:03d}" for n in range(1, len(own) + 1)]
        # a later grid lies further east in the same band, or in a band further south
        for earlier, later in zip(own, own[1:], strict=False):
            e, lt = earlier.geometry.centroid, later.geometry.centroid
            assert lt.x > e.x or lt.y < e.y, (community, earlier.code, later.code)


def test_grid_names_are_readable(jimei):
    _district, _boundary, cells = jimei
    names = {c.code: c.name for c in cells}
    assert names["350211001001003"] == "岑东社区第3网格"
    assert all(name.endswith("网格") and "居委会" not in name for name in names.values())


def test_the_example_point_lies_in_a_jimei_grid(jimei):
    _district, _boundary, cells = jimei
    point = Point(118.097, 24.576)
    assert [c.code[:6] for c in cells if c.geometry.covers(point)] == ["350211"]


def test_generation_is_deterministic(jimei):
    # given the same input generated again (with the global random state disturbed)
    random.seed(12345)
    _district, _boundary, again = generate_jimei()
    _d, _b, first = jimei
    # then codes, names and every coordinate are the same
    assert [(c.code, c.name) for c in again] == [(c.code, c.name) for c in first]
    assert [c.geometry.wkb for c in again] == [c.geometry.wkb for c in first]


def test_geojson_output_round_trips_exactly(jimei):
    _district, _boundary, cells = jimei
    for cell in cells[:50]:
        data = geometry.to_geojson(cell.geometry)
        assert json.loads(json.dumps(data)) == data
        assert shape(data).equals_exact(cell.geometry, 0)
