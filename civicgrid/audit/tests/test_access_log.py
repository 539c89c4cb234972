"""The access log: every unmask and export written with who, what, why, when and from where;
append-only in the application and in the database; kept at least six months; read only by the
security administrator (not the system administrator, not a superuser)."""

import datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from civicgrid.audit import actions
from civicgrid.audit.models import MIN_RETENTION_DAYS, AccessAction, AccessLogEntry, AppendOnlyError
from civicgrid.cases.models import Case
from civicgrid.core.api import DomainError
from civicgrid.org.models import User
from civicgrid.org.permissions import PermissionDenied, allowed_actions, has_permission

pytestmark = pytest.mark.django_db

PHONE = "13912341234"


class FakeRequest:
    """What the log reads from a request: META and path."""

    def __init__(self, ip="192.0.2.7", agent="Mozilla/5.0", forwarded="", path="/somewhere/"):
        self.META = {"REMOTE_ADDR": ip, "HTTP_USER_AGENT": agent}
        if forwarded:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded
        self.path = path


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def old_entry(days: int) -> AccessLogEntry:
    """An entry written ``days`` ago (inserting with a past time is allowed; changing is not)."""
    return AccessLogEntry.objects.create(
        at=timezone.now() - datetime.timedelta(days=days), username="old", action=AccessAction.UNMASK,
        object_type="cases.case", object_id="999999",
    )


# --- unmask and export -----------------------------------------------------------------------------


def test_reveal_needs_the_permission_and_a_reason_and_logs_who_what_why_and_where(city, report):
    case = report(reporter_phone=PHONE)
    # a leader has no unmask permission: refused, nothing logged
    with pytest.raises(PermissionDenied):
        actions.reveal(city.leader, case, "reporter_phone", "看看", FakeRequest())
    # a dispatcher without a reason: refused with a field error, nothing logged
    with pytest.raises(DomainError) as refused:
        actions.reveal(city.dispatcher, case, "reporter_phone", "   ", FakeRequest())
    assert refused.value.get_codes() == "reason_required" and "reason" in refused.value.fields
    # a field that is not protected personal data cannot be "revealed"
    with pytest.raises(DomainError) as not_sensitive:
        actions.reveal(city.dispatcher, case, "title", "核实", FakeRequest())
    assert not_sensitive.value.get_codes() == "field_not_sensitive"
    assert AccessLogEntry.objects.count() == 0
    # with a reason: the clear value, and one entry
    value = actions.reveal(city.dispatcher, case, "reporter_phone", " 回访 核实 ", FakeRequest(path="/x/"))
    assert value == PHONE
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.username, entry.role, entry.action, entry.object_type, entry.object_id,
            entry.object_label, entry.fields, entry.reason, entry.ip, entry.user_agent, entry.path) == (
        city.dispatcher, "dispatcher", "dispatcher", "unmask", "cases.case", str(case.pk), case.number,
        "reporter_phone", "回访 核实", "192.0.2.7", "Mozilla/5.0", "/x/")
    assert PHONE not in str(entry.__dict__)


def test_the_client_address_behind_a_proxy_is_taken_from_x_forwarded_for(city, report):
    case = report(reporter_phone=PHONE)
    request = FakeRequest(ip="127.0.0.1", forwarded="203.0.113.9, 198.51.100.4")
    # without a configured proxy, the connecting address counts (a client can write any header)
    actions.reveal(city.dispatcher, case, "reporter_phone", "核实", request)
    # with one proxy (nginx), the address nginx saw
    with override_settings(CIVICGRID_PROXY_COUNT=1):
        actions.reveal(city.dispatcher, case, "reporter_phone", "核实", request)
    assert [e.ip for e in AccessLogEntry.objects.order_by("pk")] == ["127.0.0.1", "198.51.100.4"]
    assert AccessLogEntry.objects.last().detail["forwarded_for"] == "203.0.113.9, 198.51.100.4"


def test_an_export_needs_its_own_permission_and_a_reason_and_is_logged(city):
    # a mediator may unmask but not export
    assert has_permission(city.grid_worker, "pii.export") and not has_permission(city.leader, "pii.export")
    with pytest.raises(PermissionDenied):
        actions.record_export(city.leader, Case, ["reporter_phone"], count=3, reason="统计", request=FakeRequest())
    with pytest.raises(DomainError):
        actions.record_export(city.dispatcher, Case, ["reporter_phone"], count=3, reason="", request=FakeRequest())
    entry = actions.record_export(city.dispatcher, Case, ["reporter_name", "reporter_phone"], count=3,
                                  reason="月度回访", request=FakeRequest(), scope="350211")
    assert (entry.action, entry.object_type, entry.fields, entry.detail["count"], entry.detail["scope"]) == (
        "export", "cases.case", "reporter_name,reporter_phone", 3, "350211")


# --- append-only ----------------------------------------------------------------------------------


def test_the_application_cannot_change_or_delete_an_entry(city, report):
    case = report(reporter_phone=PHONE)
    actions.reveal(city.dispatcher, case, "reporter_phone", "核实", FakeRequest())
    entry = AccessLogEntry.objects.get()
    entry.reason = "篡改"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.filter(pk=entry.pk).update(reason="篡改")
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AccessLogEntry.objects.bulk_update([entry], ["reason"])
    assert AccessLogEntry.objects.get().reason == "核实"


def test_the_database_refuses_raw_update_and_early_delete(city, report):
    # given an entry written now and one written a year ago
    case = report(reporter_phone=PHONE)
    actions.reveal(city.dispatcher, case, "reporter_phone", "核实", FakeRequest())
    young = AccessLogEntry.objects.get()
    old = old_entry(365)
    table = connection.ops.quote_name("audit_accesslogentry")
    # when raw SQL tries to rewrite or delete / then the trigger refuses (PostgreSQL and SQLite)
    for statement, params in (
        (f"UPDATE {table} SET reason = %s WHERE id = %s", ["篡改", young.pk]),
        (f"UPDATE {table} SET reason = %s WHERE id = %s", ["篡改", old.pk]),
        (f"DELETE FROM {table} WHERE id = %s", [young.pk]),
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    assert AccessLogEntry.objects.get(pk=young.pk).reason == "核实"
    # but an entry past the six months may be deleted (that is what the purge does)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [old.pk])
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [young.pk]


def test_the_purge_keeps_everything_younger_than_six_months_whatever_is_asked():
    # given entries 10, 183, 190 and 400 days old
    kept = [old_entry(10), old_entry(183)]
    older = [old_entry(190), old_entry(400)]
    # when the purge is asked to keep only 30 days
    call_command("purge_access_log", "--days", "30")
    # then only entries past the 184-day minimum are gone
    assert set(AccessLogEntry.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert MIN_RETENTION_DAYS == 184 and len(older) == 2


def test_the_purge_follows_the_configured_retention(settings):
    settings.CIVICGRID_ACCESS_LOG_RETENTION_DAYS = 365
    entries = [old_entry(200), old_entry(400)]
    assert actions.purge_expired() == 1
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [entries[0].pk]


# --- who reads the log ------------------------------------------------------------------------------


def test_only_the_security_administrator_may_read_the_log(city, security_admin):
    root = User.objects.create_superuser("root", "root@example.org", "x", role="administrator")
    assert has_permission(security_admin, "audit.view")
    # the system administrator, a superuser and a dispatcher may not, and have no log in their actions
    for user in (city.admin, root, city.dispatcher):
        assert "audit.view" not in allowed_actions(user)
    # and a superuser still has everything else
    assert "org.manage" in allowed_actions(root) and "pii.unmask" in allowed_actions(root)
    # the security administrator sees no cases (no jurisdiction) and cannot unmask
    assert not has_permission(security_admin, "pii.unmask")


def test_the_api_searches_the_log_for_the_security_administrator_only(city, report, security_admin):
    # given two unmasks by two people on two days, and an export
    first, second = report(reporter_phone=PHONE), report(reporter_phone="13800001111")
    actions.reveal(city.dispatcher, first, "reporter_phone", "核实", FakeRequest())
    actions.reveal(city.grid_worker, first, "reporter_phone", "走访", FakeRequest())
    actions.reveal(city.dispatcher, second, "reporter_phone", "回访", FakeRequest())
    actions.record_export(city.dispatcher, Case, ["reporter_phone"], count=2, reason="月报", request=FakeRequest())
    old_entry(20)
    url = "/api/v1/audit/access-log"
    # when others ask / then 403 in the one error shape
    for user in (city.admin, city.dispatcher, User.objects.create_superuser("root", "r@example.org", "x")):
        response = api_for(user).get(url)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    client = api_for(security_admin)

    def reasons(**params):
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        return [row["reason"] for row in response.json()["results"]]

    # then the security administrator filters by user, action, object and dates
    assert reasons(user="dispatcher") == ["月报", "回访", "核实"]
    assert reasons(action="export") == ["月报"]
    assert reasons(object_type="cases.case", object_id=str(first.pk)) == ["走访", "核实"]
    today = timezone.localdate().isoformat()
    assert len(reasons(since=today)) == 4
    assert reasons(until=(timezone.localdate() - datetime.timedelta(days=1)).isoformat()) == [""]
    bad = client.get(url, {"since": "yesterday"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["since"][0]["code"] == "invalid_date"


def test_the_admin_search_page_is_for_the_security_administrator_only(client, city, report, security_admin):
    case = report(reporter_phone=PHONE)
    actions.reveal(city.dispatcher, case, "reporter_phone", "核实诉求", FakeRequest())
    entry = AccessLogEntry.objects.get()
    changelist = reverse("admin:audit_accesslogentry_changelist")
    # the security administrator finds the entry by user and reason, and cannot change or delete it
    client.force_login(security_admin)
    page = client.get(changelist, {"q": "核实诉求", "action__exact": "unmask"})
    assert page.status_code == 200 and case.number in page.content.decode()
    detail = client.get(reverse("admin:audit_accesslogentry_change", args=[entry.pk]))
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(reverse("admin:audit_accesslogentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert AccessLogEntry.objects.count() == 1
    # a superuser administrator does not see the page at all
    root = User.objects.create_superuser("root", "root@example.org", "x", role="administrator")
    client.force_login(root)
    assert client.get(changelist).status_code == 403
    assert "accesslogentry" not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.postgres
def test_postgres_has_the_trigger_and_a_raw_update_of_any_entry_fails():
    # given an entry a year old (past the retention minimum, so only UPDATE is at stake)
    entry = old_entry(365)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_accesslogentry'::regclass "
                       "AND NOT tgisinternal")
        assert [row[0] for row in cursor.fetchall()] == ["audit_accesslog_append_only"]
    # when raw SQL rewrites it / then PostgreSQL refuses with the trigger's message
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE audit_accesslogentry SET username = 'someone' WHERE id = %s", [entry.pk])
    assert AccessLogEntry.objects.get(pk=entry.pk).username == "old"


# --- the reveal API ----------------------------------------------------------------------------------


def test_the_reveal_api_shows_values_once_with_a_reason_and_logs_each_field(city, report):
    case = report(reporter_name="张三", reporter_phone=PHONE)
    url = "/api/v1/audit/reveal"
    body = {"object_type": "cases.case", "object_id": case.number, "fields": ["reporter_name", "reporter_phone"],
            "reason": "电话回访"}
    # a dispatcher with a reason gets the clear values, not cacheable, and two entries
    response = api_for(city.dispatcher).post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"values": {"reporter_name": "张三", "reporter_phone": PHONE}}
    assert response["Cache-Control"] == "no-store"
    assert sorted(AccessLogEntry.objects.values_list("fields", flat=True)) == ["reporter_name", "reporter_phone"]
    # without a reason: 422 with the field code; with a non-personal field: nothing logged either
    refused = api_for(city.dispatcher).post(url, {**body, "reason": ""}, format="json")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "reason_required"
    mixed = api_for(city.dispatcher).post(url, {**body, "fields": ["reporter_phone", "title"]}, format="json")
    assert mixed.status_code == 422 and mixed.json()["error"]["code"] == "field_not_sensitive"
    assert AccessLogEntry.objects.count() == 2
    # a leader has no permission (403); another district's dispatcher does not find the case (404)
    assert api_for(city.leader).post(url, body, format="json").status_code == 403
    assert api_for(city.siming_dispatcher).post(url, body, format="json").status_code == 404
    assert AccessLogEntry.objects.count() == 2


def test_the_daily_purge_task_is_scheduled_and_purges(settings):
    from civicgrid.audit.tasks import purge_access_log_task

    # given the beat schedule (Celery beat, or the in-process scheduler in the embedded mode)
    entry = settings.CELERY_BEAT_SCHEDULE["purge-access-log"]
    assert entry["task"] == "civicgrid.audit.tasks.purge_access_log_task"
    # when the task runs / then it deletes only what is past the retention
    kept, gone = old_entry(30), old_entry(500)
    assert purge_access_log_task() == 1
    assert list(AccessLogEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not AccessLogEntry.objects.filter(pk=gone.pk).exists()


# --- who appoints the security administrator ------------------------------------------------------


def test_no_account_can_grant_or_take_the_security_role_through_the_application(city, security_admin):
    from django.core.exceptions import ValidationError

    from civicgrid.org import actions as org_actions

    root = User.objects.create_superuser("root", "root@example.org", "x", role="administrator")
    # a superuser administrator cannot make themselves, or anyone, a security administrator
    for target in (root, city.dispatcher):
        with pytest.raises(ValidationError) as refused:
            org_actions.set_role(target, "security_admin", actor=root)
        assert refused.value.error_dict["role"][0].code == "security_admin_by_operator"
    with pytest.raises(ValidationError):
        org_actions.create_staff(username="spy", role="security_admin", actor=root)
    # nor take the role away from the security administrator
    with pytest.raises(ValidationError):
        org_actions.set_role(security_admin, "administrator", actor=root)
    assert "audit.view" not in allowed_actions(User.objects.get(pk=root.pk))


def test_the_admin_cannot_edit_or_reset_the_password_of_a_security_administrator(client, security_admin):
    root = User.objects.create_superuser("root", "root@example.org", "x", role="administrator")
    client.force_login(root)
    change = reverse("admin:org_user_change", args=[security_admin.pk])
    password = reverse("admin:auth_user_password_change", args=[security_admin.pk])
    # the change form is read-only and the password form refused
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(change, {"username": "secadmin", "role": "administrator"}).status_code == 403
    assert client.get(password).status_code == 403
    assert client.post(password, {"password1": "Takeover-123!", "password2": "Takeover-123!"}).status_code == 403
    security_admin.refresh_from_db()
    assert security_admin.role == "security_admin"


def test_the_operator_command_grants_revokes_and_lists():
    import io

    out = io.StringIO()
    # when the operator appoints a new account
    call_command("security_admin", "grant", "auditor", "--create", stdout=out)
    auditor = User.objects.get(username="auditor")
    assert (auditor.role, auditor.is_staff, auditor.has_usable_password()) == ("security_admin", True, False)
    assert has_permission(auditor, "audit.view")
    call_command("security_admin", "list", stdout=out)
    assert "auditor" in out.getvalue()
    # and removes them again
    call_command("security_admin", "revoke", "auditor", stdout=out)
    auditor.refresh_from_db()
    assert auditor.role == "" and not has_permission(auditor, "audit.view")
    # a superuser cannot be both
    User.objects.create_superuser("root", "root@example.org", "x")
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("security_admin", "grant", "root", stdout=out)
