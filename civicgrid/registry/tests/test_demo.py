"""The demo registry: loads once for 浒井社区 through the actions (encrypted, with history), and
a second run changes nothing."""

import pytest

from civicgrid.org.models import GridAssignment, Role, User
from civicgrid.regions.models import Region
from civicgrid.registry.demo import COMMUNITY, GRIDS, load_demo_registry
from civicgrid.registry.models import ChangeRecord, Organisation, Resident, Visit

pytestmark = pytest.mark.django_db


def test_demo_registry_loads_once(db):
    # given 浒井社区, its three grids, the demo grid worker and an administrator
    city = Region.objects.create(code="350200000000", level="city", name="厦门市")
    district = Region.objects.create(code="350211000000", level="district", name="集美区", parent=city)
    street = Region.objects.create(code="350211002000", level="street", name="侨英街道", parent=district)
    community = Region.objects.create(code=COMMUNITY + "", level="community", name="浒井社区", parent=street)
    worker = User.objects.create_user(username="grid_worker", password="x", role=Role.GRID_WORKER,
                                      jurisdiction=community)
    for n, code in enumerate(GRIDS):
        grid = Region.objects.create(code=code, level="grid", name=f"浒井{n + 1}网格", parent=community)
        GridAssignment.objects.create(grid=grid, worker=worker)
    User.objects.create_superuser(username="admin", password="x")
    # when the demo registry is loaded twice
    first = load_demo_registry()
    counts = (Resident.objects.count(), Organisation.objects.count(), Visit.objects.count(),
              ChangeRecord.objects.count())
    second = load_demo_registry()
    # then it holds residents in every grid, organisations, a week of visits — and the rerun added nothing
    assert first == second and 36 in first.values()
    assert counts[0] > 60 and counts[1] == 6 and counts[2] >= 7
    assert (Resident.objects.count(), Organisation.objects.count(), Visit.objects.count(),
            ChangeRecord.objects.count()) == counts
    assert set(Resident.objects.values_list("grid_code", flat=True)) == set(GRIDS)
