"""12345 pushed work orders and 数字城管 pushed cases: API key, idempotent retries, error shape,
jurisdiction; status callbacks to the hotline: signed, retried with back-off, logged."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Assignment, Case, CaseEvent
from civicgrid.intake import actions, feedback
from civicgrid.intake.models import Callback, ExternalRecord
from civicgrid.intake.tests.conftest import GRID
from civicgrid.webhooks.signing import verify_signature

ORDERS = "/api/v1/intake/12345/orders"
SZCG = "/api/v1/intake/szcg/cases"


def order(number="XM12345-0001", **overrides):
    record = {
        "order_no": number, "called_at": "2026-11-24T09:30:00+08:00", "request_type": "投诉",
        "content": "岑西社区东侧下穿通道积水，车辆无法通行", "address": "厦门市集美区集美街道岑西社区东侧下穿通道",
        "contact_name": "张先生", "contact_phone": "13912345678", "urgency": "紧急", "time_limit": "3个工作日",
        "source": "电话",
    }
    record.update(overrides)
    return record


def push(city, path, body, key=None):
    client = APIClient()
    return client.post(path, body, format="json", HTTP_X_API_KEY=city.api_key if key is None else key)


# --- pushing ------------------------------------------------------------------------------------


def test_a_pushed_order_becomes_a_case_once(city):
    # given a work order pushed with the client's key
    first = push(city, ORDERS, order())
    # when the hotline retries the same 工单编号
    again = push(city, ORDERS, order(content="重复推送"))
    # then one case exists; the first answer is 201, the retry 200 with the same case
    assert first.status_code == 201, first.json()
    assert again.status_code == 200
    assert first.json()["case_number"] == again.json()["case_number"]
    assert first.json()["created"] is True and again.json()["created"] is False
    case = Case.objects.get(channel="hotline_12345", external_id="XM12345-0001")
    assert case.request_type == "complaint" and case.urgency == "urgent"
    assert case.region_code == "350211001001"
    record = ExternalRecord.objects.get(channel="hotline_12345", external_id="XM12345-0001")
    assert record.case == case and record.client == city.client
    assert record.extra["time_limit"] == {"text": "3个工作日", "amount": "3", "unit": "working_days"}


def test_a_bad_order_gets_field_level_codes_in_the_project_shape(city):
    # given an order with two problems
    response = push(city, ORDERS, order(request_type="抱怨", contact_phone="12"))
    # then 400 lists both fields with their codes, and no case is made
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert {f: [e["code"] for e in errs] for f, errs in error["fields"].items()} == {
        "request_type": ["invalid_choice"], "contact_phone": ["invalid_length"]}
    assert not Case.objects.exists()


@pytest.mark.parametrize("key", ["", "not-a-key"])
def test_a_missing_or_wrong_key_is_refused(city, key):
    # given no or a wrong API key
    response = push(city, ORDERS, order(), key=key)
    # then 403 in the project's error shape
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert not Case.objects.exists()


def test_a_disabled_client_is_refused(city):
    # given the client system switched off
    actions.update_client(city.client, name=city.client.name, region=city.client.region, contact="", is_active=False)
    # then its key no longer works
    assert push(city, ORDERS, order()).status_code == 403


def test_an_order_outside_the_clients_jurisdiction_is_refused(city):
    # given a client limited to 思明区 and an order in 集美区
    actions.update_client(city.client, name=city.client.name, region=city.regions["350203000000"], contact="",
                          is_active=True)
    response = push(city, ORDERS, order())
    # then it is refused for the location
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["location"][0]["code"] == "outside_jurisdiction"


def test_a_batch_answers_each_record_in_order(city):
    # given three orders, the second broken
    response = push(city, ORDERS, [order("B-1"), order("B-2", content=""), order("B-3")])
    # then each has its own result and the good ones became cases
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["errors"] == {"content": [{"code": "required", "message": results[1]["errors"]["content"][0]["message"]}]}
    assert Case.objects.filter(channel="hotline_12345").count() == 2


def test_a_pushed_szcg_case_maps_code_and_grid_and_is_idempotent(city):
    # given a 数字城管 case with a matter code and one of our grids
    body = {"case_no": "SZ-1", "matter_code": "35021106010", "grid_code": GRID,
            "reported_at": "2026-11-24T08:00:00+08:00", "description": "暴露垃圾"}
    # when it is pushed twice
    first, again = push(city, SZCG, body), push(city, SZCG, body)
    # then one case of our category in that grid
    assert (first.status_code, again.status_code) == (201, 200)
    case = Case.objects.get(channel="digital_city", external_id="SZ-1")
    assert case.category == city.dumping and case.region_code == GRID


def test_a_szcg_case_with_an_unknown_grid_is_refused(city):
    # given a grid we do not have
    body = {"case_no": "SZ-2", "matter_code": "35021106010", "grid_code": "350211001001002",
            "reported_at": "2026-11-24T08:00:00+08:00"}
    response = push(city, SZCG, body)
    # then the record is refused with the grid's code
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["grid_code"][0]["code"] == "unknown_grid"


# --- callbacks ----------------------------------------------------------------------------------


def hotline_client(city, receiver):
    client = actions.update_client(city.client, name=city.client.name, region=city.client.region, contact="",
                                   is_active=True, callback_url=receiver.url)
    assert client.callback_secret.startswith("whsec_")
    return client


def received(receiver, client):
    """Bodies the receiver got, after checking every signature against the client's secret."""
    out = []
    for request in receiver.requests:
        headers = request["headers"]
        assert verify_signature(client.callback_secret, headers["X-Civicgrid-Timestamp"], request["body"],
                                headers["X-Civicgrid-Signature"])
        out.append(json.loads(request["body"]))
    return out


def test_the_hotline_hears_sign_for_stage_reply_and_final_reply(staff, receiver, django_capture_on_commit_callbacks):
    # given a client with a callback URL and an order it pushed
    client = hotline_client(staff, receiver)
    received_order = actions.receive_order(client, order())
    case = received_order.case
    # when the case is filed, dispatched, signed for, replied to on the way, and resolved
    with django_capture_on_commit_callbacks(execute=True):
        case = case_actions.file_case(case, staff.dispatcher, category=staff.dumping)
        case = case_actions.dispatch_case(case, staff.department, [], staff.dispatcher)
        task = Assignment.objects.get(case=case)
        case_actions.sign_for(task, staff.handler)
        case_actions.post_stage_reply(case, "已安排抽水车，预计两小时内排完", staff.handler)
        case_actions.report_result(task, "积水已排除，通道恢复通行", staff.handler)
    # then the hotline got 签收, 阶段答复 and 办结答复 in order, each signed with its secret
    bodies = received(receiver, client)
    assert [(b["type"], b["data"]["status"]) for b in bodies] == [
        ("hotline.sign_for", "签收"), ("hotline.stage_reply", "阶段答复"), ("hotline.final_reply", "办结答复")]
    assert all(b["data"]["order_no"] == "XM12345-0001" and b["data"]["case_number"] == case.number for b in bodies)
    assert bodies[0]["data"]["department"] == "集美区城管执法局"
    assert bodies[1]["data"]["text"] == "已安排抽水车，预计两小时内排完"
    assert bodies[2]["data"]["text"] == "积水已排除，通道恢复通行"
    assert {r["path"] for r in receiver.requests} == {"/callbacks/12345"}
    # and every callback is logged as delivered with its attempt
    assert [c.state for c in Callback.objects.order_by("pk")] == ["succeeded"] * 3
    assert all(c.attempt_log.get().status_code == 200 for c in Callback.objects.all())
    # and the stage reply is on the timeline
    assert CaseEvent.objects.filter(case=case, action="stage_reply", actor=staff.handler).exists()


def test_a_rejected_order_is_returned_with_the_reason(staff, receiver, django_capture_on_commit_callbacks):
    # given a pushed order
    client = hotline_client(staff, receiver)
    case = actions.receive_order(client, order()).case
    # when the centre rejects it
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.reject_case(case, "不属于本平台受理范围，请转住建部门", staff.dispatcher)
    # then the hotline hears 退回 with the reason
    (body,) = received(receiver, client)
    assert body["data"]["status"] == "退回"
    assert body["data"]["text"] == "不属于本平台受理范围，请转住建部门"


def test_cases_from_other_channels_send_nothing(staff, receiver, django_capture_on_commit_callbacks):
    # given a hotline client with a callback, and a case reported on the web
    hotline_client(staff, receiver)
    case = case_actions.report_case(channel="web", title="x", region_code=GRID)
    # when it is rejected
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.reject_case(case, "重复", staff.dispatcher)
    # then nothing is sent
    assert receiver.requests == [] and not Callback.objects.exists()


def test_a_failed_callback_is_retried_with_backoff_and_logged(staff, receiver, settings,
                                                             django_capture_on_commit_callbacks):
    # given a receiver that is busy twice, then answers
    settings.CIVICGRID_WEBHOOK_BACKOFF_SECONDS = 60
    settings.CIVICGRID_WEBHOOK_BACKOFF_FACTOR = 5
    receiver.statuses = [503, 503]
    client = hotline_client(staff, receiver)
    case = actions.receive_order(client, order()).case
    start = timezone.now()
    # when the order is rejected (the first attempt fails at once)
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.reject_case(case, "重复工单", staff.dispatcher)
    callback = Callback.objects.get()
    # then it waits one back-off (60 s) before the next attempt
    assert callback.state == "failed" and callback.last_status_code == 503
    assert start + timedelta(seconds=55) < callback.next_attempt_at < timezone.now() + timedelta(seconds=65)
    # and a sweep before it is due sends nothing
    assert feedback.retry_due_callbacks(now=timezone.now() + timedelta(seconds=30)) == 0
    # when the sweep runs after the back-off: fails again, and now waits 5 × longer
    later = timezone.now() + timedelta(seconds=61)
    assert feedback.retry_due_callbacks(now=later) == 1
    callback.refresh_from_db()
    assert callback.state == "failed" and callback.next_attempt_at == later + timedelta(seconds=300)
    # and after that back-off it is delivered
    assert feedback.retry_due_callbacks(now=later + timedelta(seconds=301)) == 1
    callback.refresh_from_db()
    assert callback.state == "succeeded" and callback.attempts == 3
    # then every attempt is in the log with its status, and the same signed body went out each time
    assert [(a.number, a.status_code) for a in callback.attempt_log.all()] == [(1, 503), (2, 503), (3, 200)]
    assert "HTTP 503" in callback.attempt_log.first().error
    assert len({r["body"] for r in receiver.requests}) == 1
    received(receiver, client)


def test_a_callback_is_given_up_after_the_last_attempt(staff, settings, django_capture_on_commit_callbacks):
    # given a callback URL where nothing listens, and two attempts allowed
    settings.CIVICGRID_WEBHOOK_MAX_ATTEMPTS = 2
    client = actions.update_client(staff.client, name=staff.client.name, region=staff.client.region, contact="",
                                   is_active=True, callback_url="http://127.0.0.1:9/nothing")
    case = actions.receive_order(client, order()).case
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.reject_case(case, "重复工单", staff.dispatcher)
    # when the sweep tries again after the back-off
    feedback.retry_due_callbacks(now=timezone.now() + timedelta(days=1))
    # then it is given up, with the connection error logged for both attempts
    callback = Callback.objects.get()
    assert callback.state == "dead" and callback.next_attempt_at is None
    assert [a.status_code for a in callback.attempt_log.all()] == [None, None]
    assert all(a.error for a in callback.attempt_log.all())


def test_a_merged_order_hears_about_the_case_it_was_merged_into(staff, receiver, django_capture_on_commit_callbacks):
    # given an order whose case was merged into another open case
    client = hotline_client(staff, receiver)
    ordered = actions.receive_order(client, order()).case
    main = case_actions.report_case(channel="grid_patrol", title="下穿通道积水", region_code=GRID)
    case_actions.merge_case(ordered, main, staff.dispatcher)
    # when the main case is filed, dispatched and signed for
    with django_capture_on_commit_callbacks(execute=True):
        main = case_actions.file_case(main, staff.dispatcher, category=staff.dumping)
        main = case_actions.dispatch_case(main, staff.department, [], staff.dispatcher)
        case_actions.sign_for(Assignment.objects.get(case=main), staff.handler)
    # then the hotline hears 签收 for its order, naming the main case
    (body,) = received(receiver, client)
    assert body["data"]["order_no"] == "XM12345-0001" and body["data"]["case_number"] == main.number


def test_a_stage_reply_needs_a_dispatcher_or_a_department_on_the_case(staff):
    # given a case dispatched to the department, and a handler of another department
    from civicgrid.org.models import Department, Role, User
    from civicgrid.org.permissions import PermissionDenied

    other = Department.objects.create(code="jm-water", name="集美水务", kind="water_supply",
                                      region=staff.regions["350211000000"])
    outsider = User.objects.create_user(username="w", password="x", role=Role.DEPARTMENT_HANDLER, department=other)
    case = case_actions.report_case(channel="web", title="x", region_code=GRID, category=staff.dumping)
    case = case_actions.file_case(case, staff.dispatcher)
    case = case_actions.dispatch_case(case, staff.department, [], staff.dispatcher)
    # when the outsider replies, it is refused (they cannot even see the case)
    from django.http import Http404

    with pytest.raises(Http404):
        case_actions.post_stage_reply(case, "进展", outsider)
    # and a leader, who sees the case but neither dispatches nor handles it, is refused
    worker = User.objects.create_user(username="g", password="x", role=Role.LEADER,
                                      jurisdiction=staff.regions["350211000000"])
    with pytest.raises(PermissionDenied):
        case_actions.post_stage_reply(case, "进展", worker)
    # and an empty reply is refused
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        case_actions.post_stage_reply(case, "  ", staff.handler)
    # and the dispatcher may reply
    event = case_actions.post_stage_reply(case, "已督促部门加快处理", staff.dispatcher)
    assert event.action == "stage_reply" and event.to_state == case.state


def test_a_stage_reply_through_the_case_api(staff, receiver, django_capture_on_commit_callbacks):
    # given a pushed order, dispatched to the department
    client = hotline_client(staff, receiver)
    case = actions.receive_order(client, order()).case
    case = case_actions.file_case(case, staff.dispatcher, category=staff.dumping)
    case = case_actions.dispatch_case(case, staff.department, [], staff.dispatcher)
    api = APIClient()
    api.force_authenticate(staff.handler)
    # when the department posts a progress reply through the API
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/cases/{case.number}/stage-reply", {"text": "正在抽排积水"}, format="json")
    # then it is on the timeline and the hotline heard it
    assert response.status_code == 200, response.json()
    assert CaseEvent.objects.filter(case=case, action="stage_reply", note="正在抽排积水").exists()
    (body,) = received(receiver, client)
    assert body["data"]["status"] == "阶段答复" and body["data"]["text"] == "正在抽排积水"


def test_the_push_endpoints_are_in_the_openapi_schema(admin_client):
    # when the schema is fetched
    body = admin_client.get("/api/schema/").content.decode()
    # then the three push endpoints and the stage reply are described, with the key header
    for path in (ORDERS, SZCG, "/api/v1/intake/alarms", "/api/v1/cases/{number}/stage-reply"):
        assert path in body
    assert "X-Api-Key" in body
