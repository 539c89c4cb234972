import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from civicgrid.core import actions, calendar, selectors
from civicgrid.core.models import CalendarOverride, CalendarRevision, CalendarYear

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def admin_only_urls(settings):
    settings.ROOT_URLCONF = "civicgrid.core.tests.urls"


def revision() -> int:
    return CalendarRevision.objects.get(pk=1).revision


def test_admin_index_shows_the_unconfirmed_year_warnings(admin_client):
    # given today's next year is not confirmed (no source covers it yet)
    expected = selectors.calendar_warnings()
    assert expected
    # when the admin index is shown
    html = admin_client.get("/admin/").content.decode()
    # then each warning is on it, above the application list
    for warning in expected:
        assert warning in html
    assert html.index(expected[0]) < html.index('id="content-main"')


def test_admin_index_shows_no_warning_once_the_years_are_confirmed(admin_client):
    # given this year and the next one are confirmed
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        actions.confirm_year(year)
    # when
    html = admin_client.get("/admin/").content.decode()
    # then
    assert selectors.calendar_warnings() == []
    assert "calendar-warnings" not in html


def test_admin_saves_an_override_through_the_action(admin_client):
    # given the 2026 table is cached with Saturday 10-10 as a make-up working day
    start = datetime.datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)
    assert calendar.add_working_time(start, 3, "days").date() == datetime.date(2026, 10, 10)
    before = revision()
    # when an administrator cancels it in the admin
    response = admin_client.post(
        "/admin/core/calendaroverride/add/",
        {"date": "2026-10-10", "name": "Make-up day cancelled", "note": ""},
    )
    # then it is saved by the action (revision bumped) and deadlines move at once
    assert response.status_code == 302
    assert CalendarOverride.objects.get(date=datetime.date(2026, 10, 10)).is_working_day is False
    assert revision() == before + 1
    assert calendar.add_working_time(start, 3, "days").date() == datetime.date(2026, 10, 12)


def test_admin_deletes_an_override_through_the_action(admin_client):
    # given an override
    override = actions.set_calendar_override(datetime.date(2026, 10, 10), False, "Cancelled")
    assert not calendar.is_working_day(datetime.date(2026, 10, 10))
    before = revision()
    # when it is deleted in the admin
    response = admin_client.post(f"/admin/core/calendaroverride/{override.pk}/delete/", {"post": "yes"})
    # then
    assert response.status_code == 302
    assert not CalendarOverride.objects.exists()
    assert revision() == before + 1
    assert calendar.is_working_day(datetime.date(2026, 10, 10))


def test_admin_refuses_an_override_outside_the_calendar(admin_client):
    # when
    response = admin_client.post(
        "/admin/core/calendaroverride/add/", {"date": "1990-10-10", "name": "Too early", "is_working_day": "on"}
    )
    # then the form shows the error and nothing is saved
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"].as_data()[0].code == "out_of_range"
    assert not CalendarOverride.objects.exists()


def test_admin_confirms_a_year_and_shows_its_schedule(admin_client):
    # given 2028 is unconfirmed
    assert not calendar.is_year_confirmed(2028)
    # when an administrator confirms it
    response = admin_client.post("/admin/core/calendaryear/add/", {"year": "2028", "confirmed": "on", "note": "notice"})
    # then
    assert response.status_code == 302
    entry = CalendarYear.objects.get(year=2028)
    assert entry.confirmed and entry.confirmed_at is not None
    assert calendar.is_year_confirmed(2028)
    # and the change page lists the computed days off in Chinese
    page = admin_client.get(f"/admin/core/calendaryear/{entry.pk}/change/").content.decode()
    assert "2028-10-02" in page and "国庆节" in page
