"""Registry writes: validation of identifiers, duplicates, jurisdiction of edits, history with
masked values, and scoped reads."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404

from civicgrid.org.permissions import PermissionDenied
from civicgrid.registry import actions, selectors
from civicgrid.registry.models import ChangeRecord, Organisation, Resident

from .conftest import GRID, ID_1, ID_2, ID_3, OTHER_GRID, PHONE_1, PHONE_2, USCC_1, make_home

pytestmark = pytest.mark.django_db


def codes(exc, field):
    return [e.code for e in exc.value.error_dict[field]]


def test_resident_id_number_with_a_wrong_check_digit_is_refused(world, home):
    # given a house; when a resident is registered with a mistyped ID number (last digit off)
    _a, house, household = home
    with pytest.raises(ValidationError) as exc:
        actions.create_resident(world.admin, house=house, name="王五", id_number=ID_1[:-1] + "4")
    # then the check character is named as the reason and nothing is stored
    assert codes(exc, "id_number") == ["invalid_checksum"]
    assert not Resident.objects.exists()


def test_mainland_resident_needs_an_identity_card_and_foreign_may_use_a_passport(world, home):
    _a, house, _h = home
    # when a registered resident comes with a passport number, it is refused
    with pytest.raises(ValidationError) as exc:
        actions.create_resident(world.admin, house=house, name="王五", id_type="passport", id_number="E12345678")
    assert codes(exc, "id_number") == ["id_card_required"]
    # and a foreign resident with the same passport is accepted
    r = actions.create_resident(world.admin, house=house, name="John Smith", id_type="passport",
                                id_number="e1234-5678", residence_type="foreign")
    assert r.id_number == "E12345678"


def test_phone_is_validated(world, home):
    _a, house, _h = home
    with pytest.raises(ValidationError) as exc:
        actions.create_resident(world.admin, house=house, name="王五", id_number=ID_3, phone="1234")
    assert codes(exc, "phone") == ["invalid_length"]


def test_the_same_person_cannot_be_registered_twice(world, resident, home):
    # given 张三 registered; when someone registers the same ID number again (written with spaces)
    _a, house, _h = home
    with pytest.raises(ValidationError) as exc:
        actions.create_resident(world.admin, house=house, name="张叁", id_number=" ".join([ID_1[:6], ID_1[6:]]))
    # then it is a duplicate person
    assert codes(exc, "id_number") == ["duplicate_person"]


def test_personal_data_is_not_stored_in_plaintext(world, resident):
    # when a resident is created; then the raw row holds neither the name, ID number nor phone
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, phone, id_number_index, phone_index FROM registry_resident")
        row = cursor.fetchone()
    text = " ".join(str(v) for v in row)
    assert ID_1 not in text and PHONE_1 not in text and "张三" not in text
    assert row[0].startswith("v1:") and len(row[3]) == 64


def test_history_names_fields_with_masked_values_only(world, resident):
    # given 张三; when the grid worker changes the phone and care tags
    actions.update_resident(world.grid_worker, resident, phone=PHONE_2, care_tags=["elderly_alone", "disabled"])
    # then the history has the creation and one change with masked values and the actor
    records = list(ChangeRecord.objects.filter(entity="resident", object_id=resident.pk).order_by("pk"))
    assert [r.kind for r in records] == ["create", "update"]
    change = records[1]
    assert change.actor == world.grid_worker
    assert change.changes == {"phone": ["139****1234", "138****8000"],
                              "care_tags": [["elderly_alone"], ["disabled", "elderly_alone"]]}
    assert records[0].changes["id_number"] == [None, "350211********123X"]
    assert records[0].changes["name"] == [None, "张*"]
    # and no plaintext personal value is anywhere in the history table
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes FROM registry_changerecord")
        dump = " ".join(str(r[0]) for r in cursor.fetchall())
    assert ID_1 not in dump and PHONE_1 not in dump and PHONE_2 not in dump and "张三" not in dump


def test_history_is_append_only(world, resident):
    record = ChangeRecord.objects.filter(entity="resident").first()
    with pytest.raises(Exception, match="append-only"):
        record.save()
    with pytest.raises(Exception, match="append-only"):
        record.delete()


def test_an_edit_without_change_writes_no_history(world, resident):
    before = ChangeRecord.objects.count()
    actions.update_resident(world.grid_worker, resident, phone=PHONE_1)
    assert ChangeRecord.objects.count() == before


def test_grid_worker_cannot_edit_another_grids_resident(world, far_resident):
    # the selector hides it (404) and the action refuses it even when handed the object
    with pytest.raises(Http404):
        selectors.resident_for(world.grid_worker, far_resident.pk)
    with pytest.raises(ValidationError) as exc:
        actions.update_resident(world.grid_worker, far_resident, phone=PHONE_1)
    assert codes(exc, "grid") == ["outside_jurisdiction"]


def test_grid_worker_cannot_create_an_address_in_another_grid(world):
    with pytest.raises(ValidationError) as exc:
        actions.create_address(world.grid_worker, grid=world.regions[OTHER_GRID], road="叶厝路", number="3")
    assert codes(exc, "grid") == ["outside_jurisdiction"]


def test_leaders_may_read_but_not_edit(world, resident):
    assert selectors.resident_for(world.leader, resident.pk) == resident
    with pytest.raises(PermissionDenied):
        actions.update_resident(world.leader, resident, phone=PHONE_2)


def test_scoping_grid_worker_community_and_district_staff(world, resident, far_resident):
    # a grid worker sees their grid; the Jimei district dispatcher both; the Siming dispatcher none
    assert list(selectors.residents_for(world.grid_worker)) == [resident]
    assert set(selectors.residents_for(world.dispatcher)) == {resident, far_resident}
    assert list(selectors.residents_for(world.siming_dispatcher)) == []


def test_departments_see_no_registry_except_parties_of_their_cases(world, resident, far_resident, sla_rules):
    from civicgrid.cases import actions as case_actions

    # given a need noted at 张三's household and turned into a case dispatched to city management
    visit = actions.record_visit(world.grid_worker, household=resident.household, started_at=_now(),
                                 duration_minutes=30, items=[("need", "楼道灯坏了")])
    item = actions.item_to_case(world.grid_worker, visit.items.get())
    case = case_actions.file_case(item.case, world.dispatcher, category=world.category)
    case_actions.dispatch_case(case, world.city_management, actor=world.dispatcher)
    # then city management sees 张三 (a party of its case) and nothing else of the registry
    assert list(selectors.residents_for(world.cm_handler)) == [resident]
    assert not selectors.houses_for(world.cm_handler).exists()
    assert not selectors.addresses_for(world.cm_handler).exists()
    # and the police, with no task on that case, see no one
    assert not selectors.residents_for(world.police_handler).exists()
    with pytest.raises(Http404):
        selectors.resident_for(world.police_handler, resident.pk)


def test_search_by_id_number_and_phone_goes_through_the_blind_index(world, resident, far_resident):
    assert list(selectors.search_residents(world.dispatcher, ID_1)) == [resident]
    assert list(selectors.search_residents(world.dispatcher, "139 1234 1234")) == [resident]
    assert list(selectors.search_residents(world.dispatcher, "+86 138-0013-8000")) == [far_resident]
    # by name (decrypted in memory) within the caller's scope only
    assert list(selectors.search_residents(world.grid_worker, "李四")) == []
    assert list(selectors.search_residents(world.dispatcher, "李四")) == [far_resident]


def test_organisation_credit_code_is_validated_and_contacts_encrypted(world, home):
    address, _house, _h = home
    with pytest.raises(ValidationError) as exc:
        actions.create_organisation(world.grid_worker, address=address, name="岑西便利店", uscc=USCC_1[:-1] + "D")
    assert codes(exc, "uscc") == ["invalid_checksum"]
    org = actions.create_organisation(world.grid_worker, address=address, name="岑西便利店", uscc=USCC_1,
                                      kind="sole_trader", contact_name="赵六", contact_phone=PHONE_1,
                                      safety_contact_name="钱七", safety_contact_phone=PHONE_2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_name, contact_phone, safety_contact_phone FROM registry_organisation")
        row = " ".join(cursor.fetchone())
    assert PHONE_1 not in row and PHONE_2 not in row and "赵六" not in row
    assert Organisation.objects.get().contact_phone == PHONE_1
    with pytest.raises(ValidationError) as exc:
        actions.create_organisation(world.grid_worker, address=address, name="重复", uscc=USCC_1)
    assert codes(exc, "uscc") == ["duplicate_organisation"]
    assert ChangeRecord.objects.filter(entity="organisation", object_id=org.pk).get().changes["contact_phone"] == [
        None, "139****1234"]


def test_moving_a_resident_to_a_house_outside_jurisdiction_is_refused(world, resident):
    _a, far_house, _h = make_home(world, grid=OTHER_GRID, road="叶厝路", number="5")
    with pytest.raises(ValidationError) as exc:
        actions.update_resident(world.grid_worker, resident, house=far_house, household=None)
    assert codes(exc, "house") == ["outside_jurisdiction"]


def test_household_must_live_in_the_residents_house(world, resident):
    _a, other_house, other_household = make_home(world, number="7")
    with pytest.raises(ValidationError) as exc:
        actions.create_resident(world.admin, house=resident.house, household=other_household, name="王五",
                                id_number=ID_3)
    assert codes(exc, "household") == ["household_elsewhere"]


def test_unknown_care_tag_is_refused(world, resident):
    with pytest.raises(ValidationError) as exc:
        actions.update_resident(world.grid_worker, resident, care_tags=["no_such_tag"])
    assert codes(exc, "care_tags") == ["unknown_tag"]


def test_duplicate_standard_address_is_refused(world, home):
    with pytest.raises(ValidationError) as exc:
        actions.create_address(world.admin, grid=world.regions[GRID], road="岑西路", number="1", building="2",
                               unit="1", room="101")
    assert codes(exc, "road") == ["duplicate_address"]


def test_removing_a_resident_keeps_a_masked_history(world, resident):
    actions.remove_resident(world.grid_worker, resident, "搬离")
    assert not Resident.objects.exists()
    record = ChangeRecord.objects.get(entity="resident", kind="delete")
    assert record.changes == {"name": ["张*", None], "reason": [None, "搬离"]}


def _now():
    from django.utils import timezone

    return timezone.now()


def test_setup_ids_are_valid():
    from civicgrid.core.identifiers import normalize_id_number

    for number in (ID_1, ID_2, ID_3):
        assert normalize_id_number(number) == number
