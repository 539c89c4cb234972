"""The issue's two stories, end to end through the API: the Bao'an marriage dispute shared at once
with the police station, the court, the judicial office and the women's federation; and the
深田社区 water-bill quarrel settled by a team of mediators with the water and property companies —
each through joint dispatch, sign-for, sessions, a written agreement, the judicial-confirmation
window and a follow-up visit."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.workflow import AssignmentRole, AssignmentState, Overlay, State
from civicgrid.disputes import actions
from civicgrid.disputes.models import Agreement, ConfirmationState, Dispute

from .conftest import BAOAN_GRID, SHENTIAN_GRID

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def post(user, url, body=None, status=200):
    response = client_for(user).post(url, body or {}, format="json")
    assert response.status_code == status, response.content.decode()
    return response.json()


def sign_all(w, number):
    case = Case.objects.get(number=number)
    for a in case.assignments.order_by("pk"):
        post(w.handler_of[a.department_id], f"/api/v1/cases/{number}/assignments/{a.pk}/sign-for")


def report_all(w, number, text="已参与联合调解，协议已签订。"):
    case = Case.objects.get(number=number)
    for a in case.assignments.filter(state=AssignmentState.SIGNED).order_by("-role", "pk"):
        post(w.handler_of[a.department_id], f"/api/v1/cases/{number}/assignments/{a.pk}/report-result",
             {"text": f"{a.department.name}: {text}"})


def test_baoan_marriage_dispute_story(world):
    w = world
    today = timezone.localdate()
    # given the women's federation receives a marriage dispute and reports it to the joint system
    body = post(w.wf_handler, "/api/v1/disputes/", {
        "name": "张某与李某婚姻家庭纠纷", "dispute_type": "marriage_family", "occurred_on": str(today),
        "place": "宝安区新安街道宝民社区宝民一路12号", "region_code": BAOAN_GRID, "people_involved": 2,
        "brief": "夫妻因抚养费和财产分割发生争吵，女方到妇联求助。",
        "parties": [
            {"role": "applicant", "name": "李红", "id_number": "11010519491231002X", "phone": "13912341234"},
            {"role": "respondent", "name": "张强", "id_number": "440306198501011234", "phone": "13812345678"},
        ],
    }, status=201)
    number = body["case_number"]
    # then it is shared at once: the police station leads, the court, judicial office and women's
    # federation assist, every task awaiting sign-for
    assert body["case_state"] == State.DISPATCHED
    tasks = {a["department"]: a["role"] for a in body["assignments"]}
    assert tasks == {w.police.pk: AssignmentRole.LEAD, w.judicial.pk: AssignmentRole.ASSISTING,
                     w.court.pk: AssignmentRole.ASSISTING, w.womens_federation.pk: AssignmentRole.ASSISTING}
    # and personal data is masked in the answer
    assert body["parties"][0]["name"] == "李*" and body["parties"][0]["phone"] == "139****1234"
    assert "13912341234" not in str(body)

    # when every agency signs for it and the mediator holds a session that reaches agreement
    sign_all(w, number)
    post(w.mediator, f"/api/v1/disputes/{number}/sessions", {
        "held_at": timezone.now().isoformat(), "place": "新安街道矛盾纠纷调处化解中心",
        "mediators": "王调解（司法所）、陈警官（派出所）、刘法官（法院）、赵主任（妇联）",
        "participants": "李红、张强", "minutes": "双方就抚养费金额和房产分割达成一致意见。",
        "next_step": "起草调解协议", "result": "agreement",
    })
    parties = [p["id"] for p in client_for(w.mediator).get(f"/api/v1/disputes/{number}/").json()["parties"]]
    body = post(w.mediator, f"/api/v1/disputes/{number}/agreement", {
        "committee": "宝安区新安街道人民调解委员会", "facts": "双方因抚养费和财产分割发生纠纷。",
        "terms": "一、张强每月支付抚养费2000元；二、房产归李红所有，李红补偿张强20万元。",
        "performance": "2026年12月31日前履行完毕", "signed_parties": parties, "mediator_name": "王调解",
        "effective_on": str(today),
    })
    # then the agreement opens the 30-day window and a follow-up visit is scheduled
    agreement = body["agreement"]
    assert agreement["confirmation_deadline"] == str(today + timedelta(days=30))
    assert agreement["confirmation_state"] == ConfirmationState.NOT_APPLIED
    assert [v["due_on"] for v in body["visits"]] == [str(today + timedelta(days=15))]

    # when every agency reports its part and the centre verifies and closes the case
    report_all(w, number)
    assert Case.objects.get(number=number).state == State.RESOLVED
    post(w.baoan_dispatcher, f"/api/v1/cases/{number}/verify", {"passed": True, "note": "调解协议已签订"})

    # and the parties apply jointly within the window and the court confirms
    post(w.mediator, f"/api/v1/disputes/{number}/confirmation/apply",
         {"applied_on": str(today + timedelta(days=10)), "court": "深圳市宝安区人民法院"})
    body = post(w.mediator, f"/api/v1/disputes/{number}/confirmation/decide",
                {"confirmed": True, "decided_on": str(today + timedelta(days=20)), "note": "(2026)粤0306民特1号"})
    assert body["agreement"]["confirmation_state"] == ConfirmationState.CONFIRMED

    # and the follow-up visit finds the agreement performed
    visit = body["visits"][0]["id"]
    body = post(w.mediator, f"/api/v1/disputes/{number}/visits/{visit}/record",
                {"performance": "performed", "note": "抚养费按月支付"})
    assert body["visits"][0]["performance"] == "performed"

    # then the case is closed and its timeline tells the whole story in order
    case = Case.objects.get(number=number)
    assert case.state == State.CLOSED
    actions_in_order = list(CaseEvent.objects.filter(case=case).order_by("at", "pk").values_list("action", flat=True))
    expected = ["report", "dispute_profile", "joint_mediation", "file", "dispatch", "sign_for", "mediation_session",
                "mediation_agreement", "report_result", "verify", "judicial_confirmation", "judicial_confirmation",
                "follow_up"]
    it = iter(actions_in_order)
    assert all(step in it for step in expected), actions_in_order
    assert CaseEvent.objects.get(case=case, action=Overlay.DISPUTE_PROFILE).actor == w.wf_handler


def test_shentian_water_bill_story_with_window_passing_and_a_reopening_visit(world):
    w = world
    today = timezone.localdate()
    # given a grid worker reports a years-old water-bill quarrel between residents and the property company
    body = post(w.grid_worker, "/api/v1/disputes/", {
        "name": "深田社区二次供水水费纠纷", "dispute_type": "property", "occurred_on": str(today),
        "place": "思明区莲前街道深田社区深田路46号", "region_code": SHENTIAN_GRID, "people_involved": 4,
        "brief": "居民与物业公司因二次供水水费分摊争执多年。",
        "organisations_involved": "厦门水务集团、某物业服务有限公司",
        "parties": [
            {"role": "applicant", "name": "陈大伯", "phone": "13600001111"},
            {"role": "respondent", "name": "某物业服务有限公司", "is_organisation": True},
            {"role": "other", "name": "厦门水务集团有限公司", "is_organisation": True},
        ],
    }, status=201)
    number = body["case_number"]
    # then the place-specific matrix row applies: the residents' committee leads, with the judicial
    # office, the water company and the property centre assisting
    tasks = {a["department"]: a["role"] for a in body["assignments"]}
    assert tasks == {w.shentian_committee.pk: AssignmentRole.LEAD, w.lq_judicial.pk: AssignmentRole.ASSISTING,
                     w.water.pk: AssignmentRole.ASSISTING, w.property.pk: AssignmentRole.ASSISTING}
    assert Case.objects.get(number=number).channel == "grid_patrol"
    sign_all(w, number)

    # when the community mediators hold an online session and then an on-site one that agrees
    post(w.st_mediator, f"/api/v1/disputes/{number}/sessions", {
        "held_at": timezone.now().isoformat(), "online": True, "mediators": "社区调解员、网格员、律师",
        "participants": "居民代表、物业公司、水务集团", "minutes": "核对近三年水费账单。", "next_step": "现场核表",
    })
    post(w.st_mediator, f"/api/v1/disputes/{number}/sessions", {
        "held_at": timezone.now().isoformat(), "place": "深田社区调处化解站", "mediators": "社区调解员、司法所",
        "participants": "居民代表、物业公司、水务集团", "minutes": "水务集团更换总表，物业退还多收水费。",
        "result": "agreement",
    })
    parties = [p["id"] for p in client_for(w.st_mediator).get(f"/api/v1/disputes/{number}/").json()["parties"]]
    post(w.st_mediator, f"/api/v1/disputes/{number}/agreement", {
        "committee": "深田社区人民调解委员会", "facts": "二次供水水费分摊争议。",
        "terms": "物业公司于30日内退还多收水费；水务集团更换总表。", "signed_parties": parties,
        "mediator_name": "社区调解员", "effective_on": str(today),
    })
    report_all(w, number, "水费纠纷已调解")
    post(w.st_dispatcher, f"/api/v1/cases/{number}/verify", {"passed": True})

    # when 31 days pass without a joint application, the sweep closes the window
    dispute = Dispute.objects.get(case__number=number)
    later = timezone.now() + timedelta(days=31)
    assert actions.sweep(later)["windows_closed"] == 1
    assert actions.sweep(later)["windows_closed"] == 0  # idempotent
    assert Agreement.objects.get(dispute=dispute).confirmation_state == ConfirmationState.EXPIRED
    # and an application made now is refused
    response = client_for(w.st_mediator).post(f"/api/v1/disputes/{number}/confirmation/apply",
                                              {"applied_on": str(today + timedelta(days=31)), "court": "思明区人民法院"},
                                              format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "confirmation_state"

    # when the follow-up visit finds the refund not paid, the centre's dispatcher reopens the case
    visit = dispute.visits.get()
    body = post(w.st_dispatcher, f"/api/v1/disputes/{number}/visits/{visit.pk}/record",
                {"performance": "not_performed", "note": "物业未退还水费", "reopen": True, "reason": "协议未履行"})
    # then the case is back with its lead department, and the reopening names the visit
    case = Case.objects.get(number=number)
    assert case.state == State.IN_PROGRESS
    assert body["visits"][0]["reopened_case"] is True
    reopen = CaseEvent.objects.get(case=case, action="reopen")
    assert reopen.data["follow_up_visit"] == visit.pk


def test_applying_after_the_30_days_is_refused(world):
    w = world
    today = timezone.localdate()
    from .conftest import marriage_fields

    dispute = actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(w))
    actions.record_agreement(dispute, w.mediator, committee="新安人民调解委员会", facts="纠纷事实", terms="协议条款",
                             signed_parties=list(dispute.parties.values_list("pk", flat=True)),
                             mediator_name="王调解", effective_on=today)
    # when the parties apply on day 31
    response = client_for(w.mediator).post(
        f"/api/v1/disputes/{dispute.case.number}/confirmation/apply",
        {"applied_on": str(today + timedelta(days=31)), "court": "宝安区人民法院"}, format="json")
    # then it is refused as outside the window; day 30 is still inside
    assert response.json()["error"]["code"] == "confirmation_window_passed"
    post(w.mediator, f"/api/v1/disputes/{dispute.case.number}/confirmation/apply",
         {"applied_on": str(today + timedelta(days=30)), "court": "宝安区人民法院"})


def test_agreement_needs_every_partys_signature(world):
    w = world
    from .conftest import marriage_fields

    dispute = actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(w))
    first = dispute.parties.order_by("pk").first()
    response = client_for(w.mediator).post(f"/api/v1/disputes/{dispute.case.number}/agreement", {
        "committee": "新安人民调解委员会", "facts": "事实", "terms": "条款", "signed_parties": [first.pk],
        "mediator_name": "王调解", "effective_on": str(date.today()),
    }, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["signed_parties"][0]["code"] == "unsigned_parties"


def test_outside_jurisdiction_is_404(world):
    w = world
    from .conftest import marriage_fields

    dispute = actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(w))
    # the 深田 mediator does not see a Bao'an dispute, and cannot act on it
    assert client_for(w.st_mediator).get(f"/api/v1/disputes/{dispute.case.number}/").status_code == 404
    response = client_for(w.st_mediator).post(f"/api/v1/disputes/{dispute.case.number}/failure",
                                              {"route": "litigation", "guidance": "x"}, format="json")
    assert response.status_code == 404


def test_a_case_from_another_channel_gets_a_profile_and_a_dispatcher_starts_joint_mediation(world):
    w = world
    from civicgrid.cases import actions as case_actions

    case = case_actions.report_case(channel="hotline_12345", title="邻居装修噪音吵架", region_code=BAOAN_GRID)
    body = post(w.xinan_dispatcher, f"/api/v1/disputes/from-case/{case.number}", {
        "name": "邻里噪音纠纷", "dispute_type": "neighbour", "occurred_on": "2026-11-20", "place": "宝民一路8号",
        "brief": "装修噪音引发争吵", "parties": [{"role": "applicant", "name": "王五"}],
    }, status=201)
    assert body["case_state"] == State.REPORTED
    # the matrix for 邻里 names a residents' committee the place does not have: the dispatcher names one
    response = client_for(w.xinan_dispatcher).post(f"/api/v1/disputes/{case.number}/joint-mediation", {},
                                                   format="json")
    assert response.status_code == 400
    body = post(w.xinan_dispatcher, f"/api/v1/disputes/{case.number}/joint-mediation",
                {"lead_department": w.judicial.pk, "assisting_departments": [w.police.pk]})
    assert body["case_state"] == State.DISPATCHED
    assert {a["department"] for a in body["assignments"]} == {w.judicial.pk, w.police.pk}


def test_unmasking_a_party_needs_the_permission_and_a_reason_and_is_logged(world):
    from civicgrid.audit.models import AccessLogEntry

    from .conftest import marriage_fields

    w = world
    dispute = actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(w))
    applicant = dispute.parties.get(role="applicant")
    url = f"/api/v1/disputes/{dispute.case.number}/parties/{applicant.pk}/unmask"
    # a department handler (no unmask permission) is refused; the mediator gets the clear phone
    assert client_for(w.wf_handler).post(url, {"field": "phone", "reason": "联系当事人"},
                                         format="json").status_code == 403
    body = post(w.mediator, url, {"field": "phone", "reason": "联系当事人安排调解"})
    assert body["value"] == "13912341234"
    entry = AccessLogEntry.objects.get(username="mediator")
    assert (entry.fields, entry.reason, entry.object_label) == ("phone", "联系当事人安排调解",
                                                                f"{dispute.case.number} applicant")
    # stored encrypted: the column never holds the plaintext
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM disputes_party WHERE id = %s", [applicant.pk])
        assert "13912341234" not in cursor.fetchone()[0]


def test_the_sweep_is_on_the_beat_schedule():
    from django.conf import settings
    from django.utils.module_loading import import_string

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values()
                 if e["task"] == "civicgrid.disputes.tasks.sweep_disputes_task")
    assert import_string(entry["task"]).name == entry["task"]
