import pytest
from rest_framework.test import APIClient

from civicgrid.taxonomy import actions
from civicgrid.taxonomy.models import Category, ResponsibilityRule
from civicgrid.taxonomy.selectors import category_search

BASE = "/api/v1/taxonomy"


@pytest.fixture
def staff(django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create(username="disp", role="dispatcher"))
    return client


@pytest.mark.django_db
def test_anonymous_callers_see_only_public_categories(loaded):
    # given a category closed to citizens (涉台涉外纠纷)
    # when an anonymous caller lists governance categories
    body = APIClient().get(f"{BASE}/categories/?kind=governance&limit=500").json()
    codes = {c["code"] for c in body["results"]}
    # then the closed one is missing and the others are there
    assert "91010" not in codes and "91001" in codes
    assert body["count"] == Category.objects.filter(kind="governance", is_public=True).count()


@pytest.mark.django_db
def test_staff_see_every_category_and_can_filter(loaded, staff):
    # when staff filter on kind, major class and public flag
    body = staff.get(f"{BASE}/categories?kind=governance&public=false").json()
    assert [c["code"] for c in body["results"]] == ["91010"]
    body = staff.get(f"{BASE}/categories/?kind=component&major=05").json()
    assert [c["code"] for c in body["results"]] == ["05002", "05003", "05009"]


@pytest.mark.django_db
def test_search_finds_everyday_words(loaded):
    # when a citizen searches 下水道, then the sewer manhole covers come first
    body = APIClient().get(f"{BASE}/categories/", {"q": "下水道", "kind": "matter"}).json()
    assert body["results"][0]["code"] == "01002"
    # and a sentence containing a keyword finds its category
    found = category_search("我家楼上装修噪音太大了")
    assert found[0].code == "94005"
    # and an exact name ranks first
    assert category_search("私搭乱建")[0].code == "06001"


@pytest.mark.django_db
def test_bad_filters_are_field_errors(loaded):
    # when the filters are malformed, then each field says what is wrong
    response = APIClient().get(f"{BASE}/categories/?kind=plant&major=6")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["kind"][0]["code"] == "invalid_choice"
    assert fields["major"][0]["code"] == "invalid"


@pytest.mark.django_db
def test_category_detail_has_its_sla(loaded):
    # when the detail of 暴露垃圾 is asked for
    body = APIClient().get(f"{BASE}/categories/matter/06010/").json()
    # then its handling limit comes from its own rule and signing for from the default
    assert body["name"] == "暴露垃圾"
    assert body["sla"]["handle"] == {"normal": {"amount": "4.00", "unit": "hours"},
                                     "urgent": {"amount": "2.00", "unit": "hours"}, "source": "category"}
    assert body["sla"]["sign_for"]["source"] == "default"
    # and a closed category is not found for anonymous callers
    assert APIClient().get(f"{BASE}/categories/governance/91010/").status_code == 404


@pytest.mark.django_db
def test_explain_answers_with_the_rule_and_why(loaded, staff):
    # when staff ask who handles a 婚姻家庭纠纷 in a 集美 community
    response = staff.get(f"{BASE}/explain?kind=governance&code=91001&region=350211001001")
    assert response.status_code == 200
    body = response.json()
    # then the category rule answers, and the group rule and catch-all are shown as losing
    assert body["lead_kind"] == "judicial_office"
    assert set(body["assisting_kinds"]) == {"police_station", "court", "womens_federation"}
    assert body["ambiguous"] is False
    assert body["rule"] == ResponsibilityRule.objects.get(category__code="91001").pk
    assert [c["outcome"] for c in body["considered"]] == ["chosen", "less_specific", "less_specific"]


@pytest.mark.django_db
def test_explain_reports_ambiguity(loaded, staff):
    # given a second, disagreeing rule for 邻里纠纷 everywhere
    category = Category.objects.get(kind="governance", code="91002")
    actions.save_responsibility_rule(ResponsibilityRule(category=category, lead_kind="police_station"))
    # when explained, then it is ambiguous and picks nobody
    body = staff.get(f"{BASE}/explain/", {"kind": "governance", "code": "91002", "region": "350211"}).json()
    assert body["ambiguous"] is True and body["lead_kind"] is None and len(body["tied_rules"]) == 2


@pytest.mark.django_db
def test_explain_input_errors_are_field_level(loaded, staff):
    # when the query is malformed, then every bad field is named with a code
    fields = staff.get(f"{BASE}/explain?kind=x&code=1&region=35a").json()["error"]["fields"]
    assert set(fields) == {"kind", "code", "region"}
    # and an unknown category is an error on the code field
    response = staff.get(f"{BASE}/explain?kind=matter&code=99999&region=350211")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["code"][0]["code"] == "not_found"
    # and a missing region is required
    assert staff.get(f"{BASE}/explain?kind=matter&code=06001").json()["error"]["fields"]["region"][0][
        "code"] == "required"


@pytest.mark.django_db
def test_explain_needs_a_login(loaded):
    assert APIClient().get(f"{BASE}/explain?kind=matter&code=06001&region=350211").status_code in (401, 403)


@pytest.mark.django_db
def test_request_types_are_listed():
    body = APIClient().get(f"{BASE}/request-types/").json()
    assert [t["value"] for t in body] == ["consultation", "help", "complaint", "report", "suggestion",
                                         "field_report"]
