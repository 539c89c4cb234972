import pytest
from django.test import Client
from django.utils import translation

from civicgrid.webhooks import actions
from civicgrid.webhooks.models import DeliveryState, DepartmentWebhook, WebhookDelivery

pytestmark = pytest.mark.urls("civicgrid.webhooks.tests.urls")


def admin_client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_the_secret_is_shown_once_when_the_webhook_is_added(police, superuser):
    client = admin_client(superuser)
    # when a webhook is added in the admin
    response = client.post("/admin/webhooks/departmentwebhook/add/", {
        "department": police.pk, "url": "https://gongan-gw:8443/hook", "event_types": "case.*, case.closed",
        "is_active": "on",
    }, follow=True)
    # then the page after saving shows its secret, once
    webhook = DepartmentWebhook.objects.get()
    assert webhook.event_types == ["case.*", "case.closed"]
    assert webhook.secret in response.content.decode()
    assert "不会再次显示" in response.content.decode()
    # and neither the list nor the change page shows it again
    assert webhook.secret not in client.get("/admin/webhooks/departmentwebhook/").content.decode()
    change = client.get(f"/admin/webhooks/departmentwebhook/{webhook.pk}/change/").content.decode()
    assert webhook.secret not in change and "case.*, case.closed" in change


def test_bad_url_shows_a_field_error(police, superuser):
    # when a webhook with credentials in its URL is added
    response = admin_client(superuser).post("/admin/webhooks/departmentwebhook/add/", {
        "department": police.pk, "url": "http://user:pw@gongan-gw/hook", "event_types": "*",
    })
    # then the form comes back with the error on the url field, in Chinese
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["url"]
    assert "用户名或密码" in errors["url"][0]
    assert not DepartmentWebhook.objects.exists()


def test_rotate_secret_action_shows_the_new_secret(police, superuser):
    # given a webhook
    webhook = actions.create_webhook(department=police, url="http://127.0.0.1:9/hook")
    old = webhook.secret
    # when the admin action generates a new secret
    response = admin_client(superuser).post("/admin/webhooks/departmentwebhook/", {
        "action": "rotate_secrets", "_selected_action": [webhook.pk],
    }, follow=True)
    # then the new secret is stored and shown
    webhook.refresh_from_db()
    assert webhook.secret != old
    assert webhook.secret in response.content.decode()


def test_delivery_log_is_read_only_with_filters_and_retry(
    police, receiver, superuser, django_capture_on_commit_callbacks,
):
    # given a delivery given up after the receiver failed
    receiver.statuses = [500, 200]
    actions.create_webhook(department=police, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = actions.enqueue_department_event(police, "case.dispatched", {"case": "JM-1"})
    WebhookDelivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD)
    client = admin_client(superuser)
    # then the log lists it, filtered by state and event type, and shows its attempts
    for url in ("/admin/webhooks/webhookdelivery/", "/admin/webhooks/webhookdelivery/?state=dead",
                "/admin/webhooks/webhookdelivery/?event_type=case.dispatched"):
        response = client.get(url)
        assert [d.pk for d in response.context["cl"].result_list] == [delivery.pk], url
    assert list(client.get("/admin/webhooks/webhookdelivery/?state=succeeded").context["cl"].result_list) == []
    detail = client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert detail.status_code == 200 and "HTTP 500" in detail.content.decode()
    # and it cannot be edited, added or deleted
    assert client.post(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/", {}).status_code == 403
    assert client.get("/admin/webhooks/webhookdelivery/add/").status_code == 403
    # when "retry now" is chosen
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/webhooks/webhookdelivery/", {
            "action": "retry_now", "_selected_action": [delivery.pk],
        })
    # then it is sent again and delivered
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 2)


def test_scoped_administrator_sees_their_departments_only(police, city_management, jimei_admin):
    # given webhooks in 集美区 and 思明区
    own = actions.create_webhook(department=police, url="http://127.0.0.1:9/a")
    other = actions.create_webhook(department=city_management, url="http://127.0.0.1:9/b")
    client = admin_client(jimei_admin)
    # then the 集美区 administrator lists only theirs and cannot open the other
    shown = client.get("/admin/webhooks/departmentwebhook/").context["cl"].result_list
    assert list(shown) == [own]
    assert client.get(f"/admin/webhooks/departmentwebhook/{other.pk}/change/").status_code == 302


def test_admin_pages_are_in_chinese(superuser, police):
    client = admin_client(superuser)
    page = client.get("/admin/webhooks/").content.decode()
    assert "部门推送" in page and "推送记录" in page
    with translation.override("zh-hans"):
        assert str(DepartmentWebhook._meta.verbose_name) == "部门推送地址"
        assert [str(label) for label in DeliveryState.labels] == ["待发送", "失败待重试", "已送达", "已放弃"]
