"""12345 work orders: parsing, every rejection reason, and files of orders (CSV, Excel)."""

from datetime import datetime

import pytest
from django.utils import timezone

from civicgrid.intake.hotline import parse_order, read_orders
from civicgrid.intake.records import RecordErrors
from civicgrid.intake.tests.conftest import GRID, POINT


def chinese_order(**overrides):
    order = {
        "工单编号": "XM12345-20261124-0001", "来电时间": "2026-11-24 09:30:00", "诉求类型": "投诉",
        "诉求内容": "集美街道岑西社区东侧下穿通道积水严重，车辆无法通行。", "诉求地址": "厦门市集美区集美街道岑西社区东侧下穿通道",
        "联系人": "张先生", "联系电话": "139 1234 5678", "紧急程度": "紧急", "办理时限": "3个工作日", "来源": "电话",
    }
    order.update(overrides)
    return {k: v for k, v in order.items() if v is not None}


def errors_of(record) -> dict[str, str]:
    with pytest.raises(RecordErrors) as caught:
        parse_order(record)
    return {e.field: e.code for e in caught.value.errors}


def test_a_chinese_order_becomes_a_hotline_report(city):
    # given a work order with the Chinese column names
    # when it is parsed
    report = parse_order(chinese_order())
    # then every field lands where the case wants it, the address resolved to the community
    assert report.channel == "hotline_12345"
    assert report.external_id == "XM12345-20261124-0001"
    assert report.request_type == "complaint"
    assert report.urgency == "urgent"
    assert report.region_code == "350211001001"
    assert report.reporter_phone == "13912345678"
    assert report.reporter_name == "张先生"
    assert report.reported_at == timezone.make_aware(datetime(2026, 11, 24, 9, 30))
    assert report.title.startswith("集美街道岑西社区东侧下穿通道积水严重")
    assert report.extra["time_limit"] == {"text": "3个工作日", "amount": "3", "unit": "working_days"}
    assert report.extra["source"] == "电话"


def test_an_ascii_order_with_a_point_is_located_in_the_grid(city):
    # given the documented ASCII keys and a point instead of an address
    record = {
        "order_no": "A-1", "called_at": "2026-11-24T09:30:00+08:00", "request_type": "help",
        "content": "路灯不亮", "lon": POINT[0], "lat": POINT[1], "contact_phone": "0592-6012345",
        "time_limit": "2026-11-27 18:00",
    }
    # when it is parsed
    report = parse_order(record)
    # then the point decides the grid, the landline is kept, the deadline is read
    assert report.region_code == GRID
    assert report.request_type == "help"
    assert report.urgency == "normal"
    assert report.reporter_phone == "05926012345"
    assert report.extra["time_limit"]["deadline"].startswith("2026-11-27T18:00:00+08:00")


def test_every_problem_of_an_order_is_reported_at_once(city):
    # given an order wrong in many ways
    record = chinese_order(**{
        "工单编号": "bad number!", "来电时间": "yesterday", "诉求类型": "抱怨", "诉求内容": None, "联系电话": "12345",
        "紧急程度": "很急", "办理时限": "尽快",
    })
    # when it is parsed
    # then each field has its own stable code
    assert errors_of(record) == {
        "工单编号": "invalid", "来电时间": "invalid", "诉求类型": "invalid_choice", "诉求内容": "required",
        "联系电话": "invalid_length", "紧急程度": "invalid_choice", "办理时限": "invalid",
    }


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"工单编号": None}, "工单编号", "required"),
    ({"工单编号": "X" * 65}, "工单编号", "too_long"),
    ({"来电时间": None}, "来电时间", "required"),
    ({"来电时间": "2099-01-01 00:00:00"}, "来电时间", "in_future"),
    ({"诉求类型": None}, "诉求类型", "required"),
    ({"诉求内容": "长" * 4001}, "诉求内容", "too_long"),
    ({"诉求地址": None}, "诉求地址", "required"),
    ({"诉求地址": "火星基地一号"}, "诉求地址", "unknown_address"),
    ({"联系电话": "1391234567a"}, "联系电话", "invalid_format"),
    ({"联系电话": "11912345678"}, "联系电话", "invalid_format"),
    ({"经度": "118.1"}, "纬度", "required"),
    ({"经度": "east", "纬度": "24.6"}, "经度", "invalid"),
    ({"经度": "218.1", "纬度": "24.6"}, "经度", "out_of_range"),
    ({"经度": "116.0", "纬度": "40.0"}, "经度", "outside_regions"),
])
def test_each_rejection_reason_of_an_order(city, overrides, field, code):
    # given an otherwise good order with one fault
    # when it is parsed
    # then exactly that fault is reported
    assert errors_of(chinese_order(**overrides)) == {field: code}


def test_a_record_that_is_not_an_object_is_refused(city):
    # given a list instead of an object
    with pytest.raises(RecordErrors) as caught:
        parse_order(["XM-1"])
    # then it is refused as a whole
    assert caught.value.errors[0].code == "invalid"


def test_orders_are_read_from_csv_in_utf8_and_gb18030(city, tmp_path):
    # given the same orders as a UTF-8 (with BOM) and a GB18030 CSV, with an empty line
    header = "工单编号,来电时间,诉求类型,诉求内容,诉求地址,联系人,联系电话,紧急程度,办理时限,来源\n"
    body = ("XM-1,2026-11-24 09:30,投诉,下穿通道积水,厦门市集美区集美街道岑西社区,张先生,13912345678,紧急,3个工作日,电话\n"
            ",,,,,,,,,\n"
            "XM-2,2026-11-24 10:00,咨询,垃圾什么时候清运,厦门市集美区集美街道,李女士,,一般,,网站\n")
    utf8 = tmp_path / "orders.csv"
    utf8.write_bytes(("\ufeff" + header + body).encode("utf-8"))
    gbk = tmp_path / "orders-gbk.csv"
    gbk.write_bytes((header + body).encode("gb18030"))
    # when they are read and parsed
    for path in (utf8, gbk):
        rows = list(read_orders(path))
        # then rows keep their spreadsheet numbers and parse into reports
        assert [n for n, _ in rows] == [2, 4]
        reports = [parse_order(r) for _, r in rows]
        assert [r.external_id for r in reports] == ["XM-1", "XM-2"]
        assert [r.region_code for r in reports] == ["350211001001", "350211001000"]


def test_orders_are_read_from_excel(city, tmp_path):
    # given an Excel sheet whose date column holds real dates and phone column numbers
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["工单编号", "来电时间", "诉求类型", "诉求内容", "诉求地址", "联系人", "联系电话", "紧急程度", "办理时限", "来源"])
    sheet.append(["XM-9", datetime(2026, 11, 24, 9, 30), "求助", "井盖缺失", "厦门市集美区集美街道岑西社区",
                  "王", 13912345678, "一般", 5, "微信"])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    # when the file is read
    rows = list(read_orders(path))
    # then the row parses; a bare number as 办理时限 is not a deadline, so it is refused
    assert rows[0][0] == 2
    with pytest.raises(RecordErrors) as caught:
        parse_order(rows[0][1])
    assert [(e.field, e.code) for e in caught.value.errors] == [("办理时限", "invalid")]
    rows[0][1]["办理时限"] = "5个工作日"
    report = parse_order(rows[0][1])
    assert report.reporter_phone == "13912345678"
    assert report.reported_at == timezone.make_aware(datetime(2026, 11, 24, 9, 30))
