"""Both stories in the console pages (Django's test client): opening a dispute, the departments
signing for it and reporting their part on their own pages (/dept/), sessions, the agreement,
judicial confirmation, the follow-up visit, the review queue, the figures and the printable
documents."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.audit.models import AccessLogEntry
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import AssignmentState, State
from civicgrid.disputes import actions
from civicgrid.disputes.models import Agreement, ConfirmationState, Dispute, RiskReview

from .conftest import BAOAN_GRID, SHENTIAN_GRID, marriage_fields

pytestmark = pytest.mark.django_db


def as_(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def ok(response, status=302):
    assert response.status_code == status, response.content.decode()[:2000]
    return response


def departments_sign_and_report(w, case):
    for a in case.assignments.filter(state=AssignmentState.PENDING).order_by("pk"):
        ok(as_(w.handler_of[a.department_id]).post(f"/dept/tasks/{a.pk}/sign/"))
    for a in case.assignments.filter(state=AssignmentState.SIGNED).order_by("-role", "pk"):
        ok(as_(w.handler_of[a.department_id]).post(f"/dept/tasks/{a.pk}/result/", {"text": "已参与调解"}))


def session_post(number, client, **extra):
    data = {"session-held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "session-place": "调解室",
            "session-mediators": "调解员", "session-participants": "双方", "session-minutes": "达成一致",
            "session-result": "agreement", **extra}
    return ok(client.post(f"/console/disputes/{number}/act/session/", data))


def test_baoan_story_in_the_pages(world):
    w = world
    today = timezone.localdate()
    fulian = as_(w.wf_handler)
    # given the women's federation opens the dispute from its page
    response = ok(fulian.post("/console/disputes/new/", {
        "name": "张某与李某婚姻家庭纠纷", "dispute_type": w.marriage.pk, "occurred_on": today.isoformat(),
        "place": "宝民一路12号", "region_code": BAOAN_GRID, "people_involved": 2, "brief": "抚养费争执",
        "method": "people", "applicant_name": "李红", "applicant_phone": "13912341234",
        "respondent_name": "张强", "respondent_id_number": "440306198501011234",
    }))
    number = response["Location"].rstrip("/").split("/")[-1]
    case = Case.objects.get(number=number)
    assert case.state == State.DISPATCHED and case.assignments.count() == 4
    # the dispute page lists the four agencies and masks the parties
    page = ok(as_(w.mediator).get(f"/console/disputes/{number}/"), 200).content.decode()
    assert "宝安区妇女联合会" in page and "深圳市宝安区人民法院" in page and "139****1234" in page
    assert "13912341234" not in page
    # when the mediator records a session and the agreement from the page
    mediator = as_(w.mediator)
    session_post(number, mediator)
    dispute = Dispute.objects.get(case=case)
    ok(mediator.post(f"/console/disputes/{number}/act/agreement/", {
        "agreement-committee": "新安人民调解委员会", "agreement-facts": "抚养费争执", "agreement-terms": "每月支付2000元",
        "agreement-signed_parties": [str(pk) for pk in dispute.parties.values_list("pk", flat=True)],
        "agreement-mediator_name": "王调解", "agreement-sealed": "on", "agreement-effective_on": today.isoformat(),
    }))
    # and the agencies sign for and report on their own pages, and the centre closes it
    departments_sign_and_report(w, case)
    from civicgrid.cases import actions as case_actions

    case_actions.verify_case(Case.objects.get(pk=case.pk), True, w.baoan_dispatcher)
    # and the joint application and the court's ruling are recorded from the page
    ok(mediator.post(f"/console/disputes/{number}/act/apply/",
                     {"apply-applied_on": (today + timedelta(days=5)).isoformat(), "apply-court": "宝安区人民法院"}))
    ok(mediator.post(f"/console/disputes/{number}/act/confirmation/", {
        "confirmation-confirmed": "yes", "confirmation-decided_on": (today + timedelta(days=9)).isoformat()}))
    visit = dispute.visits.get()
    ok(mediator.post(f"/console/disputes/{number}/act/visit/", {
        "visit-visit": visit.pk, "visit-performance": "performed", "visit-note": "已履行"}))
    # then the page shows the confirmation and the visit, and the printable agreement carries the
    # statutory wording and the parties' names (an unmask permission, logged)
    page = ok(mediator.get(f"/console/disputes/{number}/"), 200).content.decode()
    assert "已确认" in page or "confirmed" in page
    assert dispute.agreement.__class__.objects.get(dispute=dispute).confirmation_state == ConfirmationState.CONFIRMED
    printed = ok(mediator.get(f"/console/disputes/{number}/agreement/"), 200).content.decode()
    assert "人民调解协议书" in printed and "三十日内共同向人民法院申请司法确认" in printed and "李红" in printed
    assert AccessLogEntry.objects.filter(username="mediator", object_type="disputes.party").count() == 2
    # a department handler (no unmask permission) prints masked names
    printed = ok(as_(w.police_handler).get(f"/console/disputes/{number}/record/"), 200).content.decode()
    assert "人民调解记录" in printed and "李*" in printed and "李红" not in printed


def test_shentian_story_in_the_pages_with_review_and_figures(world):
    w = world
    today = timezone.localdate()
    # given a grid worker opens a group water-bill dispute in which someone threatens a gathering
    response = ok(as_(w.grid_worker).post("/console/disputes/new/", {
        "name": "深田社区二次供水水费纠纷", "dispute_type": w.property_type.pk, "occurred_on": today.isoformat(),
        "place": "深田路46号", "region_code": SHENTIAN_GRID, "people_involved": 12,
        "brief": "居民扬言聚集讨说法", "method": "people", "applicant_name": "陈大伯",
    }))
    number = response["Location"].rstrip("/").split("/")[-1]
    case = Case.objects.get(number=number)
    assert {a.department_id for a in case.assignments.all()} == {
        w.shentian_committee.pk, w.lq_judicial.pk, w.water.pk, w.property.pk}
    # then it is high risk, every contributing signal is shown, and it waits in the review queue
    page = ok(as_(w.st_dispatcher).get(f"/console/disputes/{number}/"), 200).content.decode()
    assert "risk-high" in page and "扬言" in page and "聚集" in page
    queue = ok(as_(w.st_dispatcher).get("/console/disputes/reviews/"), 200).content.decode()
    assert number in queue
    # when the dispatcher downgrades it with a reason from the queue
    review = RiskReview.objects.get(dispute__case=case)
    ok(as_(w.st_dispatcher).post("/console/disputes/reviews/", {
        "review": review.pk, "review-decision": "downgrade", "review-level": "medium",
        "review-reason": "居民代表已同意通过调解解决"}))
    review.refresh_from_db()
    assert (review.decision, review.decided_level, review.decided_by) == ("downgrade", "medium", w.st_dispatcher)
    # and the community mediator mediates online, then agrees on site
    mediator = as_(w.st_mediator)
    session_post(number, mediator, **{"session-online": "on", "session-place": "", "session-result": "continuing"})
    session_post(number, mediator)
    dispute = Dispute.objects.get(case=case)
    ok(mediator.post(f"/console/disputes/{number}/act/agreement/", {
        "agreement-committee": "深田社区人民调解委员会", "agreement-facts": "水费争议", "agreement-terms": "退还多收水费",
        "agreement-signed_parties": [str(pk) for pk in dispute.parties.values_list("pk", flat=True)],
        "agreement-mediator_name": "社区调解员", "agreement-sealed": "on", "agreement-effective_on": today.isoformat(),
    }))
    departments_sign_and_report(w, case)
    from civicgrid.cases import actions as case_actions

    case_actions.verify_case(Case.objects.get(pk=case.pk), True, w.st_dispatcher)
    # when the window passes, the page shows it closed
    actions.sweep(timezone.now() + timedelta(days=31))
    page = ok(mediator.get(f"/console/disputes/{number}/"), 200).content.decode()
    assert dispute.agreement.__class__.objects.get(dispute=dispute).confirmation_state == ConfirmationState.EXPIRED
    # and the visit finds the refund unpaid: the dispatcher reopens the case from the page
    visit = dispute.visits.get()
    ok(as_(w.st_dispatcher).post(f"/console/disputes/{number}/act/visit/", {
        "visit-visit": visit.pk, "visit-performance": "not_performed", "visit-reopen": "on",
        "visit-reason": "物业未退费"}))
    assert Case.objects.get(pk=case.pk).state == State.IN_PROGRESS
    # and the figures page lists the dispute with its definitions
    figures = ok(as_(w.st_dispatcher).get(
        f"/console/disputes/figures/?start={today}&end={today}&group_by=type"), 200).content.decode()
    assert "化解率" in figures and "调解成功率" in figures and "物业" in figures
    # and another district's staff get 404 for this dispute
    assert as_(w.mediator).get(f"/console/disputes/{number}/").status_code == 404


def test_a_refused_step_is_shown_on_the_page(world):
    w = world
    dispute = actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(w))
    mediator = as_(w.mediator)
    first = dispute.parties.order_by("pk").first()
    response = mediator.post(f"/console/disputes/{dispute.case.number}/act/agreement/", {
        "agreement-committee": "调委会", "agreement-facts": "事实", "agreement-terms": "条款",
        "agreement-signed_parties": [str(first.pk)], "agreement-mediator_name": "王调解", "agreement-sealed": "on",
        "agreement-effective_on": timezone.localdate().isoformat()}, follow=True)
    assert "have not signed" in response.content.decode() or "未签名" in response.content.decode()
    assert not Agreement.objects.filter(dispute=dispute).exists()
