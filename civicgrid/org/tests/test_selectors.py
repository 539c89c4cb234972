import pytest
from django.http import Http404

from civicgrid.org import actions, selectors
from civicgrid.org.models import DepartmentKind, Role


def codes(departments):
    return sorted(d.code for d in departments)


# --- scoping --------------------------------------------------------------------------------------


def test_district_dispatcher_sees_only_their_districts_departments(jimei_dispatcher):
    # when a 集美区 dispatcher lists departments
    seen = codes(selectors.departments_for(jimei_dispatcher))
    # then 集美区's are there, 思明区's and the city-wide ones are not
    assert seen == [
        "jm-city-management", "jm-judicial-jimei", "jm-police-jimei", "jm-police-qiaoying",
    ]


def test_department_detail_outside_jurisdiction_is_404(org, jimei_dispatcher):
    # given a 思明区 department
    siming = org["departments"]["sm-police-zhonghua"]
    # then a 集美区 dispatcher cannot open it, but can open one of their own
    with pytest.raises(Http404):
        selectors.department_detail(jimei_dispatcher, siming.pk)
    own = org["departments"]["jm-police-jimei"]
    assert selectors.department_detail(jimei_dispatcher, own.pk) == own


def test_street_handler_is_scoped_by_their_department(org, make_staff):
    # given a handler of 集美派出所 (street 350211001) with no explicit jurisdiction
    handler = make_staff(Role.DEPARTMENT_HANDLER, department=org["departments"]["jm-police-jimei"])
    # then they see the departments and centres of their street only
    assert codes(selectors.departments_for(handler)) == ["jm-judicial-jimei", "jm-police-jimei"]
    assert [c.region.code for c in selectors.centres_for(handler)] == ["350211001000", "350211001001"]


def test_superuser_and_platform_admin_see_everything(org, superuser, platform_admin):
    everything = codes(org["departments"].values())
    assert codes(selectors.departments_for(superuser)) == everything
    assert codes(selectors.departments_for(platform_admin)) == everything
    assert selectors.centres_for(platform_admin).count() == len(org["centres"])


def test_user_without_jurisdiction_sees_nothing(org, make_staff):
    # given an account with no role and no placement (not a platform administrator)
    nobody = make_staff("")
    # then every list is empty
    assert not selectors.departments_for(nobody).exists()
    assert not selectors.centres_for(nobody).exists()
    assert not selectors.staff_for(nobody).exists()
    assert not selectors.grid_assignments_for(nobody).exists()


def test_grid_worker_sees_only_their_grids(org, grid_worker, make_staff):
    # given another worker on a neighbouring grid of the same community
    regions = org["regions"]
    neighbour = make_staff(Role.GRID_WORKER, jurisdiction=regions["350211001001"])
    actions.assign_grid_worker(regions["350211001001002"], neighbour)
    # then each worker sees their own grid's assignment and colleagues, nothing wider
    assert [a.grid.code for a in selectors.grid_assignments_for(grid_worker)] == ["350211001001001"]
    assert list(selectors.staff_for(grid_worker)) == [grid_worker]
    assert not selectors.departments_for(grid_worker).exists()
    assert not selectors.centres_for(grid_worker).exists()


def test_centres_for_district(org, jimei_dispatcher):
    assert [c.region.code for c in selectors.centres_for(jimei_dispatcher)] == [
        "350211000000", "350211001000", "350211001001",
    ]


def test_staff_for_is_scoped(org, make_staff, jimei_admin, platform_admin, grid_worker, superuser):
    # given staff in both districts
    jimei = make_staff(Role.DEPARTMENT_HANDLER, department=org["departments"]["jm-police-qiaoying"])
    siming = make_staff(Role.DEPARTMENT_HANDLER, department=org["departments"]["sm-police-zhonghua"])
    # when the 集美区 administrator lists staff
    seen = set(selectors.staff_for(jimei_admin))
    # then 集美 staff (found by jurisdiction, department or grid) are there; 思明 and platform-wide not
    assert {jimei_admin, jimei, grid_worker} <= seen
    assert siming not in seen and platform_admin not in seen and superuser not in seen
    # and a platform administrator sees everyone
    assert {jimei, siming, grid_worker, superuser} <= set(selectors.staff_for(platform_admin))
    with pytest.raises(Http404):
        selectors.staff_detail(jimei_admin, siming.pk)


# --- routing look-ups -------------------------------------------------------------------------------


def test_enclosing_codes_finest_first():
    assert selectors.enclosing_codes("350211001001001") == [
        "350211001001001", "350211001001", "350211001000", "350211000000", "350200000000",
    ]
    assert selectors.enclosing_codes("350211000000") == ["350211000000", "350200000000"]


@pytest.mark.parametrize(
    ("code", "centre_region"),
    [
        ("350211001001001", "350211001001"),  # grid in a community with a centre
        ("350211001002001", "350211001000"),  # community without a centre → its street's
        ("350211002001001", "350211000000"),  # street without a centre → the district's
        ("350203001001001", "350200000000"),  # district without a centre → the city's
        ("350211000000", "350211000000"),  # the district itself
    ],
)
def test_responsible_centre(org, code, centre_region):
    assert selectors.responsible_centre(code).region.code == centre_region


def test_no_responsible_centre_outside_every_centre(org):
    assert selectors.responsible_centre("350102001001001") is None


def test_centre_chain_goes_upward(org):
    # given the community centre of 岑西
    centre = org["centres"]["350211001001"]
    # then escalation runs community → street → district → city
    assert [c.region.code for c in selectors.centre_chain(centre)] == [
        "350211001001", "350211001000", "350211000000", "350200000000",
    ]
    assert selectors.centre_chain(org["centres"]["350200000000"]) == [org["centres"]["350200000000"]]


def test_departments_of_kind_for_finds_the_nearest_enclosing_region(org):
    deps = org["departments"]
    # the police station of the street containing each grid
    assert selectors.departments_of_kind_for(DepartmentKind.POLICE_STATION, "350211001002001") == [
        deps["jm-police-jimei"]
    ]
    assert selectors.departments_of_kind_for(DepartmentKind.POLICE_STATION, "350203001001001") == [
        deps["sm-police-zhonghua"]
    ]
    # district bureaus and city-wide utilities, found from a grid code
    assert selectors.departments_of_kind_for(DepartmentKind.CITY_MANAGEMENT, "350211002001001") == [
        deps["jm-city-management"]
    ]
    assert selectors.departments_of_kind_for(DepartmentKind.WATER_SUPPLY, "350203001001001") == [deps["xm-water"]]
    # nothing of a kind no one serves, and nothing for a code above every department of the kind
    assert selectors.departments_of_kind_for(DepartmentKind.COURT, "350211001001001") == []
    assert selectors.departments_of_kind_for(DepartmentKind.POLICE_STATION, "350211000000") == []


def test_departments_of_kind_for_prefers_finer_and_skips_inactive(org):
    # given a second police post at community level and the street station deactivated
    regions, deps = org["regions"], org["departments"]
    post = actions.create_department(
        code="jm-police-post-cenxi", name="岑西警务室", kind=DepartmentKind.POLICE_STATION,
        region=regions["350211001001"],
    )
    # then the community post wins inside its community; elsewhere in the street the station does
    assert selectors.departments_of_kind_for(DepartmentKind.POLICE_STATION, "350211001001002") == [post]
    assert selectors.departments_of_kind_for(DepartmentKind.POLICE_STATION, "350211001002001") == [
        deps["jm-police-jimei"]
    ]
    # when the street station is deactivated, routing falls through to nothing finer than the district
    station = deps["jm-police-jimei"]
    station.is_active = False
    actions.save_department(station)
    assert selectors.departments_of_kind_for(DepartmentKind.POLICE_STATION, "350211001002001") == []


def test_departments_of_kind_for_returns_all_at_the_same_level(org):
    # given two judicial offices serving the same street
    second = actions.create_department(
        code="jm-judicial-annex", name="集美司法所分所", kind=DepartmentKind.JUDICIAL_OFFICE,
        region=org["regions"]["350211001000"],
    )
    found = selectors.departments_of_kind_for(DepartmentKind.JUDICIAL_OFFICE, "350211001001001")
    assert set(found) == {second, org["departments"]["jm-judicial-jimei"]}
