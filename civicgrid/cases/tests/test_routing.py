"""智能派单: a clear matrix answer dispatches at report time without a person; anything less waits in
the centre's queue with the suggestion and the reason recorded."""

import pytest

from civicgrid.cases import actions, selectors
from civicgrid.cases.models import Assignment, CaseEvent, Notification
from civicgrid.cases.workflow import AssignmentRole, State
from civicgrid.org.models import Department, DepartmentKind
from civicgrid.taxonomy.models import Category, ResponsibilityRule


@pytest.fixture
def auto_category(city):
    category = Category.objects.create(kind="matter", code="06001", major_code="06", name="暴露垃圾",
                                       auto_dispatch=True)
    return category


def _rule(category, lead=DepartmentKind.CITY_MANAGEMENT, assisting=(DepartmentKind.POLICE_STATION,)):
    return ResponsibilityRule.objects.create(category=category, lead_kind=lead, assisting_kinds=list(assisting))


def test_a_clear_answer_is_filed_and_dispatched_at_report_time(
    city, report, auto_category, sla_rules, django_capture_on_commit_callbacks
):
    # given a rule: 城管 leads, 派出所 assists, and exactly one of each serves the place
    rule = _rule(auto_category)
    # when a citizen reports a case of this auto-dispatch category
    with django_capture_on_commit_callbacks(execute=True):
        case = report(category=auto_category)
    # then it is dispatched without a person, to the matched departments
    assert case.state == State.DISPATCHED
    roles = dict(Assignment.objects.filter(case=case).values_list("department_id", "role"))
    assert roles == {city.city_management.pk: AssignmentRole.LEAD, city.police.pk: AssignmentRole.ASSISTING}
    # and the timeline says it was the auto-dispatch rule, naming the rule
    file_event, dispatch_event = CaseEvent.objects.filter(case=case, action__in=["file", "dispatch"]).order_by("pk")
    assert file_event.actor is None and dispatch_event.actor is None
    assert dispatch_event.data["auto"] is True and dispatch_event.data["rule"] == rule.pk
    assert f"#{rule.pk}" in dispatch_event.note and dispatch_event.note != ""
    assert case.routing_suggestion["reason"] == "ready"
    # and the departments have their new task
    assert Notification.objects.filter(recipient=city.cm_handler, kind="new_task").count() == 1
    assert lead_deadline_set(case)


def lead_deadline_set(case):
    lead = Assignment.objects.get(case=case, role=AssignmentRole.LEAD)
    return lead.sign_deadline is not None and lead.handle_deadline is not None


def _ambiguous(category):
    _rule(category)
    _rule(category, lead=DepartmentKind.HOUSING, assisting=())


def _two_leads(category, city):
    _rule(category)
    Department.objects.create(code="jm-cm-2", name="集美区城管二大队", kind=DepartmentKind.CITY_MANAGEMENT,
                              region=city.regions["350211000000"])


@pytest.mark.parametrize(("setup", "reason"), [
    (lambda cat, city: None, "no_rule"),
    (lambda cat, city: _ambiguous(cat), "ambiguous"),
    (lambda cat, city: _rule(cat, lead=DepartmentKind.HOUSING, assisting=()), "no_lead_department"),
    (_two_leads, "several_lead_departments"),
    (lambda cat, city: _rule(cat, assisting=[DepartmentKind.WATER_AFFAIRS]), "assisting_unresolved"),
    (lambda cat, city: (_rule(cat), Category.objects.filter(pk=cat.pk).update(auto_dispatch=False)),
     "auto_dispatch_off"),
])
def test_anything_less_than_a_clear_answer_waits_in_the_queue(city, report, auto_category, setup, reason):
    # given a matrix that leaves a doubt (or a category not marked for auto-dispatch)
    setup(auto_category, city)
    auto_category.refresh_from_db()
    # when a case of the category is reported
    case = report(category=auto_category)
    # then it waits, reported, with the suggestion and the reason recorded
    assert case.state == State.REPORTED
    assert not Assignment.objects.filter(case=case).exists()
    assert case.routing_suggestion["reason"] == reason
    assert case.routing_suggestion["auto"] is False
    assert case.routing_suggestion["ambiguous"] is (reason == "ambiguous")
    assert case.routing_suggestion["why"]


def test_the_suggestion_names_the_departments_for_the_dispatcher(city, report, auto_category):
    rule = _rule(auto_category)
    Category.objects.filter(pk=auto_category.pk).update(auto_dispatch=False)
    auto_category.refresh_from_db()
    case = report(category=auto_category)
    suggestion = selectors.routing_suggestion(case)
    assert suggestion["lead_department"] == city.city_management.pk
    assert suggestion["assisting_departments"] == [city.police.pk]
    assert suggestion["rule"] == rule.pk and f"#{rule.pk}" in suggestion["why"]
    assert case.routing_suggestion["lead_department"] == city.city_management.pk


def test_a_report_without_a_category_is_dispatched_when_filed_into_an_auto_category(
    city, report, auto_category, sla_rules
):
    _rule(auto_category)
    # given a report without a category: nothing to suggest yet
    case = report()
    assert case.state == State.REPORTED and case.routing_suggestion == {}
    assert selectors.routing_suggestion(case)["reason"] == "no_category"
    # when a dispatcher files it into the auto-dispatch category
    case = actions.file_case(case, city.dispatcher, category=auto_category)
    # then the rule dispatches it at once
    assert case.state == State.DISPATCHED
    assert CaseEvent.objects.get(case=case, action="file").actor == city.dispatcher
    assert CaseEvent.objects.get(case=case, action="dispatch").actor is None
