from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from civicgrid.taxonomy import actions
from civicgrid.taxonomy.models import Category, SlaRule
from civicgrid.taxonomy.selectors import sla_limits, sla_table
from civicgrid.taxonomy.sla import WorkingDuration, parse_duration, set_stage

H, D = "hours", "days"


def wd(amount, unit):
    return WorkingDuration(Decimal(str(amount)), unit)


@pytest.mark.django_db
def test_a_category_without_a_rule_gets_the_default_rule(loaded):
    # given a loaded category that has no SLA rule of its own
    category = Category.objects.get(kind="component", code="02012")  # 路名牌
    assert not SlaRule.objects.filter(category=category).exists()
    # when its limits are asked for, then the default rule's limits come back
    assert sla_limits(category, urgent=False) == {
        "file": wd(0.5, H), "dispatch": wd(0.5, H), "sign_for": wd(1, H), "handle": wd(3, D), "verify": wd(4, H)}
    # and urgent cases get the default rule's stricter limits
    assert sla_limits(category, urgent=True)["handle"] == wd(4, H)
    assert sla_limits(category, urgent=True)["sign_for"] == wd(0.5, H)


@pytest.mark.django_db
def test_the_default_rule_is_editable_and_applies(loaded):
    # given an administrator shortens the default rule's handling limit
    default = SlaRule.objects.get(is_default=True)
    set_stage(default, "handle", wd(2, D), wd(2, H))
    actions.save_sla_rule(default)
    # then categories without their own rule follow it
    category = Category.objects.get(kind="component", code="02012")
    assert sla_limits(category, False)["handle"] == wd(2, D)
    assert sla_limits(category, True)["handle"] == wd(2, H)


@pytest.mark.django_db
def test_shipped_category_rules_follow_city_management_practice(loaded):
    # given the loaded defaults, then handling limits differ per category
    def handle(kind, code, urgent=False):
        return sla_limits(Category.objects.get(kind=kind, code=code), urgent)["handle"]

    assert handle("matter", "06010") == wd(4, H)  # 暴露垃圾
    assert handle("matter", "06010", urgent=True) == wd(2, H)
    assert handle("matter", "06001") == wd(15, D)  # 私搭乱建
    assert handle("governance", "91002") == wd(30, D)  # 邻里纠纷 (人民调解法: about a month)
    # and stages the category rule leaves open come from the default rule
    assert sla_limits(Category.objects.get(kind="matter", code="06010"), False)["sign_for"] == wd(1, H)


@pytest.mark.django_db
def test_without_any_saved_rule_the_built_in_default_answers(category):
    # given a category and no SLA rule at all (nothing loaded yet)
    c = category()
    # then the built-in defaults apply
    assert sla_limits(c, False)["handle"] == wd(3, D)


@pytest.mark.django_db
def test_an_empty_urgent_limit_means_the_normal_one(category):
    # given a category rule with a normal handling limit and no urgent one
    c = category()
    rule = SlaRule(category=c)
    set_stage(rule, "handle", wd(5, D))
    actions.save_sla_rule(rule)
    # then urgent cases have the same handling limit, not the default rule's urgent one
    assert sla_limits(c, True)["handle"] == wd(5, D)
    # and the table says where each stage comes from
    table = sla_table(c)
    assert table["handle"]["source"] == "category" and table["file"]["source"] == "default"


@pytest.mark.django_db
@pytest.mark.parametrize(("stage_values", "field", "code"), [
    ({"handle": (wd(4, H), wd(1, D))}, "handle_urgent_amount", "urgent_longer"),
    ({"handle": (wd(1, D), wd(7, H))}, "handle_urgent_amount", "urgent_longer"),  # a day is 6.5 office hours
    ({"handle": (wd(1.5, D), None)}, "handle_amount", "days_not_whole"),
    ({"handle": (wd(0, H), None)}, "handle_amount", "not_positive"),
    ({"handle": (None, wd(2, H))}, "handle_amount", "urgent_without_normal"),
])
def test_sla_rule_validation(category, stage_values, field, code):
    # given a category rule with one mistake
    rule = SlaRule(category=category())
    for stage, (normal, urgent) in stage_values.items():
        set_stage(rule, stage, normal, urgent)
    # when saved, then that field carries the error
    with pytest.raises(ValidationError) as info:
        actions.save_sla_rule(rule)
    assert code in [e.code for e in info.value.error_dict[field]]


@pytest.mark.django_db
def test_urgent_in_hours_shorter_than_a_day_is_accepted(category):
    # given 1 working day normally and 6 working hours when urgent, when saved, then it is accepted
    rule = SlaRule(category=category())
    set_stage(rule, "handle", wd(1, D), wd(6, H))
    assert actions.save_sla_rule(rule).pk


@pytest.mark.django_db
def test_the_default_rule_must_set_every_stage_and_cannot_be_deleted(loaded):
    # given the default rule with the verify stage cleared
    default = SlaRule.objects.get(is_default=True)
    set_stage(default, "verify", None)
    # then saving is refused on that field
    with pytest.raises(ValidationError) as info:
        actions.save_sla_rule(default)
    assert info.value.error_dict["verify_amount"][0].code == "required"
    # and the default rule cannot be deleted
    with pytest.raises(ValidationError):
        actions.delete_sla_rule(SlaRule.objects.get(is_default=True))


def test_durations_parse():
    assert parse_duration("4h") == wd(4, H)
    assert parse_duration("15d") == wd(15, D)
    assert parse_duration("0.25h") == wd(0.25, H)
    assert parse_duration("") is None
    with pytest.raises(ValueError):
        parse_duration("4 weeks")
