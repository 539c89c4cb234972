import pytest
import tablib

from civicgrid.taxonomy import actions
from civicgrid.taxonomy.admin import CategoryResource
from civicgrid.taxonomy.models import Category, ResponsibilityRule, SlaRule


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(user)
    return client


def _rule_form(**overrides):
    data = {"category": "", "category_kind": "", "major_code": "", "region_prefix": "",
            "lead_kind": "city_management", "is_active": "on", "note": ""}
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "message"), [
    ({"region_prefix": "35x211"}, "A region code prefix contains digits only."),
    ({"region_prefix": "35021"}, "A region code prefix has 4, 6, 9, 12, 15 digits"),
    ({"assisting_kinds": ["city_management", "housing"]}, "cannot also assist"),
])
def test_admin_refuses_an_invalid_rule_with_the_reason(admin_client, overrides, message):
    # given the English admin, when a bad rule is posted
    response = admin_client.post("/admin/taxonomy/responsibilityrule/add/", _rule_form(**overrides),
                                 HTTP_ACCEPT_LANGUAGE="en")
    # then the form comes back with the error and nothing is saved
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ResponsibilityRule.objects.exists()


@pytest.mark.django_db
def test_admin_saves_a_valid_rule_and_shows_it_readably(admin_client):
    # given a category of group 事项 06
    actions.save_category(Category(kind="matter", code="06001", name="私搭乱建", major_name="市容环境类"))
    # when a group rule is posted
    response = admin_client.post("/admin/taxonomy/responsibilityrule/add/", _rule_form(
        category_kind="matter", major_code="06", region_prefix="350211", assisting_kinds=["housing"]))
    # then it is saved, and the list shows it in words (in Chinese, the default language)
    assert response.status_code == 302
    rule = ResponsibilityRule.objects.get()
    assert (rule.region_prefix, rule.assisting_kinds) == ("350211", ["housing"])
    page = admin_client.get("/admin/taxonomy/responsibilityrule/").content.decode()
    assert "市容环境类" in page and "350211" in page and "城管执法" in page


@pytest.mark.django_db
def test_admin_warns_about_a_conflicting_rule(admin_client):
    # given a rule for everywhere
    actions.save_responsibility_rule(ResponsibilityRule(lead_kind="street_office"))
    # when a second catch-all with another lead is added
    response = admin_client.post("/admin/taxonomy/responsibilityrule/add/", _rule_form(), follow=True,
                                 HTTP_ACCEPT_LANGUAGE="en")
    # then it is saved but the page warns that look-ups are now ambiguous
    assert ResponsibilityRule.objects.count() == 2
    assert "ambiguous" in response.content.decode()


@pytest.mark.django_db
def test_admin_category_pages_search_and_sla_inline(admin_client, loaded):
    # when the category list is searched for an everyday word
    page = admin_client.get("/admin/taxonomy/category/", {"q": "窨井盖"}).content.decode()
    # then manhole covers are listed
    assert "污水井盖" in page
    # and a category page carries its SLA rule inline
    category = Category.objects.get(kind="matter", code="06010")
    page = admin_client.get(f"/admin/taxonomy/category/{category.pk}/change/").content.decode()
    assert 'name="sla_rule-0-handle_amount"' in page


@pytest.mark.django_db
def test_admin_inline_sla_rule_is_validated(admin_client, category):
    # given a category without an SLA rule
    c = category()
    form = {"kind": "matter", "code": "06001", "name": "私搭乱建", "major_code": "06", "major_name": "",
            "keywords": "违建", "description": "", "is_public": "on", "is_active": "on",
            "sla_rule-TOTAL_FORMS": "1", "sla_rule-INITIAL_FORMS": "0", "sla_rule-MIN_NUM_FORMS": "0",
            "sla_rule-MAX_NUM_FORMS": "1", "sla_rule-0-note": "", "sla_rule-0-handle_amount": "4",
            "sla_rule-0-handle_unit": "hours", "sla_rule-0-handle_urgent_amount": "1",
            "sla_rule-0-handle_urgent_unit": "days"}
    # when an urgent limit longer than the normal one is posted, then it is refused
    response = admin_client.post(f"/admin/taxonomy/category/{c.pk}/change/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "may not be longer" in response.content.decode()
    assert not SlaRule.objects.exists()
    # and with a shorter urgent limit it is saved
    form["sla_rule-0-handle_urgent_amount"], form["sla_rule-0-handle_urgent_unit"] = "2", "hours"
    assert admin_client.post(f"/admin/taxonomy/category/{c.pk}/change/", form).status_code == 302
    assert SlaRule.objects.get(category=c).handle_amount == 4


@pytest.mark.django_db
def test_category_import_goes_through_the_action(category):
    # given an existing category and an import file updating it and adding one
    category(keywords="违建")
    data = tablib.Dataset(headers=["kind", "code", "name", "keywords", "is_public", "auto_dispatch",
                                   "major_code", "major_name", "description", "is_active"])
    data.append(["matter", "06001", "私搭乱建", "违建,乱搭建", "1", "1", "", "市容环境类", "", "1"])
    data.append(["governance", "95001", "电动车入户充电", "飞线充电", "1", "0", "", "", "", "1"])
    # when imported
    result = CategoryResource().import_data(data, dry_run=False, raise_errors=True)
    # then both rows are saved, with keywords normalised and the major class filled in by the action
    assert not result.has_errors()
    updated = Category.objects.get(code="06001")
    assert (updated.keywords, updated.auto_dispatch) == ("违建、乱搭建", True)
    assert Category.objects.get(code="95001").major_code == "95"


@pytest.mark.django_db
def test_category_import_refuses_a_bad_code(category):
    # given an import row with a 4-digit code
    data = tablib.Dataset(headers=["kind", "code", "name"])
    data.append(["matter", "0601", "坏"])
    # when imported, then the row is reported and nothing is saved
    result = CategoryResource().import_data(data, dry_run=False)
    assert result.has_errors() or result.has_validation_errors()
    assert not Category.objects.exists()


@pytest.mark.django_db
def test_admin_edits_the_default_sla_rule(admin_client, loaded):
    # given the default SLA rule, when its page and the list are opened, then they render
    default = SlaRule.objects.get(is_default=True)
    assert admin_client.get("/admin/taxonomy/slarule/").status_code == 200
    page = admin_client.get(f"/admin/taxonomy/slarule/{default.pk}/change/")
    assert page.status_code == 200
    # and clearing a stage of the default rule is refused on that field
    form = {f"{stage}_{part}": "" for stage in ("file", "dispatch", "sign_for", "handle", "verify")
            for part in ("amount", "unit", "urgent_amount", "urgent_unit")}
    form.update({"note": "x", "handle_amount": "3", "handle_unit": "days"})
    response = admin_client.post(f"/admin/taxonomy/slarule/{default.pk}/change/", form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "The default rule must set a limit" in response.content.decode()
