"""The story of issue 4: one flooded underpass reported by 12345, by a grid worker with a photo and
by a water-level sensor ends as one case, with three reporters and three channels on its timeline."""

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.intake import actions
from civicgrid.intake.tests.conftest import GRID, POINT
from civicgrid.org.models import GridAssignment, Role, User
from civicgrid.taxonomy.models import Category


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(buffer, "JPEG")
    return SimpleUploadedFile("underpass.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_flooded_underpass_reported_three_ways_is_one_case(staff):
    # given the flood category with its default alarm rule, a dispatcher and a grid worker of the grid
    city = staff
    flood = Category.objects.create(kind="governance", code="92004", major_code="92", major_name="安全隐患",
                                    name="防汛防台安全隐患", keywords="积水、内涝、水淹")
    actions.load_default_alarm_rules()
    worker = User.objects.create_user(username="gw", password="x", role=Role.GRID_WORKER,
                                      jurisdiction=city.regions["350211001001"])
    GridAssignment.objects.create(grid=city.regions[GRID], worker=worker)
    now = timezone.now().replace(microsecond=0)

    # when a citizen calls 12345 and the hotline pushes the work order (geocoded by the hotline)
    hotline = APIClient().post("/api/v1/intake/12345/orders", {
        "order_no": "XM12345-20261124-0815", "called_at": (now - timedelta(minutes=40)).isoformat(),
        "request_type": "求助", "content": "岑西路下穿通道积水很深，车辆被困，请尽快处理",
        "address": "厦门市集美区集美街道岑西社区岑西路下穿通道", "lon": POINT[0], "lat": POINT[1],
        "contact_name": "陈女士", "contact_phone": "13800138000", "urgency": "紧急",
    }, format="json", HTTP_X_API_KEY=city.api_key)
    assert hotline.status_code == 201, hotline.json()
    main = Case.objects.get(number=hotline.json()["case_number"])

    # and the dispatcher files it as a flood hazard (立案): a merge needs both reports' categories
    main = case_actions.file_case(main, staff.dispatcher, category=flood)

    # and a grid worker on patrol reports it with a photo, a few metres away
    patrol = case_actions.report_case_with_photos(
        photos=[photo()], channel="grid_patrol", actor=worker, title="岑西路下穿通道积水",
        description="下穿通道积水约四十厘米，有车辆被困", category=flood, lon=POINT[0] + 0.0001,
        lat=POINT[1], reporter_name="网格员李明", reported_at=now - timedelta(minutes=25))

    # and the water-level sensor in the underpass alarms
    sensor = actions.receive_alarm(city.client, {
        "device_id": "WL-JM-0007", "alarm_type": "water_level", "value": 42, "threshold": 20,
        "alarm_time": (now - timedelta(minutes=10)).isoformat(), "lon": POINT[0], "lat": POINT[1] + 0.0001,
        "address": "岑西路下穿通道", "description": "岑西路下穿通道水位超警戒",
    })

    # then the later reports were merged into the 12345 case: one open case for the incident
    patrol.refresh_from_db()
    assert patrol.state == "merged" and patrol.parent_id == main.pk
    assert sensor.case.state == "merged" and sensor.case.parent_id == main.pk
    assert Case.objects.exclude(state="merged").count() == 1
    main.refresh_from_db()
    assert main.state == "filed" and main.category == flood

    # and its timeline shows three reporters over three channels
    report_event = CaseEvent.objects.get(case=main, action="report")
    merged_in = list(CaseEvent.objects.filter(case=main, action="merged_in").order_by("at", "pk"))
    channels = [report_event.data["channel"], *(e.data["channel"] for e in merged_in)]
    assert channels == ["hotline_12345", "grid_patrol", "sensor"]
    reporters = {main.reporter_name, *Case.objects.filter(parent=main).values_list("reporter_name", flat=True)}
    assert reporters == {"陈女士", "网格员李明", "WL-JM-0007"}

    # and the grid worker's photo is kept with the report, the alarm with the incident on the case
    assert Attachment.objects.filter(case__in=[main, patrol]).count() == 1
    assert main.alarm_incidents.get().device_id == "WL-JM-0007"

    # and the sensor alarming again within the window updates the same case
    repeat = actions.receive_alarm(city.client, {
        "device_id": "WL-JM-0007", "alarm_type": "water_level", "value": 48, "threshold": 20,
        "alarm_time": now.isoformat(), "lon": POINT[0], "lat": POINT[1] + 0.0001,
    })
    assert repeat.case == main and repeat.alarm_count == 2
    assert CaseEvent.objects.filter(case=main, action="alarm_repeat").get().data["value"] == 48
