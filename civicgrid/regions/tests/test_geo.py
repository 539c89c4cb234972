"""GCJ-02 ⇄ WGS-84 (core.geo) against published pairs, and GeoJSON polygon checks."""

import numpy as np
import pytest

from civicgrid.core.geo import (
    GeometryProblem,
    gcj02_to_wgs84,
    haversine_m,
    polygon_from_geojson,
    wgs84_to_gcj02,
)

# (WGS-84 lon, lat) → (GCJ-02 lon, lat), from the test suites of eviltransform and coordtransform.
KNOWN_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),  # Beijing (coordtransform)
]


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_PAIRS)
def test_forward_transform_matches_published_pairs(wgs, gcj):
    # when a WGS-84 point is obfuscated / then it matches the published GCJ-02 value
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_PAIRS)
def test_inverse_recovers_wgs84_to_a_millimetre(wgs, gcj):
    # when the GCJ-02 value is converted back
    lon, lat = gcj02_to_wgs84(*gcj)
    # then the original WGS-84 point comes back (not the one-step approximation, ~0.5 m off)
    assert haversine_m(lon, lat, *wgs) < 0.001


def test_inverse_is_vectorised_and_leaves_points_outside_china_alone():
    # given GCJ-02 points in Xiamen and one in Paris
    lons = np.array([118.097, 121.531541859215, 2.35])
    lats = np.array([24.576, 31.17530398364597, 48.85])
    # when converted in one call
    w_lon, w_lat = gcj02_to_wgs84(lons, lats)
    # then each round-trips and Paris is unchanged; in Xiamen the shift is several hundred metres
    back_lon, back_lat = wgs84_to_gcj02(w_lon, w_lat)
    assert np.allclose(back_lon, lons, atol=1e-9) and np.allclose(back_lat, lats, atol=1e-9)
    assert (w_lon[2], w_lat[2]) == (2.35, 48.85)
    assert 300 < haversine_m(w_lon[0], w_lat[0], 118.097, 24.576) < 1000


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "not valid"),
        ({"type": "Point", "coordinates": [0, 0]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [0, 0], [0, 0]]]}, "not valid"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [0, 1], [0, 0]]]}, "outside WGS-84"),
    ],
    ids=["unclosed", "bow-tie", "point", "degenerate", "out of range"],
)
def test_polygon_problems_are_named(geometry, reason):
    with pytest.raises(GeometryProblem, match=reason):
        polygon_from_geojson(geometry)
