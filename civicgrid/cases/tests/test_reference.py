"""The per-process intake reference (``civicgrid.cases.reference``): its triggers exist on every
watched table, any write there — an action, a queryset update, a bulk insert, plain SQL — gives it
a new generation, and the next report reads the changed data instead of the remembered answer."""

import pytest
from django.db import connection

from civicgrid.cases import reference
from civicgrid.cases.tests.conftest import GRID
from civicgrid.org.models import CommandCentre, Department, DepartmentKind
from civicgrid.taxonomy.models import Category, ResponsibilityRule, SlaRule


def test_the_triggers_are_installed_on_every_watched_table(db):
    # given a migrated database (the triggers are installed after every migrate)
    # then every watched table has its trigger(s), on this database's vendor
    assert reference.installed_triggers() >= reference.expected_triggers()
    assert len(reference.watched_tables()) == 6


@pytest.mark.parametrize("write", [
    "category update", "category bulk insert", "sla rule", "matrix rule delete", "department",
    "centre", "region", "plain sql",
])
def test_every_write_to_a_watched_table_gives_a_new_generation(city, write):
    # given the current generation
    before = reference.generation_token()
    # when one watched table is written to, by whatever path
    if write == "category update":
        Category.objects.filter(pk=city.category.pk).update(auto_dispatch=True)
    elif write == "category bulk insert":
        Category.objects.bulk_create([Category(kind="event", code="09999", major_code="09", name="其他")])
    elif write == "sla rule":
        SlaRule.objects.create(category=city.category, file_amount=2, file_unit="hours")
    elif write == "matrix rule delete":
        rule = ResponsibilityRule.objects.create(category=city.category, lead_kind=DepartmentKind.CITY_MANAGEMENT)
        before = reference.generation_token()
        rule.delete()
    elif write == "department":
        city.police.name = "集美派出所（新）"
        city.police.save()
    elif write == "centre":
        CommandCentre.objects.filter(pk=city.jimei_centre.pk).update(name="集美区社会治理中心")
    elif write == "region":
        city.regions[GRID].name = "岑西第一网格"
        city.regions[GRID].save()
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Department._meta.db_table} SET is_active = %s WHERE id = %s",
                           [False, city.police.pk])
    # then the token is another one
    after = reference.generation_token()
    assert after and after != before


def test_the_reference_is_shared_until_the_generation_changes(city):
    # given the reference of the current generation
    first = reference.current()
    # when nothing changes, then the same one serves the next report
    assert reference.current() is first
    # when a department changes, then a new one is built
    Department.objects.filter(pk=city.water.pk).update(name="厦门水务")
    assert reference.current() is not first


def test_a_report_after_a_queryset_update_routes_by_the_new_matrix(city, report):
    # given a clear matrix answer for the category, auto-dispatch off, and a report routed by it
    ResponsibilityRule.objects.create(category=city.category, lead_kind=DepartmentKind.CITY_MANAGEMENT)
    first = report(category=city.category)
    assert first.routing_suggestion["reason"] == "auto_dispatch_off"
    assert first.state == "reported"
    # when auto-dispatch is switched on by a bare queryset update (no action, no signal)
    Category.objects.filter(pk=city.category.pk).update(auto_dispatch=True)
    # then the next report sees it: dispatched to the department at once
    second = report(category=city.category)
    assert second.routing_suggestion["reason"] == "ready"
    assert second.state == "dispatched"
    assert [a.department_id for a in second.assignments.all()] == [city.city_management.pk]


def test_a_report_after_an_sla_change_takes_the_new_filing_limit(city, report, sla_rules, clock):
    # given reports filed under the default rule (file within 1 working hour)
    first = report(category=city.category)
    # when the category gets its own rule (4 working hours) by a plain bulk insert
    SlaRule.objects.bulk_create([SlaRule(category=city.category, file_amount=4, file_unit="hours")])
    second = report(category=city.category)
    # then the second report's filing deadline follows the new rule, the first's the old one
    from civicgrid.core.calendar import add_working_time

    assert first.stage_deadline == add_working_time(clock.now, 1, "hours")
    assert second.stage_deadline == add_working_time(clock.now, 4, "hours") != first.stage_deadline


def test_each_report_has_its_own_suggestion(city, report, clock):
    # given two reports routed from the same remembered answer
    ResponsibilityRule.objects.create(category=city.category, lead_kind=DepartmentKind.CITY_MANAGEMENT)
    first, second = report(category=city.category), report(category=city.category)
    # then each case holds its own copy (changing one cannot change the other or the reference)
    assert first.routing_suggestion == second.routing_suggestion
    assert first.routing_suggestion is not second.routing_suggestion
    first.routing_suggestion["lead_department"] = None
    assert reference.current().routing.suggest(second)["lead_department"] == city.city_management.pk


@pytest.mark.parametrize("rules", ["built-in default only", "default rule", "default and category rule"])
def test_the_references_stage_limits_are_the_sla_selectors(city, rules):
    # given SLA rules in one of their shapes: none saved, a saved default, a category's own rule on top
    from civicgrid.cases import deadlines
    from civicgrid.cases.models import Case

    if rules != "built-in default only":
        SlaRule.objects.create(is_default=True, file_amount=1, file_unit="hours", handle_amount=3, handle_unit="days",
                               handle_urgent_amount=4, handle_urgent_unit="hours")
    if rules == "default and category rule":
        SlaRule.objects.create(category=city.category, file_amount=2, file_unit="days", verify_amount=5,
                               verify_unit="hours")
    other = Category.objects.create(kind="event", code="02001", major_code="02", name="占道经营")
    ref = reference.Reference()
    for category in (city.category, other, None):
        for urgency in ("normal", "urgent"):
            # when the reference and the selector each give the limits of such a case
            from_reference = Case(category=category, urgency=urgency)
            ref.stage_limits(from_reference)
            from_selector = Case(category=category, urgency=urgency)
            # then they agree, stage by stage
            assert from_reference._stage_limits[1] == deadlines.stage_limits(from_selector)
