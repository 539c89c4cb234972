"""The lifecycle table, and every (state, action) pair tried through the action functions."""

import pytest
from django.utils import translation

from civicgrid.cases import actions
from civicgrid.cases.models import Assignment, CaseEvent
from civicgrid.cases.workflow import (
    OPEN_STATES,
    TRANSITIONS,
    Action,
    AssignmentRole,
    State,
    check_transition,
)
from civicgrid.core.api import DomainError
from civicgrid.org.permissions import ACTIONS

from .builders import case_in_state, lead_of, new_case


def test_every_action_has_one_row_and_a_known_permission():
    # given the table / then each action has a row whose permission the org table knows
    assert set(TRANSITIONS) == set(Action.values)
    for transition in TRANSITIONS.values():
        assert transition.permission in ACTIONS


def test_the_table_matches_the_design():
    # given the lifecycle of DESIGN.md, written out pair by pair
    expected = {
        (None, "report"): "reported",
        ("reported", "file"): "filed", ("reported", "reject"): "rejected", ("reported", "merge"): "merged",
        ("merged", "unmerge"): "reported",
        ("filed", "dispatch"): "dispatched",
        ("dispatched", "sign_for"): "in_progress", ("dispatched", "return"): "filed",
        ("in_progress", "report_result"): "resolved", ("in_progress", "suspend"): "suspended",
        ("in_progress", "return"): "filed",
        ("suspended", "resume"): "in_progress",
        ("resolved", "verify"): "closed", ("resolved", "rework"): "in_progress",
        ("closed", "reopen"): "in_progress",
        **{(s, "cancel"): "cancelled" for s in
           ["reported", "filed", "dispatched", "in_progress", "suspended", "resolved"]},
    }
    # when every pair is checked / then exactly those are allowed, with those targets
    for state in [None, *State.values]:
        for action in Action.values:
            if (state, action) in expected:
                assert check_transition(state, action) == expected[(state, action)]
            else:
                with pytest.raises(DomainError) as refused:
                    check_transition(state, action)
                assert refused.value.get_codes() == "illegal_transition"


def test_an_illegal_transition_names_the_state_and_the_action():
    # when closing a case that is only reported
    with translation.override("en"), pytest.raises(DomainError) as refused:
        check_transition(State.REPORTED, Action.VERIFY)
    # then the message says which action from which state
    message = str(refused.value.detail)
    assert "verify and close" in message and "reported" in message
    assert "(verify from reported)" in message


def _attempt(city, case, action):
    """Run ``action`` on ``case`` through its action function, as someone allowed to."""
    d = city.dispatcher
    if action in (Action.SIGN_FOR, Action.RETURN, Action.REPORT_RESULT):
        assignment = lead_of(case)
        handler = city.handler_of[assignment.department_id]
        if action == Action.SIGN_FOR:
            actions.sign_for(assignment, handler)
        elif action == Action.RETURN:
            actions.return_assignment(assignment, "不属于本部门职责", handler)
        else:
            actions.report_result(assignment, "已处置", handler)
        return
    calls = {
        Action.FILE: lambda: actions.file_case(case, d, category=city.category),
        Action.REJECT: lambda: actions.reject_case(case, "重复上报", d),
        Action.MERGE: lambda: actions.merge_case(case, new_case(city, "另一件"), d),
        Action.UNMERGE: lambda: actions.unmerge_case(case, d, "并非同一事件"),
        Action.DISPATCH: lambda: actions.dispatch_case(case, city.city_management, [], d),
        Action.SUSPEND: lambda: actions.suspend_case(case, "等待审批", d),
        Action.RESUME: lambda: actions.resume_case(case, d),
        Action.VERIFY: lambda: actions.verify_case(case, True, d, "已核实"),
        Action.REWORK: lambda: actions.verify_case(case, False, d, "未修复"),
        Action.REOPEN: lambda: _reopen(case, d),
        Action.CANCEL: lambda: actions.cancel_case(case, "群众撤回", d),
    }
    calls[action]()


def _reopen(case, dispatcher):
    # Reopening needs an unsatisfied rating of the closure (a closed case carries its token).
    if getattr(case, "rating_token", None):
        actions.rate_case(case.rating_token, "unsatisfied")
    actions.reopen_case(case, "群众不满意", dispatcher)


def _snapshot(case):
    case.refresh_from_db()
    return (
        case.state, CaseEvent.objects.filter(case=case).count(),
        list(Assignment.objects.filter(case=case).order_by("pk").values_list("state", flat=True)),
    )


@pytest.mark.parametrize("state", State.values)
def test_every_state_action_pair_through_the_actions(city, state):
    for action in Action.values:
        if action == Action.REPORT:
            continue  # report makes a new case; its row is checked in test_the_table_matches_the_design
        # given a case in `state`, reached through the actions
        case = case_in_state(city, state)
        assert case.state == state
        if action in (Action.SIGN_FOR, Action.RETURN, Action.REPORT_RESULT) and lead_of(case) is None:
            # No assignment can exist in this state; craft one so the case-state guard is tested.
            Assignment.objects.create(case=case, department=city.city_management, role=AssignmentRole.LEAD)
        allowed = state in TRANSITIONS[action].sources
        before = _snapshot(case)
        if allowed:
            # when an allowed action runs / then the case is in the table's target state, one event more
            _attempt(city, case, action)
            after = _snapshot(case)
            assert after[0] == TRANSITIONS[action].target, (state, action)
            assert after[1] > before[1], (state, action)
        else:
            # when any other action is tried / then it is refused and nothing changed
            with pytest.raises(DomainError) as refused:
                _attempt(city, case, action)
            assert refused.value.get_codes() == "illegal_transition", (state, action)
            assert _snapshot(case) == before, (state, action)


def test_cancel_is_allowed_from_every_open_state_only():
    assert TRANSITIONS[Action.CANCEL].sources == OPEN_STATES
    assert State.CLOSED not in OPEN_STATES
