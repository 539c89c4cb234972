"""Loading the Xiamen demo: real division codes, real district polygons, generated demo geometry
for streets, communities and grids, departments, command centres, categories and demo logins.

Every write goes through the owning app's actions (regions, org, taxonomy); this module decides
what to write. Running it again updates what is there and creates nothing twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape

from civicgrid.demo import catalogue, geometry
from civicgrid.org import actions as org_actions
from civicgrid.org.models import CentreLevel, CommandCentre, Department, Role, User
from civicgrid.regions import actions as region_actions
from civicgrid.regions.models import Region

REGION_DATA = Path(region_actions.__file__).resolve().parent / "data"
DIVISIONS_CSV = REGION_DATA / "divisions-xiamen-fuzhou-shenzhen.csv"
DISTRICTS_GEOJSON = REGION_DATA / "districts-xiamen-fuzhou-shenzhen.geojson"

Level = Region.Level


@dataclass
class Login:
    username: str
    password: str
    role: str
    where: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


@dataclass
class DemoSummary:
    counts: dict[str, int] = field(default_factory=dict)
    extra_counts: dict[str, int] = field(default_factory=dict)  # label → count, from other apps
    logins: list[Login] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


class _Clock:
    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


# --- regions --------------------------------------------------------------------------------------


def _district_boundaries(prefix: str) -> dict[str, object]:
    data = json.loads(DISTRICTS_GEOJSON.read_text(encoding="utf-8"))
    return {
        feature["properties"]["code"]: shape(feature["geometry"])
        for feature in data["features"]
        if feature["properties"]["code"].startswith(prefix)
    }


def _region_tree(prefix: str) -> tuple[geometry.Unit, list[geometry.Unit]]:
    """The city and its districts (with streets and communities) as loaded in the database."""
    regions = list(
        Region.objects.filter(code__startswith=prefix)
        .exclude(level=Level.GRID)
        .order_by("code")
        .values_list("pk", "code", "name", "level", "parent_id")
    )
    units = {pk: geometry.Unit(code, name) for pk, code, name, _level, _parent in regions}
    city = None
    districts = []
    for pk, _code, _name, level, parent_id in regions:
        if level == Level.CITY:
            city = units[pk]
        elif parent_id in units:
            units[parent_id].children.append(units[pk])
        if level == Level.DISTRICT:
            districts.append(units[pk])
    return city, districts


def _load_regions(prefix: str, clock: _Clock) -> list[geometry.Cell]:
    rows = region_actions.read_divisions_csv(DIVISIONS_CSV)
    region_actions.import_divisions(rows, prefix=prefix)
    clock.lap("divisions")

    city, districts = _region_tree(prefix)
    boundaries = _district_boundaries(prefix)
    cells = geometry.generate(boundaries, districts, catalogue.TOTAL_GRIDS)
    clock.lap("geometry")

    # District polygons are official (simplified) data, and so is their union, the city.
    official = {district.code: geometry.to_geojson(district.geometry) for district in districts}
    official[city.code] = geometry.to_geojson(geometry.merge([d.geometry for d in districts]))
    generated = {}
    for district in districts:
        for street in district.children:
            generated[street.code] = geometry.to_geojson(street.geometry)
            for community in street.children:
                generated[community.code] = geometry.to_geojson(community.geometry)
    stored = _stored_geometry(prefix)
    for boundaries_, is_demo in ((official, False), (generated, True)):
        changed = {code: geo for code, geo in boundaries_.items() if stored.get(code) != (geo, is_demo, None)}
        if changed:
            region_actions.set_boundaries(changed, is_demo=is_demo)
    clock.lap("boundaries")

    # A re-run only sends the grids that differ from what is stored (the importer's bulk update of
    # thousands of unchanged polygons is the slowest part of a second run on PostgreSQL).
    features = grid_feature_collection(cells)
    features["features"] = [
        feature for feature in features["features"]
        if stored.get(feature["properties"]["code"])
        != (feature["geometry"], True, feature["properties"]["name"])
    ]
    if features["features"]:
        region_actions.import_grids(features, is_demo=True)
    clock.lap("grids")
    return cells


def _stored_geometry(prefix: str) -> dict[str, tuple]:
    """code → (geometry, is_demo, name for grids else None), to skip writes that change nothing."""
    return {
        code: (geo, is_demo, name if level == Level.GRID else None)
        for code, geo, is_demo, name, level in Region.objects.filter(code__startswith=prefix).values_list(
            "code", "geometry", "geometry_is_demo", "name", "level",
        )
    }


def grid_feature_collection(cells: list[geometry.Cell]) -> dict:
    """The generated grids as the GeoJSON file a city would hand to ``import_grids``."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": cell.code, "name": cell.name},
                "geometry": geometry.to_geojson(cell.geometry),
            }
            for cell in cells
        ],
    }


# --- departments and centres --------------------------------------------------------------------


@dataclass(frozen=True)
class _DepartmentSpec:
    code: str
    name: str
    kind: str
    region_code: str


def department_specs(prefix: str = catalogue.CITY_PREFIX) -> list[_DepartmentSpec]:
    """Every demo department: utilities city-wide, bureaus and a court per district, police
    station, judicial office, city-management squad and street office per street, a residents'
    committee per community."""
    regions = list(
        Region.objects.filter(code__startswith=prefix)
        .exclude(level=Level.GRID)
        .order_by("code")
        .values_list("code", "name", "level", "parent__name")
    )
    specs: list[_DepartmentSpec] = []
    for code, name, level, parent_name in regions:
        prefix_of = code[: {"city": 4, "district": 6, "street": 9, "community": 12}[level]]
        if level == Level.CITY:
            templates = catalogue.CITY_UTILITIES
            values = {}
        elif level == Level.DISTRICT:
            templates = catalogue.DISTRICT_DEPARTMENTS
            values = {"district": name, "short": catalogue.district_short(name)}
        elif level == Level.STREET:
            templates = catalogue.STREET_DEPARTMENTS
            values = {
                "district": parent_name, "street_short": catalogue.street_short(name),
                "street_office": catalogue.street_office_name(name),
            }
        else:
            templates = [(catalogue.Kind.RESIDENTS_COMMITTEE, catalogue.residents_committee_name(name))]
            values = {}
        for kind, template in templates:
            specs.append(_DepartmentSpec(
                catalogue.department_code(prefix_of, kind), template.format(**values), kind, code,
            ))
    return specs


def _load_departments(prefix: str) -> int:
    specs = department_specs(prefix)
    regions = dict(Region.objects.filter(code__in={s.region_code for s in specs}).values_list("code", "pk"))
    region_objects = {r.pk: r for r in Region.objects.filter(pk__in=regions.values())}
    existing = {d.code: d for d in Department.objects.filter(code__in=[s.code for s in specs])}
    for spec in specs:
        region = region_objects[regions[spec.region_code]]
        department = existing.get(spec.code)
        if department is None:
            org_actions.create_department(code=spec.code, name=spec.name, kind=spec.kind, region=region)
        elif (department.name, department.kind, department.region_id, department.is_active) != (
            spec.name, spec.kind, region.pk, True,
        ):
            department.name, department.kind, department.region, department.is_active = (
                spec.name, spec.kind, region, True,
            )
            org_actions.save_department(department)
    return len(specs)


def _load_centres(prefix: str) -> int:
    """A command centre for the city, every district, street and community."""
    regions = list(Region.objects.filter(code__startswith=prefix).exclude(level=Level.GRID).order_by("code"))
    existing = {c.region_id: c for c in CommandCentre.objects.filter(region__in=regions)}
    for region in regions:
        name = catalogue.centre_name(region.level, region.name)
        level = CentreLevel(region.level)
        centre = existing.get(region.pk)
        if centre is None:
            org_actions.create_centre(name=name, region=region)
        elif (centre.name, centre.level) != (name, level):
            centre.name, centre.level = name, level
            org_actions.save_centre(centre)
    return len(regions)


# --- people ----------------------------------------------------------------------------------------


def _where(login: catalogue.DemoLogin, centre, department, jurisdiction) -> str:
    if login.grids:
        return _("%(community)s, grids %(first)s–%(last)s") % {
            "community": catalogue.community_short(jurisdiction.name),
            "first": login.grids[0][-3:], "last": login.grids[-1][-3:],
        }
    if department is not None:
        return department.name
    if centre is not None:
        return centre.name
    return _("the whole platform")


def _load_logins() -> list[Login]:
    password_hash = make_password(catalogue.DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
    logins = []
    for login in catalogue.DEMO_LOGINS:
        centre = CommandCentre.objects.get(region__code=login.centre) if login.centre else None
        department = (
            Department.objects.get(code=catalogue.department_code(*login.department)) if login.department else None
        )
        jurisdiction = Region.objects.get(code=login.jurisdiction) if login.jurisdiction else None
        grids = list(Region.objects.filter(code__in=login.grids, level=Level.GRID).order_by("code"))
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = org_actions.create_staff(
                username=login.username, role=login.role, department=department, centre=centre,
                jurisdiction=jurisdiction, is_staff=True,
            )
        user.role, user.department, user.centre, user.jurisdiction = login.role, department, centre, jurisdiction
        user.is_staff, user.is_active, user.is_superuser = True, True, login.superuser
        user.password = password_hash
        org_actions.save_staff(user, grids=grids if login.role == Role.GRID_WORKER else [])
        logins.append(Login(login.username, catalogue.DEMO_PASSWORD, login.role,
                            _where(login, centre, department, jurisdiction)))
    return logins


# --- taxonomy ---------------------------------------------------------------------------------------


def _load_taxonomy() -> dict[str, int]:
    """The GB/T 47678.5 directory, governance categories and SLA rules, then the default
    responsibility matrix (which names department kinds, all of which the demo has)."""
    from civicgrid.taxonomy import actions as taxonomy_actions
    from civicgrid.taxonomy.models import Category, ResponsibilityRule, SlaRule

    taxonomy_actions.load_standard_categories()
    taxonomy_actions.load_default_responsibility_matrix()
    return {
        str(Category._meta.verbose_name_plural): Category.objects.count(),
        str(SlaRule._meta.verbose_name_plural): SlaRule.objects.count(),
        str(ResponsibilityRule._meta.verbose_name_plural): ResponsibilityRule.objects.count(),
    }


# --- the whole demo ---------------------------------------------------------------------------------


def _counts(prefix: str) -> dict[str, int]:
    by_level = {level: Region.objects.filter(code__startswith=prefix, level=level).count() for level in Level}
    return {
        "districts": by_level[Level.DISTRICT],
        "streets": by_level[Level.STREET],
        "communities": by_level[Level.COMMUNITY],
        "grids": by_level[Level.GRID],
        "departments": Department.objects.filter(region__code__startswith=prefix).count(),
        "centres": CommandCentre.objects.filter(region__code__startswith=prefix).count(),
        "users": User.objects.filter(username__in=[login.username for login in catalogue.DEMO_LOGINS]).count(),
    }


def load_demo(*, prefix: str = catalogue.CITY_PREFIX) -> DemoSummary:
    """Load (or refresh) the Xiamen demo. Idempotent: a second run updates, never duplicates."""
    clock = _Clock()
    with transaction.atomic():
        _load_regions(prefix, clock)
        _load_departments(prefix)
        _load_centres(prefix)
        clock.lap("departments and centres")
        extra_counts = _load_taxonomy()
        from civicgrid.intake.actions import load_default_alarm_rules  # the intake app's default alarm rules

        extra_counts.update(load_default_alarm_rules())
        clock.lap("taxonomy")
        logins = _load_logins()
        clock.lap("logins")
        from civicgrid.disputes.demo import load_demo_disputes  # 矛盾纠纷 demo (its own module)

        extra_counts.update(load_demo_disputes())
        from civicgrid.registry.demo import load_demo_registry  # 三实 and 近邻串门 demo (its own module)

        extra_counts.update(load_demo_registry())
        counts = _counts(prefix)
    return DemoSummary(
        counts=counts, extra_counts=extra_counts, logins=logins, seconds=round(time.perf_counter() - clock.start, 2), timings=clock.laps,
    )
