"""A small region tree and organisation for the org tests.

厦门市 3502 ─┬─ 集美区 350211 ─┬─ 集美街道 350211001 ─┬─ 岑西社区 350211001001 ─ grids …001001001, …001001002
             │                 │                      └─ 浔江社区 350211001002 ─ grid …001002001
             │                 └─ 侨英街道 350211002 ─── 叶厝社区 350211002001 ─ grid …002001001
             └─ 思明区 350203 ─── 中华街道 350203001 ─── 中山社区 350203001001 ─ grid …001001001

Command centres: the city, 集美区, 集美街道 and 岑西社区 (思明区 and 侨英街道 have none, so
routing there falls back to the next centre up).
"""

import pytest

from civicgrid.org import actions
from civicgrid.org.models import CommandCentre, Department, DepartmentKind, Role, User
from civicgrid.regions.models import Region

REGIONS = [
    # code, level, name, parent code
    ("350200000000", "city", "厦门市", None),
    ("350211000000", "district", "集美区", "350200000000"),
    ("350203000000", "district", "思明区", "350200000000"),
    ("350211001000", "street", "集美街道", "350211000000"),
    ("350211002000", "street", "侨英街道", "350211000000"),
    ("350203001000", "street", "中华街道", "350203000000"),
    ("350211001001", "community", "岑西社区", "350211001000"),
    ("350211001002", "community", "浔江社区", "350211001000"),
    ("350211002001", "community", "叶厝社区", "350211002000"),
    ("350203001001", "community", "中山社区", "350203001000"),
    ("350211001001001", "grid", "岑西一网格", "350211001001"),
    ("350211001001002", "grid", "岑西二网格", "350211001001"),
    ("350211001002001", "grid", "浔江一网格", "350211001002"),
    ("350211002001001", "grid", "叶厝一网格", "350211002001"),
    ("350203001001001", "grid", "中山一网格", "350203001001"),
]


@pytest.fixture
def regions(db) -> dict[str, Region]:
    """Regions by code: ``regions["350211000000"]`` is 集美区."""
    tree: dict[str, Region] = {}
    for code, level, name, parent in REGIONS:
        tree[code] = Region.objects.create(code=code, level=level, name=name, parent=tree.get(parent))
    return tree


@pytest.fixture
def centres(regions) -> dict[str, CommandCentre]:
    names = {
        "350200000000": "厦门市社会治理指挥中心",
        "350211000000": "集美区综治中心",
        "350211001000": "集美街道综治中心",
        "350211001001": "岑西社区综治中心",
    }
    return {code: actions.create_centre(name=name, region=regions[code]) for code, name in names.items()}


@pytest.fixture
def departments(regions) -> dict[str, Department]:
    rows = [
        ("jm-police-jimei", "集美派出所", DepartmentKind.POLICE_STATION, "350211001000"),
        ("jm-police-qiaoying", "侨英派出所", DepartmentKind.POLICE_STATION, "350211002000"),
        ("sm-police-zhonghua", "中华派出所", DepartmentKind.POLICE_STATION, "350203001000"),
        ("jm-city-management", "集美区城管执法局", DepartmentKind.CITY_MANAGEMENT, "350211000000"),
        ("sm-city-management", "思明区城管执法局", DepartmentKind.CITY_MANAGEMENT, "350203000000"),
        ("jm-judicial-jimei", "集美司法所", DepartmentKind.JUDICIAL_OFFICE, "350211001000"),
        ("xm-water", "厦门水务集团", DepartmentKind.WATER_SUPPLY, "350200000000"),
    ]
    return {
        code: actions.create_department(code=code, name=name, kind=kind, region=regions[region])
        for code, name, kind, region in rows
    }


@pytest.fixture
def org(regions, centres, departments):
    """The whole organisation: regions, centres and departments."""
    return {"regions": regions, "centres": centres, "departments": departments}


@pytest.fixture
def make_staff(db):
    counter = iter(range(1, 10_000))

    def make(role: str = "", **kwargs) -> User:
        kwargs.setdefault("username", f"{role or 'user'}{next(counter)}")
        return actions.create_staff(role=role, password="secret-pw-123", **kwargs)

    return make


@pytest.fixture
def jimei_dispatcher(org, make_staff) -> User:
    return make_staff(Role.DISPATCHER, centre=org["centres"]["350211000000"])


@pytest.fixture
def jimei_admin(org, make_staff) -> User:
    return make_staff(Role.ADMINISTRATOR, jurisdiction=org["regions"]["350211000000"])


@pytest.fixture
def platform_admin(org, make_staff) -> User:
    return make_staff(Role.ADMINISTRATOR)


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", "secret-pw-123")


@pytest.fixture
def grid_worker(org, make_staff) -> User:
    """A grid worker of 岑西社区 with one grid, 350211001001001."""
    regions = org["regions"]
    worker = make_staff(Role.GRID_WORKER, jurisdiction=regions["350211001001"])
    actions.assign_grid_worker(regions["350211001001001"], worker)
    return worker
