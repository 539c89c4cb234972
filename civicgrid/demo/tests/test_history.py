"""The demo history on a small scale: the demo and 30 days of history are loaded once for this
module inside a transaction that is rolled back afterwards, so other tests never see them."""

import io
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from shapely.geometry import Point, shape

from civicgrid.cases.actions import report_case
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CaseRating,
    Channel,
    Supervision,
)
from civicgrid.cases.workflow import TRANSITIONS, Action, AssignmentRole, AssignmentState, State
from civicgrid.core import calendar
from civicgrid.demo.history import HISTORY_PREFIX, load_history
from civicgrid.regions.models import Region

pytestmark = pytest.mark.slow

DAYS, PER_DAY, SEED = 30, 12, 7


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("load_demo", stdout=io.StringIO())
            summary = load_history(days=DAYS, cases_per_day=PER_DAY, seed=SEED)
            yield summary
            transaction.set_rollback(True)


def history_cases():
    return Case.objects.filter(external_id__startswith=HISTORY_PREFIX)


def test_the_history_spans_the_days_asked_with_many_cases_of_many_kinds(history, db):
    # then there are about PER_DAY cases a day over DAYS days, ending today
    cases = history_cases()
    assert DAYS * PER_DAY * 0.6 <= cases.count() <= DAYS * PER_DAY * 1.4
    assert history.counts["cases"] == cases.count()
    today = timezone.localdate()
    first = min(timezone.localdate(c) for c in cases.values_list("reported_at", flat=True))
    assert first >= today - timedelta(days=DAYS - 1)
    assert not cases.filter(reported_at__gt=timezone.now()).exists()
    # across channels, categories, districts and outcomes
    assert cases.values("channel").distinct().count() >= 5
    assert cases.values("category").distinct().count() >= 40
    assert cases.values("region_code").distinct().count() >= 100
    assert {c[:6] for c in cases.values_list("region_code", flat=True)} == {
        "350203", "350205", "350206", "350211", "350212", "350213"}
    states = Counter(cases.values_list("state", flat=True))
    assert states[State.CLOSED] > 0.6 * cases.count()
    assert states[State.REJECTED] + states[State.CANCELLED] + states[State.MERGED] > 0
    assert sum(states[s] for s in (State.REPORTED, State.FILED, State.DISPATCHED, State.IN_PROGRESS,
                                    State.RESOLVED)) > 0  # recent ones still open
    # with titles and descriptions that are real text
    assert not cases.filter(title="").exists()
    assert not cases.filter(description__contains="{").exists()


def test_every_timeline_follows_the_lifecycle_and_ends_in_the_case_state(history, db):
    # given every history case's timeline in order
    timelines = defaultdict(list)
    for event in CaseEvent.objects.filter(case__in=history_cases()).order_by("case", "at", "pk"):
        timelines[event.case_id].append(event)
    cases = {c.pk: c for c in history_cases()}
    assert set(timelines) == set(cases)
    state_actions = set(TRANSITIONS)
    for pk, events in timelines.items():
        case = cases[pk]
        # then it starts with the report, each step starts where the last ended, and state changes
        # are the lifecycle's transitions
        assert events[0].action == Action.REPORT and events[0].from_state == ""
        assert events[0].at == case.reported_at
        for before, event in zip(events, events[1:], strict=False):
            assert event.from_state == before.to_state, (case.number, before.action, event.action)
            assert event.at >= before.at
            if event.from_state != event.to_state:
                transition = TRANSITIONS[event.action]
                assert event.from_state in transition.sources and event.to_state == transition.target, (
                    case.number, event.action, event.from_state, event.to_state)
            else:
                assert event.action not in state_actions or event.action in (Action.SIGN_FOR, Action.REPORT_RESULT,
                                                                            Action.RETURN)
        # and it ends in the state the case is in, never after now
        assert events[-1].to_state == case.state
        assert events[-1].at <= timezone.now()


def test_timestamps_of_the_case_match_its_timeline(history, db):
    for case in history_cases().prefetch_related("events"):
        by_action = defaultdict(list)
        for event in case.events.all():
            by_action[event.action].append(event)
        if case.filed_at:
            assert case.filed_at == by_action[Action.FILE][0].at
        if case.state == State.CLOSED:
            assert case.closed_at == by_action[Action.VERIFY][-1].at
            assert case.resolved_at is not None and case.resolved_at <= case.closed_at
        if case.state in (State.REJECTED, State.CANCELLED, State.MERGED):
            assert case.closed_at is not None
        if case.state == State.MERGED:
            assert case.parent is not None and case.parent.reported_at <= case.reported_at
        else:
            assert case.parent_id is None


def test_staff_act_in_office_hours(history, db):
    # given the steps people take (filing, dispatching, signing for, verifying)
    steps = CaseEvent.objects.filter(
        case__in=history_cases(), action__in=[Action.DISPATCH, Action.SIGN_FOR, Action.VERIFY],
    ).values_list("at", flat=True)
    # then nearly all fall in office hours on working days (a step lands a few seconds past a tick)
    inside = sum(calendar.is_office_hours(at - timedelta(minutes=1)) or calendar.is_office_hours(at) for at in steps)
    assert inside >= 0.97 * len(steps)


def test_assignments_go_to_departments_serving_the_place_and_match_the_state(history, db):
    for case in history_cases().prefetch_related("assignments__department__region"):
        tasks = list(case.assignments.all())
        if case.state in (State.REPORTED, State.FILED, State.REJECTED, State.MERGED):
            assert not [t for t in tasks if t.state in (AssignmentState.PENDING, AssignmentState.SIGNED)]
        for task in tasks:
            assert case.region_code.startswith(task.department.region.prefix), (case.number, task.department)
        active_leads = [t for t in tasks if t.role == AssignmentRole.LEAD
                        and t.state in (AssignmentState.PENDING, AssignmentState.SIGNED, AssignmentState.REPORTED)]
        if case.state in (State.DISPATCHED, State.IN_PROGRESS, State.RESOLVED, State.CLOSED):
            assert len(active_leads) == 1
        if case.state == State.CLOSED:
            assert active_leads[0].state == AssignmentState.REPORTED and active_leads[0].result


def test_every_case_lies_inside_its_grid(history, db):
    grids = {code: shape(geometry) for code, geometry in Region.objects.filter(
        code__in=history_cases().values("region_code")).values_list("code", "geometry")}
    for code, lon, lat in history_cases().values_list("region_code", "lon", "lat"):
        assert len(code) == 15
        assert grids[code].buffer(1e-6).contains(Point(lon, lat)), code


def test_numbers_are_unique_in_the_actions_format_and_live_intake_continues_after_them(history, db):
    numbers = list(history_cases().values_list("number", "region_code", "reported_at"))
    assert len({n for n, _c, _t in numbers}) == len(numbers)
    last = defaultdict(int)
    for number, code, reported_at in numbers:
        district, day, seq = number.split("-")
        assert district == code[:6] and day == f"{timezone.localdate(reported_at):%Y%m%d}" and len(seq) == 5
        last[(district, timezone.localdate(reported_at))] = max(last[(district, timezone.localdate(reported_at))],
                                                                int(seq))
    counters = {(c.district_code, c.day): c.last for c in CaseNumberCounter.objects.all()}
    for key, n in last.items():
        assert counters[key] >= n


def test_ratings_and_supervision_are_consistent(history, db):
    closed = history_cases().filter(state=State.CLOSED)
    # every closure issued a rating token; citizens rated many, mostly satisfied
    assert CaseRating.objects.filter(case__in=closed).values("case").distinct().count() == closed.count()
    rated = CaseRating.objects.filter(case__in=history_cases(), rated_at__isnull=False)
    ratings = Counter(rated.values_list("rating", flat=True))
    assert ratings["satisfied"] > ratings["basically_satisfied"] + ratings["unsatisfied"]
    assert not rated.filter(case__channel__in=[Channel.GRID_PATROL, Channel.SENSOR]).exists()
    # supervision notices belong to late tasks and are on the timeline
    for notice in Supervision.objects.filter(case__in=history_cases()).select_related("assignment"):
        assert notice.assignment.handle_deadline is not None and notice.issued_at >= notice.deadline
        assert CaseEvent.objects.filter(case=notice.case_id, action="supervise",
                                        data__supervision=notice.pk).exists()


def test_loading_again_replaces_the_history_and_keeps_live_cases(history, db):
    # given a live case reported today, numbered after the history's cases of today
    live = report_case(channel=Channel.WEB, title="路灯不亮", region_code="350211002001001")
    today = f"350211-{timezone.localdate():%Y%m%d}-"
    assert live.number > max([n for n in history_cases().values_list("number", flat=True) if n.startswith(today)],
                             default="")
    before = (history_cases().count(), sorted(history_cases().values_list("number", flat=True)))
    # when the same history is loaded again (same seed and end day)
    summary = load_history(days=DAYS, cases_per_day=PER_DAY, seed=SEED, end=history.last_day)
    # then it replaced the earlier one with the same cases, and the live case is still there
    assert summary.deleted == before[0]
    after = (history_cases().count(), sorted(history_cases().values_list("number", flat=True)))
    assert after[0] == before[0] and len(set(after[1]) ^ set(before[1])) <= 2
    assert Case.objects.filter(pk=live.pk).exists()
    assert not Assignment.objects.filter(case__external_id__startswith=HISTORY_PREFIX).exclude(
        case__in=history_cases()).exists()
    assert CaseEvent.objects.filter(case__in=history_cases()).count() == summary.counts["events"]


def test_make_demo_keeps_an_existing_history(history, db):
    # given the history is loaded; when make demo runs the command again with --if-missing
    before = history_cases().count()
    out = io.StringIO()
    call_command("load_demo_history", "--if-missing", stdout=out)
    # then nothing was regenerated
    assert history_cases().count() == before
    assert f"{before:,}" in out.getvalue()


def test_the_command_documents_its_options(capsys):
    # when asking for help
    with pytest.raises(SystemExit):
        call_command("load_demo_history", "--help")
    # then it names the options
    text = capsys.readouterr().out
    for option in ("--years", "--days", "--seed", "--per-day", "--end", "--if-missing"):
        assert option in text
