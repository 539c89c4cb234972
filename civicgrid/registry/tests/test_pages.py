"""The registry section of the grid worker's phone page: masked search results, edit, visit,
items to cases, visit hours; another grid's records are 404."""

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.registry import actions
from civicgrid.registry.models import Resident, Visit

from .conftest import ID_1, PHONE_1, PHONE_2

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_search_shows_masked_results_in_my_grids_only(world, resident, far_resident):
    # searched by POST, so the ID number is in no URL
    c = login(world.grid_worker)
    found = c.post("/grid/registry/", {"q": ID_1}).content.decode().split('id="found"')[1]
    assert "张*" in found and "350211********123X" in found and ID_1 not in found and "张三" not in found
    # another grid's resident is not found, by name or ID number
    assert "李" not in c.post("/grid/registry/", {"q": "李四"}).content.decode().split('id="found"')[1]
    assert "/residents/" not in c.post("/grid/registry/", {"q": "350211198505052014"}).content.decode()


def test_pages_are_404_for_another_grid_and_refused_to_other_roles(world, resident, far_resident):
    c = login(world.grid_worker)
    assert c.get(f"/grid/registry/residents/{far_resident.pk}/").status_code == 404
    assert c.get(f"/grid/registry/households/{far_resident.household_id}/").status_code == 404
    assert c.post(f"/grid/registry/households/{far_resident.household_id}/visit", {}).status_code == 404
    assert login(world.dispatcher).get("/grid/registry/").status_code == 403


def test_edit_a_resident_keeps_masked_fields_when_left_empty(world, resident):
    c = login(world.grid_worker)
    page = c.get(f"/grid/registry/residents/{resident.pk}/").content.decode()
    assert PHONE_1 not in page and "139****1234" in page
    response = c.post(f"/grid/registry/residents/{resident.pk}/", {
        "name": "", "id_number": "", "phone": PHONE_2, "residence_type": "migrant", "relation": "户主",
        "care_tags": ["elderly_alone", "low_income"]})
    assert response.status_code == 302
    resident = Resident.objects.get(pk=resident.pk)
    assert resident.name == "张三" and resident.id_number == ID_1 and resident.phone == PHONE_2
    assert resident.residence_type == "migrant"
    bad = c.post(f"/grid/registry/residents/{resident.pk}/", {"id_number": ID_1[:-1] + "1", "residence_type": "migrant"})
    assert bad.status_code == 422 and Resident.objects.get(pk=resident.pk).id_number == ID_1


def test_record_a_visit_and_turn_a_need_into_a_case(world, resident, sla_rules):
    c = login(world.grid_worker)
    household = resident.household
    started = timezone.localtime().replace(second=0, microsecond=0) - timezone.timedelta(hours=1)
    response = c.post(f"/grid/registry/households/{household.pk}/visit", {
        "started_at": started.strftime("%Y-%m-%dT%H:%M"), "duration_minutes": "50", "notes": "聊了近况",
        "kind_0": "need", "text_0": "需要助餐服务", "kind_1": "resource", "text_1": "邻居会修电器", "kind_2": "need",
        "text_2": ""})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.duration_minutes == 50 and visit.items.count() == 2
    need = visit.items.get(kind="need")
    response = c.post(f"/grid/registry/items/{need.pk}/case", follow=True)
    case = Case.objects.get()
    assert case.number in response.content.decode() and case.visit_item == need
    # the index shows 50 minutes today against the norm
    page = c.get("/grid/registry/").content.decode()
    assert "0.8" in page


def test_visit_form_errors_are_shown(world, resident):
    c = login(world.grid_worker)
    response = c.post(f"/grid/registry/households/{resident.household_id}/visit", {"started_at": "x",
                                                                                    "duration_minutes": "5"})
    assert response.status_code == 422 and not Visit.objects.exists()


def test_house_use_and_rented_are_edited_with_history(world, resident):
    c = login(world.grid_worker)
    c.post(f"/grid/registry/households/{resident.household_id}/house", {"use": "rental", "is_rented": "on"})
    house = resident.house
    house.refresh_from_db()
    assert house.use == "rental" and house.is_rented
    from civicgrid.registry.models import ChangeRecord

    assert ChangeRecord.objects.filter(entity="house", kind="update", actor=world.grid_worker).exists()
    assert actions  # the actions module is what the page calls
