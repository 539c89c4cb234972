"""``POST /api/v1/classify``: the best three with department and confidence; errors in the
platform's one shape; described in the OpenAPI schema."""

import pytest
from rest_framework.test import APIClient

from civicgrid.triage.models import CasePrediction
from civicgrid.triage.tests.conftest import GRID

URL = "/api/v1/classify"


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_text_and_a_region_give_three_categories_with_their_department(taxonomy, city):
    # when a dispatcher asks about a citizen's words at a grid of 集美区
    r = _client(city.dispatcher).post(URL, {"text": "楼下路灯坏了一排，晚上黑漆漆的", "region_code": GRID},
                                      format="json")
    # then three categories come back, best first, with the department they would go to
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["region_code"] == GRID and body["model_version"] == 1
    first = body["predictions"][0]
    assert (first["kind"], first["code"], first["name"]) == ("matter", "01023", "路灯不亮")
    assert len(body["predictions"]) == 3
    assert [p["confidence"] for p in body["predictions"]] == sorted((p["confidence"] for p in body["predictions"]),
                                                                  reverse=True)
    assert first["department"] == {"id": city.city_management.pk, "name": "集美区城管执法局"}
    assert first["lead_kind"] == "city_management"
    # and nothing was created
    assert not CasePrediction.objects.exists()


def test_without_a_place_there_is_no_department(taxonomy, city):
    r = _client(city.dispatcher).post(URL + "/", {"text": "车停在人行道上"}, format="json")
    assert r.status_code == 200
    assert r.json()["predictions"][0]["name"] == "违章停车"
    assert {p["department"] for p in r.json()["predictions"]} == {None}


@pytest.mark.parametrize(("payload", "field", "code"), [
    ({}, "text", "required"),
    ({"text": ""}, "text", "blank"),
    ({"text": "井盖", "lon": 118.1}, "lat", "required"),
    ({"text": "井盖", "region_code": "12ab"}, "region_code", "invalid"),
    ({"text": "井盖", "region_code": "350299999999999"}, "region_code", "unknown_region"),
    ({"text": "井盖", "k": 0}, "k", "min_value"),
])
def test_each_invalid_field_is_reported_with_its_code(taxonomy, city, payload, field, code):
    r = _client(city.dispatcher).post(URL, payload, format="json")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid" and error["fields"][field][0]["code"] == code


def test_a_point_outside_every_region_is_refused(taxonomy, city):
    r = _client(city.dispatcher).post(URL, {"text": "井盖", "lon": 10.0, "lat": 10.0}, format="json")
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["location"][0]["code"] == "outside_regions"


def test_anonymous_callers_are_refused(taxonomy):
    r = APIClient().post(URL, {"text": "井盖"}, format="json")
    assert r.status_code in (401, 403)
    assert "error" in r.json()


def test_the_endpoint_is_in_the_openapi_schema(db, city):
    r = _client(city.dispatcher).get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    operation = r.json()["paths"]["/api/v1/classify"]["post"]
    assert "requestBody" in operation and "200" in operation["responses"]
