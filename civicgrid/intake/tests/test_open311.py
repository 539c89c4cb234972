"""The Open311 GeoReport v2 server: GETs through the third-party ``georeport`` client against a live
server, POST/tokens/errors/XML field names against the spec's documented fields."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone
from georeport import GeoReport

from civicgrid.cases.actions import report_case
from civicgrid.cases.models import Case, Channel
from civicgrid.intake import actions
from civicgrid.intake.models import ClientSystem, Open311Request
from civicgrid.intake.tests.conftest import GRID, POINT

REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]


def post_body(city, **overrides):
    data = {
        "api_key": city.api_key, "service_code": "component-01001", "lat": str(POINT[1]), "long": str(POINT[0]),
        "description": "岑西路口井盖不见了", "attribute[size]": "large", "media_url": "https://img.example.com/1.jpg",
        "first_name": "三", "last_name": "张", "phone": "13912345678",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def web_case(city, category, **kwargs):
    return report_case(channel=Channel.WEB, title="x", region_code=GRID, category=category, **kwargs)


# --- the third-party client against a live server ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_georeport_client_reads_services_and_definition(city, live_server):
    # given the server running and the georeport client pointed at it
    client = GeoReport(f"{live_server.url}/open311/v2")
    # when it lists services and reads one definition
    services = client.get_service_list()
    definition = client.get_service_definition("component-01001")
    # then the public categories come back with group and keywords, and the attributes in order
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"component-01001", "matter-06010"}  # the internal category is not public
    assert by_code["component-01001"] == {
        "service_code": "component-01001", "service_name": "上水井盖", "description": "上水井盖缺失、破损",
        "metadata": True, "type": "realtime", "keywords": "井盖,窨井盖", "group": "公用设施",
    }
    assert by_code["matter-06010"]["metadata"] is False
    assert definition["service_code"] == "component-01001"
    assert [a["code"] for a in definition["attributes"]] == ["size", "depth"]
    assert definition["attributes"][0]["values"] == [{"key": "small", "name": "小"}, {"key": "large", "name": "大"}]
    assert definition["attributes"][0]["required"] is True


@pytest.mark.django_db(transaction=True)
def test_georeport_client_reads_requests_by_filter_and_id(city, live_server):
    # given a request made through Open311, an older web case of another service, and a closed one
    made = actions.create_request(city.client, **{k: v for k, v in post_body(city).items()
                                                   if k not in ("api_key", "attribute[size]")},
                                  attributes={"size": ["large"]})
    dumping = web_case(city, city.dumping, reported_at=timezone.now() - timedelta(days=10))
    closed = web_case(city, city.dumping, reported_at=timezone.now() - timedelta(days=5))
    Case.objects.filter(pk=closed.pk).update(state="closed")
    client = GeoReport(f"{live_server.url}/open311/v2", output_format="json")
    # when it asks by service, by status, by id list and for one id
    manholes = client.get_service_requests(service_code="component-01001")
    closed_ones = client.get_service_requests(status="closed")
    by_ids = client.get_service_requests(service_request_id=f"{made.case.number},{dumping.number}")
    one = client.get_service_request(made.case.number)
    # then each answer holds exactly the matching requests with the spec's fields
    assert [r["service_request_id"] for r in manholes] == [made.case.number]
    assert [r["service_request_id"] for r in closed_ones] == [closed.number]
    assert sorted(r["service_request_id"] for r in by_ids) == sorted([made.case.number, dumping.number])
    assert list(one) == REQUEST_FIELDS
    assert one["status"] == "open"
    assert one["service_code"] == "component-01001"
    assert one["media_url"] == "https://img.example.com/1.jpg"
    assert one["agency_responsible"] == "集美区综治中心"
    assert (one["lat"], one["long"]) == (POINT[1], POINT[0])
    assert one["requested_datetime"].endswith("+08:00")


@pytest.mark.django_db(transaction=True)
def test_georeport_client_reads_xml_too(city, live_server):
    # given one request
    made = actions.create_request(city.client, service_code="matter-06010", address_string="", lat=str(POINT[1]),
                                  long=str(POINT[0]))
    client = GeoReport(f"{live_server.url}/open311/v2", output_format="xml")
    # when the client reads services and the request in XML
    services = client.get_service_list()
    one = client.get_service_request(made.case.number)
    # then xmltodict finds the spec's elements
    assert {s["service_code"] for s in services} == {"component-01001", "matter-06010"}
    assert one["service_request_id"] == made.case.number
    assert one["status"] == "open"


# --- POST, tokens, errors, XML -------------------------------------------------------------------


def errors_of(response):
    return response.json()


def test_post_creates_a_case_and_returns_id_and_token(city, client):
    # given a valid form-encoded request
    # when it is posted
    response = client.post("/open311/v2/requests.json", post_body(city))
    # then a case exists on the Open311 channel with the Open311 extras kept beside it
    assert response.status_code == 201
    [answer] = response.json()
    case = Case.objects.get(number=answer["service_request_id"])
    assert case.channel == Channel.OPEN311
    assert case.region_code == GRID
    assert case.category == city.manhole
    assert (case.reporter_name, case.reporter_phone) == ("张三", "13912345678")
    link = Open311Request.objects.get(case=case)
    assert link.token == answer["token"]
    assert link.client == city.client
    assert link.attributes == {"size": "large"}
    assert link.media_url == "https://img.example.com/1.jpg"
    # and the token resolves to the request id
    token = client.get(f"/open311/v2/tokens/{answer['token']}.json")
    assert token.json() == [{"service_request_id": case.number, "token": answer["token"]}]


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_post_without_a_valid_key_is_403(city, client, key):
    # given no key or a wrong one
    # when posting
    response = client.post("/open311/v2/requests.json", post_body(city, api_key=key))
    # then 403 in the spec's error shape and no case
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403
    assert set(response.json()[0]) == {"code", "description"}
    assert not Case.objects.exists()


def test_post_with_a_disabled_client_is_403(city, client):
    # given a disabled client
    actions.update_client(city.client, name=city.client.name, region=city.client.region, contact="",
                          is_active=False)
    # when posting with its key
    response = client.post("/open311/v2/requests.json", post_body(city))
    # then the key no longer works
    assert response.status_code == 403


def test_post_with_a_rotated_key_uses_only_the_new_key(city, client):
    # given the key rotated
    new_key = actions.rotate_key(city.client)
    # when posting with the old and the new key
    old = client.post("/open311/v2/requests.json", post_body(city))
    new = client.post("/open311/v2/requests.json", post_body(city, api_key=new_key))
    # then only the new one works, and the key is stored only as a hash
    assert (old.status_code, new.status_code) == (403, 201)
    city.client.refresh_from_db()
    assert new_key not in (city.client.key_hash, city.client.key_prefix)
    assert new_key.startswith(city.client.key_prefix)


@pytest.mark.parametrize("code", ["component-99999", "nonsense", "governance-91001"])
def test_post_for_an_unknown_or_closed_service_is_404(city, client, code):
    # given a service code that is unknown or not open to the public
    # when posting
    response = client.post("/open311/v2/requests.json", post_body(city, service_code=code))
    # then 404
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


@pytest.mark.parametrize(("overrides", "field"), [
    ({"lat": None, "long": None}, "location"),
    ({"long": None}, "long"),
    ({"lat": "north"}, "lat"),
    ({"lat": "95"}, "lat"),
    ({"lat": "39.9", "long": "116.4"}, "lat"),  # Beijing: no region of the platform
    ({"service_code": None}, "service_code"),
    ({"attribute[size]": None}, "attribute[size]"),
    ({"attribute[size]": "huge"}, "attribute[size]"),
    ({"attribute[depth]": "deep"}, "attribute[depth]"),
    ({"attribute[colour]": "red"}, "attribute[colour]"),
    ({"media_url": "ftp://x/1.jpg"}, "media_url"),
    ({"email": "not-an-email"}, "email"),
    ({"description": "x" * 4001}, "description"),
])
def test_post_with_bad_input_is_400_naming_the_field(city, client, overrides, field):
    # given one bad or missing field
    # when posting
    response = client.post("/open311/v2/requests.json", post_body(city, **overrides))
    # then 400 naming that field, and no case
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400
    assert error["description"].startswith(f"{field}: ")
    assert not Case.objects.exists()


def test_post_outside_the_clients_jurisdiction_is_400(city, client):
    # given a client limited to 思明区 and a point in 集美区
    actions.update_client(city.client, name=city.client.name, region=city.regions["350203000000"], contact="",
                          is_active=True)
    # when posting
    response = client.post("/open311/v2/requests.json", post_body(city))
    # then it is refused
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("location: ")


def test_post_with_an_address_only_locates_it_by_name(city, client):
    # given an address instead of a point
    body = post_body(city, lat=None, long=None, address_string="厦门市集美区集美街道岑西社区岑西路12号")
    # when posting
    response = client.post("/open311/v2/requests.json", body)
    # then the case lies in the named community with the address kept
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.region_code == "350211001001"
    assert case.address == "厦门市集美区集美街道岑西社区岑西路12号"
    assert case.lat is None


def test_unknown_request_and_token_are_404(city, client):
    # given nothing
    # when asking for an unknown request, token and service definition
    answers = [client.get(u) for u in (
        "/open311/v2/requests/350211-20260101-00001.json", "/open311/v2/tokens/abc.json",
        "/open311/v2/services/matter-99999.json")]
    # then all are 404 in the spec's shape
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all(a.json()[0]["code"] == 404 for a in answers)


def test_requests_hide_non_public_categories_and_old_cases(city, client):
    # given a case of a non-public category, one older than 90 days and a fresh public one
    web_case(city, city.internal)
    web_case(city, city.dumping, reported_at=timezone.now() - timedelta(days=91))
    fresh = web_case(city, city.dumping)
    # when listing by default
    listed = client.get("/open311/v2/requests.json").json()
    # then only the fresh public case is there
    assert [r["service_request_id"] for r in listed] == [fresh.number]


@pytest.mark.parametrize(("query", "field"), [
    ("status=pending", "status"),
    ("start_date=yesterday", "start_date"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date"),
    ("start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "end_date"),
])
def test_bad_request_filters_are_400(city, client, query, field):
    # given a bad filter
    # when listing
    response = client.get(f"/open311/v2/requests.json?{query}")
    # then 400 naming it
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith(f"{field}: ")


def test_request_date_window_filters(city, client):
    # given cases 10 and 40 days old
    ten = web_case(city, city.dumping, reported_at=timezone.now() - timedelta(days=10))
    web_case(city, city.dumping, reported_at=timezone.now() - timedelta(days=40))
    start = (timezone.now() - timedelta(days=20)).isoformat()
    # when listing from 20 days ago ("+" of the offset arriving as a space, as in a raw query string)
    listed = client.get("/open311/v2/requests.json", {"start_date": start}).json()
    # then only the newer one
    assert [r["service_request_id"] for r in listed] == [ten.number]


def test_xml_is_the_spec_format_with_the_documented_field_names(city, client):
    # given one request
    made = actions.create_request(city.client, service_code="component-01001", lat=str(POINT[1]),
                                  long=str(POINT[0]), attributes={"size": ["small"]})
    # when reading it, the list and the token as XML
    one = ET.fromstring(client.get(f"/open311/v2/requests/{made.case.number}.xml").content)
    many = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    token = ET.fromstring(client.get(f"/open311/v2/tokens/{made.token}.xml").content)
    # then the root, element and field names are the spec's
    assert one.tag == "service_requests"
    [request] = one.findall("request")
    assert [child.tag for child in request] == REQUEST_FIELDS
    assert request.findtext("status") == "open"
    assert request.findtext("lat") == str(POINT[1])
    assert [r.findtext("service_request_id") for r in many.findall("request")] == [made.case.number]
    assert token.find("request/service_request_id").text == made.case.number
    assert token.find("request/token").text == made.token


def test_xml_is_the_format_of_post_answers_and_errors(city, client):
    # given a post in XML and one with a wrong key
    ok = client.post("/open311/v2/requests.xml", post_body(city))
    refused = client.post("/open311/v2/requests.xml", post_body(city, api_key="nope"))
    # then the answer and the error use the spec's XML
    assert ok["Content-Type"].startswith("text/xml")
    answer = ET.fromstring(ok.content)
    assert answer.tag == "service_requests"
    assert answer.find("request/service_request_id").text == Case.objects.get().number
    assert answer.find("request/token").text == Open311Request.objects.get().token
    errors = ET.fromstring(refused.content)
    assert errors.tag == "errors"
    assert errors.find("error/code").text == "403"
    assert errors.find("error/description").text


def test_services_and_definition_in_xml(city, client):
    # given the public services
    # when reading them as XML
    services = ET.fromstring(client.get("/open311/v2/services.xml").content)
    definition = ET.fromstring(client.get("/open311/v2/services/component-01001.xml").content)
    # then the documented elements are there
    first = services.find("service")
    assert [c.tag for c in first] == [
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert first.findtext("metadata") == "true"
    assert definition.tag == "service_definition"
    size = definition.find("attributes/attribute")
    assert size.findtext("code") == "size"
    assert size.findtext("required") == "true"
    assert [v.findtext("key") for v in size.findall("values/value")] == ["small", "large"]


def test_discovery_lists_the_endpoint_and_formats(city, client):
    # given the server
    # when reading discovery in both formats
    as_json = client.get("/open311/v2/discovery.json").json()
    as_xml = ET.fromstring(client.get("/open311/v2/discovery.xml").content)
    # then the endpoint and both formats are announced
    [endpoint] = as_json["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert [f.text for f in as_xml.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_status_maps_closed_states_with_their_note(city, client):
    # given a rejected case whose rejection carried a note
    case = web_case(city, city.dumping)
    from civicgrid.cases.models import CaseEvent

    Case.objects.filter(pk=case.pk).update(state="rejected")
    CaseEvent.objects.create(case=case, action="reject", from_state="reported", to_state="rejected",
                             note="重复上报")
    # when reading it
    [answer] = client.get(f"/open311/v2/requests/{case.number}.json").json()
    # then it is closed with the note, and no expected time
    assert (answer["status"], answer["status_notes"], answer["expected_datetime"]) == ("closed", "重复上报", None)


def test_jurisdiction_id_narrows_requests(city, client):
    # given a fresh public case in 集美区
    case = web_case(city, city.dumping)
    # when listing for 集美区, for 思明区 and for an unknown region
    jimei = client.get("/open311/v2/requests.json", {"jurisdiction_id": "350211000000"}).json()
    siming = client.get("/open311/v2/requests.json", {"jurisdiction_id": "350203000000"}).json()
    unknown = client.get("/open311/v2/requests.json", {"jurisdiction_id": "999999"})
    # then only 集美区 holds it, and an unknown jurisdiction is 404
    assert [r["service_request_id"] for r in jimei] == [case.number]
    assert siming == []
    assert unknown.status_code == 404


def test_multi_value_attributes_are_kept_as_lists(city, client):
    # given a multiple-choice attribute
    from civicgrid.intake.models import ServiceAttribute

    actions.save_service_attribute(ServiceAttribute(
        category=city.dumping, code="kind", datatype="multivaluelist", description="垃圾种类",
        values=[{"key": "household", "name": "生活垃圾"}, {"key": "building", "name": "建筑垃圾"}]))
    # when posting two values
    response = client.post("/open311/v2/requests.json", post_body(
        city, service_code="matter-06010", **{"attribute[size]": None, "attribute[kind][]": ["household", "building"]}))
    # then both are stored
    assert response.status_code == 201, response.content
    assert Open311Request.objects.get().attributes == {"kind": ["household", "building"]}


def test_admin_issues_a_key_shown_once_that_works(city, client, admin_user):
    # given an administrator in the admin
    client.force_login(admin_user)
    # when adding a client system
    response = client.post("/admin/intake/clientsystem/add/", {
        "name": "市民热线", "region": "", "contact": "", "is_active": "on"}, follow=True)
    # then the key is shown once in a message, and it authenticates POSTs
    prefix = ClientSystem.objects.get(name="市民热线").key_prefix
    messages = " ".join(str(m) for m in response.context["messages"])
    [key] = re.findall(re.escape(prefix) + r"[\w-]{35}", messages)
    listing = client.get("/admin/intake/clientsystem/")
    assert key not in listing.content.decode()
    client.logout()
    posted = client.post("/open311/v2/requests.json", post_body(city, api_key=key))
    assert posted.status_code == 201, posted.content


def test_admin_refuses_choice_attribute_without_choices(city, client, admin_user):
    # given an administrator
    client.force_login(admin_user)
    # when adding a single-choice attribute with no choices
    response = client.post("/admin/intake/serviceattribute/add/", {
        "category": city.dumping.pk, "code": "colour", "variable": "on", "datatype": "singlevaluelist",
        "order": "1", "description": "颜色", "values": "[]", "datatype_description": ""})
    # then the form shows the error and nothing is saved
    assert response.status_code == 200
    assert "values" in response.context["adminform"].form.errors
    assert not city.dumping.open311_attributes.exists()
