"""Excel import and export: every bad row named with row, column and reason; all or nothing;
duplicates by blind index; export needs the export permission and is logged."""

import io

import pytest
from django.db import connection
from openpyxl import Workbook, load_workbook

from civicgrid.core.api import DomainError
from civicgrid.org.permissions import PermissionDenied
from civicgrid.registry import excel, selectors
from civicgrid.registry.models import Address, ChangeRecord, Household, Resident

from .conftest import GRID, ID_1, ID_2, ID_3, ID_4, OTHER_GRID, PHONE_1, valid_id

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "公民身份号码", "联系电话", "人口类型", "所属社区", "所属网格", "街路巷", "门牌号", "楼栋", "单元",
          "房号", "户号", "与户主关系", "关爱标签"]


def sheet(rows, header=HEADER) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(name, id_number, *, community="岑西社区", grid=GRID, road="岑西路", number="8", room="101", household="H1",
        tags="", phone="", kind="户籍人口"):
    return [name, id_number, phone, kind, community, grid, road, number, "1", "1", room, household, "户主", tags]


def test_file_with_known_mistakes_names_every_bad_row_and_loads_nothing(world, resident):
    # given a file: row 2 fine, row 3 a bad check digit, row 4 an unknown community, row 5 the same
    # person as row 2, row 6 a person already registered (张三), row 7 fine
    data = sheet([
        row("王五", ID_3),
        row("赵六", ID_4[:-1] + ("0" if ID_4[-1] != "0" else "1")),
        row("钱七", valid_id("35021119700101001"), community="不存在社区"),
        row("王五", ID_3, room="102", household="H2"),
        row("张三", ID_1, room="103", household="H3"),
        row("孙八", valid_id("35021119800101002"), room="104", household="H4", phone=PHONE_1, tags="独居老人"),
    ])
    before = Resident.objects.count()
    # when it is imported
    with pytest.raises(excel.ImportRejected) as exc:
        excel.import_residents(world.dispatcher, data, file_name="岑西.xlsx")
    report = exc.value.report
    # then every bad row is named with its column and reason, and nothing was written
    assert report.bad_rows == [3, 4, 5, 6]
    found = {(e.row, e.column, e.code) for e in report.errors}
    assert found == {(3, "B", "invalid_checksum"), (4, "E", "unknown_community"), (5, "B", "duplicate_person"),
                     (6, "B", "duplicate_person")}
    assert "2" in next(e.message for e in report.errors if e.row == 5)  # the row it repeats
    assert Resident.objects.count() == before
    assert not Address.objects.filter(road="岑西路", number="8").exists()


def test_clean_file_loads_whole_with_addresses_households_and_one_change_record(world):
    data = sheet([
        row("王五", ID_3, tags="独居老人、残疾人", phone="139 1234 1234"),
        row("王小五", ID_4, household="H1"),
        row("李四", ID_2, community="350211002001", grid="叶厝一网格", road="叶厝路", number="3", household="Y1"),
    ])
    report = excel.import_residents(world.dispatcher, data, file_name="batch.xlsx")
    assert report.ok and report.rows == 3
    assert report.created == {"residents": 3, "addresses": 2, "houses": 2, "households": 2, "care_tags": 2}
    wang = Resident.objects.get(id_number_index=Resident._meta.get_field("id_number_index").index_of(ID_3))
    assert wang.name == "王五" and wang.phone == PHONE_1 and wang.grid_code == GRID
    assert sorted(wang.care_tags.values_list("code", flat=True)) == ["disabled", "elderly_alone"]
    assert Household.objects.get(number="H1").members.count() == 2
    assert Resident.objects.get(id_number_index=Resident._meta.get_field("id_number_index").index_of(ID_2)).grid_code \
        == OTHER_GRID
    record = ChangeRecord.objects.get(entity="import")
    assert record.actor == world.dispatcher and record.changes["residents"] == [None, 3]
    # and the raw rows hold no plaintext identifiers
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, phone FROM registry_resident")
        dump = " ".join(" ".join(r) for r in cursor.fetchall())
    assert ID_3 not in dump and PHONE_1 not in dump and "王五" not in dump


def test_rows_outside_the_importers_jurisdiction_are_refused(world):
    # a grid worker may not import; a Siming dispatcher may not import into Jimei
    data = sheet([row("王五", ID_3)])
    with pytest.raises(PermissionDenied):
        excel.import_residents(world.grid_worker, data)
    with pytest.raises(excel.ImportRejected) as exc:
        excel.import_residents(world.siming_dispatcher, data)
    assert [(e.row, e.column, e.code) for e in exc.value.report.errors] == [(2, "F", "outside_jurisdiction")]


def test_missing_columns_unknown_grid_and_bad_choices_are_reported(world):
    with pytest.raises(excel.ImportRejected) as exc:
        excel.import_residents(world.admin, sheet([["王五"]], header=["姓名"]))
    assert {e.header for e in exc.value.report.errors} >= {"证件号码", "所属社区", "所属网格"}
    with pytest.raises(excel.ImportRejected) as exc:
        excel.import_residents(world.admin, sheet([row("王五", ID_3, grid="叶厝一网格", kind="外星人", tags="富豪")]))
    assert {(e.column, e.code) for e in exc.value.report.errors} == {
        ("F", "unknown_grid"), ("D", "invalid_choice"), ("N", "unknown_tag")}


def test_a_household_in_two_addresses_is_refused(world):
    data = sheet([row("王五", ID_3, room="101", household="H1"), row("王小五", ID_4, room="102", household="H1")])
    with pytest.raises(excel.ImportRejected) as exc:
        excel.import_residents(world.admin, data)
    assert [(e.row, e.code) for e in exc.value.report.errors] == [(3, "household_elsewhere")]


def test_not_an_excel_file(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        excel.import_residents(world.admin, b"name,id\n")


def test_export_needs_the_permission_and_a_reason_and_is_logged(world, resident):
    from civicgrid.audit.models import AccessLogEntry

    # a leader (no export permission) is refused; a dispatcher without a reason too
    with pytest.raises(PermissionDenied):
        excel.export_residents(world.leader, selectors.residents_for(world.leader), reason="统计")
    with pytest.raises(DomainError):
        excel.export_residents(world.dispatcher, selectors.residents_for(world.dispatcher), reason=" ")
    assert not AccessLogEntry.objects.exists()
    # the dispatcher with a reason gets the file in the import's columns, and the export is logged
    data = excel.export_residents(world.dispatcher, selectors.residents_for(world.dispatcher), reason="年度核对")
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("姓名", "证件类型", "证件号码")
    assert rows[1][0] == "张三" and rows[1][2] == ID_1 and rows[1][15] == "独居老人"
    entry = AccessLogEntry.objects.get()
    assert entry.action == "export" and entry.user_id == world.dispatcher.pk and entry.reason == "年度核对"


def test_an_exported_file_imports_back_after_removal(world, resident):
    from civicgrid.registry import actions

    data = excel.export_residents(world.dispatcher, selectors.residents_for(world.dispatcher), reason="迁移")
    actions.remove_resident(world.admin, resident, "测试")
    report = excel.import_residents(world.dispatcher, data)
    assert report.ok and report.created["residents"] == 1 and report.created["addresses"] == 0
    assert Resident.objects.get().name == "张三"
