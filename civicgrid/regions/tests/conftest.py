"""The real Xiamen division rows (厦门市 3502: 6 districts, 54 towns, 555 communities) with small
synthetic boundaries:

    集美区 350211  rectangle 118.00–118.20 E, 24.50–24.70 N
    思明区 350203  rectangle 118.05–118.20 E, 24.40–24.50 N   (shares the edge lat 24.50 with 集美区)
    岑东社区 350211001001: grids 001 [118.09–118.10] and 002 [118.10–118.11] × 24.57–24.58 N,
    sharing the edge lon 118.10; the point (118.097, 24.576) lies in grid 001.
"""

from pathlib import Path

import pytest
from django.utils import translation

from civicgrid.org import actions as org_actions
from civicgrid.org.models import Role
from civicgrid.regions import actions
from civicgrid.regions.models import Region
from civicgrid.regions.tests.geometry import collection, feature, rectangle, square

DIVISIONS_CSV = Path(__file__).resolve().parents[1] / "data" / "divisions-xiamen-fuzhou-shenzhen.csv"

JIMEI = "350211000000"
SIMING = "350203000000"
CENDONG = "350211001001"  # 岑东社区居委会, 集美街道
GRID_1 = CENDONG + "001"
GRID_2 = CENDONG + "002"
DISTRICT_BOUNDARIES = {
    JIMEI: rectangle(118.00, 24.50, 118.20, 24.70),
    SIMING: rectangle(118.05, 24.40, 118.20, 24.50),
}


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the msgids); test_translations checks the Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="session")
def xiamen_rows() -> list[dict]:
    return [row for row in actions.read_divisions_csv(DIVISIONS_CSV) if row["code"].startswith("3502")]


@pytest.fixture
def xiamen(db, xiamen_rows) -> dict[str, Region]:
    """Xiamen's official divisions, no geometry. Regions by code."""
    actions.import_divisions(xiamen_rows)
    return {r.code: r for r in Region.objects.all()}


@pytest.fixture
def districts(xiamen):
    """Xiamen with boundaries for 集美区 and 思明区 (no grids)."""
    actions.set_boundaries(DISTRICT_BOUNDARIES, is_demo=True)
    return xiamen


@pytest.fixture
def grids(districts):
    """Two grids in 岑东社区 sharing an edge, inside 集美区."""
    actions.import_grids(collection(
        feature(GRID_1, square(118.09, 24.57)),
        feature(GRID_2, square(118.10, 24.57), name="岑东二网格"),
    ), is_demo=True)
    return districts


@pytest.fixture
def superuser(db):
    from civicgrid.org.models import User

    return User.objects.create_superuser("root", "root@example.org", "secret-pw-123")


@pytest.fixture
def jimei_admin(xiamen):
    """An administrator whose jurisdiction is 集美区."""
    return org_actions.create_staff(username="jimei-admin", role=Role.ADMINISTRATOR, jurisdiction=xiamen[JIMEI])


@pytest.fixture
def siming_admin(xiamen):
    return org_actions.create_staff(username="siming-admin", role=Role.ADMINISTRATOR, jurisdiction=xiamen[SIMING])
