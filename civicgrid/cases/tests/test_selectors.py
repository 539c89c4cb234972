"""Reads of cases are scoped: jurisdiction by region code, department handlers by their tasks."""

import pytest
from django.http import Http404

from civicgrid.cases import actions, selectors

from .conftest import GRID, OTHER_GRID, SIMING_GRID


def _numbers(qs):
    return sorted(c.region_code for c in qs)


def test_cases_for_each_role(city, report):
    # given a case in each of three grids, the 岑西 one dispatched to city management
    cenxi, yecuo, zhongshan = (report(region_code=c) for c in (GRID, OTHER_GRID, SIMING_GRID))
    filed = actions.file_case(cenxi, city.dispatcher, category=city.category)
    actions.dispatch_case(filed, city.city_management, [], city.dispatcher)
    # then each role sees what its jurisdiction (or its tasks) allows
    assert _numbers(selectors.cases_for(city.dispatcher)) == sorted([GRID, OTHER_GRID])
    assert _numbers(selectors.cases_for(city.siming_dispatcher)) == [SIMING_GRID]
    assert _numbers(selectors.cases_for(city.grid_worker)) == [GRID]
    assert _numbers(selectors.cases_for(city.leader)) == sorted([GRID, OTHER_GRID])
    assert _numbers(selectors.cases_for(city.cm_handler)) == [GRID]
    assert _numbers(selectors.cases_for(city.police_handler)) == []
    assert _numbers(selectors.cases_for(city.admin)) == sorted([GRID, OTHER_GRID, SIMING_GRID])


def test_case_detail_is_404_outside(city, report):
    case = report(region_code=SIMING_GRID)
    assert selectors.case_detail(city.siming_dispatcher, case.pk) == case
    with pytest.raises(Http404):
        selectors.case_detail(city.dispatcher, case.pk)
    with pytest.raises(Http404):
        selectors.case_by_number(city.grid_worker, case.number)


def test_timeline_is_in_order(city, report):
    case = report()
    actions.file_case(case, city.dispatcher, category=city.category)
    assert [e.action for e in selectors.timeline(case)] == ["report", "file"]


def test_tasks_and_available_actions(city, report):
    filed = actions.file_case(report(), city.dispatcher, category=city.category)
    assert selectors.available_actions(city.dispatcher, filed) == ["dispatch", "cancel"]
    assert selectors.available_actions(city.cm_handler, filed) == []
    actions.dispatch_case(filed, city.city_management, [city.police], city.dispatcher)
    assert [a.case_id for a in selectors.tasks_for(city.police_handler)] == [filed.pk]
    assert list(selectors.tasks_for(city.water_handler)) == []


def test_a_department_inbox_drops_tasks_of_closed_cases(city):
    # given one case still with the department and one it finished that the centre closed
    from civicgrid.cases.workflow import State

    from .builders import case_in_state

    open_case = case_in_state(city, State.IN_PROGRESS)
    closed = case_in_state(city, State.CLOSED)
    # when the department looks at its tasks
    listed = {a.case_id for a in selectors.tasks_for(city.cm_handler)}
    # then only the open case is there (the closed case's task stays "reported" for the record)
    assert open_case.pk in listed and closed.pk not in listed
