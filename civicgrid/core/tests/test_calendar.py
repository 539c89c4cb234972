import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings

from civicgrid.core import actions, calendar, selectors
from civicgrid.core.calendar import add_working_time, next_working_moment, working_time_between
from civicgrid.core.models import CalendarOverride, CalendarRevision

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def hours(value) -> datetime.timedelta:
    return datetime.timedelta(hours=value)


# --- which days work ---------------------------------------------------------------------------


def test_2026_national_day_holiday_and_its_make_up_days():
    # given the official 2026 schedule
    # when / then 10-01..07 are off, Sunday 09-20 and Saturday 10-10 work, Saturday 09-19 does not
    for day in range(1, 8):
        assert not calendar.is_working_day(datetime.date(2026, 10, day))
    assert calendar.is_working_day(datetime.date(2026, 9, 20))
    assert calendar.is_working_day(datetime.date(2026, 10, 10))
    assert not calendar.is_working_day(datetime.date(2026, 9, 19))
    assert calendar.is_working_day(datetime.date(2026, 10, 8))


def test_is_working_day_takes_an_aware_datetime_at_its_local_date():
    # given 2026-10-07 20:00 UTC, which is 10-08 04:00 in Shanghai (a working day)
    moment = datetime.datetime(2026, 10, 7, 20, 0, tzinfo=datetime.UTC)
    # when / then the local date decides
    assert calendar.is_working_day(moment)


def test_year_schedule_2026_lists_holidays_and_make_up_days():
    # given / when
    info = calendar.year_schedule(2026)
    # then
    assert info.confirmed and info.source == calendar.SOURCE_OFFICIAL
    makeup = [day for day, _name in info.makeup_days]
    assert datetime.date(2026, 9, 20) in makeup and datetime.date(2026, 10, 10) in makeup
    off = dict(info.days_off)
    assert all(off[datetime.date(2026, 10, d)] == "National Day" for d in range(1, 8))


# --- adding working days -------------------------------------------------------------------------


def test_three_working_days_from_30_september_2026_fall_on_the_make_up_saturday():
    # given a case filed on Wednesday 2026-09-30 16:00 with a 3-working-day limit
    # when
    due = add_working_time(at("2026-09-30 16:00"), 3, "days")
    # then 10-08, 10-09 and the make-up Saturday 10-10 count: due Saturday 16:00, not Monday 10-12
    assert due == at("2026-10-10 16:00")
    assert due.weekday() == 5


def test_working_days_from_after_closing_count_from_the_next_opening():
    # given Friday 2026-09-11 18:00, after closing
    # when one working day is added
    due = add_working_time(at("2026-09-11 18:00"), 1, "days")
    # then counting starts at Monday 08:30, so it is due Tuesday 08:30
    assert due == at("2026-09-15 08:30")


def test_working_days_from_a_holiday_count_from_the_next_opening():
    # given Saturday 2026-10-03, inside the National Day holiday
    # when one working day is added
    due = add_working_time(at("2026-10-03 10:00"), 1, "days")
    # then counting starts at Thursday 10-08 08:30
    assert due == at("2026-10-09 08:30")


def test_working_days_starting_in_the_lunch_break_count_from_the_afternoon_opening():
    # given Wednesday 2026-09-16 12:30
    # when
    due = add_working_time(at("2026-09-16 12:30"), 2, "days")
    # then
    assert due == at("2026-09-18 14:30")


def test_fractional_working_days_add_that_share_of_an_office_day():
    # given a full office day of 6.5 hours
    # when half a working day is added at opening time
    due = add_working_time(at("2026-09-16 08:30"), Decimal("1.5"), "days")
    # then one day by the clock, then 3 h 15 min of office time
    assert due == at("2026-09-17 11:45")


# --- adding working hours ------------------------------------------------------------------------


def test_hours_skip_the_lunch_break():
    # given Wednesday 2026-09-16 11:00
    # when
    due = add_working_time(at("2026-09-16 11:00"), 2, "hours")
    # then one hour before lunch, one after 14:30
    assert due == at("2026-09-16 15:30")


def test_hours_that_run_out_at_closing_time_end_at_closing_time():
    # given / when / then 12:00 stays 12:00 rather than the 14:30 reopening
    assert add_working_time(at("2026-09-16 10:00"), 2, "hours") == at("2026-09-16 12:00")
    assert add_working_time(at("2026-09-16 08:30"), Decimal("6.5"), "hours") == at("2026-09-16 17:30")
    assert add_working_time(at("2026-09-16 08:30"), 13, "hours") == at("2026-09-17 17:30")


def test_hours_skip_the_weekend():
    # given Friday 2026-09-11 16:30
    # when
    due = add_working_time(at("2026-09-11 16:30"), 2, "hours")
    # then one hour on Friday, one on Monday
    assert due == at("2026-09-14 09:30")


def test_hours_use_the_make_up_sunday():
    # given Friday 2026-09-18 16:30; Sunday 09-20 is a make-up working day
    # when
    due = add_working_time(at("2026-09-18 16:30"), 2, "hours")
    # then
    assert due == at("2026-09-20 09:30")


def test_hours_starting_before_opening_start_at_opening():
    assert add_working_time(at("2026-09-16 07:00"), 1, "hours") == at("2026-09-16 09:30")


def test_hours_starting_after_closing_start_next_working_morning():
    assert add_working_time(at("2026-09-16 18:00"), 1, "hours") == at("2026-09-17 09:30")


def test_hours_starting_on_a_holiday_start_after_it():
    # given National Day 2026-10-01
    # when
    due = add_working_time(at("2026-10-01 09:00"), 4, "hours")
    # then the clock starts on Thursday 10-08 08:30
    assert due == at("2026-10-08 15:00")


def test_hours_across_the_national_day_holiday_land_on_the_make_up_saturday():
    # given Wednesday 2026-09-30 16:00 and 15 working hours
    # when
    due = add_working_time(at("2026-09-30 16:00"), 15, "hours")
    # then 1.5 h on 09-30, 6.5 h on 10-08 and on 10-09, 0.5 h on Saturday 10-10
    assert due == at("2026-10-10 09:00")


def test_fractional_hours_and_many_days():
    assert add_working_time(at("2026-09-16 11:00"), Decimal("1.5"), "hours") == at("2026-09-16 15:00")
    # 7 h from Wednesday opening: a full day and half an hour
    assert add_working_time(at("2026-09-16 08:30"), 7, "hours") == at("2026-09-17 09:00")


def test_zero_hours_give_the_next_working_moment():
    assert add_working_time(at("2026-09-16 12:00"), 0, "hours") == at("2026-09-16 14:30")
    assert next_working_moment(at("2026-09-16 12:00")) == at("2026-09-16 14:30")
    assert next_working_moment(at("2026-09-16 09:00")) == at("2026-09-16 09:00")
    assert next_working_moment(at("2026-09-30 17:30")) == at("2026-10-08 08:30")


def test_results_are_in_the_configured_time_zone():
    # given a UTC moment equal to 2026-09-30 16:00 in Shanghai
    start = datetime.datetime(2026, 9, 30, 8, 0, tzinfo=datetime.UTC)
    # when
    due = add_working_time(start, 3, "days")
    # then
    assert due == at("2026-10-10 16:00")
    assert due.utcoffset() == hours(8)
    assert str(due.tzinfo) == "Asia/Shanghai"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        add_working_time(datetime.datetime(2026, 9, 30, 16, 0), 3, "days")  # naive
    with pytest.raises(ValueError):
        add_working_time(at("2026-09-30 16:00"), -1, "hours")
    with pytest.raises(ValueError):
        add_working_time(at("2026-09-30 16:00"), 1, "weeks")
    with pytest.raises(ValueError):
        add_working_time(at("2100-06-01 09:00"), 1, "days")


@override_settings(CIVICGRID_OFFICE_HOURS="09:00-17:00")
def test_office_hours_come_from_settings():
    # given one office interval 09:00-17:00
    # when / then there is no lunch break and opening is 09:00
    assert add_working_time(at("2026-09-16 11:00"), 2, "hours") == at("2026-09-16 13:00")
    assert add_working_time(at("2026-09-16 16:00"), 2, "hours") == at("2026-09-17 10:00")
    assert working_time_between(at("2026-09-16 00:00"), at("2026-09-17 00:00")) == hours(8)


def test_bad_office_hours_are_a_configuration_error():
    for spec in ("", "08:30-12:00,11:00-17:30", "12:00-08:30", "8h-12h", "08:30-25:00"):
        with pytest.raises(ImproperlyConfigured):
            calendar.parse_office_hours(spec)


# --- elapsed working time -----------------------------------------------------------------------


def test_elapsed_working_time_across_the_national_day_holiday():
    # given 2026-09-30 16:00 and the deadline 2026-10-10 16:00
    # when
    elapsed = working_time_between(at("2026-09-30 16:00"), at("2026-10-10 16:00"))
    # then 1.5 h + 6.5 h + 6.5 h + 5 h; the seven holiday days count nothing
    assert elapsed == hours(19.5)
    assert calendar.working_hours_between(at("2026-09-30 16:00"), at("2026-10-10 16:00")) == Decimal("19.5")


def test_elapsed_working_time_within_a_day_skips_lunch_and_evenings():
    assert working_time_between(at("2026-09-16 11:00"), at("2026-09-16 15:00")) == hours(1.5)
    assert working_time_between(at("2026-09-16 18:00"), at("2026-09-17 08:00")) == hours(0)
    assert working_time_between(at("2026-10-02 09:00"), at("2026-10-05 17:00")) == hours(0)


def test_elapsed_working_time_is_negative_when_reversed():
    assert working_time_between(at("2026-10-10 16:00"), at("2026-09-30 16:00")) == -hours(19.5)


def test_elapsed_working_time_inverts_adding_hours():
    # given several starts, including ones outside office hours and on the make-up Sunday
    starts = ["2026-09-16 07:00", "2026-09-18 16:45", "2026-09-20 12:10", "2026-09-30 16:00", "2026-12-31 17:00"]
    for text in starts:
        for amount in (Decimal("0.25"), 3, 11, 40):
            # when
            due = add_working_time(at(text), amount, "hours")
            # then the office time between the opening and the due moment is the amount
            assert working_time_between(next_working_moment(at(text)), due) == hours(float(amount))


def test_elapsed_working_time_across_a_year_boundary_uses_both_years():
    # given 2026-12-31 (Thursday) 17:00 and Monday 2027-01-04 09:30; 2027-01-01 is New Year's Day
    # when / then half an hour in 2026, one hour in 2027
    assert working_time_between(at("2026-12-31 17:00"), at("2027-01-04 09:30")) == hours(1.5)
    assert calendar.working_days_between(datetime.date(2026, 12, 28), datetime.date(2027, 1, 5)) == 5


# --- overrides and the cache -----------------------------------------------------------------------


def test_an_override_changes_results_at_once():
    # given a deadline computed (and the 2026 table cached) before the override
    start = at("2026-09-30 16:00")
    assert add_working_time(start, 3, "days") == at("2026-10-10 16:00")
    # when the make-up Saturday is cancelled
    actions.set_calendar_override(datetime.date(2026, 10, 10), False, "Make-up day cancelled")
    # then the deadline moves to Monday 10-12
    assert not calendar.is_working_day(datetime.date(2026, 10, 10))
    assert add_working_time(start, 3, "days") == at("2026-10-12 16:00")
    # when the override is removed again
    assert actions.remove_calendar_override(datetime.date(2026, 10, 10)) is True
    # then the official schedule applies again
    assert add_working_time(start, 3, "days") == at("2026-10-10 16:00")


def test_a_working_day_override_adds_office_time():
    # given Saturday 2026-09-12, normally off
    before = working_time_between(at("2026-09-11 17:00"), at("2026-09-14 09:00"))
    # when it is made a working day
    actions.set_calendar_override(datetime.date(2026, 9, 12), True, "Extra working day", note="test")
    # then its 6.5 office hours count
    after = working_time_between(at("2026-09-11 17:00"), at("2026-09-14 09:00"))
    assert after - before == hours(6.5)
    assert CalendarOverride.objects.get(date=datetime.date(2026, 9, 12)).note == "test"


def test_calendar_actions_bump_the_revision():
    # given
    start = CalendarRevision.objects.get(pk=1).revision
    # when
    actions.set_calendar_override(datetime.date(2027, 2, 20), True, "Make-up working day")
    actions.confirm_year(2027)
    # then
    assert CalendarRevision.objects.get(pk=1).revision == start + 2


def test_another_process_change_is_seen_after_the_recheck_interval():
    # given this process has the 2026 table cached
    assert calendar.is_working_day(datetime.date(2026, 10, 10))
    # when another process adds an override and bumps the revision (no local cache clearing)
    CalendarOverride.objects.create(date=datetime.date(2026, 10, 10), is_working_day=False, name="x")
    CalendarRevision.objects.filter(pk=1).update(revision=999)
    # then within the recheck interval the cached table still answers
    with override_settings(CIVICGRID_CALENDAR_RECHECK_SECONDS=3600):
        assert calendar.is_working_day(datetime.date(2026, 10, 10))
    # and once the interval has passed the new revision drops it
    with override_settings(CIVICGRID_CALENDAR_RECHECK_SECONDS=0):
        assert not calendar.is_working_day(datetime.date(2026, 10, 10))


def test_override_actions_check_their_input():
    with pytest.raises(ValidationError) as error:
        actions.set_calendar_override(datetime.date(2026, 10, 10), False, "  ")
    assert error.value.error_dict["name"][0].code == "required"
    with pytest.raises(ValidationError) as error:
        actions.set_calendar_override(datetime.date(1990, 10, 10), False, "Old")
    assert error.value.error_dict["date"][0].code == "out_of_range"
    with pytest.raises(ValidationError) as error:
        actions.confirm_year(2200)
    assert error.value.error_dict["year"][0].code == "out_of_range"
    assert not CalendarOverride.objects.exists()


# --- unconfirmed years -----------------------------------------------------------------------------


def test_unconfirmed_year_falls_back_to_statutory_holidays():
    # given 2028, which no source confirms
    assert not calendar.is_year_confirmed(2028)
    # when / then National Day (Sunday 10-01) and its statutory days off are off, with the substitute
    # day for the Sunday, but the following Saturday is no make-up working day
    assert not calendar.is_working_day(datetime.date(2028, 10, 2))
    assert not calendar.is_working_day(datetime.date(2028, 10, 4))
    assert not calendar.is_working_day(datetime.date(2028, 10, 7))
    assert calendar.is_working_day(datetime.date(2028, 10, 5))
    assert add_working_time(at("2028-09-29 16:00"), 1, "days") == at("2028-10-05 16:00")
    assert calendar.year_schedule(2028).source == calendar.SOURCE_STATUTORY


def test_warnings_name_the_unconfirmed_current_and_next_year():
    # given today in 2027: neither 2027 nor 2028 is confirmed
    warnings = selectors.calendar_warnings(today=datetime.date(2027, 6, 1))
    # then one warning each
    assert len(warnings) == 2
    assert "2027" in warnings[0] and "2028" in warnings[1]
    # given today in 2026: 2026 is official, 2027 is not
    assert [("2027" in w) for w in selectors.calendar_warnings(today=datetime.date(2026, 11, 24))] == [True]


def test_confirming_a_year_with_its_overrides_ends_the_warning():
    # given the announced 2028 National Day schedule entered as overrides
    actions.set_calendar_override(datetime.date(2028, 10, 5), False, "National Day")
    actions.set_calendar_override(datetime.date(2028, 10, 6), False, "National Day")
    actions.set_calendar_override(datetime.date(2028, 10, 7), True, "Make-up working day")
    # when the year is confirmed
    entry = actions.confirm_year(2028, note="State Council notice")
    # then it is confirmed, warns no more and computes on the overrides
    assert entry.confirmed and entry.confirmed_at is not None
    assert calendar.is_year_confirmed(2028)
    warnings = selectors.calendar_warnings(today=datetime.date(2027, 6, 1))
    assert len(warnings) == 1 and "2027" in warnings[0]
    assert add_working_time(at("2028-09-29 16:00"), 1, "days") == at("2028-10-07 16:00")
    # when the confirmation is withdrawn
    actions.confirm_year(2028, confirmed=False)
    # then the warning is back
    assert any("2028" in w for w in selectors.calendar_warnings(today=datetime.date(2027, 6, 1)))
