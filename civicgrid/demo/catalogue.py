"""Names of the demo's departments, command centres and people (Xiamen naming patterns).

Pure functions and tables: no database access. Department codes are stable slugs derived from the
region code and the kind, so a second ``load_demo`` finds and updates the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicgrid.demo.geometry import short_community_name as community_short
from civicgrid.org.models import DepartmentKind as Kind
from civicgrid.org.models import Role

CITY_CODE = "350200000000"
CITY_PREFIX = "3502"
DEMO_PASSWORD = "civicgrid-demo"
TOTAL_GRIDS = 4103  # what Xiamen reports for its unit grids

# District bureaus: kind → name pattern ({district} = 集美区, {short} = 集美).
DISTRICT_DEPARTMENTS: list[tuple[str, str]] = [
    (Kind.COURT, "厦门市{district}人民法院"),
    (Kind.HOUSING, "{district}住房和城乡建设局"),
    (Kind.TRANSPORT, "{district}交通运输局"),
    (Kind.WATER_AFFAIRS, "{district}水利局"),
    (Kind.ECOLOGY, "厦门市{short}生态环境局"),
    (Kind.MARKET_REGULATION, "{district}市场监督管理局"),
    (Kind.EMERGENCY, "{district}应急管理局"),
    (Kind.WOMENS_FEDERATION, "{district}妇女联合会"),
    (Kind.HUMAN_RESOURCES, "{district}人力资源和社会保障局"),
    (Kind.CIVIL_AFFAIRS, "{district}民政局"),
    (Kind.HEALTH, "{district}卫生健康局"),
    (Kind.FIRE_RESCUE, "厦门市{district}消防救援大队"),
    (Kind.EDUCATION, "{district}教育局"),
    (Kind.NATURAL_RESOURCES, "厦门市自然资源和规划局{short}分局"),
    (Kind.LANDSCAPING, "{district}市政园林局"),
    (Kind.PROPERTY_MANAGEMENT, "{district}物业管理服务中心"),
]

# Street-level offices of the district bureaus, and the street office itself.
STREET_DEPARTMENTS: list[tuple[str, str]] = [
    (Kind.POLICE_STATION, "{district}公安分局{street_short}派出所"),
    (Kind.JUDICIAL_OFFICE, "{district}司法局{street_short}司法所"),
    (Kind.CITY_MANAGEMENT, "{district}城市管理行政执法局{street_short}中队"),
    (Kind.STREET_OFFICE, "{street_office}"),
]

CITY_UTILITIES: list[tuple[str, str]] = [
    (Kind.WATER_SUPPLY, "厦门水务集团有限公司"),
    (Kind.POWER_SUPPLY, "国网厦门供电公司"),
    (Kind.GAS_SUPPLY, "厦门华润燃气有限公司"),
    (Kind.TELECOM, "中国电信股份有限公司厦门分公司"),
]


def district_short(name: str) -> str:
    """``集美区`` → ``集美``."""
    return name[:-1] if name.endswith(("区", "县", "市")) and len(name) > 2 else name


def street_short(name: str) -> str:
    """``侨英街道`` → ``侨英``, ``灌口镇`` → ``灌口``; farms and zones keep their full name."""
    for suffix in ("街道", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def street_office_name(name: str) -> str:
    """The street's own office: 街道办事处, 镇人民政府, or the 管理处 of a farm or zone."""
    if name.endswith("街道"):
        return f"{name}办事处"
    if name.endswith(("镇", "乡")):
        return f"{name}人民政府"
    return f"{name}管理处"


def residents_committee_name(name: str) -> str:
    """A community's committee: the statistical name already is one (``…居委会``/``…村委会``)."""
    return name if name.endswith(("委会", "委员会")) else f"{name}居委会"


def department_code(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def centre_name(level: str, name: str) -> str:
    if level == "city":
        return "厦门市社会治理指挥中心"
    if level == "community":
        return f"{community_short(name)}网格化服务管理中心"
    return f"{name}综治中心"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account: where it works is given by region code (and department kind)."""

    username: str
    role: str
    label: str  # who this is, for the printed table
    centre: str = ""  # region code of the command centre
    department: tuple[str, str] | None = None  # (region prefix, kind)
    jurisdiction: str = ""  # region code
    grids: tuple[str, ...] = ()  # grid codes
    superuser: bool = False


JIMEI = "350211000000"
QIAOYING = "350211002000"
HUJING = "350211002001"  # 浒井社区 (侨英街道)

DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("admin", Role.ADMINISTRATOR, "平台管理员", superuser=True),
    DemoLogin("city_leader", Role.LEADER, "厦门市社会治理指挥中心 领导", centre=CITY_CODE, jurisdiction=CITY_CODE),
    DemoLogin("city_dispatcher", Role.DISPATCHER, "厦门市社会治理指挥中心 派遣员", centre=CITY_CODE,
              jurisdiction=CITY_CODE),
    DemoLogin("jimei_leader", Role.LEADER, "集美区综治中心 领导", centre=JIMEI, jurisdiction=JIMEI),
    DemoLogin("jimei_dispatcher", Role.DISPATCHER, "集美区综治中心 派遣员", centre=JIMEI, jurisdiction=JIMEI),
    DemoLogin("qiaoying_dispatcher", Role.DISPATCHER, "侨英街道综治中心 受理员", centre=QIAOYING,
              jurisdiction=QIAOYING),
    DemoLogin("police_handler", Role.DEPARTMENT_HANDLER, "集美区公安分局侨英派出所",
              department=("350211002", Kind.POLICE_STATION), jurisdiction=QIAOYING),
    DemoLogin("chengguan_handler", Role.DEPARTMENT_HANDLER, "集美区城市管理行政执法局侨英中队",
              department=("350211002", Kind.CITY_MANAGEMENT), jurisdiction=QIAOYING),
    DemoLogin("grid_worker", Role.GRID_WORKER, "浒井社区 网格员", jurisdiction=HUJING,
              grids=(f"{HUJING}001", f"{HUJING}002", f"{HUJING}003")),
    DemoLogin("mediator", Role.MEDIATOR, "集美区司法局侨英司法所 调解员",
              department=("350211002", Kind.JUDICIAL_OFFICE), jurisdiction=QIAOYING),
    # Reads the personal-data access log and nothing else: no jurisdiction, so no cases or people.
    DemoLogin("security_admin", Role.SECURITY_ADMIN, "平台安全管理员"),
]
