"""Bulk import (``import_cases``): every format, every row problem in the error report, the stages
one by one, re-runs, dry runs, progress, and cases that look exactly like single reports."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from civicgrid.cases import actions
from civicgrid.cases.models import Case, CaseEvent, CaseNumberCounter
from civicgrid.cases.workflow import State
from civicgrid.intake import bulk, bulk_formats
from civicgrid.intake.models import ExternalRecord
from civicgrid.intake.tests.conftest import GRID, POINT
from civicgrid.org.models import Department, DepartmentKind
from civicgrid.taxonomy.models import Category, ResponsibilityRule, SlaRule

TZ = ZoneInfo("Asia/Shanghai")
OUTSIDE = (118.30, 24.40)  # no grid of the fixture's city there


@pytest.fixture
def routed_city(city):
    return add_routing(city)


def add_routing(city):
    """The intake city with a default SLA rule and a matrix rule naming 集美区城管 for 乱倒垃圾."""
    SlaRule.objects.create(
        is_default=True, file_amount=1, file_unit="hours", dispatch_amount=1, dispatch_unit="hours",
        sign_for_amount=1, sign_for_unit="hours", handle_amount=3, handle_unit="days",
        handle_urgent_amount=4, handle_urgent_unit="hours", verify_amount=1, verify_unit="days",
    )
    city.city_management = Department.objects.create(
        code="jm-cm", name="集美区城管执法局", kind=DepartmentKind.CITY_MANAGEMENT, region=city.regions["350211000000"])
    ResponsibilityRule.objects.create(category=city.dumping, lead_kind=DepartmentKind.CITY_MANAGEMENT)
    return city


def write_csv(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def csv_row(external_id, **overrides):
    row = {
        "external_id": external_id, "channel": "web", "title": "路边有人乱倒垃圾",
        "description": "岑西路12号旁一堆建筑垃圾", "category": "matter-06010", "request_type": "complaint",
        "urgency": "normal", "lon": POINT[0], "lat": POINT[1], "region_code": "", "address": "岑西路12号",
        "reporter_name": "王先生", "reporter_phone": "13912341234", "reported_at": "2026-11-20 09:30:00",
    }
    row.update(overrides)
    return [row[c] for c in bulk_formats.CSV_COLUMNS]


def run(path, fmt="csv", **options):
    err = io.StringIO()
    out = io.StringIO()
    call_command("import_cases", str(path), "--format", fmt, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def error_lines(path):
    with bulk.errors_path(path).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


# --- cases like single reports --------------------------------------------------------------------


def test_an_imported_row_is_the_same_case_as_a_single_report(routed_city, tmp_path):
    # given one csv row, and the same report made through report_case ten days later (no duplicate)
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("A-1")])
    moment = datetime(2026, 11, 20, 9, 30, tzinfo=TZ)
    # when the row is imported and the same report is made one at a time
    run(path)
    single = actions.report_case(
        channel="web", external_id="B-1", title="路边有人乱倒垃圾", description="岑西路12号旁一堆建筑垃圾",
        category=routed_city.dumping, request_type="complaint", urgency="normal", lon=POINT[0], lat=POINT[1],
        address="岑西路12号", reporter_name="王先生", reporter_phone="13912341234",
        reported_at=moment + timedelta(days=10),
    )
    imported = Case.objects.get(external_id="A-1")
    single.refresh_from_db()
    # then every field agrees but the id, the external id, the number's day and the moments
    differ = {"id", "external_id", "number", "reported_at", "stage_started_at", "stage_warn_at", "stage_deadline",
              "created_at", "updated_at", "routing_suggestion", "sla_status"}
    for f in Case._meta.concrete_fields:
        if f.attname not in differ:
            assert getattr(imported, f.attname) == getattr(single, f.attname), f.attname
    assert imported.number == "350211-20261120-00001" and single.number == "350211-20261130-00001"
    assert imported.region_code == GRID and imported.owner_centre_id == routed_city.centre.pk
    assert imported.state == State.REPORTED
    # the stage deadline follows the same SLA rule: one working hour after the report
    assert imported.stage_deadline == datetime(2026, 11, 20, 10, 30, tzinfo=TZ)
    assert single.stage_deadline - single.reported_at == imported.stage_deadline - imported.reported_at
    drop = {"computed_at"}
    assert ({k: v for k, v in imported.routing_suggestion.items() if k not in drop}
            == {k: v for k, v in single.routing_suggestion.items() if k not in drop})
    assert imported.routing_suggestion["lead_department"] == routed_city.city_management.pk
    # and the timeline holds the same REPORT event
    [event] = CaseEvent.objects.filter(case=imported)
    [single_event] = CaseEvent.objects.filter(case=single)
    for name in ("action", "from_state", "to_state", "note", "actor_id"):
        assert getattr(event, name) == getattr(single_event, name)
    assert event.data == {"channel": "web", "external_id": "A-1"}
    assert single_event.data == {"channel": "web", "external_id": "B-1"}


def test_numbers_are_reserved_per_district_and_day_as_one_block(routed_city, tmp_path):
    # given a counter that single reports already advanced on 2026-11-20
    actions.report_case(channel="web", title="井盖缺失", region_code=GRID,
                        reported_at=datetime(2026, 11, 20, 8, 0, tzinfo=TZ))
    rows = [csv_row(f"N-{i}", reported_at=f"2026-11-{20 + i % 2} 10:0{i}:00", title=f"第{i}处垃圾",
                    lon=POINT[0] + i * 1e-5) for i in range(5)]
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, rows)
    # when the rows are imported
    run(path)
    # then each day's numbers continue its counter without gaps, in row order
    numbers = list(Case.objects.filter(external_id__startswith="N-").order_by("external_id")
                   .values_list("number", flat=True))
    assert numbers == ["350211-20261120-00002", "350211-20261121-00001", "350211-20261120-00003",
                       "350211-20261121-00002", "350211-20261120-00004"]
    assert CaseNumberCounter.objects.get(district_code="350211", day="2026-11-20").last == 4


def test_a_clear_matrix_answer_is_dispatched_at_import_as_at_report(routed_city, tmp_path):
    # given an auto-dispatch category with a clear answer
    routed_city.dumping.auto_dispatch = True
    routed_city.dumping.save()
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("D-1")])
    # when it is imported
    run(path)
    # then it is filed and dispatched to the one department, with the same events as a single report
    case = Case.objects.get(external_id="D-1")
    assert case.state == State.DISPATCHED
    assert case.assignments.get().department == routed_city.city_management
    assert list(case.events.values_list("action", flat=True)) == ["report", "file", "dispatch"]


# --- formats ------------------------------------------------------------------------------------


def test_12345_work_orders_from_csv_and_excel(routed_city, tmp_path):
    # given work orders with the hotline's Chinese headers, as CSV and as .xlsx
    from openpyxl import Workbook

    header = ["工单编号", "来电时间", "诉求类型", "诉求内容", "诉求地址", "联系人", "联系电话", "紧急程度",
              "办理时限", "来源", "经度", "纬度"]
    rows = [["GD-1", "2026-11-20 09:00:00", "投诉", "岑西路有人乱倒垃圾", "岑西路12号", "李女士", "13800001111",
             "一般", "5个工作日", "电话", POINT[0], POINT[1]]]
    write_csv(tmp_path / "orders.csv", header, rows)
    book = Workbook()
    book.active.append(header)
    book.active.append(["GD-2", *rows[0][1:3], "岑西路井盖丢了", *rows[0][4:]])
    book.save(tmp_path / "orders.xlsx")
    # when both are imported
    run(tmp_path / "orders.csv", "12345")
    run(tmp_path / "orders.xlsx", "12345")
    # then both are cases on the hotline channel with their work order kept
    cases = Case.objects.filter(channel="hotline_12345").order_by("external_id")
    assert [c.external_id for c in cases] == ["GD-1", "GD-2"]
    assert cases[0].request_type == "complaint" and cases[0].reporter_name == "李女士"
    record = ExternalRecord.objects.get(external_id="GD-1")
    assert record.case == cases[0] and record.client is None
    assert record.extra["time_limit"]["unit"] == "working_days"


def test_szcg_cases(routed_city, tmp_path):
    # given a 数字城管 case with a matter code and a unit grid code
    header = ["案卷编号", "事项代码", "单元网格码", "问题描述", "位置描述", "上报时间", "上报人"]
    path = write_csv(tmp_path / "szcg.csv", header, [
        ["SZCG-1", "35021106010", GRID, "路边暴露垃圾一堆", "岑西路12号旁", "2026-11-20 08:10:00", "监督员05"]])
    # when it is imported
    run(path, "szcg")
    # then it is a case of our category in the grid
    case = Case.objects.get(channel="digital_city", external_id="SZCG-1")
    assert case.category == routed_city.dumping and case.region_code == GRID
    assert ExternalRecord.objects.get(case=case).extra["matter_code"] == "35021106010"


def test_open311_service_requests(routed_city, tmp_path):
    # given GeoReport v2 service requests
    path = write_csv(tmp_path / "open311.csv", bulk_formats.OPEN311_COLUMNS, [
        ["REQ-1", "matter-06010", "有人倒垃圾", POINT[1], POINT[0], "岑西路", "2026-11-20T09:00:00+08:00",
         "明", "王", "13900000000", "a@example.org", ""],
    ])
    # when imported
    run(path, "open311-csv")
    # then the case is on the Open311 channel, titled by the service, reporter last + first name
    case = Case.objects.get(channel="open311", external_id="REQ-1")
    assert case.title == "乱倒垃圾" and case.reporter_name == "王明"
    assert (case.lon, case.lat) == POINT and case.region_code == GRID


def test_a_region_code_instead_of_a_point(routed_city, tmp_path):
    # given a csv row that names its grid instead of a point
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS,
                     [csv_row("R-1", lon="", lat="", region_code=GRID)])
    # when imported
    run(path)
    # then the case lies in that grid, without a point
    case = Case.objects.get(external_id="R-1")
    assert case.region_code == GRID and case.lon is None


# --- row problems ----------------------------------------------------------------------------------


def test_every_row_problem_is_in_the_error_report(routed_city, tmp_path):
    # given one good row and rows with every kind of problem (one with several)
    future = (datetime.now(TZ) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    rows = [
        csv_row("OK-1"),                                                         # row 2
        csv_row("", title="", description=""),                                   # row 3: two problems
        csv_row("BAD 4"),                                                         # row 4
        csv_row("E-5", channel="fax", urgency="very", request_type="x"),          # row 5: three
        csv_row("E-6", category="matter-99999"),                                  # row 6
        csv_row("E-7", lon="abc"),                                                # row 7
        csv_row("E-8", lon="200", lat="95"),                                      # row 8: two
        csv_row("E-9", lon=OUTSIDE[0], lat=OUTSIDE[1]),                           # row 9
        csv_row("E-10", lon="", lat="", region_code="350211009009009"),           # row 10
        csv_row("E-11", lon="", lat="", region_code="35x"),                       # row 11
        csv_row("E-12", lon="", lat=""),                                          # row 12
        csv_row("E-13", reported_at="gestern"),                                   # row 13
        csv_row("E-14", reported_at=future),                                      # row 14
        csv_row("E-15", title="长" * 201),                                        # row 15
        csv_row("OK-1", title="同一编号"),                                         # row 16
        csv_row("E-17", lat=""),                                                  # row 17
    ]
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, rows)
    # when imported
    out, _err = run(path, batch_size=5)
    # then only the good row is a case and the report names each problem by row, field and code
    assert list(Case.objects.values_list("external_id", flat=True)) == ["OK-1"]
    found = {(int(line["row"]), line["field"], line["code"]) for line in error_lines(path)}
    assert found == {
        (3, "external_id", "required"), (3, "title", "required"),
        (4, "external_id", "invalid"),
        (5, "channel", "invalid_choice"), (5, "urgency", "invalid_choice"), (5, "request_type", "invalid_choice"),
        (6, "category", "unknown_category"),
        (7, "lon", "invalid"),
        (8, "lon", "out_of_range"), (8, "lat", "out_of_range"),
        (9, "lon", "outside_regions"),
        (10, "region_code", "unknown_region"),
        (11, "region_code", "invalid_format"),
        (12, "lon", "required"),
        (13, "reported_at", "invalid"),
        (14, "reported_at", "in_future"),
        (15, "title", "too_long"),
        (16, "external_id", "duplicate"),
        (17, "lat", "required"),
    }
    assert all(line["problem"] for line in error_lines(path))
    assert "imported 1 case(s)" in out and "15 row(s) with problems" in out


def test_adapter_problems_of_12345_rows_are_reported_with_their_headers(routed_city, tmp_path):
    # given a work order without content, with a bad phone number and an address we cannot place
    header = ["工单编号", "来电时间", "诉求类型", "诉求内容", "诉求地址", "联系电话"]
    path = write_csv(tmp_path / "orders.csv", header, [["GD-9", "2026-11-20 09:00", "投诉", "", "岑西路", "12345"]])
    # when imported
    run(path, "12345")
    # then the report lists all three problems under the Chinese headers the file used
    found = {(line["row"], line["field"], line["code"]) for line in error_lines(path)}
    assert found == {("2", "诉求内容", "required"), ("2", "联系电话", "invalid_length"),
                     ("2", "诉求地址", "unknown_address")}
    assert not Case.objects.exists()


# --- stages on their own ---------------------------------------------------------------------------


def test_validate_keeps_good_rows_and_every_problem_of_bad_ones(routed_city):
    # given a good and a bad record
    records = [(2, dict(zip(bulk_formats.CSV_COLUMNS, csv_row("V-1"), strict=True))),
               (3, {"external_id": "", "lon": "x"})]
    # when validated
    items, problems = bulk.validate("csv", records)
    # then the good one is an item and the bad one's problems all carry its row
    assert [i.row for i in items] == [2] and items[0].report.category_id == routed_city.dumping.pk
    assert {(p.row, p.field, p.code) for p in problems} >= {(3, "external_id", "required"), (3, "lon", "invalid")}


def test_locate_puts_points_in_grids_at_once(routed_city):
    # given two parsed rows, one inside the grid and one outside every region
    items, _ = bulk.validate("csv", [
        (2, dict(zip(bulk_formats.CSV_COLUMNS, csv_row("L-1"), strict=True))),
        (3, dict(zip(bulk_formats.CSV_COLUMNS, csv_row("L-2", lon=OUTSIDE[0], lat=OUTSIDE[1]), strict=True))),
    ])
    # when located
    kept, problems = bulk.locate(items)
    # then the first has the grid's code and the second is a problem of its row
    assert [(i.row, i.report.region_code) for i in kept] == [(2, GRID)]
    assert [(p.row, p.code) for p in problems] == [(3, "outside_regions")]


def test_duplicates_within_one_batch_become_one_case(routed_city, tmp_path):
    # given the same incident twice in one file, described the same way at the same place
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [
        csv_row("DUP-1"), csv_row("DUP-2", channel="wechat", reported_at="2026-11-20 10:00:00")])
    # when imported
    run(path)
    # then the second report is merged into the first case, whose timeline lists it
    first, second = Case.objects.get(external_id="DUP-1"), Case.objects.get(external_id="DUP-2")
    assert second.state == State.MERGED and second.parent == first
    assert first.state == State.REPORTED
    assert first.events.filter(action="merged_in", data__channel="wechat").exists()
    from civicgrid.dedup.models import DuplicateCandidate

    assert DuplicateCandidate.objects.get(case=second).candidate == first


def test_a_duplicate_of_an_open_case_is_merged_into_it(routed_city, tmp_path):
    # given an open case reported one at a time
    original = actions.report_case(
        channel="web", title="路边有人乱倒垃圾", description="岑西路12号旁一堆建筑垃圾", category=routed_city.dumping,
        lon=POINT[0], lat=POINT[1], address="岑西路12号", reported_at=datetime(2026, 11, 20, 8, 0, tzinfo=TZ))
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("DUP-3")])
    # when the same incident is imported
    run(path)
    # then it is merged into the open case
    assert Case.objects.get(external_id="DUP-3").parent == original


# --- re-runs, dry runs, progress --------------------------------------------------------------------


def test_a_re_run_skips_rows_already_imported(routed_city, tmp_path):
    # given a file imported once
    rows = [csv_row(f"S-{i}", title=f"第{i}处", lon=118.1005 + i * 0.002) for i in range(4)]
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, rows)
    run(path, batch_size=3)
    before = list(Case.objects.order_by("pk").values_list("pk", "number"))
    # when it is imported again, with one more row at the end
    write_csv(path, bulk_formats.CSV_COLUMNS, [*rows, csv_row("S-9", title="新的一处", lon=118.1095)])
    out, _err = run(path, batch_size=3)
    # then only the new row becomes a case; the others are skipped, not duplicated
    assert "imported 1 case(s), skipped 4" in out
    assert list(Case.objects.order_by("pk").values_list("pk", "number"))[:4] == before
    assert Case.objects.count() == 5 and CaseEvent.objects.filter(action="report").count() == 5


def test_a_dry_run_writes_no_case_only_the_error_report(routed_city, tmp_path):
    # given a file with a good and a bad row
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("Y-1"), csv_row("Y-2", urgency="x")])
    # when it is dry-run
    out, _err = run(path, dry_run=True)
    # then nothing is written, no counter advanced, and the report lists the problem
    assert Case.objects.count() == 0 and not CaseNumberCounter.objects.exists()
    assert "would import 1 case(s)" in out
    assert [(line["row"], line["code"]) for line in error_lines(path)] == [("3", "invalid_choice")]
    assert not bulk.checkpoint_path(path).exists()


def test_progress_shows_rows_rate_and_eta(routed_city, tmp_path):
    # given a progress bar for 1,000 rows, 250 done after 10 s
    stream = io.StringIO()
    progress = bulk.Progress(1000, stream)
    progress.started -= 10
    progress.start_done = 0
    # when its line is drawn
    line = progress.line(250, now=progress.started + 10)
    # then it shows rows done, share, rate and the time left
    assert "250/1,000 rows" in line and "25.0%" in line and "25 rows/s" in line and "ETA 00:30" in line
    # and the command shows it on stderr (plain lines when not on a terminal)
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("P-1")])
    _out, err = run(path)
    assert "1/1 rows" in err and "rows/s" in err and "ETA" in err and "\r" not in err


def test_progress_redraws_one_line_on_a_terminal():
    # given a stream that is a terminal
    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    progress = bulk.Progress(10, stream)
    # when updated twice and finished
    progress.update(3, force=True)
    progress.update(6, force=True)
    progress.finish(10)
    # then each update rewrites the same line, and one newline ends it
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.count("\n") == 1 and "10/10 rows" in text


def test_counting_rows_for_the_bar(tmp_path):
    # given a CSV with a header and three rows, without a final newline
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6", encoding="utf-8")
    # then three rows are counted
    assert bulk.count_rows(path) == 3


def test_gb18030_files_are_read(routed_city, tmp_path):
    # given a csv file written in GB18030 (as older Windows exports are)
    path = tmp_path / "gbk.csv"
    text = io.StringIO()
    csv.writer(text).writerows([bulk_formats.CSV_COLUMNS, csv_row("G-1", title="垃圾成堆")])
    path.write_bytes(text.getvalue().encode("gb18030"))
    # when imported
    run(path)
    # then the Chinese text arrives intact
    assert Case.objects.get(external_id="G-1").title == "垃圾成堆"


def test_a_category_is_looked_up_by_kind_and_code(routed_city):
    assert bulk_formats.category_by_code("matter-06010") == (routed_city.dumping.pk, "乱倒垃圾")
    assert bulk_formats.category_by_code("06010") is None
    Category.objects.filter(pk=routed_city.dumping.pk).update(is_active=False)
    assert bulk_formats.category_by_code("matter-06010") is None


@pytest.mark.parametrize("threshold", [0.0, 1.01])
def test_rows_without_a_category_are_classified_as_single_reports_are(routed_city, tmp_path, settings, threshold):
    # given classification at intake on, a threshold everything passes (or nothing does), and a
    # row without a category
    settings.CIVICGRID_CLASSIFY_AT_INTAKE = True
    settings.CIVICGRID_CLASSIFIER_THRESHOLD = threshold
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("C-1", category="")])
    # when it is imported, and the same words are reported one at a time ten days later
    run(path)
    single = actions.report_case(
        channel="web", title="路边有人乱倒垃圾", description="岑西路12号旁一堆建筑垃圾", lon=POINT[0], lat=POINT[1],
        reported_at=datetime(2026, 11, 30, 9, 30, tzinfo=TZ))
    imported = Case.objects.get(external_id="C-1")
    single.refresh_from_db()
    # then both got the same category (or none), the same proposals and the same filing clock
    from civicgrid.triage.models import CasePrediction

    mine, theirs = CasePrediction.objects.get(case=imported), CasePrediction.objects.get(case=single)
    assert (mine.version, mine.top, mine.threshold, mine.applied) == \
        (theirs.version, theirs.top, theirs.threshold, theirs.applied)
    assert mine.applied is (threshold == 0.0)
    assert imported.category_id == single.category_id
    assert (imported.category_id is not None) is (threshold == 0.0)
    # (a category from the classifier sets the filing clock, as a chosen one would)
    from civicgrid.cases.deadlines import file_deadline

    for case in (imported, single):
        assert case.stage_deadline == file_deadline(case, case.reported_at)
        assert (case.stage_deadline is not None) is (threshold == 0.0)
    drop = {"computed_at"}
    assert ({k: v for k, v in imported.routing_suggestion.items() if k not in drop}
            == {k: v for k, v in single.routing_suggestion.items() if k not in drop})
