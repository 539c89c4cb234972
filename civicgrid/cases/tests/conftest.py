"""A small city for the case tests.

厦门市 3502 ─┬─ 集美区 350211 ─┬─ 集美街道 350211001 ─ 岑西社区 350211001001 ─ grid 350211001001001
             │                 └─ 侨英街道 350211002 ─ 叶厝社区 350211002001 ─ grid 350211002001001
             └─ 思明区 350203 ─── 中华街道 350203001 ─ 中山社区 350203001001 ─ grid 350203001001001

Centres: 集美区 and 思明区. Departments: 集美区城管 (lead), 集美派出所 (street level), 厦门水务
(city-wide), 思明区城管 (does not serve 集美区).
"""

import pytest

from civicgrid.cases import actions
from civicgrid.cases.models import Channel
from civicgrid.org.models import CommandCentre, Department, DepartmentKind, GridAssignment, Role, User
from civicgrid.regions.models import Region

GRID = "350211001001001"
OTHER_GRID = "350211002001001"
SIMING_GRID = "350203001001001"

REGIONS = [
    ("350200000000", "city", "厦门市", None),
    ("350211000000", "district", "集美区", "350200000000"),
    ("350203000000", "district", "思明区", "350200000000"),
    ("350211001000", "street", "集美街道", "350211000000"),
    ("350211002000", "street", "侨英街道", "350211000000"),
    ("350203001000", "street", "中华街道", "350203000000"),
    ("350211001001", "community", "岑西社区", "350211001000"),
    ("350211002001", "community", "叶厝社区", "350211002000"),
    ("350203001001", "community", "中山社区", "350203001000"),
    (GRID, "grid", "岑西一网格", "350211001001"),
    (OTHER_GRID, "grid", "叶厝一网格", "350211002001"),
    (SIMING_GRID, "grid", "中山一网格", "350203001001"),
]


class City:
    """Everything a case test needs, as attributes."""


@pytest.fixture
def city(db) -> City:
    c = City()
    regions: dict[str, Region] = {}
    for code, level, name, parent in REGIONS:
        regions[code] = Region.objects.create(code=code, level=level, name=name, parent=regions.get(parent))
    c.regions = regions
    c.jimei_centre = CommandCentre.objects.create(name="集美区综治中心", level="district", region=regions["350211000000"])
    c.siming_centre = CommandCentre.objects.create(name="思明区综治中心", level="district", region=regions["350203000000"])

    def dept(code, name, kind, region):
        return Department.objects.create(code=code, name=name, kind=kind, region=regions[region])

    c.city_management = dept("jm-cm", "集美区城管执法局", DepartmentKind.CITY_MANAGEMENT, "350211000000")
    c.police = dept("jm-police", "集美派出所", DepartmentKind.POLICE_STATION, "350211001000")
    c.water = dept("xm-water", "厦门水务集团", DepartmentKind.WATER_SUPPLY, "350200000000")
    c.siming_cm = dept("sm-cm", "思明区城管执法局", DepartmentKind.CITY_MANAGEMENT, "350203000000")

    def staff(username, role, **kwargs):
        return User.objects.create_user(username=username, password="x", role=role, **kwargs)

    c.dispatcher = staff("dispatcher", Role.DISPATCHER, centre=c.jimei_centre)
    c.siming_dispatcher = staff("siming", Role.DISPATCHER, centre=c.siming_centre)
    c.cm_handler = staff("cm", Role.DEPARTMENT_HANDLER, department=c.city_management)
    c.police_handler = staff("police", Role.DEPARTMENT_HANDLER, department=c.police)
    c.water_handler = staff("water", Role.DEPARTMENT_HANDLER, department=c.water)
    c.siming_handler = staff("smcm", Role.DEPARTMENT_HANDLER, department=c.siming_cm)
    c.grid_worker = staff("gridworker", Role.GRID_WORKER, jurisdiction=regions["350211001001"])
    GridAssignment.objects.create(grid=regions[GRID], worker=c.grid_worker)
    c.leader = staff("leader", Role.LEADER, jurisdiction=regions["350211000000"])
    c.admin = staff("admin", Role.ADMINISTRATOR)
    c.category = make_category()
    c.handler_of = {
        c.city_management.pk: c.cm_handler, c.police.pk: c.police_handler, c.water.pk: c.water_handler,
    }
    return c


def make_category():
    """A category for filing (the taxonomy app owns the model)."""
    from civicgrid.taxonomy.models import Category

    return Category.objects.create(kind="component", code="01001", major_code="01", name="上水井盖")


@pytest.fixture
def report(city):
    """``report(**overrides)`` → a new case in 岑西一网格, reported through the web form."""

    def make(**kwargs):
        kwargs.setdefault("channel", Channel.WEB)
        kwargs.setdefault("title", "井盖缺失")
        kwargs.setdefault("region_code", GRID)
        return actions.report_case(**kwargs)

    return make


class Clock:
    """A fixed, settable "now" for every ``django.utils.timezone.now()`` call."""

    def __init__(self, moment):
        self.now = moment

    def set(self, moment):
        self.now = moment
        return moment

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    c = Clock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))  # a Monday
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.fixture
def sla_rules(city):
    """The default rule: file, dispatch and sign for within 1 working hour, handle within 3
    working days (urgent: 4 working hours), verify within 1 working day."""
    from civicgrid.taxonomy.models import SlaRule

    return SlaRule.objects.create(
        is_default=True, file_amount=1, file_unit="hours", dispatch_amount=1, dispatch_unit="hours",
        sign_for_amount=1, sign_for_unit="hours", handle_amount=3, handle_unit="days",
        handle_urgent_amount=4, handle_urgent_unit="hours", verify_amount=1, verify_unit="days",
    )


@pytest.fixture
def centre_chain(city):
    """Community (岑西社区) → street (集美街道) → district (集美区, the fixture's) → city (厦门市)
    centres, each with one dispatcher."""
    c = city
    c.community_centre = CommandCentre.objects.create(
        name="岑西社区综治中心", level="community", region=c.regions["350211001001"])
    c.street_centre = CommandCentre.objects.create(
        name="集美街道综治中心", level="street", region=c.regions["350211001000"])
    c.city_centre = CommandCentre.objects.create(
        name="厦门市社会治理指挥中心", level="city", region=c.regions["350200000000"])
    c.community_dispatcher = User.objects.create_user(
        username="community", password="x", role=Role.DISPATCHER, centre=c.community_centre)
    c.street_dispatcher = User.objects.create_user(
        username="street", password="x", role=Role.DISPATCHER, centre=c.street_centre)
    c.city_dispatcher = User.objects.create_user(
        username="citydisp", password="x", role=Role.DISPATCHER, centre=c.city_centre)
    return c
