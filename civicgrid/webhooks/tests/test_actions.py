import time

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from civicgrid.org import actions as org_actions
from civicgrid.org.models import Role
from civicgrid.org.permissions import PermissionDenied
from civicgrid.webhooks import actions, selectors
from civicgrid.webhooks.models import DepartmentWebhook
from civicgrid.webhooks.signing import sign, verify_signature


def codes(exc: ValidationError, field: str) -> list[str]:
    return [e.code for e in exc.error_dict[field]]


# --- URLs and event types ------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "code"), [
    ("ftp://gw.gongan.xm/hook", "invalid_scheme"),
    ("javascript:alert(1)", "invalid_scheme"),
    ("gw.gongan.xm/hook", "invalid_scheme"),
    ("http://user:pw@gw.gongan.xm/hook", "credentials_not_allowed"),
    ("https://token@gw.gongan.xm/hook", "credentials_not_allowed"),
    ("http:///hook", "invalid"),
    ("http://gw.gongan.xm:99999/hook", "invalid_port"),
    ("http://gw.gongan.xm/ho ok", "invalid"),
    ("http://gw.gongan.xm/hook#frag", "invalid"),
    ("", "required"),
])
def test_bad_urls_are_refused(police, url, code):
    # when a webhook with a bad URL is created / then the url field says why
    with pytest.raises(ValidationError) as exc:
        actions.create_webhook(department=police, url=url)
    assert codes(exc.value, "url") == [code]
    assert not DepartmentWebhook.objects.exists()


def test_intranet_urls_are_accepted(police):
    # given a URL on the government intranet (host without a top-level domain, own port)
    webhook = actions.create_webhook(department=police, url="  https://gongan-gw:8443/civicgrid/events  ")
    # then it is kept, trimmed, with a fresh secret
    assert webhook.url == "https://gongan-gw:8443/civicgrid/events"
    assert webhook.secret.startswith("whsec_") and len(webhook.secret) > 40
    assert actions.create_webhook(department=police, url="http://10.1.2.3/hook").secret != webhook.secret


def test_event_types_are_checked_and_normalised(police):
    # when patterns are given as text with repeats / then they become a clean list
    assert actions.validate_event_types("case.dispatched, case.*，case.dispatched") == [
        "case.dispatched", "case.*"]
    assert actions.validate_event_types(["case.closed", "*"]) == ["*"]
    # when a pattern is malformed or none is given / then the field error says so
    with pytest.raises(ValidationError) as exc:
        actions.create_webhook(department=police, url="http://127.0.0.1/hook", event_types=["Case Closed"])
    assert codes(exc.value, "event_types") == ["invalid_event_type"]
    with pytest.raises(ValidationError) as exc:
        actions.validate_event_types(" , ")
    assert codes(exc.value, "event_types") == ["required"]


def test_subscription_matching(police):
    webhook = DepartmentWebhook(department=police, event_types=["case.*", "mediation.recorded"])
    assert webhook.subscribes_to("case.dispatched") and webhook.subscribes_to("case.sla.overdue")
    assert webhook.subscribes_to("mediation.recorded")
    assert not webhook.subscribes_to("cases.dispatched") and not webhook.subscribes_to("mediation.closed")
    assert DepartmentWebhook(event_types=["*"]).subscribes_to("anything.at_all")


def test_enqueue_refuses_bad_input(police):
    with pytest.raises(ValueError):
        actions.enqueue_department_event(police, "Case Dispatched", {})
    with pytest.raises(TypeError):
        actions.enqueue_department_event(police, "case.dispatched", ["not", "a", "dict"])


# --- signatures ---------------------------------------------------------------------------------


def test_signature_checks():
    # given a body signed now
    secret, body, now = "whsec_abc", '{"id":"1","data":{"名称":"井盖"}}'.encode(), time.time()
    header = sign(secret, int(now), body)
    # then it verifies, as bytes or text, but not when stale, tampered, or malformed
    assert verify_signature(secret, str(int(now)), body, header)
    assert verify_signature(secret, int(now), body.decode(), header)
    assert not verify_signature(secret, str(int(now)), body, header, now=now + 301)
    assert verify_signature(secret, str(int(now)), body, header, tolerance_seconds=600, now=now + 301)
    assert not verify_signature(secret, str(int(now) + 1), body, header)
    assert not verify_signature(secret, "yesterday", body, header)
    assert not verify_signature(secret, str(int(now)), body, header.removeprefix("sha256="))
    assert not verify_signature(secret, str(int(now)), body, None)
    assert not verify_signature(secret, "", body, header)


# --- who may configure ----------------------------------------------------------------------------


def test_scoped_administrator_manages_only_their_departments(police, city_management, jimei_admin):
    # when a 集美区 administrator adds a webhook to their police station / then it works
    own = actions.create_webhook(department=police, url="http://127.0.0.1/a", actor=jimei_admin)
    # when they add one to a 思明区 department / then the department field is refused
    with pytest.raises(ValidationError) as exc:
        actions.create_webhook(department=city_management, url="http://127.0.0.1/b", actor=jimei_admin)
    assert codes(exc.value, "department") == ["outside_your_jurisdiction"]
    # and a 思明区 webhook is invisible to them: reads and changes are 404
    other = actions.create_webhook(department=city_management, url="http://127.0.0.1/c")
    assert list(selectors.webhooks_for(jimei_admin)) == [own]
    with pytest.raises(Http404):
        selectors.webhook_detail(jimei_admin, other.pk)
    with pytest.raises(Http404):
        actions.rotate_secret(other, actor=jimei_admin)
    with pytest.raises(Http404):
        actions.delete_webhook(other, actor=jimei_admin)
    # and moving their own webhook to the other district is refused too
    own.department = city_management
    with pytest.raises(ValidationError):
        actions.save_webhook(own, actor=jimei_admin)


def test_people_without_org_manage_cannot_configure(police, regions):
    # given a dispatcher
    centre = org_actions.create_centre(name="集美区综治中心", region=regions["jimei"])
    dispatcher = org_actions.create_staff(username="d1", role=Role.DISPATCHER, centre=centre)
    # then they cannot add a webhook, and see none
    with pytest.raises(PermissionDenied):
        actions.create_webhook(department=police, url="http://127.0.0.1/a", actor=dispatcher)
    actions.create_webhook(department=police, url="http://127.0.0.1/a")
    assert selectors.webhooks_for(dispatcher).count() == 1  # reading follows jurisdiction …
    with pytest.raises(PermissionDenied):
        actions.retry_deliveries([], actor=dispatcher)  # … changing needs org.manage


def test_rotating_the_secret_keeps_it_otherwise(police):
    # given a webhook
    webhook = actions.create_webhook(department=police, url="http://127.0.0.1/a")
    first = webhook.secret
    # when it is saved with another secret set on the object / then the stored one stays
    webhook.secret = "whsec_forged"
    actions.save_webhook(webhook)
    assert DepartmentWebhook.objects.get().secret == first
    # when the secret is rotated / then a new one is stored and returned
    new = actions.rotate_secret(webhook)
    assert new != first and DepartmentWebhook.objects.get().secret == new


def test_one_event_for_several_departments_reaches_each_subscriber_once(police, city_management):
    # given two departments with webhooks, one of them not subscribed to returns
    police_hook = actions.create_webhook(department=police, url="https://police.example/hook", event_types=["case.*"])
    cm_hook = actions.create_webhook(department=city_management, url="https://cm.example/hook",
                                     event_types=["case.new_task"])
    actions.create_webhook(department=city_management, url="https://cm.example/returns",
                           event_types=["case.returned"])
    # when one task event is recorded for both departments at once
    deliveries = actions.enqueue_departments_event([city_management.pk, police.pk], "case.new_task", {"case": "X-1"})
    # then each subscribed webhook has one delivery, and each department its own event id
    assert sorted(d.webhook_id for d in deliveries) == sorted([police_hook.pk, cm_hook.pk])
    assert len({d.event_id for d in deliveries}) == 2
    assert all(d.payload == {"case": "X-1"} for d in deliveries)
