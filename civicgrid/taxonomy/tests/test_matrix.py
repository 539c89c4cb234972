import pytest
from django.core.exceptions import ValidationError

from civicgrid.taxonomy import actions
from civicgrid.taxonomy.models import ResponsibilityRule
from civicgrid.taxonomy.selectors import explain

SPOT = "350211001001"  # a community in 集美区


@pytest.mark.django_db
def test_category_rule_beats_group_rule_beats_catch_all(category, rule):
    # given a catch-all, a group rule and a category rule, the group one with a longer prefix
    c = category()
    catch_all = rule("street_office")
    group = rule("housing", category_kind="matter", major_code="06", region_prefix="350211")
    own = rule("city_management", ["housing"], category=c, region_prefix="3502")
    # when explained
    e = explain(c, SPOT)
    # then the category rule wins despite its shorter prefix, and the others say why they lost
    assert (e.rule, e.lead_kind, e.assisting_kinds, e.ambiguous) == (own, "city_management", ["housing"], False)
    outcome = {c.rule.pk: c.outcome for c in e.considered}
    assert outcome == {own.pk: "chosen", group.pk: "less_specific", catch_all.pk: "less_specific"}
    # when the category rule is gone, the group rule wins over the catch-all
    actions.delete_responsibility_rule(own)
    assert explain(c, SPOT).rule == group
    actions.delete_responsibility_rule(group)
    assert explain(c, SPOT).rule == catch_all


@pytest.mark.django_db
def test_longer_region_prefix_wins_at_the_same_level(category, rule):
    # given two category rules, one for the city and one for a district
    c = category()
    city = rule("city_management", category=c, region_prefix="3502")
    district = rule("housing", category=c, region_prefix="350211")
    # when explained inside the district, then the district rule wins and the city rule lost on prefix
    e = explain(c, SPOT)
    assert e.rule == district
    assert [(x.rule, x.outcome) for x in e.considered] == [(district, "chosen"), (city, "shorter_prefix")]
    # and in another district of the city the city rule applies; the district rule did not match
    e = explain(c, "350206001001")
    assert e.rule == city
    assert {x.rule.pk: x.outcome for x in e.considered}[district.pk] == "region_mismatch"


@pytest.mark.django_db
def test_equally_specific_rules_that_disagree_are_ambiguous(category, rule):
    # given two active rules with the same criteria and different leads, and a catch-all
    c = category()
    rule("street_office")
    one = rule("city_management", category=c, region_prefix="350211")
    two = rule("housing", category=c, region_prefix="350211")
    # when explained, then no answer is picked and both are named
    e = explain(c, SPOT)
    assert e.ambiguous and e.rule is None and e.lead_kind is None and e.assisting_kinds == []
    assert e.tied_rules == [one, two]
    assert f"#{one.pk}" in e.summary and f"#{two.pk}" in e.summary


@pytest.mark.django_db
def test_equal_rules_with_the_same_answer_are_not_ambiguous(category, rule):
    # given two rules with the same criteria and the same answer (assisting kinds in another order)
    c = category()
    one = rule("city_management", ["housing", "street_office"], category=c)
    two = rule("city_management", ["street_office", "housing"], category=c)
    # when explained, then the answer stands and the second is reported as a duplicate
    e = explain(c, SPOT)
    assert not e.ambiguous and e.rule == one
    assert {x.rule.pk: x.outcome for x in e.considered}[two.pk] == "duplicate"


@pytest.mark.django_db
def test_inactive_rules_are_ignored(category, rule):
    # given a category rule that is inactive and a group rule
    c = category()
    inactive = rule("housing", category=c, is_active=False)
    group = rule("city_management", category_kind="matter", major_code="06")
    rule("police_station", category=c, is_active=False)  # would tie with the other inactive one
    # when explained, then the group rule wins and the inactive ones are listed as ignored
    e = explain(c, SPOT)
    assert e.rule == group and not e.ambiguous
    assert {x.rule.pk: x.outcome for x in e.considered}[inactive.pk] == "inactive"


@pytest.mark.django_db
def test_rules_of_other_categories_and_groups_are_not_considered(category, rule):
    # given rules for another category and another group
    c = category()
    other = category(code="06010", name="暴露垃圾")
    rule("housing", category=other)
    rule("housing", category_kind="matter", major_code="06", region_prefix="350206")
    # when explained, then nothing covers it: no lead, not ambiguous
    e = explain(c, SPOT)
    assert e.rule is None and not e.ambiguous and e.lead_kind is None
    assert [x.outcome for x in e.considered] == ["region_mismatch"]


@pytest.mark.django_db
def test_explanation_says_what_matched(category, rule):
    # given a district rule for a category
    c = category()
    rule("city_management", ["housing"], category=c, region_prefix="350211")
    # when explained
    e = explain(c, SPOT)
    # then the matched criteria name the category and the region, and the answer reads back
    assert any("06001" in m for m in e.matched)
    assert any("350211" in m and SPOT in m for m in e.matched)
    data = e.as_dict()
    assert data["lead_kind"] == "city_management" and data["ambiguous"] is False
    assert data["considered"][0]["outcome"] == "chosen"


@pytest.mark.django_db
def test_an_unknown_place_matches_only_rules_for_everywhere(category, rule):
    # given a district rule and a rule for everywhere
    c = category()
    everywhere = rule("street_office", category=c)
    rule("city_management", category=c, region_prefix="350211")
    # when the place is unknown, then the rule for everywhere applies
    assert explain(c, "").rule == everywhere


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "field", "code"), [
    ({"region_prefix": "35021a"}, "region_prefix", "not_digits"),
    ({"region_prefix": "35021"}, "region_prefix", "bad_length"),
    ({"assisting_kinds": ["city_management"]}, "assisting_kinds", "lead_in_assisting"),
    ({"assisting_kinds": ["housing", "housing"]}, "assisting_kinds", "duplicate"),
    ({"assisting_kinds": ["bakery"]}, "assisting_kinds", "unknown_kind"),
    ({"category_kind": "matter"}, "major_code", "required"),
    ({"major_code": "06"}, "category_kind", "required"),
    ({"category_kind": "matter", "major_code": "77"}, "major_code", "unknown_group"),
    ({"category_kind": "matter", "major_code": "06", "with_category": True}, "category", "category_and_group"),
])
def test_rule_validation_is_field_level(category, fields, field, code):
    # given a rule with one mistake
    c = category()
    if fields.pop("with_category", False):
        fields["category"] = c
    bad = ResponsibilityRule(lead_kind="city_management", **fields)
    # when saved, then the field carries an error with that code and nothing is saved
    with pytest.raises(ValidationError) as info:
        actions.save_responsibility_rule(bad)
    assert code in [e.code for e in info.value.error_dict[field]]
    assert not ResponsibilityRule.objects.exists()


@pytest.mark.django_db
def test_a_valid_group_rule_with_a_district_prefix_saves(category):
    # given a category of group 事项 06, when a group rule for a district is saved, then it is kept
    category()
    saved = actions.save_responsibility_rule(ResponsibilityRule(
        category_kind="matter", major_code="06", region_prefix=" 350211 ", lead_kind="city_management",
        assisting_kinds=["housing"]))
    assert saved.pk and saved.region_prefix == "350211" and saved.scope == "group"


@pytest.mark.django_db
def test_only_taxonomy_managers_may_change_rules(category, django_user_model):
    # given a dispatcher (who may not manage categories and rules)
    c = category()
    dispatcher = django_user_model.objects.create(username="d", role="dispatcher")
    # when they try to save a rule, then it is refused
    from civicgrid.org.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.save_responsibility_rule(ResponsibilityRule(category=c, lead_kind="housing"), actor=dispatcher)
    # and an administrator may
    admin = django_user_model.objects.create(username="a", role="administrator")
    assert actions.save_responsibility_rule(ResponsibilityRule(category=c, lead_kind="housing"), actor=admin).pk
