"""The admin of the exchanges: callback URL and secret of a client system, the callback log with
every attempt, alarm rules."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from civicgrid.cases import actions as case_actions
from civicgrid.intake import actions
from civicgrid.intake.models import AlarmRule, Callback, ClientSystem
from civicgrid.intake.tests.test_hotline_push import order


def test_a_callback_url_brings_a_secret_shown_once(admin_client, city, receiver):
    # given the client system's change page
    url = reverse("admin:intake_clientsystem_change", args=[city.client.pk])
    # when a callback URL is saved
    response = admin_client.post(url, {
        "name": city.client.name, "region": city.client.region.pk, "contact": "", "is_active": "on",
        "callback_url": receiver.url,
    }, follow=True)
    # then the client has the URL and a secret, and the page showed the secret once
    client = ClientSystem.objects.get(pk=city.client.pk)
    assert client.callback_url == receiver.url and client.callback_secret.startswith("whsec_")
    assert any(client.callback_secret in str(m) for m in get_messages(response.wsgi_request))


def test_a_callback_url_that_is_not_http_is_refused(admin_client, city):
    # given the change page
    url = reverse("admin:intake_clientsystem_change", args=[city.client.pk])
    # when an ftp URL is saved
    response = admin_client.post(url, {
        "name": city.client.name, "region": city.client.region.pk, "contact": "", "is_active": "on",
        "callback_url": "ftp://hotline.example/cb",
    })
    # then the form comes back with the error and nothing is stored
    assert response.status_code == 200
    assert ClientSystem.objects.get(pk=city.client.pk).callback_url == ""


def test_the_callback_log_shows_every_attempt_and_retries(admin_client, staff, receiver,
                                                          django_capture_on_commit_callbacks):
    # given a callback whose first attempt failed
    receiver.statuses = [500]
    client = actions.update_client(staff.client, name=staff.client.name, region=staff.client.region, contact="",
                                   is_active=True, callback_url=receiver.url)
    case = actions.receive_order(client, order()).case
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.reject_case(case, "不属于受理范围", staff.dispatcher)
    callback = Callback.objects.get()
    # when the log and the callback are opened
    listing = admin_client.get(reverse("admin:intake_callback_changelist"))
    detail = admin_client.get(reverse("admin:intake_callback_change", args=[callback.pk]))
    # then both show it, the detail with the failed attempt
    assert listing.status_code == 200 and "XM12345-0001" in listing.content.decode()
    assert detail.status_code == 200 and "HTTP 500" in detail.content.decode()
    # when "Retry now" is chosen
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:intake_callback_changelist"),
                          {"action": "retry_now", "_selected_action": [callback.pk]})
    # then it is delivered on the second attempt
    callback.refresh_from_db()
    assert callback.state == "succeeded" and callback.attempts == 2


@pytest.mark.parametrize(("template", "ok"), [("{name}：{device_id} {value}{unit}", True), ("{name} {person}", False),
                                              ("{name", False)])
def test_alarm_rules_are_edited_in_the_admin_with_checked_templates(admin_client, city, template, ok):
    # given the add page of alarm rules
    url = reverse("admin:intake_alarmrule_add")
    # when a rule is saved
    admin_client.post(url, {
        "alarm_type": "smoke", "name": "烟雾", "category": city.dumping.pk, "urgency": "urgent",
        "title_template": template, "unit": "", "repeat_window_minutes": 30, "is_active": "on",
    })
    # then only a template with known placeholders is accepted
    assert AlarmRule.objects.filter(alarm_type="smoke").exists() is ok
