import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from civicgrid.org import actions
from civicgrid.org.models import CommandCentre, Department, DepartmentKind, GridAssignment, Role
from civicgrid.org.permissions import PermissionDenied


def error_codes(exc_info) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc_info.value.error_dict.items()}


# --- staff validation ---------------------------------------------------------------------------


def test_department_handler_needs_a_department(org, make_staff):
    with pytest.raises(ValidationError) as info:
        make_staff(Role.DEPARTMENT_HANDLER)
    assert error_codes(info) == {"department": ["department_required"]}


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.LEADER])
def test_dispatcher_and_leader_need_a_centre(org, make_staff, role):
    with pytest.raises(ValidationError) as info:
        make_staff(role, jurisdiction=org["regions"]["350211000000"])
    assert error_codes(info) == {"centre": ["centre_required"]}


def test_mediator_needs_a_workplace(org, make_staff):
    with pytest.raises(ValidationError) as info:
        make_staff(Role.MEDIATOR)
    assert error_codes(info) == {"department": ["workplace_required"]}
    # and one in a judicial office is fine
    assert make_staff(Role.MEDIATOR, department=org["departments"]["jm-judicial-jimei"]).pk


def test_jurisdiction_must_lie_inside_department_and_centre(org, make_staff):
    regions = org["regions"]
    # given a 集美 handler whose jurisdiction is in 思明
    with pytest.raises(ValidationError) as info:
        make_staff(
            Role.DEPARTMENT_HANDLER, department=org["departments"]["jm-city-management"],
            jurisdiction=regions["350203001000"],
        )
    assert error_codes(info) == {"jurisdiction": ["outside_department"]}
    # given a street-centre leader whose jurisdiction is the whole district
    with pytest.raises(ValidationError) as info:
        make_staff(Role.LEADER, centre=org["centres"]["350211001000"], jurisdiction=regions["350211000000"])
    assert error_codes(info) == {"jurisdiction": ["outside_centre"]}


def test_every_problem_is_reported_at_once(org, make_staff):
    # given a handler with a centre but no department, and a bad username
    with pytest.raises(ValidationError) as info:
        make_staff(Role.DEPARTMENT_HANDLER, centre=org["centres"]["350211000000"], username="bad name!")
    codes = error_codes(info)
    assert codes["department"] == ["department_required"]
    assert codes["centre"] == ["centre_not_allowed"]
    assert "username" in codes


def test_administrators_get_admin_site_access(org, make_staff):
    assert make_staff(Role.ADMINISTRATOR).is_staff
    assert not make_staff(Role.DISPATCHER, centre=org["centres"]["350211000000"]).is_staff


# --- grid assignments ---------------------------------------------------------------------------


def test_assign_grid_worker_checks_level_role_and_jurisdiction(org, grid_worker, jimei_dispatcher):
    regions = org["regions"]
    # a region that is not a grid
    with pytest.raises(ValidationError) as info:
        actions.assign_grid_worker(regions["350211001001"], grid_worker)
    assert error_codes(info) == {"grid": ["not_a_grid"]}
    # someone who is not a grid worker
    with pytest.raises(ValidationError) as info:
        actions.assign_grid_worker(regions["350211001001002"], jimei_dispatcher)
    assert error_codes(info) == {"worker": ["not_grid_worker"]}
    # a grid outside the worker's jurisdiction (岑西社区)
    with pytest.raises(ValidationError) as info:
        actions.assign_grid_worker(regions["350211001002001"], grid_worker)
    assert error_codes(info) == {"grid": ["grid_outside_jurisdiction"]}
    # a grid inside is fine, and assigning twice changes nothing
    first = actions.assign_grid_worker(regions["350211001001002"], grid_worker)
    again = actions.assign_grid_worker(regions["350211001001002"], grid_worker)
    assert first == again
    assert sorted(grid_worker.grid_assignments.values_list("grid__code", flat=True)) == [
        "350211001001001", "350211001001002",
    ]


def test_unassign_grid_worker(org, grid_worker):
    grid = org["regions"]["350211001001001"]
    assert actions.unassign_grid_worker(grid, grid_worker) is True
    assert actions.unassign_grid_worker(grid, grid_worker) is False
    assert not GridAssignment.objects.filter(worker=grid_worker).exists()


def test_set_role_validates_the_new_placement(org, grid_worker):
    centre = org["centres"]["350211001001"]
    # when a grid worker who still has grids becomes a dispatcher
    with pytest.raises(ValidationError) as info:
        actions.set_role(grid_worker, Role.DISPATCHER, centre=centre, jurisdiction=org["regions"]["350211001001"])
    assert error_codes(info) == {"role": ["grids_need_grid_worker"]}
    grid_worker.refresh_from_db()
    assert grid_worker.role == Role.GRID_WORKER
    # when the grids are removed first, the change goes through
    actions.unassign_grid_worker(org["regions"]["350211001001001"], grid_worker)
    user = actions.set_role(grid_worker, Role.DISPATCHER, centre=centre)
    user.refresh_from_db()
    assert (user.role, user.centre, user.jurisdiction) == (Role.DISPATCHER, centre, None)


def test_set_role_keeps_grids_inside_a_narrowed_jurisdiction(org, grid_worker):
    # when the worker's jurisdiction moves to another community while they hold a grid in 岑西
    with pytest.raises(ValidationError) as info:
        actions.set_role(grid_worker, Role.GRID_WORKER, jurisdiction=org["regions"]["350211001002"])
    assert error_codes(info) == {"grids": ["grid_outside_jurisdiction"]}


def test_save_staff_makes_grids_exactly_the_list(org, grid_worker):
    regions = org["regions"]
    actions.save_staff(grid_worker, grids=[regions["350211001001002"]])
    assert list(grid_worker.grid_assignments.values_list("grid__code", flat=True)) == ["350211001001002"]


# --- who may manage --------------------------------------------------------------------------


def test_only_org_managers_may_create_staff(org, jimei_dispatcher):
    with pytest.raises(PermissionDenied):
        actions.create_staff(
            username="x", role=Role.DISPATCHER, centre=org["centres"]["350211000000"], actor=jimei_dispatcher
        )


def test_scoped_admin_stays_inside_their_jurisdiction(org, jimei_admin, make_staff):
    regions, deps = org["regions"], org["departments"]
    # inside 集美: fine
    handler = actions.create_staff(
        username="h1", role=Role.DEPARTMENT_HANDLER, department=deps["jm-police-jimei"], actor=jimei_admin
    )
    assert handler.pk
    # a department in 思明: refused on the field
    with pytest.raises(ValidationError) as info:
        actions.create_staff(
            username="h2", role=Role.DEPARTMENT_HANDLER, department=deps["sm-police-zhonghua"], actor=jimei_admin
        )
    assert error_codes(info) == {"jurisdiction": ["outside_your_jurisdiction"]}
    # a platform-wide administrator: refused
    with pytest.raises(ValidationError) as info:
        actions.create_staff(username="a2", role=Role.ADMINISTRATOR, actor=jimei_admin)
    assert error_codes(info) == {"jurisdiction": ["platform_wide_not_allowed"]}
    # someone in 思明 cannot even be found
    siming = make_staff(Role.DEPARTMENT_HANDLER, department=deps["sm-police-zhonghua"])
    with pytest.raises(Http404):
        actions.set_role(siming, Role.DEPARTMENT_HANDLER, department=deps["jm-police-jimei"], actor=jimei_admin)
    # nor a grid of 思明 given to a 集美 worker
    worker = actions.create_staff(
        username="w1", role=Role.GRID_WORKER, jurisdiction=regions["350211000000"], actor=jimei_admin
    )
    with pytest.raises(ValidationError) as info:
        actions.assign_grid_worker(regions["350203001001001"], worker, actor=jimei_admin)
    assert "grid" in error_codes(info)


# --- departments and centres -----------------------------------------------------------------


def test_create_centre_takes_its_regions_level(org):
    centre = actions.create_centre(name="侨英街道综治中心", region=org["regions"]["350211002000"])
    assert centre.level == "street"


def test_centre_validation(org):
    regions = org["regions"]
    # a level that does not match the region
    with pytest.raises(ValidationError) as info:
        actions.save_centre(CommandCentre(name="x", level="city", region=regions["350203000000"]))
    assert error_codes(info) == {"level": ["level_mismatch"]}
    # a grid
    with pytest.raises(ValidationError) as info:
        actions.create_centre(name="x", region=regions["350203001001001"])
    assert "grid_not_allowed" in error_codes(info)["region"]
    # a second centre for the same region
    with pytest.raises(ValidationError) as info:
        actions.create_centre(name="x", region=regions["350211000000"])
    assert "region" in error_codes(info)


def test_department_validation(org, jimei_admin):
    regions = org["regions"]
    with pytest.raises(ValidationError) as info:
        actions.create_department(
            code="grid-dept", name="x", kind=DepartmentKind.HOUSING, region=regions["350211001001001"]
        )
    assert error_codes(info) == {"region": ["grid_not_allowed"]}
    # a scoped administrator cannot create one for another district, nor edit one there
    with pytest.raises(ValidationError) as info:
        actions.create_department(
            code="sm-housing", name="x", kind=DepartmentKind.HOUSING, region=regions["350203000000"],
            actor=jimei_admin,
        )
    assert error_codes(info) == {"region": ["outside_your_jurisdiction"]}
    siming = org["departments"]["sm-city-management"]
    siming.name = "renamed"
    with pytest.raises(Http404):
        actions.save_department(siming, actor=jimei_admin)
    with pytest.raises(Http404):
        actions.delete_department(siming, actor=jimei_admin)
    assert Department.objects.get(pk=siming.pk).name == "思明区城管执法局"


def test_scoped_admin_manages_a_worker_anchored_only_by_grids(org, jimei_admin, make_staff):
    # given a grid worker with no jurisdiction, placed only by a 集美 grid
    regions = org["regions"]
    worker = make_staff(Role.GRID_WORKER)
    actions.assign_grid_worker(regions["350211002001001"], worker)
    # when the 集美 administrator gives them a second grid and sets their role again
    actions.assign_grid_worker(regions["350211001001001"], worker, actor=jimei_admin)
    actions.set_role(worker, Role.GRID_WORKER, jurisdiction=regions["350211000000"], actor=jimei_admin)
    # then both went through
    worker.refresh_from_db()
    assert worker.jurisdiction == regions["350211000000"]
    assert worker.grid_assignments.count() == 2
