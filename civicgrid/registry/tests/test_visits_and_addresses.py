"""Household visits (近邻串门): recording, list items, an item becoming a case in one step, visit
hours against the two-hour norm; and the address parser."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from civicgrid.cases.models import Case, Channel
from civicgrid.core.api import DomainError
from civicgrid.registry import actions, selectors
from civicgrid.registry.addresses import parse_address, split_parts
from civicgrid.registry.models import ItemState

from .conftest import GRID, OTHER_GRID, make_home

pytestmark = pytest.mark.django_db


def at(hour, day=None):
    day = day or timezone.localdate() - datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_grid_worker_records_a_visit_with_items(world, resident):
    visit = actions.record_visit(world.grid_worker, household=resident.household, started_at=at(9),
                                 duration_minutes=45, notes="老人身体尚可",
                                 items=[("need", "希望安装扶手"), ("sentiment", "楼下夜市噪音大"), ("resource", "儿子是电工"),
                                        ("need", "  ")])
    assert visit.worker == world.grid_worker and visit.grid_code == GRID
    assert sorted(visit.items.values_list("kind", flat=True)) == ["need", "resource", "sentiment"]
    assert selectors.items_for(world.grid_worker, household=resident.household, kind="need").count() == 1


def test_visit_rules(world, resident):
    household = resident.household
    with pytest.raises(ValidationError) as exc:
        actions.record_visit(world.grid_worker, household=household, started_at=at(9), duration_minutes=0)
    assert exc.value.error_dict["duration_minutes"][0].code == "out_of_range"
    with pytest.raises(ValidationError) as exc:
        actions.record_visit(world.grid_worker, household=household,
                             started_at=timezone.now() + datetime.timedelta(hours=2), duration_minutes=30)
    assert exc.value.error_dict["started_at"][0].code == "in_future"
    # another grid's worker cannot record a visit here
    with pytest.raises(ValidationError) as exc:
        actions.record_visit(world.other_worker, household=household, started_at=at(9), duration_minutes=30)
    assert exc.value.error_dict["household"][0].code == "outside_jurisdiction"


def test_a_need_becomes_a_case_in_one_step_linked_to_the_visit(world, resident):
    visit = actions.record_visit(world.grid_worker, household=resident.household, started_at=at(10),
                                 duration_minutes=30, items=[("need", "楼道灯坏了，晚上看不见")])
    item = visit.items.get()
    # when the grid worker turns it into a case
    item = actions.item_to_case(world.grid_worker, item)
    # then a grid-patrol case exists in the household's grid, linked back to the item and visit
    case = Case.objects.get()
    assert item.case == case and item.state == ItemState.CASE
    assert case.channel == Channel.GRID_PATROL and case.region_code == GRID
    assert case.title == "楼道灯坏了，晚上看不见" and "岑西路1号" in case.address
    assert case.visit_item.visit == visit
    # and a second attempt is refused
    with pytest.raises(DomainError) as exc:
        actions.item_to_case(world.grid_worker, item)
    assert exc.value.get_codes() == "item_not_open"


def test_a_resource_does_not_become_a_case(world, resident):
    visit = actions.record_visit(world.grid_worker, household=resident.household, started_at=at(10),
                                 duration_minutes=30, items=[("resource", "家有闲置轮椅")])
    with pytest.raises(DomainError) as exc:
        actions.item_to_case(world.grid_worker, visit.items.get())
    assert exc.value.get_codes() == "not_a_problem"
    assert not Case.objects.exists()


def test_an_item_of_another_grid_cannot_become_a_case(world, resident):
    visit = actions.record_visit(world.grid_worker, household=resident.household, started_at=at(10),
                                 duration_minutes=30, items=[("need", "x")])
    with pytest.raises(ValidationError):
        actions.item_to_case(world.other_worker, visit.items.get())
    assert not Case.objects.exists()


def test_visit_hours_per_day_against_the_two_hour_norm(world, resident):
    # given 80 + 50 minutes yesterday and 30 minutes the day before
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    for hour, minutes, day in ((9, 80, yesterday), (14, 50, yesterday), (9, 30, yesterday - datetime.timedelta(days=1))):
        actions.record_visit(world.grid_worker, household=resident.household, started_at=at(hour, day),
                             duration_minutes=minutes)
    # when the worker's last three days are read
    rows = selectors.visit_hours(world.grid_worker, days=3, until=yesterday)
    by_day = {r["date"]: r for r in rows}
    # then yesterday meets the norm (130 min), the day before does not (30), the first day has 0
    assert by_day[yesterday]["minutes"] == 130 and by_day[yesterday]["meets_norm"]
    assert by_day[yesterday - datetime.timedelta(days=1)]["minutes"] == 30
    assert not by_day[yesterday - datetime.timedelta(days=1)]["meets_norm"]
    assert by_day[yesterday - datetime.timedelta(days=2)]["minutes"] == 0
    # the district dispatcher sees both grid workers; the other worker sees only themselves
    assert {r["username"] for r in selectors.visit_hours(world.dispatcher, days=1)} == {"gridworker", "gw2"}
    assert {r["username"] for r in selectors.visit_hours(world.other_worker, days=1)} == {"gw2"}


def test_split_parts():
    assert split_parts("岑西路12号3栋2单元501室") == (
        {"road": "岑西路", "number": "12", "building": "3", "unit": "2", "room": "501"}, "")
    assert split_parts("嘉禾路 8号 A座") == ({"road": "嘉禾路", "number": "8", "building": "A"}, "")


def test_parse_address_finds_the_standard_address_or_names_the_part_that_did_not_match(world):
    address, _house, _hh = make_home(world, road="岑西路", number="12", building="3", unit="2", room="501")
    make_home(world, grid=OTHER_GRID, road="叶厝路", number="1", building="", unit="", room="")
    # a full address with its community
    found = parse_address("厦门市集美区集美街道岑西社区岑西路12号3栋2单元501室")
    assert found.address == address and found.unmatched is None and found.community.code == "350211001001"
    # the room does not exist
    found = parse_address("集美区岑西社区岑西路12号3栋2单元502室")
    assert found.address is None and found.unmatched == "room"
    assert found.matched == ["community", "road", "number", "building", "unit"]
    # the road is unknown
    assert parse_address("岑西社区岑东路12号").unmatched == "road"
    # the number is unknown in a known road
    assert parse_address("岑西社区岑西路13号3栋2单元501室").unmatched == "number"
    # an unknown community: the division part does not match
    assert parse_address("火星社区岑西路12号").unmatched in ("community", "road")
    # without a community, the road and number still find a unique address
    assert parse_address("叶厝路1号").address.road == "叶厝路"


def test_find_address_only_within_the_callers_scope(world):
    make_home(world, grid=OTHER_GRID, road="叶厝路", number="1", building="", unit="", room="")
    assert selectors.find_address(world.grid_worker, "叶厝路1号").address is None
    assert selectors.find_address(world.dispatcher, "叶厝路1号").address is not None


def test_households_due_for_a_visit_follow_their_care_tags(world, resident, far_resident):
    # given 张三 (独居老人: visit every 7 days) never visited, and 李四 without a tag
    due = selectors.households_due_for_visit(world.dispatcher)
    assert [d["household"] for d in due] == [resident.household] and due[0]["last"] is None
    # when the worker visited 3 days ago, the household is not due; 8 days ago, it is
    today = timezone.localdate()
    actions.record_visit(world.grid_worker, household=resident.household,
                         started_at=at(9, today - datetime.timedelta(days=8)), duration_minutes=20)
    assert selectors.households_due_for_visit(world.grid_worker, today=today)[0]["days"] == 8
    actions.record_visit(world.grid_worker, household=resident.household,
                         started_at=at(9, today - datetime.timedelta(days=3)), duration_minutes=20)
    assert selectors.households_due_for_visit(world.grid_worker, today=today) == []
    # and another grid's worker never sees it
    assert selectors.households_due_for_visit(world.other_worker) == []
