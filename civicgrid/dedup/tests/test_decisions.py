"""The dispatcher's decisions: merge a candidate, keep apart, undo a merge — with the rules on
who may, jurisdiction and double decisions."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import override_settings

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import CaseEvent
from civicgrid.cases.workflow import State
from civicgrid.core.api import DomainError
from civicgrid.dedup import actions
from civicgrid.dedup.models import Decision, DuplicateCandidate
from civicgrid.org.permissions import PermissionDenied

from .conftest import east, later

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(file_report, cats):
    """A new report with two pending candidates (automatic merging out of reach)."""
    with override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=1.01):
        a = file_report("井盖缺失", cats.manhole, description="人行道井盖不见了")
        b = file_report("井盖缺失", cats.manhole, description="井盖丢了", lon=east(40)[0])
        new = file_report("井盖没了", cats.manhole, description="下水道盖子没了", lon=east(20)[0], at=later(2))
    rows = {r.candidate_id: r for r in DuplicateCandidate.objects.filter(case=new)}
    assert set(rows) == {a.pk, b.pk}
    return new, rows[a.pk], rows[b.pk]


def test_merge_a_candidate_and_the_others_are_kept_apart(pending, city):
    new, first, second = pending
    # when the dispatcher merges the report into the first candidate
    merged = actions.merge_candidate(first, city.dispatcher)
    # then the report is merged there, the decision recorded, the other candidate kept apart
    assert (merged.state, merged.parent_id) == (State.MERGED, first.candidate_id)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.decision, first.decided_by) == (Decision.MERGED, city.dispatcher)
    assert first.decided_at is not None
    assert second.decision == Decision.KEPT_APART
    # and a second decision on the same candidate is refused
    with pytest.raises(DomainError) as refused:
        actions.merge_candidate(first, city.dispatcher)
    assert refused.value.get_codes() == "already_decided"


def test_keep_apart(pending, city):
    new, first, _second = pending
    actions.keep_apart(first, city.dispatcher)
    first.refresh_from_db()
    new.refresh_from_db()
    assert (first.decision, first.decided_by, new.state) == (Decision.KEPT_APART, city.dispatcher, State.REPORTED)
    with pytest.raises(DomainError):
        actions.keep_apart(first, city.dispatcher)


def test_decisions_need_the_merge_permission_and_the_jurisdiction(pending, city):
    _new, first, _second = pending
    # another district's dispatcher cannot see the cases (404); a leader may see them but not merge (403)
    with pytest.raises(Http404):
        actions.keep_apart(first, city.siming_dispatcher)
    with pytest.raises(Http404):
        actions.merge_candidate(first, city.siming_dispatcher)
    with pytest.raises(PermissionDenied):
        actions.keep_apart(first, city.leader)
    with pytest.raises(DomainError) as refused:
        actions.merge_candidate(first, None)
    assert refused.value.get_codes() == "actor_required"
    first.refresh_from_db()
    assert first.decision == Decision.PENDING


def test_undo_a_merge(file_report, cats, city):
    # given a report merged automatically into an open case
    first = file_report("下穿通道积水", cats.flood, description="杏林湾路下穿通道积水严重，车辆无法通行")
    second = file_report("下穿通道积水", cats.flood, description="下穿通道积水严重，车辆熄火", lon=east(20)[0],
                         at=later(1))
    assert second.parent_id == first.pk
    # when the dispatcher undoes the merge
    undone = actions.undo_merge(second, city.dispatcher, "不是同一个通道")
    # then the report is reported again, on its own, with a filing clock
    assert (undone.state, undone.parent_id, undone.closed_at) == (State.REPORTED, None, None)
    assert undone.stage_started_at is not None
    # with an event on both cases
    unmerge = CaseEvent.objects.get(case=second, action="unmerge")
    assert (unmerge.from_state, unmerge.to_state, unmerge.actor) == (State.MERGED, State.REPORTED, city.dispatcher)
    assert unmerge.note == "不是同一个通道"
    out = CaseEvent.objects.get(case=first, action="unmerged_out")
    assert out.data["merged_case_number"] == second.number
    # and the pair is recorded as kept apart
    assert DuplicateCandidate.objects.get(case=second, candidate=first).decision == Decision.KEPT_APART


def test_undo_needs_a_reason_a_merged_case_and_the_permission(file_report, cats, city):
    first = file_report("下穿通道积水", cats.flood, description="杏林湾路下穿通道积水严重")
    second = file_report("下穿通道积水", cats.flood, description="下穿通道积水严重", lon=east(20)[0], at=later(1))
    assert second.state == State.MERGED
    with pytest.raises(ValidationError):
        actions.undo_merge(second, city.dispatcher, " ")
    with pytest.raises(Http404):
        actions.undo_merge(second, city.siming_dispatcher, "不是同一件")
    with pytest.raises(PermissionDenied):
        case_actions.unmerge_case(second, city.leader, "不是同一件")
    with pytest.raises(DomainError) as refused:
        case_actions.unmerge_case(first, city.dispatcher, "不是同一件")
    assert refused.value.get_codes() == "illegal_transition"
    second.refresh_from_db()
    assert second.state == State.MERGED
