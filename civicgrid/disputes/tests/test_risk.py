"""Early warning: each signal appears when, and only when, its condition holds; weights and the
word list are configuration; high-risk disputes queue for review, and every review decision is
recorded on the timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import CaseEvent
from civicgrid.cases.workflow import Overlay
from civicgrid.core.api import DomainError
from civicgrid.disputes import actions, risk
from civicgrid.disputes.models import (
    EscalationWord,
    MediationSettings,
    RiskLevel,
    RiskReview,
    RiskSignal,
    RiskSignalWeight,
)
from civicgrid.org.permissions import PermissionDenied

from .conftest import BAOAN_GRID, marriage_fields, party

pytestmark = pytest.mark.django_db


def open_(w, **overrides):
    return actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, share=False,
                                **marriage_fields(w, **overrides))


def signals(dispute, now=None):
    dispute.refresh_from_db()
    return {s["signal"] for s in risk.assess(dispute, now or timezone.now()).signals}


def quiet(w, n, **overrides):
    """A dispute with no signal: its own parties and address, two people, calm words."""
    overrides.setdefault("place", f"宝民二路{n}号")
    overrides.setdefault("parties", [party("applicant", f"甲{n}", phone=f"1370000{n:04d}"),
                                     party("respondent", f"乙{n}", phone=f"1350000{n:04d}")])
    overrides.setdefault("brief", "双方因琐事发生口角。")
    return open_(w, **overrides)


def test_a_quiet_dispute_has_no_signal(world):
    assert signals(quiet(world, 1)) == set()
    assert quiet(world, 2).risk_level == RiskLevel.LOW


def test_repeat_parties_by_id_number_or_phone_within_90_days(world):
    w = world
    first = quiet(w, 1, parties=[party("applicant", "李红", id_number="11010519491231002X")])
    # the same ID number (written in lower case) at another address
    second = quiet(w, 2, parties=[party("applicant", "李 红", id_number="11010519491231002x")])
    assert RiskSignal.REPEAT_PARTIES in signals(second)
    detail = next(s for s in risk.assess(second, timezone.now()).signals if s["signal"] == "repeat_parties")
    assert detail["detail"]["cases"] == [first.case.number]
    # the same phone also counts
    third = quiet(w, 3, parties=[party("respondent", "某人", phone="+86 139 1234 9999")])
    fourth = quiet(w, 4, parties=[party("applicant", "某某", phone="13912349999")])
    assert RiskSignal.REPEAT_PARTIES in signals(fourth)
    assert third.pk != fourth.pk
    # not after 90 days, and not for other parties
    assert RiskSignal.REPEAT_PARTIES not in signals(second, timezone.now() + timedelta(days=91))
    assert RiskSignal.REPEAT_PARTIES not in signals(quiet(w, 5))


def test_repeat_address_within_90_days(world):
    w = world
    quiet(w, 1, place="宝民一路12号")
    again = quiet(w, 2, place="宝民一路 12号")
    assert RiskSignal.REPEAT_ADDRESS in signals(again)
    assert RiskSignal.REPEAT_ADDRESS not in signals(again, timezone.now() + timedelta(days=91))
    assert RiskSignal.REPEAT_ADDRESS not in signals(quiet(w, 3, place="宝民三路1号"))


def test_many_parties_from_the_configured_threshold(world):
    w = world
    assert RiskSignal.MANY_PARTIES in signals(quiet(w, 1, people_involved=5))
    assert RiskSignal.MANY_PARTIES not in signals(quiet(w, 2, people_involved=4))
    MediationSettings.objects.create(group_threshold=10)
    assert RiskSignal.MANY_PARTIES not in signals(quiet(w, 3, people_involved=5))


def test_a_failed_mediation(world):
    w = world
    dispute = quiet(w, 1)
    actions.record_session(dispute, w.mediator, held_at=timezone.now(), place="调解室", mediators="王调解",
                           participants="双方", minutes="双方各执己见。", result="failed")
    assert RiskSignal.MEDIATION_FAILED in signals(dispute)
    other = quiet(w, 2)
    assert RiskSignal.MEDIATION_FAILED not in signals(other)
    actions.record_failure(other, w.mediator, route="litigation", guidance="告知可向人民法院起诉")
    assert RiskSignal.MEDIATION_FAILED in signals(other)


def test_a_passed_resolution_deadline(world):
    dispute = quiet(world, 1)
    assert RiskSignal.DEADLINE_PASSED not in signals(dispute, dispute.resolution_deadline - timedelta(minutes=1))
    assert RiskSignal.DEADLINE_PASSED in signals(dispute, dispute.resolution_deadline + timedelta(minutes=1))


def test_the_sweep_reassesses_a_dispute_past_its_deadline(world):
    dispute = quiet(world, 1)
    later = dispute.resolution_deadline + timedelta(hours=1)
    assert actions.sweep(later)["reassessed"] == 1
    dispute.refresh_from_db()
    assert [s["signal"] for s in dispute.risk_signals] == [RiskSignal.DEADLINE_PASSED]
    assert actions.sweep(later)["reassessed"] == 0


def test_escalation_words_in_the_record(world):
    w = world
    dispute = quiet(w, 1, brief="男方扬言要报复")
    found = next(s for s in risk.assess(dispute, timezone.now()).signals if s["signal"] == "escalation_words")
    assert found["detail"]["words"] == ["扬言", "报复"]
    # words in session minutes count as well
    calm = quiet(w, 2)
    actions.record_session(calm, w.mediator, held_at=timezone.now(), place="调解室", mediators="王调解",
                           participants="双方", minutes="一方称要组织人员聚集。")
    assert RiskSignal.ESCALATION_WORDS in signals(calm)
    # the list is configuration
    EscalationWord.objects.filter(word="聚集").update(is_active=False)
    assert RiskSignal.ESCALATION_WORDS not in signals(calm)


def test_a_type_with_a_history_of_escalation(world):
    w = world
    for n in range(3):
        d = quiet(w, n + 1)
        case_actions.escalate_case(d.case, "当事人情绪激动", w.xinan_dispatcher)
    new = quiet(w, 9)
    found = next(s for s in risk.assess(new, timezone.now()).signals if s["signal"] == "type_history")
    assert found["detail"]["escalated"] == 3
    # another type has no such history
    assert RiskSignal.TYPE_HISTORY not in signals(quiet(w, 10, dispute_type=w.neighbour))
    MediationSettings.objects.create(type_history_min=4)
    assert RiskSignal.TYPE_HISTORY not in signals(new)


def test_weights_decide_the_level_and_can_switch_a_signal_off(world):
    w = world
    # escalation words (4) + many parties (3) = 7 ≥ 6: high
    dispute = quiet(w, 1, brief="扬言上访", people_involved=8)
    assert (dispute.risk_level, dispute.risk_score) == (RiskLevel.HIGH, 7)
    RiskSignalWeight.objects.filter(signal="escalation_words").update(weight=1)
    assert risk.assess(dispute, timezone.now()).level == RiskLevel.MEDIUM
    RiskSignalWeight.objects.filter(signal="many_parties").update(is_active=False)
    result = risk.assess(dispute, timezone.now())
    assert (result.level, [s["signal"] for s in result.signals]) == (RiskLevel.LOW, ["escalation_words"])


def test_a_high_risk_dispute_queues_for_review_once(world):
    w = world
    dispute = quiet(w, 1, brief="扬言上访", people_involved=8)
    review = RiskReview.objects.get(dispute=dispute)
    assert review.decision == "" and review.level == RiskLevel.HIGH
    warning = CaseEvent.objects.get(case=dispute.case, action=Overlay.RISK_WARNING)
    assert warning.data["signals"] == ["escalation_words", "many_parties"]
    # reassessing with the same signals queues nothing more
    actions.reassess(dispute)
    assert RiskReview.objects.filter(dispute=dispute).count() == 1
    assert quiet(w, 2).reviews.count() == 0


def test_every_review_decision_is_recorded_with_its_reason(world):
    w = world
    confirm = RiskReview.objects.get(dispute=quiet(w, 1, brief="扬言上访", people_involved=8))
    downgrade = RiskReview.objects.get(dispute=quiet(w, 2, brief="扬言上访", people_involved=8))
    escalate = RiskReview.objects.get(dispute=quiet(w, 3, brief="扬言上访", people_involved=8))
    actions.decide_review(confirm, w.baoan_leader, decision="confirm", reason="双方情绪激烈，需重点关注")
    actions.decide_review(downgrade, w.xinan_dispatcher, decision="downgrade", level="medium",
                          reason="当事人已冷静，扬言系气话")
    actions.decide_review(escalate, w.xinan_dispatcher, decision="escalate", reason="涉及多人，需区中心统筹")
    for review, level in ((confirm, "high"), (downgrade, "medium"), (escalate, "high")):
        review.refresh_from_db()
        event = CaseEvent.objects.get(case=review.dispute.case, action=Overlay.RISK_REVIEW)
        assert (event.data["decision"], event.data["level"], event.note, event.actor_id) == (
            review.decision, level, review.reason, review.decided_by_id)
        assert review.dispute.reviewed_level == level
    # escalating hands the case to the next one-stop centre up (the spine's escalation)
    case = escalate.dispute.case
    case.refresh_from_db()
    assert case.escalation_level == 1 and case.owner_centre == w.xinan_centre
    assert CaseEvent.objects.filter(case=case, action=Overlay.ESCALATE).exists()
    # a decided review cannot be decided again; a reason is required; mediators do not review
    with pytest.raises(DomainError) as exc:
        actions.decide_review(confirm, w.baoan_leader, decision="downgrade", level="low", reason="再议")
    assert exc.value.get_codes() == "already_decided"
    pending = RiskReview.objects.get(dispute=quiet(w, 4, brief="扬言上访", people_involved=8))
    with pytest.raises(Exception) as exc:
        actions.decide_review(pending, w.baoan_leader, decision="confirm", reason=" ")
    assert "reason" in str(exc.value)
    with pytest.raises(PermissionDenied):
        actions.decide_review(pending, w.mediator, decision="confirm", reason="确认")


def test_a_downgraded_dispute_returns_to_the_queue_only_with_a_new_signal(world):
    w = world
    dispute = quiet(w, 1, brief="扬言上访", people_involved=8)
    actions.decide_review(dispute.reviews.get(), w.baoan_leader, decision="downgrade", level="medium", reason="已稳控")
    actions.reassess(dispute)
    assert dispute.reviews.filter(decision="").count() == 0
    actions.record_failure(dispute, w.mediator, route="litigation", guidance="告知诉讼途径")
    assert dispute.reviews.filter(decision="").count() == 1


def test_the_review_queue_api_is_scoped_and_records_decisions(world):
    from rest_framework.test import APIClient

    w = world
    dispute = quiet(w, 1, brief="扬言上访", people_involved=8)
    leader = APIClient()
    leader.force_authenticate(w.baoan_leader)
    queue = leader.get("/api/v1/disputes/reviews/").json()
    rows = queue["results"] if isinstance(queue, dict) else queue
    assert [r["case_number"] for r in rows] == [dispute.case.number]
    outsider = APIClient()
    outsider.force_authenticate(w.st_dispatcher)
    review = dispute.reviews.get()
    assert outsider.post(f"/api/v1/disputes/reviews/{review.pk}/decide",
                         {"decision": "confirm", "reason": "x"}, format="json").status_code == 404
    answer = leader.post(f"/api/v1/disputes/reviews/{review.pk}/decide",
                         {"decision": "downgrade", "level": "low", "reason": "误报"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["decided_level"] == "low"
    rows = leader.get("/api/v1/disputes/reviews/").json()
    assert (rows["results"] if isinstance(rows, dict) else rows) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_record_one_decision(world):
    from civicgrid.core.testing import race

    w = world
    review = RiskReview.objects.get(dispute=quiet(w, 1, brief="扬言上访", people_involved=8))
    reviewers = [w.baoan_leader, w.xinan_dispatcher]
    # when both decide the same review at the same instant
    results, errors = race(2, lambda i: actions.decide_review(
        RiskReview.objects.get(pk=review.pk), reviewers[i], decision="confirm", reason=f"研判{i}"))
    # then one decision is recorded, once on the timeline; the other is told it is already decided
    assert len(results) == 1 and len(errors) == 1
    assert errors[next(iter(errors))].get_codes() == "already_decided"
    assert CaseEvent.objects.filter(case=review.dispute.case, action=Overlay.RISK_REVIEW).count() == 1
