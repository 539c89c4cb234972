"""The importer's routing (look-ups shared across an import) gives exactly what
``civicgrid.cases.routing.suggest`` gives a single report, in every outcome."""

import pytest

from civicgrid.cases import reference, routing
from civicgrid.cases.models import Case
from civicgrid.intake.tests.conftest import GRID
from civicgrid.org.models import Department, DepartmentKind
from civicgrid.regions.models import Region
from civicgrid.taxonomy.models import ResponsibilityRule

OTHER_GRID = "350211001001002"


@pytest.fixture
def two_grids(city):
    Region.objects.create(code=OTHER_GRID, level="grid", name="岑西二网格", parent=city.regions["350211001001"])
    district, street = city.regions["350211000000"], city.regions["350211001000"]
    city.cm = Department.objects.create(code="cm", name="集美区城管", kind=DepartmentKind.CITY_MANAGEMENT, region=district)
    city.police = Department.objects.create(code="po", name="集美派出所", kind=DepartmentKind.POLICE_STATION, region=street)
    return city


def rule(category, lead=DepartmentKind.CITY_MANAGEMENT, assisting=(), prefix=""):
    return ResponsibilityRule.objects.create(category=category, lead_kind=lead, assisting_kinds=list(assisting),
                                             region_prefix=prefix)


def setup_ready(city):
    city.dumping.auto_dispatch = True
    city.dumping.save()
    rule(city.dumping, assisting=[DepartmentKind.POLICE_STATION])


def setup_auto_off(city):
    rule(city.dumping, assisting=[DepartmentKind.POLICE_STATION])


def setup_no_rule(city):
    pass


def setup_ambiguous(city):
    rule(city.dumping)
    rule(city.dumping, lead=DepartmentKind.POLICE_STATION)


def setup_no_lead(city):
    rule(city.dumping, lead=DepartmentKind.WATER_SUPPLY)


def setup_two_leads(city):
    rule(city.dumping)
    Department.objects.create(code="cm2", name="集美区城管二队", kind=DepartmentKind.CITY_MANAGEMENT,
                              region=city.regions["350211000000"])


def setup_assisting_unresolved(city):
    rule(city.dumping, assisting=[DepartmentKind.WATER_SUPPLY])


def setup_finest_level_wins(city):
    rule(city.dumping, assisting=[DepartmentKind.POLICE_STATION])
    Department.objects.create(code="cm-st", name="集美街道城管中队", kind=DepartmentKind.CITY_MANAGEMENT,
                              region=city.regions["350211001000"])
    Department.objects.create(code="po-x", name="已撤销派出所", kind=DepartmentKind.POLICE_STATION,
                              region=city.regions["350211001000"], is_active=False)


def setup_region_rule(city):
    rule(city.dumping, prefix="350211001")


@pytest.mark.parametrize("setup", [setup_ready, setup_auto_off, setup_no_rule, setup_ambiguous, setup_no_lead,
                                   setup_two_leads, setup_assisting_unresolved, setup_finest_level_wins,
                                   setup_region_rule])
def test_shared_look_ups_give_the_single_report_answer(two_grids, setup):
    # given a matrix set up for one outcome
    setup(two_grids)
    category = type(two_grids.dumping).objects.get(pk=two_grids.dumping.pk)
    cases = [Case(category=category, region_code=code) for code in (GRID, OTHER_GRID, GRID)]
    # when the importer routes the cases of both grids with one set of shared look-ups
    shared = reference.Routing()
    got = [shared.suggest(c) for c in cases]
    # then each answer is the single report's, word for word (the moment of computing aside)
    for case, answer in zip(cases, got, strict=True):
        expected = routing.suggest(case)
        assert {k: v for k, v in answer.items() if k != "computed_at"} == \
            {k: v for k, v in expected.items() if k != "computed_at"}
    # and the explanation that names the place is the place's own
    if setup is setup_region_rule:
        assert GRID in got[0]["why"] and OTHER_GRID in got[1]["why"]


def test_no_category_no_suggestion(two_grids):
    case = Case(category=None, region_code=GRID)
    answer = reference.Routing().suggest(case)
    assert answer["reason"] == routing.NO_CATEGORY and answer["lead_department"] is None


def test_the_owner_centre_is_the_finest_centre_as_for_a_single_report(two_grids):
    # given a district centre (the fixture's) and a street centre over the first grid only
    from civicgrid.org.models import CommandCentre
    from civicgrid.org.selectors import responsible_centre

    street = CommandCentre.objects.create(name="集美街道综治中心", level="street", region=two_grids.regions["350211001000"])
    Region.objects.create(code="350211002000", level="street", name="侨英街道", parent=two_grids.regions["350211000000"])
    ref = reference.Reference()
    # then every place gets the centre responsible_centre names
    for code in (GRID, OTHER_GRID, "350211002000", "350211000000", "350203000000"):
        expected = responsible_centre(code)
        assert ref.centre_id(code) == (expected.pk if expected else None), code
    assert ref.centre_id(GRID) == street.pk and ref.centre_id("350211002000") == two_grids.centre.pk
