"""Two small worlds for the dispute tests, after the issue's two stories.

深圳市 4403 ─ 宝安区 440306 ─ 新安街道 440306017 ─ 宝民社区 440306017001 ─ grid 440306017001001
    departments: 宝安区妇联 and 宝安区人民法院 (district), 新安派出所 and 新安司法所 (street)
    centres: 宝安区 (district) → 新安街道 (street) → 宝民社区 (community)  (三级调处化解中心)
厦门市 3502 ─ 思明区 350203 ─ 莲前街道 350203007 ─ 深田社区 350203007010 ─ grid 350203007010001
    departments: 厦门水务 (city), 思明区住建 and 物业中心 (district), 莲前司法所 (street),
    深田社区居委会 (community); the matrix names the water company for 物业 disputes in 深田社区.
"""

import pytest

from civicgrid.disputes import defaults
from civicgrid.disputes.models import DisputeType, JointMediationRule
from civicgrid.org.models import CommandCentre, Department, DepartmentKind, GridAssignment, Role, User
from civicgrid.regions.models import Region
from civicgrid.taxonomy.models import Category, CategoryKind

BAOAN_GRID = "440306017001001"
SHENTIAN = "350203007010"
SHENTIAN_GRID = "350203007010001"

REGIONS = [
    ("440300000000", "city", "深圳市", None),
    ("440306000000", "district", "宝安区", "440300000000"),
    ("440306017000", "street", "新安街道", "440306000000"),
    ("440306017001", "community", "宝民社区", "440306017000"),
    (BAOAN_GRID, "grid", "宝民一网格", "440306017001"),
    ("350200000000", "city", "厦门市", None),
    ("350203000000", "district", "思明区", "350200000000"),
    ("350203007000", "street", "莲前街道", "350203000000"),
    (SHENTIAN, "community", "深田社区", "350203007000"),
    (SHENTIAN_GRID, "grid", "深田一网格", SHENTIAN),
]


class World:
    """Everything a dispute test needs, as attributes."""


@pytest.fixture
def world(db) -> World:
    w = World()
    regions: dict[str, Region] = {}
    for code, level, name, parent in REGIONS:
        regions[code] = Region.objects.create(code=code, level=level, name=name, parent=regions.get(parent))
    w.regions = regions

    def centre(name, level, code):
        return CommandCentre.objects.create(name=name, level=level, region=regions[code])

    w.baoan_centre = centre("宝安区矛盾纠纷调处化解中心", "district", "440306000000")
    w.xinan_centre = centre("新安街道矛盾纠纷调处化解中心", "street", "440306017000")
    w.baomin_centre = centre("宝民社区调处化解站", "community", "440306017001")
    w.siming_centre = centre("思明区矛盾纠纷调处化解中心", "district", "350203000000")
    w.lianqian_centre = centre("莲前街道矛盾纠纷调处化解中心", "street", "350203007000")
    w.shentian_centre = centre("深田社区调处化解站", "community", SHENTIAN)

    def dept(code, name, kind, region):
        return Department.objects.create(code=code, name=name, kind=kind, region=regions[region])

    w.womens_federation = dept("ba-wf", "宝安区妇女联合会", DepartmentKind.WOMENS_FEDERATION, "440306000000")
    w.court = dept("ba-court", "深圳市宝安区人民法院", DepartmentKind.COURT, "440306000000")
    w.police = dept("xa-police", "宝安公安分局新安派出所", DepartmentKind.POLICE_STATION, "440306017000")
    w.judicial = dept("xa-judicial", "宝安区司法局新安司法所", DepartmentKind.JUDICIAL_OFFICE, "440306017000")
    w.water = dept("xm-water", "厦门水务集团有限公司", DepartmentKind.WATER_SUPPLY, "350200000000")
    w.housing = dept("sm-housing", "思明区住房和城乡建设局", DepartmentKind.HOUSING, "350203000000")
    w.property = dept("sm-property", "思明区物业管理服务中心", DepartmentKind.PROPERTY_MANAGEMENT, "350203000000")
    w.lq_judicial = dept("lq-judicial", "思明区司法局莲前司法所", DepartmentKind.JUDICIAL_OFFICE, "350203007000")
    w.shentian_committee = dept("st-rc", "深田社区居委会", DepartmentKind.RESIDENTS_COMMITTEE, SHENTIAN)

    def staff(username, role, **kwargs):
        return User.objects.create_user(username=username, password="x", role=role, **kwargs)

    H = Role.DEPARTMENT_HANDLER
    w.wf_handler = staff("fulian", H, department=w.womens_federation)
    w.court_handler = staff("court", H, department=w.court)
    w.police_handler = staff("police", H, department=w.police)
    w.judicial_handler = staff("sifasuo", H, department=w.judicial)
    w.mediator = staff("mediator", Role.MEDIATOR, department=w.judicial, jurisdiction=regions["440306000000"])
    w.baoan_dispatcher = staff("baoan", Role.DISPATCHER, centre=w.baoan_centre)
    w.xinan_dispatcher = staff("xinan", Role.DISPATCHER, centre=w.xinan_centre)
    w.baoan_leader = staff("baoan_leader", Role.LEADER, jurisdiction=regions["440306000000"])
    w.water_handler = staff("water", H, department=w.water)
    w.housing_handler = staff("housing", H, department=w.housing)
    w.property_handler = staff("property", H, department=w.property)
    w.lq_judicial_handler = staff("lqsifa", H, department=w.lq_judicial)
    w.committee_handler = staff("shentian_rc", H, department=w.shentian_committee)
    w.st_mediator = staff("st_mediator", Role.MEDIATOR, department=w.shentian_committee,
                          jurisdiction=regions[SHENTIAN])
    w.st_dispatcher = staff("st_dispatcher", Role.DISPATCHER, centre=w.shentian_centre)
    w.grid_worker = staff("st_grid", Role.GRID_WORKER, jurisdiction=regions[SHENTIAN])
    GridAssignment.objects.create(grid=regions[SHENTIAN_GRID], worker=w.grid_worker)
    w.handler_of = {
        w.womens_federation.pk: w.wf_handler, w.court.pk: w.court_handler, w.police.pk: w.police_handler,
        w.judicial.pk: w.judicial_handler, w.water.pk: w.water_handler, w.housing.pk: w.housing_handler,
        w.property.pk: w.property_handler, w.lq_judicial.pk: w.lq_judicial_handler,
        w.shentian_committee.pk: w.committee_handler,
    }
    for code, name in (("91001", "婚姻家庭纠纷"), ("91002", "邻里纠纷"), ("91003", "物业纠纷"), ("91099", "其他矛盾纠纷")):
        Category.objects.create(kind=CategoryKind.GOVERNANCE, code=code, major_code="91", name=name)
    defaults.load_defaults()  # a transactional test before this one may have flushed the seeds
    w.marriage = DisputeType.objects.get(code="marriage_family")
    w.neighbour = DisputeType.objects.get(code="neighbour")
    w.property_type = DisputeType.objects.get(code="property")
    # By place: in 深田社区 a property dispute also involves the water and property companies.
    JointMediationRule.objects.create(
        dispute_type=w.property_type, region_prefix=SHENTIAN, lead_kind=DepartmentKind.RESIDENTS_COMMITTEE,
        assisting_kinds=[DepartmentKind.JUDICIAL_OFFICE, DepartmentKind.WATER_SUPPLY,
                         DepartmentKind.PROPERTY_MANAGEMENT],
    )
    return w


def party(role, name, id_number="", phone=""):
    return {"role": role, "name": name, "id_number": id_number, "phone": phone}


def marriage_fields(w, **overrides):
    from datetime import date

    fields = {
        "name": "张某与李某婚姻家庭纠纷", "dispute_type": w.marriage, "occurred_on": date(2026, 11, 20),
        "place": "宝安区新安街道宝民社区宝民一路12号", "people_involved": 2,
        "brief": "夫妻因抚养费和财产分割发生争吵，女方到妇联求助。",
        "parties": [party("applicant", "李红", "11010519491231002X", "13912341234"),
                    party("respondent", "张强", "440306198501011234", "13812345678")],
    }
    fields.update(overrides)
    return fields
