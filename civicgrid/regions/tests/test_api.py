"""The regions API: list/detail scoped to jurisdiction, children GeoJSON, locate, resolve."""

import pytest
from rest_framework.test import APIClient

from civicgrid.core.geo import wgs84_to_gcj02
from civicgrid.regions.tests.conftest import CENDONG, GRID_1, GRID_2, JIMEI, SIMING

API = "/api/v1/regions/"


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def test_locate_answers_grid_and_each_ancestor(grids, superuser):
    response = client_for(superuser).get(API + "locate", {"lon": 118.097, "lat": 24.576})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["matched_level"] == "grid"
    assert body["grid"]["code"] == GRID_1
    assert [(r["level"], r["code"]) for r in body["path"]] == [
        ("city", "350200000000"), ("district", JIMEI), ("street", "350211001000"),
        ("community", CENDONG), ("grid", GRID_1),
    ]
    assert body["path"][1]["name"] == "集美区"


def test_locate_at_district_level_says_so(districts, superuser):
    body = client_for(superuser).get(API + "locate", {"lon": 118.097, "lat": 24.576}).json()
    assert (body["matched_level"], body["matched"]["name"], body["grid"]) == ("district", "集美区", None)


def test_locate_gcj02(grids, superuser):
    lon, lat = wgs84_to_gcj02(118.105, 24.575)
    body = client_for(superuser).get(API + "locate", {"lon": lon, "lat": lat, "crs": "gcj02"}).json()
    assert body["grid"]["code"] == GRID_2
    assert body["point"]["wgs84"] == {"lon": pytest.approx(118.105), "lat": pytest.approx(24.575)}


def test_locate_outside_every_grid_is_a_404_naming_the_point(grids, superuser):
    response = client_for(superuser).get(API + "locate", {"lon": 116.4, "lat": 39.9})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_located"
    assert "116.4" in error["message"] and "39.9" in error["message"]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"lon": "abc", "lat": 24.5}, {"lon"}),
        ({"lon": 200, "lat": 24.5}, {"lon"}),
        ({"lat": 24.5}, {"lon"}),
        ({"lon": 118, "lat": -91}, {"lat"}),
        ({"lon": "nan", "lat": 24.5}, {"lon"}),
        ({"lon": 118, "lat": 24.5, "crs": "bd09"}, {"crs"}),
    ],
)
def test_bad_coordinates_are_field_level_400s(districts, superuser, query, fields):
    response = client_for(superuser).get(API + "locate", query)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == fields


def test_batch_locate(grids, superuser):
    payload = {"points": [{"lon": 118.095, "lat": 24.575}, [118.105, 24.575], {"lon": 100, "lat": 30}]}
    body = client_for(superuser).post(API + "locate", payload, format="json").json()
    assert (body["count"], body["located"]) == (3, 2)
    assert [r["matched"] and r["matched"]["code"] for r in body["results"]] == [GRID_1, GRID_2, None]


def test_batch_locate_reports_each_bad_point(grids, superuser):
    payload = {"points": [{"lon": 118.095, "lat": 24.575}, {"lon": 500, "lat": 24.5}, "x"]}
    response = client_for(superuser).post(API + "locate", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"points.1.lon", "points.2.non_field_errors"}


def test_locate_in_another_jurisdiction_is_not_found(grids, siming_admin):
    # 思明区's administrator does not see 集美区's grids
    response = client_for(siming_admin).get(API + "locate", {"lon": 118.097, "lat": 24.576})
    assert response.status_code == 404


def test_resolve(xiamen, superuser):
    body = client_for(superuser).get(API + "resolve", {"address": "福建省厦门市思明区深田社区百家阁小区"}).json()
    assert (body["matched_level"], body["matched"]["code"]) == ("community", "350203007010")
    assert [r["code"] for r in body["path"]] == ["350200000000", SIMING, "350203007000", "350203007010"]
    assert (body["remainder"], body["confidence"]) == ("百家阁小区", 1.0)


def test_resolve_needs_an_address(xiamen, superuser):
    response = client_for(superuser).get(API + "resolve")
    assert response.status_code == 400 and "address" in response.json()["error"]["fields"]


def test_region_list_is_scoped_and_filtered(xiamen, jimei_admin):
    client = client_for(jimei_admin)
    body = client.get(API, {"level": "street", "limit": 100}).json()
    codes = [r["code"] for r in body["results"]]
    assert codes and all(c.startswith("350211") for c in codes)
    assert body["count"] == 10  # 集美区 has 6 streets/towns and 4 farms
    children = client.get(API, {"parent": "350211001000", "limit": 100}).json()
    assert children["count"] > 0 and all(r["parent"] == "350211001000" for r in children["results"])
    assert client.get(API, {"level": "planet"}).status_code == 400


def test_region_detail_inside_and_outside_jurisdiction(grids, jimei_admin):
    client = client_for(jimei_admin)
    # inside: the detail with ancestors, children count and geometry summary
    body = client.get(API + f"{JIMEI}").json()
    assert (body["name"], body["level"], body["has_geometry"]) == ("集美区", "district", True)
    assert [a["code"] for a in body["ancestors"]] == ["350200000000"]
    assert body["children"] == 10
    assert body["geometry_summary"]["kind"] == "Polygon"
    assert client.get(API + GRID_1).status_code == 200
    # outside (思明区) and above (厦门市): not found
    assert client.get(API + SIMING).status_code == 404
    assert client.get(API + "350200000000").status_code == 404
    assert client.get(API + "999999999999").status_code == 404


def test_children_geojson(grids, superuser):
    response = client_for(superuser).get(API + f"{CENDONG}/children.geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert [(f["properties"]["code"], f["geometry"]["type"]) for f in body["features"]] == [
        (GRID_1, "Polygon"), (GRID_2, "Polygon")]


def test_children_geojson_outside_jurisdiction_is_404(grids, siming_admin):
    assert client_for(siming_admin).get(API + f"{CENDONG}/children.geojson").status_code == 404


def test_anonymous_requests_are_refused(grids):
    assert APIClient().get(API + "locate", {"lon": 118.097, "lat": 24.576}).status_code in (401, 403)
