"""The registry tests' world: the case tests' small city (岑西社区 with grid 350211001001001 and
its grid worker, 叶厝社区 with grid 350211002001001, 中山社区 in 思明区) plus a second grid worker
in 叶厝, care tags, and a builder of addresses, houses, households and residents."""

import pytest

from civicgrid.cases.tests.conftest import GRID, OTHER_GRID, SIMING_GRID, city, sla_rules  # noqa: F401
from civicgrid.org.models import GridAssignment, Role, User
from civicgrid.registry import actions

# Valid resident identity card numbers (check characters computed with stdnum).
ID_1 = "35021119900101123X"
ID_2 = "350211198505052014"
ID_3 = "350203196003150029"
ID_4 = "350211201001010018"
PHONE_1 = "13912341234"
PHONE_2 = "13800138000"
USCC_1 = "91350211MA2Y4GJ20C"
USCC_2 = "92350211MA8RT5JX08"


def valid_id(prefix17: str) -> str:
    from stdnum.cn import ric

    return prefix17 + ric.calc_check_digit(prefix17 + "0")


@pytest.fixture
def world(city):  # noqa: F811
    w = city
    w.other_worker = User.objects.create_user(username="gw2", password="x", role=Role.GRID_WORKER,
                                              jurisdiction=w.regions["350211002001"])
    GridAssignment.objects.create(grid=w.regions[OTHER_GRID], worker=w.other_worker)
    actions.load_default_care_tags()
    return w


def make_home(world, *, grid=GRID, road="岑西路", number="1", building="2", unit="1", room="101", actor=None,
              household_number=None):
    actor = actor or world.admin
    address = actions.create_address(actor, grid=world.regions[grid], road=road, number=number, building=building,
                                     unit=unit, room=room, lon=118.095, lat=24.585)
    house = actions.create_house(actor, address=address)
    household = actions.create_household(actor, house=house, number=household_number or f"H{address.pk:06d}")
    return address, house, household


@pytest.fixture
def home(world):
    """An address, house and household in the grid worker's grid (岑西一网格)."""
    return make_home(world)


@pytest.fixture
def resident(world, home):
    _address, house, household = home
    return actions.create_resident(world.admin, house=house, household=household, name="张三", id_number=ID_1,
                                   phone=PHONE_1, relation="户主", care_tags=["elderly_alone"])


@pytest.fixture
def far_resident(world):
    """A resident in the other grid (叶厝一网格), not the first grid worker's."""
    _address, house, household = make_home(world, grid=OTHER_GRID, road="叶厝路", number="9")
    return actions.create_resident(world.admin, house=house, household=household, name="李四", id_number=ID_2,
                                   phone=PHONE_2)


# The shared headless-Chromium fixture of the page tests.
from civicgrid.web.tests.browser import browser  # noqa: E402, F401
