"""Department inbox (/dept/): the department's tasks with deadlines and flags, and each step on a
task through the page; another department's task does not exist for them."""
# Fixtures are imported from pages_support and then requested by name.
# ruff: noqa: F811

import pytest

from civicgrid.cases import actions
from civicgrid.cases.models import Attachment, CaseRequest
from civicgrid.cases.tests.builders import lead_of

from .pages_support import city, image_bytes, new_case, report, sla_rules, town, upload  # noqa: F401


@pytest.fixture
def dispatched(town, sla_rules):
    case = actions.file_case(new_case(town), town.dispatcher)
    return actions.dispatch_case(case, town.city_management, [], town.dispatcher)


def test_the_inbox_lists_the_departments_tasks_with_their_deadline(client, town, dispatched):
    # given a task dispatched to 城管
    client.force_login(town.cm_handler)
    # when 城管 opens the inbox
    page = client.get("/dept/").content.decode()
    # then the task is there with its deadline countdown and a one-click sign-for
    assert dispatched.number in page and "data-deadline=" in page
    assert f"/dept/tasks/{lead_of(dispatched).pk}/sign/" in page
    # and the police, with no task, see none of it
    client.force_login(town.police_handler)
    assert dispatched.number not in client.get("/dept/").content.decode()


def test_overdue_and_supervised_tasks_stand_out_in_words_too(client, town, dispatched):
    # given a supervision notice on the task
    actions.supervise_case(dispatched, 1, "请尽快处置", town.dispatcher)
    client.force_login(town.cm_handler)
    # when the inbox is shown
    page = client.get("/dept/").content.decode()
    # then the task carries the 督办 flag as text, and the notice is listed
    assert "is-supervised" in page and "已督办" in page and "请尽快处置" in page


def test_another_departments_task_is_404(client, town, dispatched):
    # given 城管's task
    task = lead_of(dispatched)
    # when the police or 思明 城管 open it or try to sign for it
    for user in (town.police_handler, town.siming_handler):
        client.force_login(user)
        # then it does not exist for them
        assert client.get(f"/dept/tasks/{task.pk}/").status_code == 404
        assert client.post(f"/dept/tasks/{task.pk}/sign/").status_code == 404
    task.refresh_from_db()
    assert task.state == "pending"


def test_other_roles_and_anonymous_visitors_are_kept_out(client, town):
    # given no login, then a dispatcher
    # when they open the inbox
    # then the anonymous visitor is sent to the staff login and the dispatcher refused
    assert client.get("/dept/")["Location"].startswith("/accounts/login/?next=/dept/")
    client.force_login(town.dispatcher)
    assert client.get("/dept/").status_code == 403


def test_sign_for_then_report_the_result_with_a_photo(client, town, dispatched):
    task = lead_of(dispatched)
    client.force_login(town.cm_handler)
    # when 城管 signs for the task in one click
    response = client.post(f"/dept/tasks/{task.pk}/sign/")
    # then it is in hand
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == "signed"
    # when the result is reported with a photo
    response = client.post(f"/dept/tasks/{task.pk}/result/", {"text": "已补装井盖", "photos": [upload()]})
    # then the case is resolved and the photo is the task's result photo
    assert response.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.state == "resolved"
    photo = Attachment.objects.get()
    assert (photo.kind, photo.assignment_id) == ("result", task.pk)


def test_a_non_image_result_photo_is_refused_with_the_message(client, town, dispatched):
    task = actions.sign_for(lead_of(dispatched), town.cm_handler)
    client.force_login(town.cm_handler)
    # when the "photo" is a text file
    response = client.post(f"/dept/tasks/{task.pk}/result/",
                           {"text": "已处置", "photos": [upload("a.jpg", b"hello", "image/jpeg")]})
    # then the page says so and nothing is reported
    assert response.status_code == 422
    assert "只能上传图片（JPEG/PNG/WebP）" in response.content.decode()
    task.refresh_from_db()
    assert task.state == "signed"


def test_return_needs_a_reason_from_the_list(client, town, dispatched):
    task = lead_of(dispatched)
    client.force_login(town.cm_handler)
    # when returned without a reason, then with "other" but no words
    missing = client.post(f"/dept/tasks/{task.pk}/return/", {})
    other = client.post(f"/dept/tasks/{task.pk}/return/", {"reason_code": "other"})
    # then both are refused on their field
    assert missing.status_code == other.status_code == 422
    assert "请选择原因" in missing.content.decode() and "请说明原因" in other.content.decode()
    # when returned as outside the area with an explanation
    client.post(f"/dept/tasks/{task.pk}/return/", {"reason_code": "outside_area", "reason_text": "属思明区"})
    # then the case goes back to the centre with the standard reason and the words
    task.refresh_from_db()
    assert task.state == "returned" and task.return_reason == "地址不在辖区：属思明区"


def test_extension_and_suspension_requests(client, town, dispatched):
    task = actions.sign_for(lead_of(dispatched), town.cm_handler)
    client.force_login(town.cm_handler)
    # when an extension of 0 days is asked for
    refused = client.post(f"/dept/tasks/{task.pk}/extension/", {"amount": "0", "unit": "days", "reason": "等材料"})
    # then the amount is refused on its field
    assert refused.status_code == 422 and "延期时长必须大于零" in refused.content.decode()
    # when 2 working days are asked for, and a suspension
    client.post(f"/dept/tasks/{task.pk}/extension/", {"amount": "2", "unit": "days", "reason": "等材料"})
    client.post(f"/dept/tasks/{task.pk}/suspension/", {"reason": "等待产权单位确认"})
    # then both requests wait for the centre
    kinds = sorted(CaseRequest.objects.filter(assignment=task).values_list("kind", "state"))
    assert kinds == [("extension", "pending"), ("suspension", "pending")]
