"""The whole Xiamen demo, loaded once for this module (it takes a few seconds) inside a
transaction that is rolled back afterwards, so other tests never see it."""

import io

import numpy as np
import pytest
import shapely
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from shapely.geometry import shape

from civicgrid.core.jurisdiction import jurisdiction_prefixes
from civicgrid.demo import catalogue
from civicgrid.demo.actions import load_demo
from civicgrid.org.models import CommandCentre, Department, DepartmentKind, GridAssignment, Role, User
from civicgrid.regions.models import Region

pytestmark = pytest.mark.slow

Level = Region.Level


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            out = io.StringIO()
            call_command("load_demo", stdout=out)
            yield out.getvalue()
            transaction.set_rollback(True)


def xiamen(level):
    return Region.objects.filter(code__startswith="3502", level=level)


def grids_as_shapes():
    rows = list(xiamen(Level.GRID).order_by("code").values_list("code", "geometry"))
    return [code for code, _g in rows], [shape(g) for _c, g in rows]


def test_the_real_division_codes_are_loaded(demo, db):
    # then Xiamen has its published divisions, exactly
    assert xiamen(Level.CITY).count() == 1
    assert xiamen(Level.DISTRICT).count() == 6
    assert xiamen(Level.STREET).count() == 54
    assert xiamen(Level.COMMUNITY).count() == 555
    assert Region.objects.get(code="350211002000").name == "侨英街道"


def test_about_as_many_grids_as_the_city_reports(demo, db):
    grids = xiamen(Level.GRID)
    assert 4000 <= grids.count() <= 4200
    # every community has at least one grid, and every grid is labelled demo geometry
    assert xiamen(Level.COMMUNITY).filter(children__isnull=True).count() == 0
    assert not grids.filter(geometry_is_demo=False).exists()
    assert not grids.filter(geometry__isnull=True).exists()


def test_geometry_flags_tell_official_from_generated(demo, db):
    # district polygons (and the city, their union) are official; streets and communities generated
    assert set(xiamen(Level.DISTRICT).values_list("geometry_is_demo", flat=True)) == {False}
    assert set(xiamen(Level.CITY).values_list("geometry_is_demo", flat=True)) == {False}
    assert set(xiamen(Level.STREET).values_list("geometry_is_demo", flat=True)) == {True}
    assert set(xiamen(Level.COMMUNITY).values_list("geometry_is_demo", flat=True)) == {True}
    assert not Region.objects.filter(code__startswith="3502", geometry__isnull=True).exists()


def test_grid_codes_are_15_digits_under_their_community_in_reading_order(demo, db):
    rows = xiamen(Level.GRID).order_by("code").values_list("code", "parent__code", "name", "geometry")
    by_community: dict[str, list] = {}
    for code, parent_code, name, geometry in rows:
        assert len(code) == 15 and code.isdigit()
        assert code[:12] == parent_code
        assert name.endswith(f"第{int(code[12:])}网格")
        by_community.setdefault(parent_code, []).append((code, shape(geometry).centroid))
    assert len(by_community) == 555
    for community, grids in by_community.items():
        assert [c[12:] for c, _p in grids] == [f"{n:03d}" for n in range(1, len(grids) + 1)]
        for (code, earlier), (later_code, later) in zip(grids, grids[1:], strict=False):
            # west → east within a band, bands north → south
            assert later.x > earlier.x or later.y < earlier.y, (community, code, later_code)
    assert Region.objects.get(code="350211001001003").name == "岑东社区第3网格"


def test_grids_are_valid_do_not_overlap_and_lie_in_their_community(demo, db):
    codes, geoms = grids_as_shapes()
    assert all(g.is_valid and g.area > 0 for g in geoms)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    shared = shapely.area(shapely.intersection(np.take(geoms, left[keep]), np.take(geoms, right[keep])))
    assert shared.max() == 0
    communities = {
        code: shape(g) for code, g in xiamen(Level.COMMUNITY).values_list("code", "geometry")
    }
    assert all(communities[code[:12]].covers(g) for code, g in zip(codes, geoms, strict=True))
    # and the grids of a district cover it
    district = shape(Region.objects.get(code="350211000000").geometry)
    jimei = shapely.union_all([g for c, g in zip(codes, geoms, strict=True) if c.startswith("350211")])
    assert jimei.symmetric_difference(district).area / district.area < 1e-9


def test_the_example_point_locates_in_a_jimei_grid(demo, db):
    from civicgrid.regions.locator import locate

    location = locate(118.097, 24.576)
    assert location is not None
    assert location.level == Level.GRID
    assert location.code.startswith("350211")
    assert location.is_demo


def test_departments_at_every_level(demo, db):
    departments = Department.objects.filter(region__code__startswith="3502")
    names = set(departments.values_list("name", flat=True))
    for name in ["集美区公安分局侨英派出所", "集美区司法局侨英司法所", "集美区城市管理行政执法局侨英中队",
                 "厦门市集美区人民法院", "厦门水务集团有限公司", "侨英街道办事处", "岑东社区居委会"]:
        assert name in names
    # three street offices of district bureaus and a street office per street
    for kind in (DepartmentKind.POLICE_STATION, DepartmentKind.JUDICIAL_OFFICE,
                 DepartmentKind.CITY_MANAGEMENT, DepartmentKind.STREET_OFFICE):
        assert departments.filter(kind=kind, region__level=Level.STREET).count() == 54
    assert departments.filter(kind=DepartmentKind.RESIDENTS_COMMITTEE).count() == 555
    assert departments.filter(kind=DepartmentKind.COURT, region__level=Level.DISTRICT).count() == 6
    assert departments.filter(region__level=Level.CITY).count() == 4
    assert Department.objects.get(name="集美区城市管理行政执法局侨英中队").kind == DepartmentKind.CITY_MANAGEMENT


def test_every_kind_the_responsibility_matrix_names_serves_every_district(demo, db):
    from civicgrid.taxonomy.models import ResponsibilityRule

    # given the kinds the default matrix sends cases to
    kinds = set()
    for lead, assisting in ResponsibilityRule.objects.values_list("lead_kind", "assisting_kinds"):
        kinds.update([lead, *assisting])
    assert len(kinds) > 10
    # then in every district a department of each kind serves it (city-wide, or inside it)
    served = set(Department.objects.values_list("kind", "region__code"))
    for district in xiamen(Level.DISTRICT).values_list("code", flat=True):
        for kind in kinds:
            assert any(k == kind and (code == "350200000000" or code.startswith(district[:6]))
                       for k, code in served), (district, kind)


def test_a_command_centre_for_every_region(demo, db):
    centres = CommandCentre.objects.filter(region__code__startswith="3502")
    assert centres.count() == 1 + 6 + 54 + 555
    assert centres.get(level="city").name == "厦门市社会治理指挥中心"
    assert centres.get(region__code="350211002000").name == "侨英街道综治中心"
    assert centres.get(region__code="350211001001").name == "岑东社区网格化服务管理中心"
    assert not centres.exclude(level=F("region__level")).exists()


def test_every_role_has_a_demo_login_that_works(demo, db, client):
    # then each role has a login, printed with the shared password
    logins = {login.role: login for login in catalogue.DEMO_LOGINS}
    assert set(logins) == set(Role.values)
    assert "civicgrid-demo" in demo
    for login in catalogue.DEMO_LOGINS:
        assert login.username in demo
        # and the account authenticates and may enter the admin site
        user = authenticate(username=login.username, password=catalogue.DEMO_PASSWORD)
        assert user is not None and user.role == login.role and user.is_staff
        # and sees a part of the city (everything, for the administrator; nothing for the security
        # administrator, who reads only the access log)
        assert (jurisdiction_prefixes(user) == []) == (login.role == Role.SECURITY_ADMIN)
        assert client.login(username=login.username, password=catalogue.DEMO_PASSWORD)
        assert client.get("/admin/").status_code == 200
        client.logout()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.role == Role.ADMINISTRATOR
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()


def test_demo_people_sit_where_their_role_needs(demo, db):
    worker = User.objects.get(username="grid_worker")
    grids = list(GridAssignment.objects.filter(worker=worker).values_list("grid__code", flat=True))
    assert 2 <= len(grids) <= 3 and all(code.startswith("350211002001") for code in grids)
    assert User.objects.get(username="jimei_dispatcher").centre.region.code == "350211000000"
    assert User.objects.get(username="qiaoying_dispatcher").centre.region.code == "350211002000"
    assert User.objects.get(username="police_handler").department.kind == DepartmentKind.POLICE_STATION
    assert User.objects.get(username="city_leader").centre.level == "city"


def test_the_summary_prints_the_counts(demo, db):
    for figure in ["6", "54", "555", f"{xiamen(Level.GRID).count():,}", "616"]:
        assert f": {figure}\n" in demo


def test_a_second_run_changes_nothing_and_duplicates_nothing(demo, db):
    # given the loaded demo
    def snapshot():
        return {
            "regions": sorted(Region.objects.filter(code__startswith="3502").values_list("code", "name", "geometry")),
            "departments": sorted(Department.objects.values_list("code", "name", "kind", "region__code")),
            "centres": sorted(CommandCentre.objects.values_list("name", "region__code")),
            "users": sorted(User.objects.values_list("username", "role")),
            "assignments": sorted(GridAssignment.objects.values_list("worker__username", "grid__code")),
        }

    before = snapshot()
    # when the demo is loaded again
    summary = load_demo()
    # then codes, names, geometry (generation is deterministic) and counts are the same
    after = snapshot()
    assert after == before
    assert summary.counts["grids"] == len([r for r in before["regions"] if len(r[0]) == 15])
