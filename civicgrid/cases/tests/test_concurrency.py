"""Races on PostgreSQL: row locks make concurrent actions queue, and the loser is told why."""

import pytest

from civicgrid.cases import actions
from civicgrid.cases.models import Assignment, Case, Channel
from civicgrid.cases.workflow import AssignmentState, State
from civicgrid.core.api import DomainError
from civicgrid.core.testing import race

from .builders import case_in_state, lead_of
from .conftest import GRID

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_threads_sign_for_the_same_task_and_exactly_one_wins(city):
    # given a dispatched case and its pending lead task, loaded by 20 handlers
    case = case_in_state(city, State.DISPATCHED)
    pk = lead_of(case).pk
    # when all 20 sign for it at once
    results, errors = race(20, lambda i: actions.sign_for(Assignment.objects.get(pk=pk), city.cm_handler))
    # then one succeeds; the 19 others are refused: "changed meanwhile" when they read it before the
    # winner committed, "already signed for" when they read it after
    assert len(results) == 1
    assert len(errors) == 19
    assert all(isinstance(e, DomainError) for e in errors.values()), errors
    assert {e.get_codes() for e in errors.values()} <= {"conflict", "illegal_transition"}
    assert Assignment.objects.get(pk=pk).state == AssignmentState.SIGNED
    assert Case.objects.get(pk=case.pk).state == State.IN_PROGRESS


def test_two_dispatchers_dispatch_the_same_case_and_one_wins(city):
    # given a filed case both dispatchers loaded
    case = case_in_state(city, State.FILED)
    departments = [city.city_management, city.police]
    # when both dispatch it to different lead departments at once
    results, errors = race(
        2, lambda i: actions.dispatch_case(Case.objects.get(pk=case.pk), departments[i], [], city.dispatcher)
    )
    # then one dispatch stands, the other gets a clear conflict
    assert len(results) == 1 and len(errors) == 1
    (error,) = errors.values()
    assert isinstance(error, DomainError) and error.get_codes() in {"conflict", "illegal_transition"}
    assert Assignment.objects.filter(case=case).count() == 1


def test_twenty_concurrent_reports_get_twenty_distinct_numbers(city):
    # when 20 reports arrive at once in the same district and day
    results, errors = race(20, lambda i: actions.report_case(
        channel=Channel.WEB, title=f"井盖 {i}", region_code=GRID,
    ).number)
    # then all succeed with 20 distinct consecutive numbers
    assert errors == {}
    numbers = sorted(results.values())
    assert len(set(numbers)) == 20
    assert [int(n[-5:]) for n in numbers] == list(range(1, 21))
