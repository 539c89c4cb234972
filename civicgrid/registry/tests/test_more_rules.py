"""Remaining registry rules: no plaintext identifiers anywhere in the registry's tables after
creating, importing and editing; address and organisation edits; items added and closed; import
errors for a grid mismatch and an ambiguous community."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from openpyxl import Workbook
from rest_framework.test import APIClient

from civicgrid.core.api import DomainError
from civicgrid.regions.models import Region
from civicgrid.registry import actions, excel
from civicgrid.registry.models import Address, ItemState, Resident

from .conftest import GRID, ID_2, ID_3, ID_4, PHONE_1, PHONE_2, USCC_1, USCC_2, make_home

pytestmark = pytest.mark.django_db


def _sheet(rows):
    book = Workbook()
    book.active.append(["姓名", "证件号码", "联系电话", "所属社区", "所属网格", "街路巷", "门牌号", "房号"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _registry_dump() -> str:
    """Every text value of every registry table, read with raw SQL."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if not table.startswith("registry_"):
                continue
            cursor.execute(f"SELECT * FROM {table}")  # table names come from introspection
            parts.extend(str(value) for row in cursor.fetchall() for value in row)
    return " ".join(parts)


def test_no_plaintext_identifier_in_any_registry_table_after_create_import_and_edit(world, resident, home):
    # given a resident created (fixture), one imported, an organisation, and edits of phones
    excel.import_residents(world.admin, _sheet([["王五", ID_3, PHONE_2, "岑西社区", GRID, "岑西路", "30", "1"]]))
    address, _house, _h = home
    org = actions.create_organisation(world.admin, address=address, name="店", uscc=USCC_1, contact_phone=PHONE_2)
    actions.update_organisation(world.admin, org, safety_contact_phone=PHONE_1, safety_contact_name="钱七")
    actions.update_resident(world.admin, resident, phone=PHONE_2, id_number=ID_4)
    # then no ID number, phone or name is stored in clear in any registry table (nor its history)
    dump = _registry_dump()
    for secret in (ID_3, ID_4, PHONE_1, PHONE_2, "王五", "钱七", "张三"):
        assert secret not in dump, secret
    # while the application reads them back
    assert Resident.objects.get(pk=resident.pk).id_number == ID_4


def test_address_edit_rules(world, home):
    address, _house, _h = home
    other, _h2, _hh2 = make_home(world, room="102")
    with pytest.raises(ValidationError) as exc:
        actions.update_address(world.grid_worker, other, room="101")
    assert exc.value.error_dict["road"][0].code == "duplicate_address"
    with pytest.raises(ValidationError) as exc:
        actions.update_address(world.grid_worker, other, lon="x", lat="1")
    assert exc.value.error_dict["lon"][0].code == "invalid"
    changed = actions.update_address(world.grid_worker, other, room="103", lon=118.1, lat=24.6)
    assert changed.room == "103" and changed.lon == 118.1


def test_organisation_update_and_masked_api(world, home):
    address, _house, _h = home
    org = actions.create_organisation(world.grid_worker, address=address, name="岑西便利店", uscc=USCC_1,
                                      contact_name="赵六", contact_phone=PHONE_1)
    with pytest.raises(ValidationError) as exc:
        actions.create_organisation(world.grid_worker, address=address, name="B", uscc=USCC_2, contact_phone="123")
    assert exc.value.error_dict["contact_phone"][0].code == "invalid_length"
    actions.update_organisation(world.grid_worker, org, kind="sole_trader")
    c = APIClient()
    c.force_authenticate(world.grid_worker)
    body = c.get(f"/api/v1/registry/organisations/{org.pk}/").json()
    assert body["contact_name"] == "赵*" and body["contact_phone"] == "139****1234" and body["kind"] == "sole_trader"


def test_items_are_added_to_a_visit_and_closed(world, resident):
    visit = actions.record_visit(world.grid_worker, household=resident.household,
                                 started_at=timezone.now() - datetime.timedelta(hours=1), duration_minutes=30)
    item = actions.add_item(world.grid_worker, visit, kind="resource", text="楼下有空置活动室")
    with pytest.raises(ValidationError):
        actions.add_item(world.grid_worker, visit, kind="wish", text="x")
    closed = actions.close_item(world.grid_worker, item)
    assert closed.state == ItemState.DONE
    with pytest.raises(DomainError):
        actions.close_item(world.grid_worker, closed)
    # dispatchers may not record visits (grid workers do)
    from civicgrid.org.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.record_visit(world.dispatcher, household=resident.household, started_at=timezone.now(),
                             duration_minutes=10)


def test_import_reports_a_grid_mismatch_and_an_ambiguous_community(world, home):
    # an existing address (岑西路 1 号 …) lies in GRID; a namesake 岑西社区 exists in 思明区
    Region.objects.create(code="350203001002", level="community", name="岑西社区",
                          parent=world.regions["350203001000"])
    address = Address.objects.get()
    book = Workbook()
    book.active.append(["姓名", "证件号码", "所属社区", "所属网格", "街路巷", "门牌号", "楼栋", "单元", "房号"])
    book.active.append(["王五", ID_3, "350211001001", GRID, address.road, address.number, address.building,
                        address.unit, "101"])
    book.active.append(["李四", ID_2, "岑西社区", GRID, "岑西路", "9", "", "", ""])
    out = io.BytesIO()
    book.save(out)
    # the same address once more, but written with another grid of the same community
    Region.objects.create(code="350211001001002", level="grid", name="岑西二网格",
                          parent=world.regions["350211001001"])
    book.active.append(["孙八", ID_4, "350211001001", "350211001001002", address.road, address.number,
                        address.building, address.unit, "101"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(excel.ImportRejected) as exc:
        excel.import_residents(world.admin, out.getvalue())
    assert {(e.row, e.code) for e in exc.value.report.errors} == {(3, "ambiguous_community"), (4, "grid_mismatch")}
    assert Resident.objects.count() == 0
