"""Importing grid polygons: every feature checked, every problem reported, all or nothing."""

import pytest

from civicgrid.regions import generation
from civicgrid.regions.actions import GridImportError, import_grids, set_boundaries
from civicgrid.regions.models import Region
from civicgrid.regions.tests.conftest import CENDONG, GRID_1, GRID_2
from civicgrid.regions.tests.geometry import collection, feature, rectangle, square

CENXI = "350211001002"  # 岑西社区居委会, also in 集美区


def problems_of(fc) -> list[tuple[int, str, str]]:
    with pytest.raises(GridImportError) as caught:
        import_grids(fc)
    return [(p.index, p.code, p.message) for p in caught.value.problems]


def test_clean_file_loads_every_grid_under_its_community(districts):
    # when two adjacent grids are imported
    result = import_grids(collection(feature(GRID_1, square(118.09, 24.57)), feature(GRID_2, square(118.10, 24.57))))
    # then both exist under 岑东社区 with their polygons, and the generation moved on
    assert (result.created, result.updated) == (2, 0)
    grid = Region.objects.get(code=GRID_1)
    assert (grid.level, grid.parent.code, grid.geometry["type"]) == ("grid", CENDONG, "Polygon")
    assert grid.name  # a default name from the community and sequence


def test_reimport_updates_geometry_in_place(grids):
    # given the grids are loaded
    pk = Region.objects.get(code=GRID_1).pk
    token = generation.current_token()
    # when grid 1 is re-imported smaller
    result = import_grids(collection(feature(GRID_1, square(118.09, 24.57, 0.005))))
    # then the same row has the new geometry and the locator's token changed
    grid = Region.objects.get(code=GRID_1)
    assert (result.created, result.updated, grid.pk) == (0, 1, pk)
    assert grid.geometry["coordinates"][0][1] == [118.095, 24.57]
    assert generation.current_token() != token


def test_unclosed_polygon_is_rejected(districts):
    # given a ring whose last position is not its first (shapely would silently close it)
    ring = square(118.09, 24.57)["coordinates"][0][:-1] + [[118.0905, 24.5705]]
    (index, code, message), = problems_of(collection(feature(GRID_1, {"type": "Polygon", "coordinates": [ring]})))
    assert (index, code) == (0, GRID_1) and "not closed" in message


def test_self_intersecting_polygon_is_rejected(districts):
    bow_tie = {"type": "Polygon", "coordinates": [[[118.09, 24.57], [118.1, 24.58], [118.1, 24.57],
                                                   [118.09, 24.58], [118.09, 24.57]]]}
    (index, code, message), = problems_of(collection(feature(GRID_1, bow_tie)))
    assert (index, code) == (0, GRID_1) and "not valid" in message and "Self-intersection" in message


@pytest.mark.parametrize("code", ["35021100100100", "3502110010010011", "35021100100100X", "３５０２１１００１００１００１"])
def test_bad_code_length_or_non_digit_is_rejected(districts, code):
    (index, reported, message), = problems_of(collection(feature(code, square(118.09, 24.57))))
    assert (index, reported) == (0, code) and "15 digits" in message


def test_unknown_community_prefix_is_rejected(districts):
    # 350211001999 is no community
    (index, code, message), = problems_of(collection(feature("350211001999001", square(118.09, 24.57))))
    assert (index, code) == (0, "350211001999001")
    assert "No community 350211001999" in message


def test_grid_outside_its_parent_polygon_is_rejected(districts):
    # given 集美区 spans lat 24.50–24.70: a grid straddling its northern edge
    (index, code, message), = problems_of(collection(feature(GRID_1, square(118.09, 24.695))))
    assert (index, code) == (0, GRID_1)
    assert "outside its parent 集美区 (350211000000): 50.0%" in message


def test_grid_sticking_out_within_tolerance_is_accepted(districts):
    # given a grid sticking out of 集美区 by 0.5 % of its area (edge rounding)
    result = import_grids(collection(feature(GRID_1, rectangle(118.09, 24.6, 118.10, 24.70005))))
    assert result.created == 1


def test_the_nearest_known_ancestor_polygon_is_used(districts):
    # given the community itself has a boundary (smaller than the district)
    set_boundaries({CENDONG: rectangle(118.09, 24.57, 118.11, 24.58)}, is_demo=True)
    # when a grid lies inside the district but outside its community
    (index, code, message), = problems_of(collection(feature(GRID_1, square(118.15, 24.6))))
    # then the community boundary is the one it is checked against
    assert "outside its parent 岑东社区居委会 (350211001001): 100.0%" in message


def test_overlapping_siblings_are_rejected_and_named(districts):
    # given grid 2 overlaps grid 1 by half
    (index, code, message), = problems_of(collection(
        feature(GRID_1, square(118.09, 24.57)), feature(GRID_2, square(118.095, 24.57))))
    assert (index, code) == (1, GRID_2)
    assert f"Overlaps feature 0 ({GRID_1}) by 50.0%" in message


def test_overlap_with_an_already_loaded_grid_is_rejected(grids):
    # given grids 1 and 2 are loaded: a new grid of another community over grid 2
    (index, code, message), = problems_of(collection(feature(CENXI + "001", square(118.105, 24.57))))
    assert f"Overlaps loaded grid {GRID_2}" in message


def test_duplicate_code_in_file_is_rejected(districts):
    (index, code, message), = problems_of(collection(
        feature(GRID_1, square(118.09, 24.57)), feature(GRID_1, square(118.12, 24.57))))
    assert (index, code) == (1, GRID_1) and "Duplicate code: also feature 0" in message


def test_every_problem_is_reported_and_nothing_is_imported(districts):
    # given one good grid and one bad grid per reason
    fc = collection(
        feature(GRID_1, square(118.09, 24.57)),  # 0: good
        feature(CENXI + "001", {"type": "Polygon", "coordinates": [[[118.0, 24.6], [118.01, 24.6], [118.01, 24.61]]]}),
        feature("3502110010X1001", square(118.12, 24.57)),  # 2: not digits
        feature("350211001999001", square(118.13, 24.57)),  # 3: unknown community
        feature(CENXI + "002", square(118.15, 24.695)),  # 4: outside 集美区
        feature(GRID_2, square(118.095, 24.57)),  # 5: overlaps feature 0
        feature(GRID_1, square(118.16, 24.6)),  # 6: duplicate of feature 0
    )
    # when imported
    problems = problems_of(fc)
    # then each bad feature is reported once, in order, and no grid was written
    assert [p[0] for p in problems] == [1, 2, 3, 4, 5, 6]
    assert not Region.objects.filter(level="grid").exists()


def test_not_a_feature_collection_is_rejected(districts):
    assert problems_of({"type": "Feature"})[0][:2] == (-1, "")


def test_four_thousand_adjacent_grids_load_in_one_go(districts):
    # given 4,096 adjacent grids (64 × 64) spread over 集美区's communities
    communities = list(Region.objects.filter(level="community", code__startswith="350211").values_list("code", flat=True))
    features = []
    for i in range(64 * 64):
        x, y = 118.0 + (i % 64) * 0.003, 24.5 + (i // 64) * 0.003
        code = f"{communities[i % len(communities)]}{i // len(communities) + 1:03d}"
        features.append(feature(code, square(round(x, 6), round(y, 6), 0.003)))
    # when imported in one go (the overlap check is one STRtree query, not pairwise)
    result = import_grids(collection(*features), is_demo=True)
    # then all load, and neighbours that only share edges are not overlaps
    assert result.created == 4096
    assert Region.objects.filter(level="grid", geometry_is_demo=True).count() == 4096
