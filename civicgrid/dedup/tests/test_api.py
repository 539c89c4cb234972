"""``POST /api/v1/duplicates/check``: candidates with scores and reasons, nothing created,
scoped to the caller's jurisdiction, errors in the project's shape, in the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import SIMING_GRID
from civicgrid.dedup.models import DuplicateCandidate

from .conftest import LAT, LON, T0, east

pytestmark = pytest.mark.django_db
URL = "/api/v1/duplicates/check"


@pytest.fixture
def api(city):
    client = APIClient()
    client.force_authenticate(city.dispatcher)
    return client


SIMING_POINT = (118.085, 24.455)


def _square(lon, lat, d=0.02):
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


@pytest.fixture
def located(city):
    """Boundaries for 岑西一网格 (around the test point) and 中山一网格 (in 思明区)."""
    from civicgrid.cases.tests.conftest import GRID

    for code, (lon, lat) in ((GRID, (LON, LAT)), (SIMING_GRID, SIMING_POINT)):
        region = city.regions[code]
        region.geometry = _square(lon, lat)
        region.save()


def test_check_answers_candidates_with_reasons_and_creates_nothing(api, file_report, cats, located):
    # given an open manhole report
    first = file_report("井盖缺失", cats.manhole, description="人行道上井盖不见了")
    cases, rows = Case.objects.count(), DuplicateCandidate.objects.count()
    # when a would-be report 20 m away is checked, its category given by kind and code
    r = api.post(URL, {"text": "下水道盖子没了，很危险", "category_kind": "matter", "category_code": "01002",
                       "lon": east(20)[0], "lat": LAT, "reported_at": T0.isoformat()}, format="json")
    # then the open case is a candidate with its score and reasons
    assert r.status_code == 200, r.json()
    body = r.json()
    (candidate,) = body["candidates"]
    assert candidate["number"] == first.number
    assert candidate["reasons"]["category"] == "same"
    assert candidate["reasons"]["distance_m"] == pytest.approx(20, abs=1)
    assert 0 < candidate["score"] <= 1 and candidate["would_merge"] == (candidate["score"] >= body["auto_merge_score"])
    assert candidate["would_merge"] is True
    # and nothing was created
    assert (Case.objects.count(), DuplicateCandidate.objects.count()) == (cases, rows)


def test_check_only_sees_the_callers_cases(api, file_report, cats, located, city):
    # given a case in 思明区 at the same coordinates
    file_report("井盖缺失", cats.manhole, region_code=SIMING_GRID)
    body = {"text": "井盖缺失", "category_id": cats.manhole.pk, "lon": LON, "lat": LAT}
    # then 集美区's dispatcher does not see it
    assert api.post(URL, body, format="json").json()["candidates"] == []
    # and a place outside the caller's jurisdiction is 404
    r = api.post(URL, {**body, "lon": SIMING_POINT[0], "lat": SIMING_POINT[1]}, format="json")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_check_validation_errors_have_the_project_shape(api, cats):
    r = api.post(URL, {"text": "井盖缺失", "category_kind": "matter"}, format="json")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["category_code"][0]["code"] == "required"
    r = api.post(URL, {"text": "井盖缺失"}, format="json")
    assert r.json()["error"]["fields"]["location"][0]["code"] == "required"
    r = api.post(URL, {"text": "井盖缺失", "lon": LON}, format="json")
    assert r.json()["error"]["fields"]["lat"][0]["code"] == "required"


def test_check_needs_a_login():
    assert APIClient().post(URL, {"text": "x"}, format="json").status_code in (401, 403)


def test_check_is_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/duplicates/check"]["post"]
    assert operation["operationId"] == "duplicates_check"
    assert "200" in operation["responses"] and "400" in operation["responses"]
