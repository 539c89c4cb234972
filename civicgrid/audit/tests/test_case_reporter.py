"""Case reporter contact: encrypted at rest on both databases, masked on every API and page,
found by phone through the blind index, unmasked on the console only with a reason (logged)."""

import importlib

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from civicgrid.audit.models import AccessAction, AccessLogEntry
from civicgrid.cases import actions
from civicgrid.cases.models import Case
from civicgrid.cases.tests.builders import lead_of
from civicgrid.cases.tests.conftest import GRID
from civicgrid.core import crypto
from civicgrid.core.fields import blind_lookup
from civicgrid.regions import generation
from civicgrid.regions.models import Region

from .conftest import all_text_in_database, stored_row

pytestmark = pytest.mark.django_db

NAME, PHONE = "欧阳娜娜", "13912341234"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_case_reported_through_the_api_leaves_no_clear_name_or_phone_in_the_database(city):
    # given a grid worker reporting with the reporter's contact, at a point in their grid
    Region.objects.filter(code=GRID).update(geometry={"type": "Polygon", "coordinates": [[
        [118.10, 24.60], [118.11, 24.60], [118.11, 24.61], [118.10, 24.61], [118.10, 24.60],
    ]]})
    generation.bump()
    response = api_for(city.grid_worker).post("/api/v1/cases/", {
        "channel": "grid_patrol", "title": "井盖缺失", "lon": 118.1005, "lat": 24.6005,
        "reporter_name": NAME, "reporter_phone": "139 1234 1234",
    }, format="json", HTTP_IDEMPOTENCY_KEY="report-1")
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()["number"])
    # when the table is read with raw SQL
    name, phone, digest = stored_row("cases_case", case.pk, ["reporter_name", "reporter_phone", "reporter_phone_hash"])
    text = all_text_in_database()
    # then neither value is anywhere in any table (cases, timeline, idempotency replay …), the
    # columns are ciphertexts, the hash is the keyed hash
    assert NAME not in text and PHONE not in text and "1234 1234" not in text
    assert crypto.is_encrypted(name) and crypto.is_encrypted(phone)
    assert digest == crypto.blind_index(PHONE, crypto.PHONE)
    # and the model reads the clear values back
    case.refresh_from_db()
    assert (case.reporter_name, case.reporter_phone) == (NAME, PHONE)


def test_a_case_reported_by_the_action_holds_no_clear_name_or_phone(report):
    # given a case made by report_case (every channel goes through it)
    case = report(reporter_name=NAME, reporter_phone=PHONE)
    # then no table holds either
    text = all_text_in_database()
    assert NAME not in text and PHONE not in text
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONE


def test_an_anonymous_report_stays_empty(report):
    case = report()
    assert stored_row("cases_case", case.pk, ["reporter_name", "reporter_phone", "reporter_phone_hash"]) == ("", "", "")


def test_encrypted_columns_cannot_be_searched_by_value_but_by_blind_index(report):
    # given two cases from different phones
    mine = report(reporter_phone=PHONE)
    report(reporter_phone="13800001111")
    # when searching the encrypted column directly / then refused, not silently empty
    with pytest.raises(FieldError):
        list(Case.objects.filter(reporter_phone=PHONE))
    with pytest.raises(FieldError):
        list(Case.objects.filter(reporter_name__contains="欧阳"))
    # and the blind index finds the case however the number is written
    assert list(Case.objects.filter(**blind_lookup(Case, "reporter_phone", "+86 139-1234-1234"))) == [mine]
    assert Case.objects.filter(reporter_phone="").count() == 0


def test_the_case_list_filters_by_reporter_phone_and_masks_it(city, report):
    # given two cases
    mine = report(reporter_name=NAME, reporter_phone=PHONE)
    report(reporter_name="李四", reporter_phone="13800001111")
    # when the dispatcher searches by phone
    response = api_for(city.dispatcher).get("/api/v1/cases/", {"reporter_phone": "139 1234 1234"})
    # then only that case, with the contact masked
    rows = response.json()["results"]
    assert [r["number"] for r in rows] == [mine.number]
    assert (rows[0]["reporter_name"], rows[0]["reporter_phone"]) == ("欧阳**", "139****1234")


@pytest.mark.parametrize("who", ["dispatcher", "leader", "admin", "grid_worker"])
def test_the_case_api_masks_the_reporter_for_every_role(city, report, who):
    # given a case in the grid worker's grid
    case = report(reporter_name=NAME, reporter_phone=PHONE)
    client = api_for(getattr(city, who))
    # when anyone reads the list and the detail
    bodies = [client.get("/api/v1/cases/").content.decode(), client.get(f"/api/v1/cases/{case.number}/").content.decode()]
    # then the reporter is masked in both
    for body in bodies:
        assert NAME not in body and PHONE not in body
        assert "139****1234" in body


def test_the_department_task_page_masks_the_reporter(client, city, report):
    # given a case dispatched to the city-management department
    case = report(reporter_name=NAME, reporter_phone=PHONE)
    case = actions.file_case(case, city.dispatcher, category=city.category)
    case = actions.dispatch_case(case, city.city_management, [], city.dispatcher)
    assignment = lead_of(case)
    client.force_login(city.cm_handler)
    # when the handler opens the task
    html = client.get(reverse("web:dept:task", args=[assignment.pk])).content.decode()
    # then the reporter is masked
    assert NAME not in html and PHONE not in html
    assert "139****1234" in html


def test_the_admin_case_page_masks_the_reporter(client, city, report):
    # given a superuser in the admin
    from civicgrid.org.models import User

    root = User.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(root)
    case = report(reporter_name=NAME, reporter_phone=PHONE)
    # when the case's admin page is opened
    response = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    html = response.content.decode()
    # then the contact is masked there too
    assert response.status_code == 200
    assert NAME not in html and PHONE not in html and "139****1234" in html


# --- the console's Show button -----------------------------------------------------------------------


def test_the_console_shows_the_contact_only_with_a_reason_and_logs_it(client, city, report):
    # given a dispatcher on a case page, masked, with a Show button
    case = report(reporter_name=NAME, reporter_phone=PHONE)
    client.force_login(city.dispatcher)
    page = client.get(reverse("web:console:case", args=[case.number]), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert PHONE not in page and "reveal-reporter" in page and "显示上报人联系方式" in page
    reveal_url = reverse("web:console:reveal_reporter", args=[case.number])
    # when they ask without a reason
    refused = client.post(reveal_url, {"reason": "  "})
    # then nothing is shown and nothing logged
    assert refused.status_code == 400
    assert PHONE not in refused.content.decode()
    assert AccessLogEntry.objects.count() == 0
    # when they give a reason
    shown = client.post(reveal_url, {"reason": "回访核实诉求"}, HTTP_USER_AGENT="TestBrowser/1.0",
                        REMOTE_ADDR="10.1.2.3")
    html = shown.content.decode()
    # then this answer holds the clear contact, is not cacheable, and two entries are logged
    assert shown.status_code == 200
    assert NAME in html and PHONE in html
    assert "no-store" in shown["Cache-Control"] or "no-cache" in shown["Cache-Control"]
    entries = list(AccessLogEntry.objects.order_by("fields"))
    assert [(e.username, e.action, e.object_type, e.object_id, e.object_label, e.fields, e.reason, e.ip,
             e.user_agent) for e in entries] == [
        ("dispatcher", AccessAction.UNMASK, "cases.case", str(case.pk), case.number, f, "回访核实诉求",
         "10.1.2.3", "TestBrowser/1.0") for f in ("reporter_name", "reporter_phone")
    ]
    # and the next page view is masked again
    assert PHONE not in client.get(reverse("web:console:case", args=[case.number])).content.decode()


def test_a_leader_without_the_permission_gets_no_button_and_a_403(client, city, report):
    case = report(reporter_name=NAME, reporter_phone=PHONE)
    client.force_login(city.leader)
    page = client.get(reverse("web:console:case", args=[case.number])).content.decode()
    assert "reveal-reporter" not in page
    response = client.post(reverse("web:console:reveal_reporter", args=[case.number]), {"reason": "想看看"})
    assert response.status_code == 403
    assert AccessLogEntry.objects.count() == 0


def test_another_districts_case_cannot_be_revealed(client, city, report):
    # given a case in 思明区 and the 集美 dispatcher
    from civicgrid.cases.tests.conftest import SIMING_GRID

    case = report(region_code=SIMING_GRID, reporter_phone=PHONE)
    client.force_login(city.dispatcher)
    # when they try to reveal it / then 404 and nothing logged
    response = client.post(reverse("web:console:reveal_reporter", args=[case.number]), {"reason": "核实"})
    assert response.status_code == 404
    assert AccessLogEntry.objects.count() == 0


# --- the migration that encrypts existing rows ---------------------------------------------------------


def test_the_migration_encrypts_rows_stored_in_clear(report):
    # given a row whose contact was written in clear before the migration (raw SQL)
    case = report()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET reporter_name = %s, reporter_phone = %s WHERE id = %s",
                       [NAME, PHONE, case.pk])
    # when the migration's data step runs
    migration = importlib.import_module("civicgrid.cases.migrations.0006_encrypt_reporter_contact")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.encrypt_existing(None, editor)
    # then the row is encrypted, indexed and reads back
    name, phone, digest = stored_row("cases_case", case.pk, ["reporter_name", "reporter_phone", "reporter_phone_hash"])
    assert crypto.is_encrypted(name) and crypto.is_encrypted(phone)
    assert digest == crypto.blind_index(PHONE, crypto.PHONE)
    case.refresh_from_db()
    assert (case.reporter_name, case.reporter_phone) == (NAME, PHONE)
    # and running it again changes nothing
    migration.encrypt_existing(None, editor)
    assert stored_row("cases_case", case.pk, ["reporter_name", "reporter_phone"]) == (name, phone)
