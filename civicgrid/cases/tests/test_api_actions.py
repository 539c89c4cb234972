"""The action endpoints drive cases along every path of the workflow table, over HTTP."""

import pytest
from rest_framework.test import APIClient

from civicgrid.cases.models import Assignment, Case
from civicgrid.org.models import CommandCentre

from .builders import case_in_state, lead_of

URL = "/api/v1/cases/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(user, case, action, data=None, **headers):
    number = case if isinstance(case, str) else case.number
    return client_for(user).post(f"{URL}{number}/{action}", data or {}, format="json", **headers)


def task(user, case, assignment, action, data=None):
    return client_for(user).post(
        f"{URL}{case.number}/assignments/{assignment.pk}/{action}", data or {}, format="json",
    )


def ok(response, state: str) -> dict:
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == state
    return response.json()


def test_file_dispatch_sign_for_report_and_verify_closes_the_case(city, report):
    d = city.dispatcher
    case = report()
    # when the dispatcher files it and dispatches it to a lead and an assisting department
    ok(post(d, case, "file", {"category_id": city.category.pk, "urgency": "urgent", "note": "属实"}), "filed")
    data = ok(post(d, case, "dispatch", {
        "lead_department": city.city_management.pk, "assisting_departments": [city.police.pk],
    }), "dispatched")
    lead, assisting = (Assignment.objects.get(pk=a["id"]) for a in data["assignments"])
    assert (lead.role, assisting.role) == ("lead", "assisting")
    # and both departments sign for their tasks and report
    ok(task(city.cm_handler, case, lead, "sign-for"), "in_progress")
    ok(task(city.police_handler, case, assisting, "sign-for"), "in_progress")
    ok(task(city.police_handler, case, assisting, "report-result", {"text": "已维持秩序"}), "in_progress")
    ok(task(city.cm_handler, case, lead, "report-result", {"text": "已补装井盖"}), "resolved")
    # then the dispatcher verifies and closes it
    data = ok(post(d, case, "verify", {"passed": True, "note": "现场核实"}), "closed")
    assert [e["action"] for e in data["timeline"]] == [
        "report", "file", "dispatch", "sign_for", "sign_for", "report_result", "report_result",
        "report_result", "verify",
    ]
    assert data["urgency"] == "urgent" and data["category"]["id"] == city.category.pk


def test_a_report_can_be_rejected(city, report):
    data = ok(post(city.dispatcher, report(), "reject", {"reason": "不属于受理范围"}), "rejected")
    assert data["timeline"][-1]["note"] == "不属于受理范围"


def test_a_duplicate_is_merged_into_an_open_case(city, report):
    first, duplicate = report(), report(title="同一井盖")
    data = ok(post(city.dispatcher, duplicate, "merge", {"into": first.number}), "merged")
    assert data["parent"] == first.number
    # a case the dispatcher cannot see is no target
    elsewhere = report(region_code="350203001001001")
    r = post(city.dispatcher, report(), "merge", {"into": elsewhere.number})
    assert r.status_code == 400
    assert [e["code"] for e in r.json()["error"]["fields"]["into"]] == ["does_not_exist"]


def test_a_lead_return_sends_the_case_back_and_it_is_dispatched_again(city):
    case = case_in_state(city, "dispatched")
    first_lead = lead_of(case)
    # when the lead department returns the task
    r = task(city.cm_handler, case, first_lead, "return", {"reason": "不属于本部门职责"})
    ok(r, "filed")
    # then the dispatcher sends it to another department
    data = ok(post(city.dispatcher, case, "dispatch", {"lead_department": city.water.pk}), "dispatched")
    states = {(a["department"]["id"], a["state"]) for a in data["assignments"]}
    assert states == {(city.city_management.pk, "returned"), (city.water.pk, "pending")}


def test_suspend_and_resume(city):
    case = case_in_state(city, "in_progress")
    ok(post(city.dispatcher, case, "suspend", {"reason": "等待产权单位确认"}), "suspended")
    ok(post(city.dispatcher, case, "resume", {"note": "已确认"}), "in_progress")


def test_a_failed_verification_needs_a_note_and_sends_the_case_back(city):
    case = case_in_state(city, "resolved")
    # when verification fails without a note, the note is required
    r = post(city.dispatcher, case, "verify", {"passed": False})
    assert r.status_code == 400
    assert [e["code"] for e in r.json()["error"]["fields"]["note"]] == ["required"]
    # with a note the lead department gets it back
    data = ok(post(city.dispatcher, case, "verify", {"passed": False, "note": "井盖尺寸不符"}), "in_progress")
    assert data["rework_count"] == 1
    assert data["timeline"][-1]["action"] == "rework"


def test_cancel_an_open_case(city):
    case = case_in_state(city, "filed")
    ok(post(city.dispatcher, case, "cancel", {"reason": "群众撤回"}), "cancelled")


def test_closing_hands_out_a_rating_token_and_an_unsatisfied_rating_allows_reopening(city):
    case = case_in_state(city, "resolved")
    # given the case is closed: the answer carries the reporter's rating token, this once
    closed = ok(post(city.dispatcher, case, "verify", {"passed": True}), "closed")
    token = closed["rating_token"]
    assert token and client_for(city.dispatcher).get(f"{URL}{case.number}/").json()["rating_token"] is None
    # reopening before any rating is refused
    r = post(city.dispatcher, case, "reopen", {"reason": "群众回访不满意"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "reopen_not_allowed"
    # the reporter, not logged in, sees the case behind the token, but no personal data
    anonymous = APIClient()
    invitation = anonymous.get(f"{URL}ratings/{token}").json()
    assert (invitation["case"], invitation["rated"]) == (case.number, False)
    assert not {"reporter_name", "reporter_phone", "description"} & set(invitation)
    assert anonymous.get(f"{URL}ratings/not-a-token").status_code == 404
    # when they rate it unsatisfied
    r = anonymous.post(f"{URL}ratings/{token}", {"rating": "unsatisfied", "comment": "井盖又松了"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["case"] == case.number and r.json()["rating"] == "unsatisfied"
    # then the invitation shows the rating, a second rating is refused, an unknown token does not exist
    assert anonymous.get(f"{URL}ratings/{token}").json()["rated"] is True
    r = anonymous.post(f"{URL}ratings/{token}", {"rating": "satisfied"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_rated"
    assert anonymous.post(f"{URL}ratings/nope", {"rating": "satisfied"}, format="json").status_code == 404
    r = anonymous.post(f"{URL}ratings/{token}", {"rating": "meh"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["fields"]["rating"][0]["code"] == "invalid_choice"
    # and the dispatcher may reopen it: back to the lead department
    data = ok(post(city.dispatcher, case, "reopen", {"reason": "群众回访不满意"}), "in_progress")
    assert data["assignments"][-1]["state"] == "signed"


def test_escalate_to_the_next_centre_up(city):
    case = case_in_state(city, "filed")
    # without a centre above 集美区 there is nowhere to go
    r = post(city.dispatcher, case, "escalate", {"reason": "跨区协调"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "top_level"
    # given the city's centre
    CommandCentre.objects.create(name="厦门市社会治理指挥中心", level="city", region=city.regions["350200000000"])
    data = ok(post(city.dispatcher, case, "escalate", {"reason": "跨区协调"}), "filed")
    assert data["owner_centre"] == "厦门市社会治理指挥中心" and data["escalation_level"] == 1


def test_supervise_a_case(city):
    case = case_in_state(city, "in_progress")
    r = post(city.leader, case, "supervise", {"level": 3, "note": "加快处置"})
    assert r.status_code == 400 and r.json()["error"]["fields"]["level"][0]["code"] == "invalid_choice"
    data = ok(post(city.leader, case, "supervise", {"level": 2, "note": "加快处置"}), "in_progress")
    assert data["supervision_level"] == 2
    assert [(n["level"], n["department"]) for n in data["supervisions"]] == [(2, city.city_management.name)]


def test_an_extension_is_requested_and_approved_or_refused(city):
    case = case_in_state(city, "in_progress")
    lead = lead_of(case)
    before = Assignment.objects.get(pk=lead.pk).handle_deadline
    # the department asks; malformed amounts are field errors
    r = task(city.cm_handler, case, lead, "request-extension", {"amount": "-1", "unit": "days", "reason": "x"})
    assert r.status_code == 400 and r.json()["error"]["fields"]["amount"][0]["code"] == "not_positive"
    data = ok(task(city.cm_handler, case, lead, "request-extension",
                   {"amount": "2", "unit": "days", "reason": "需采购配件"}), "in_progress")
    (request,) = data["requests"]
    assert (request["kind"], request["state"]) == ("extension", "pending")
    # when the centre approves, the task's deadline moves later
    data = ok(post(city.dispatcher, case, f"requests/{request['id']}/approve", {"note": "同意"}), "in_progress")
    assert data["requests"][0]["state"] == "approved"
    assert Assignment.objects.get(pk=lead.pk).handle_deadline > before
    # a decided request cannot be decided again
    r = post(city.dispatcher, case, f"requests/{request['id']}/refuse", {"reason": "不同意"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_decided"
    # a second request is refused with a reason
    data = ok(task(city.cm_handler, case, lead, "request-extension",
                   {"amount": "4", "unit": "hours", "reason": "再延"}), "in_progress")
    second = next(r for r in data["requests"] if r["state"] == "pending")
    data = ok(post(city.dispatcher, case, f"requests/{second['id']}/refuse", {"reason": "时限充足"}), "in_progress")
    assert {r["state"] for r in data["requests"]} == {"approved", "refused"}
    # requests of other cases do not exist here
    assert post(city.dispatcher, case_in_state(city, "filed"), f"requests/{second['id']}/approve").status_code == 404


def test_a_suspension_is_requested_and_approved(city):
    case = case_in_state(city, "in_progress")
    data = ok(task(city.cm_handler, case, lead_of(case), "request-suspension", {"reason": "等待法院判决"}),
              "in_progress")
    request_id = data["requests"][0]["id"]
    data = ok(post(city.dispatcher, case, f"requests/{request_id}/approve", {}), "suspended")
    assert data["requests"][0]["state"] == "approved"


def test_an_illegal_step_is_422_naming_the_state_and_the_action(city, report):
    case = report()
    # when a reported (not yet filed) case is dispatched
    r = post(city.dispatcher, case, "dispatch", {"lead_department": city.city_management.pk})
    # then the step is refused, and the message says from which state which action failed
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "illegal_transition"
    assert "dispatch" in error["message"] and "reported" in error["message"]
    assert Case.objects.get(pk=case.pk).state == "reported"


def test_missing_reasons_and_unknown_departments_are_field_errors(city, report):
    case = case_in_state(city, "filed")
    r = post(city.dispatcher, case, "cancel", {})
    assert r.status_code == 400 and r.json()["error"]["fields"]["reason"][0]["code"] == "required"
    r = post(city.dispatcher, case, "dispatch", {"lead_department": 999999, "assisting_departments": ["x"]})
    codes = {f: [e["code"] for e in errs] for f, errs in r.json()["error"]["fields"].items()}
    assert r.status_code == 400
    assert codes == {"lead_department": ["does_not_exist"], "assisting_departments": ["incorrect_type"]}
    # a department that does not serve the place is refused by the action's rule
    r = post(city.dispatcher, case, "dispatch", {"lead_department": city.siming_cm.pk})
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["lead_department"][0]["code"] == "not_serving"


def test_who_may_act(city):
    case = case_in_state(city, "dispatched")
    # a grid worker sees the case but may not dispatch: 403 with a code
    r = post(city.grid_worker, case, "cancel", {"reason": "x"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    # another district's dispatcher cannot see it: 404, never 403
    assert post(city.siming_dispatcher, case, "cancel", {"reason": "x"}).status_code == 404
    # a department without a task on it cannot see it either
    assert task(city.police_handler, case, lead_of(case), "sign-for").status_code == 404
    # a task of another case does not exist under this one
    other = case_in_state(city, "dispatched")
    assert task(city.cm_handler, case, lead_of(other), "sign-for").status_code == 404


def test_an_action_retried_with_its_key_replays_instead_of_failing(city, report):
    case = report()
    data = {"category_id": city.category.pk}
    first = post(city.dispatcher, case, "file", data, HTTP_IDEMPOTENCY_KEY="file-1")
    # when the same step is retried with its key, the first answer comes back (not "illegal")
    again = post(city.dispatcher, case, "file", data, HTTP_IDEMPOTENCY_KEY="file-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    # without the key the retry is a second attempt, which the workflow refuses
    assert post(city.dispatcher, case, "file", data).status_code == 422


@pytest.mark.parametrize("action", ["file", "reject", "merge", "dispatch", "cancel", "suspend", "resume",
                                    "verify", "reopen", "escalate", "supervise"])
def test_every_action_endpoint_is_404_for_an_unknown_number(city, action):
    assert post(city.dispatcher, "350211-20000101-99999", action, {}).status_code == 404
