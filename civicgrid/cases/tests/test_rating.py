"""回访评价: a token at closure, one rating without login, and reopening only after an unsatisfied
rating within the window."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from civicgrid.cases import actions
from civicgrid.cases.models import CaseEvent, CaseRating, Notification
from civicgrid.cases.workflow import State
from civicgrid.core.api import DomainError

from .builders import case_in_state


def test_closing_issues_an_unguessable_token_stored_only_as_a_hash(city, clock):
    case = case_in_state(city, State.CLOSED)
    token = case.rating_token
    assert len(token) >= 40
    rating = CaseRating.objects.get(case=case)
    assert rating.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert not CaseRating.objects.filter(token_hash=token).exists()


def test_a_reporter_rates_once_and_the_centre_is_told(city, clock, django_capture_on_commit_callbacks):
    case = case_in_state(city, State.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        rating = actions.rate_case(case.rating_token, "basically_satisfied", "处理较快")
    assert (rating.rating, rating.comment) == ("basically_satisfied", "处理较快")
    assert CaseEvent.objects.filter(case=case, action="rate", actor=None).count() == 1
    assert Notification.objects.filter(recipient=city.dispatcher, kind="rated").count() == 1
    with pytest.raises(DomainError) as twice:
        actions.rate_case(case.rating_token, "unsatisfied")
    assert twice.value.get_codes() == "already_rated"
    assert CaseRating.objects.get().rating == "basically_satisfied"


def test_a_wrong_token_is_not_found_and_a_wrong_rating_is_a_field_error(city, clock):
    case = case_in_state(city, State.CLOSED)
    with pytest.raises(Http404):
        actions.rate_case(case.rating_token[:-1] + "x", "satisfied")
    with pytest.raises(Http404):
        actions.rate_case("", "satisfied")
    with pytest.raises(ValidationError) as bad:
        actions.rate_case(case.rating_token, "great")
    assert bad.value.error_dict["rating"][0].code == "invalid_choice"


@pytest.mark.parametrize("rating", [None, "satisfied", "basically_satisfied"])
def test_reopening_is_refused_without_an_unsatisfied_rating(city, clock, rating):
    case = case_in_state(city, State.CLOSED)
    if rating:
        actions.rate_case(case.rating_token, rating)
    with pytest.raises(DomainError) as refused:
        actions.reopen_case(case, "回访", city.dispatcher)
    assert refused.value.get_codes() == "reopen_not_allowed"


def test_reopening_after_an_unsatisfied_rating_only_within_the_window(city, clock, settings):
    case = case_in_state(city, State.CLOSED)
    actions.rate_case(case.rating_token, "unsatisfied", "没修好")
    # 8 days later (window: 7 days) it is too late
    clock.set(clock.now + timedelta(days=8))
    with pytest.raises(DomainError) as late:
        actions.reopen_case(case, "回访不满意", city.dispatcher)
    assert late.value.get_codes() == "reopen_window_passed"
    # with a longer window configured it is allowed
    settings.CIVICGRID_REOPEN_WINDOW_DAYS = 10
    case = actions.reopen_case(case, "回访不满意", city.dispatcher)
    assert case.state == State.IN_PROGRESS


def test_a_reclosed_case_gets_a_new_token_and_needs_a_new_rating(city, clock):
    case = case_in_state(city, State.CLOSED)
    first = case.rating_token
    actions.rate_case(first, "unsatisfied")
    case = actions.reopen_case(case, "回访不满意", city.dispatcher)
    from .builders import lead_of

    actions.report_result(lead_of(case), "重新处置", city.cm_handler)
    case.refresh_from_db()
    case = actions.verify_case(case, True, city.dispatcher, "已核实")
    assert case.rating_token != first
    # the old unsatisfied rating does not allow reopening the new closure
    with pytest.raises(DomainError) as refused:
        actions.reopen_case(case, "再次重办", city.dispatcher)
    assert refused.value.get_codes() == "reopen_not_allowed"
