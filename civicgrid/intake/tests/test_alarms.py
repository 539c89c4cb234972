"""Sensor and video alarms: rules map them to categories; repeats from one device within the
window update the one open case; every rejection reason."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.intake import actions
from civicgrid.intake.alarms import parse_alarm
from civicgrid.intake.models import Alarm, AlarmIncident, AlarmRule
from civicgrid.intake.records import RecordErrors
from civicgrid.intake.tests.conftest import GRID, POINT
from civicgrid.taxonomy.models import Category

ALARMS = "/api/v1/intake/alarms"
T0 = datetime(2026, 11, 24, 8, 0)


@pytest.fixture
def rules(city):
    """The default rules, with their categories."""
    Category.objects.create(kind="governance", code="92004", major_code="92", major_name="安全隐患",
                            name="防汛防台安全隐患")
    Category.objects.create(kind="governance", code="92002", major_code="92", major_name="安全隐患", name="燃气安全隐患")
    Category.objects.create(kind="matter", code="09009", major_code="09", major_name="街面秩序", name="机动车乱停放")
    actions.load_default_alarm_rules()
    return city


def alarm(minutes=0, **overrides):
    record = {
        "device_id": "WL-JM-0007", "alarm_type": "water_level", "value": 35, "threshold": 20,
        "alarm_time": timezone.make_aware(T0 + timedelta(minutes=minutes)).isoformat(),
        "lon": POINT[0], "lat": POINT[1],
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def errors_of(record) -> dict[str, str]:
    with pytest.raises(RecordErrors) as caught:
        parse_alarm(record)
    return {e.field: e.code for e in caught.value.errors}


def test_default_rules_are_seeded_for_existing_categories_only(city):
    # given only the garbage category (from the fixture)
    # when the defaults are loaded twice
    actions.load_default_alarm_rules()
    actions.load_default_alarm_rules()
    # then only the garbage rule exists, once
    assert list(AlarmRule.objects.values_list("alarm_type", flat=True)) == ["garbage_exposed"]


def test_an_alarm_opens_a_case_of_the_rules_category(rules):
    # given a water-level alarm above its threshold
    received = actions.receive_alarm(rules.client, alarm())
    # then a sensor case of the flood category, urgent, titled from the template, in the grid
    case = received.case
    assert received.created
    assert case.channel == "sensor" and case.category.code == "92004" and case.urgency == "urgent"
    assert case.title == "积水告警：WL-JM-0007 水位 35cm（阈值 20cm）"
    assert case.region_code == GRID
    assert case.reported_at == timezone.make_aware(T0)


def test_repeats_within_the_window_update_the_one_open_case(rules):
    # given a first alarm (window 120 minutes)
    first = actions.receive_alarm(rules.client, alarm(0)).case
    # when the device alarms again after 30 and 100 minutes (each within 120 of the last)
    second = actions.receive_alarm(rules.client, alarm(30, value=42))
    third = actions.receive_alarm(rules.client, alarm(130, value=38))
    # then no new case: the open one counts three alarms and has a timeline event per repeat
    assert second.case == first and third.case == first
    assert (second.repeat, third.alarm_count) == (True, 3)
    assert Case.objects.filter(channel="sensor").count() == 1
    incident = AlarmIncident.objects.get()
    assert (incident.alarm_count, incident.last_value, incident.max_value) == (3, 38, 42)
    repeats = CaseEvent.objects.filter(case=first, action="alarm_repeat").order_by("pk")
    assert [(e.data["value"], e.data["count"]) for e in repeats] == [(42, 2), (38, 3)]
    assert Alarm.objects.count() == 3


def test_after_the_window_a_new_case_is_opened(rules):
    # given a first alarm
    first = actions.receive_alarm(rules.client, alarm(0)).case
    # when the device alarms again 121 minutes later (window 120)
    later = actions.receive_alarm(rules.client, alarm(121))
    # then that is a new case
    assert later.created and later.case != first


def test_once_the_case_is_closed_a_new_case_is_opened(rules, staff):
    # given an alarm whose case was then cancelled by the dispatcher
    first = actions.receive_alarm(rules.client, alarm(0)).case
    case_actions.cancel_case(first, "已处理", staff.dispatcher)
    # when the device alarms again within the window
    again = actions.receive_alarm(rules.client, alarm(10))
    # then a new case opens
    assert again.created and again.case != first


def test_other_devices_and_types_open_their_own_cases(rules):
    # given a first alarm
    first = actions.receive_alarm(rules.client, alarm(0)).case
    # when another device, and the same device with another alarm type, alarm within the window
    other_device = actions.receive_alarm(rules.client, alarm(5, device_id="WL-JM-0008")).case
    other_type = actions.receive_alarm(rules.client, alarm(5, alarm_type="gas", value=30, threshold=25)).case
    # then each has its own case
    assert len({first.pk, other_device.pk, other_type.pk}) == 3


def test_a_resent_alarm_id_changes_nothing(rules):
    # given an alarm with its own id
    first = actions.receive_alarm(rules.client, alarm(0, alarm_id="A-1"))
    # when it is sent again
    again = actions.receive_alarm(rules.client, alarm(0, alarm_id="A-1"))
    # then the same case, no repeat counted
    assert again.case == first.case and not again.created
    assert AlarmIncident.objects.get().alarm_count == 1
    assert not CaseEvent.objects.filter(action="alarm_repeat").exists()


def test_an_alarm_by_region_code_and_a_video_alarm_without_threshold(rules):
    # given an illegal-parking detection (no threshold needed) placed by grid code
    received = actions.receive_alarm(rules.client, alarm(
        alarm_type="illegal_parking", value=None, threshold=None, lon=None, lat=None, grid_code=GRID))
    # then a case of the parking category in that grid
    assert received.case.category.code == "09009"
    assert received.case.region_code == GRID
    assert received.case.title == "视频识别违停：WL-JM-0007"


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"device_id": None}, "device_id", "required"),
    ({"device_id": "设备 7"}, "device_id", "invalid"),
    ({"alarm_type": None}, "alarm_type", "required"),
    ({"alarm_type": "face_match"}, "alarm_type", "unknown_alarm_type"),
    ({"value": None}, "value", "required"),
    ({"threshold": None}, "threshold", "required"),
    ({"value": "high"}, "value", "invalid"),
    ({"value": 20}, "value", "below_threshold"),
    ({"alarm_time": None}, "alarm_time", "required"),
    ({"alarm_time": "2099-01-01T00:00:00+08:00"}, "alarm_time", "in_future"),
    ({"alarm_time": "soon"}, "alarm_time", "invalid"),
    ({"lon": None, "lat": None}, "lon", "required"),
    ({"lat": None}, "lat", "required"),
    ({"lon": 200}, "lon", "out_of_range"),
    ({"lon": 116.0, "lat": 40.0}, "lon", "outside_regions"),
    ({"lon": None, "lat": None, "region_code": "35021100100"}, "region_code", "invalid_format"),
    ({"lon": None, "lat": None, "region_code": "350211009009009"}, "region_code", "unknown_region"),
])
def test_each_rejection_reason_of_an_alarm(rules, overrides, field, code):
    # given an otherwise good alarm with one fault
    # then exactly that fault is reported
    assert errors_of(alarm(**overrides)) == {field: code}


def test_an_inactive_rule_handles_nothing(rules):
    # given the water-level rule switched off
    AlarmRule.objects.filter(alarm_type="water_level").update(is_active=False)
    # then its alarms are refused
    assert errors_of(alarm()) == {"alarm_type": "unknown_alarm_type"}


def test_a_title_template_with_an_unknown_placeholder_is_refused(rules):
    # given a rule whose template names a person
    rule = AlarmRule.objects.get(alarm_type="gas")
    rule.title_template = "{name} by {person}"
    # when it is saved
    with pytest.raises(ValidationError) as caught:
        actions.save_alarm_rule(rule)
    # then the template is refused
    assert caught.value.error_dict["title_template"][0].code == "unknown_placeholder"


def test_the_alarm_endpoint_answers_new_and_repeat(rules):
    # given the API client with the key
    api = APIClient()
    # when two alarms of one device arrive, then a bad one
    first = api.post(ALARMS, alarm(0), format="json", HTTP_X_API_KEY=rules.api_key)
    repeat = api.post(ALARMS, alarm(5), format="json", HTTP_X_API_KEY=rules.api_key)
    bad = api.post(ALARMS, alarm(6, value=1), format="json", HTTP_X_API_KEY=rules.api_key)
    # then 201 for the new case, 200 with the counter for the repeat, 400 with the field code
    assert first.status_code == 201
    assert repeat.status_code == 200
    assert repeat.json() | {"case_number": None} == {
        "case_number": None, "state": "reported", "created": False, "repeat": True, "alarm_count": 2}
    assert repeat.json()["case_number"] == first.json()["case_number"]
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["value"][0]["code"] == "below_threshold"
    # and a wrong key is refused
    assert api.post(ALARMS, alarm(7), format="json", HTTP_X_API_KEY="x").status_code == 403
