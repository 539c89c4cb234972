import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from civicgrid.core import actions

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("calendar", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_add_prints_the_due_moment():
    # when
    out, _err = run("add", "2026-09-30 16:00", "3", "days")
    # then
    assert "result    2026-10-10 16:00 Sat (2026-10-10T16:00:00+08:00)" in out


def test_add_accepts_fractional_hours_and_an_offset():
    # given 08:00 UTC = 16:00 in Shanghai
    out, _err = run("add", "2026-09-30T08:00:00+00:00", "2.5", "hours")
    # then
    assert "result    2026-10-08 09:30 Thu" in out


def test_between_prints_elapsed_office_time():
    out, _err = run("between", "2026-09-30 16:00", "2026-10-10 16:00")
    assert "working   19.5 h (19:30:00)" in out


def test_next_prints_the_next_opening():
    out, _err = run("next", "2026-09-30 18:00")
    assert out.strip().startswith("2026-10-08 08:30 Thu")


def test_year_lists_holidays_make_up_days_and_status():
    # when / then 2026 is official, with its make-up Sunday and Saturday
    out, err = run("year", "2026")
    assert out.startswith("2026: confirmed; source: official schedule")
    assert "2026-09-20 Sun  National Day" in out and "2026-10-10 Sat  National Day" in out
    assert "2026-10-07 Wed  National Day" in out
    assert err == ""
    # when / then 2028 is not confirmed and warns
    out, err = run("year", "2028")
    assert out.startswith("2028: NOT CONFIRMED")
    assert "2028" in err


def test_year_marks_overrides():
    actions.set_calendar_override(datetime.date(2028, 10, 7), True, "Make-up working day")
    out, _err = run("year", "2028")
    assert "2028-10-07 Sat  Make-up working day [override]" in out


def test_bad_input_is_a_command_error():
    with pytest.raises(CommandError):
        run("add", "yesterday", "3", "days")
    with pytest.raises(CommandError):
        run("add", "2026-09-30 16:00", "three", "days")
    with pytest.raises(CommandError):
        run("year", "1990")
