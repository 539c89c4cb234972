"""数字城管 cases: codes validated and mapped to our categories and grids; every rejection reason."""

import pytest

from civicgrid.intake import szcg
from civicgrid.intake.records import RecordErrors
from civicgrid.intake.tests.conftest import GRID, POINT
from civicgrid.intake.wire import cached_lookups
from civicgrid.regions import generation
from civicgrid.regions.models import Region
from civicgrid.taxonomy.models import Category


def szcg_case(**overrides):
    record = {
        "案卷编号": "SZCG-2026-000001", "事项代码": "35021106010", "单元网格码": GRID,
        "问题描述": "路边暴露垃圾一堆", "位置描述": "岑西路12号旁", "上报时间": "2026-11-24 08:10:00",
        "上报人": "监督员05", "紧急程度": "一般", "信息来源": "监督员上报",
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def errors_of(record) -> dict[str, str]:
    with pytest.raises(RecordErrors) as caught:
        szcg.parse_case(record)
    return {e.field: e.code for e in caught.value.errors}


def test_a_matter_case_maps_to_our_category_and_grid(city):
    # given a case with a matter code of 集美区 and one of our grids
    # when it is parsed
    report = szcg.parse_case(szcg_case())
    # then the category is ours (matter 06010) and the case lies in the grid
    assert report.channel == "digital_city"
    assert report.external_id == "SZCG-2026-000001"
    assert report.category_id == city.dumping.pk
    assert report.region_code == GRID
    assert report.title == "乱倒垃圾 · 岑西路12号旁"
    assert report.extra == {"case_no": "SZCG-2026-000001", "grid_code": GRID, "matter_code": "35021106010",
                            "source": "监督员上报"}


def test_a_component_case_with_a_point_in_its_grid(city):
    # given a component id (manhole cover 01001, sequence 000123) in ASCII keys, with a point
    record = {"case_no": "C-1", "component_id": "35021101001000123", "grid_code": GRID,
              "reported_at": "2026-11-24T08:00:00+08:00", "lon": POINT[0], "lat": POINT[1]}
    # when it is parsed
    report = szcg.parse_case(record)
    # then the component category is ours
    assert report.category_id == city.manhole.pk
    assert report.extra["component_id"] == "35021101001000123"
    assert (report.lon, report.lat) == POINT


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"案卷编号": None}, "案卷编号", "required"),
    ({"案卷编号": "案卷 1"}, "案卷编号", "invalid"),
    ({"事项代码": None}, "事项代码", "required"),
    ({"事项代码": "3502110601X"}, "事项代码", "invalid_format"),
    ({"事项代码": "3502110601"}, "事项代码", "invalid_length"),
    ({"事项代码": "35020006010"}, "事项代码", "invalid_structure"),  # a city code
    ({"事项代码": "35020606010"}, "事项代码", "unknown_division"),  # 湖里区: not ours
    ({"事项代码": "35021106999"}, "事项代码", "unknown_code"),  # no such matter in GB/T 47678.5
    ({"事项代码": "35021106011"}, "事项代码", "category_not_available"),  # in the standard, not ours
    ({"事项代码": None, "部件标识码": "35021101001000000"}, "部件标识码", "invalid_structure"),
    ({"事项代码": None, "部件标识码": "3502110100100012"}, "部件标识码", "invalid_length"),
    ({"事项代码": None, "部件标识码": "35021106010000001"}, "部件标识码", "unknown_code"),  # 06010 is no component
    ({"部件标识码": "35021101001000123"}, "部件标识码", "both_codes"),
    ({"单元网格码": None}, "单元网格码", "required"),
    ({"单元网格码": "35021100100100"}, "单元网格码", "invalid_length"),
    ({"单元网格码": "3502110010010O1"}, "单元网格码", "invalid_format"),
    ({"单元网格码": "350211001000001"}, "单元网格码", "invalid_structure"),
    ({"单元网格码": "350211001001002"}, "单元网格码", "unknown_grid"),
    ({"单元网格码": "350206001001001"}, "单元网格码", "grid_mismatch"),
    ({"上报时间": None}, "上报时间", "required"),
    ({"上报时间": "11/24/2026"}, "上报时间", "invalid"),
    ({"紧急程度": "火急"}, "紧急程度", "invalid_choice"),
    ({"经度": "118.2", "纬度": "24.7"}, "经度", "grid_mismatch_point"),
])
def test_each_rejection_reason_of_a_szcg_case(city, overrides, field, code):
    # given the point case: a second mapped grid next to ours, so a point can lie in another grid
    if code == "grid_mismatch_point":
        Region.objects.create(code="350211001001009", level="grid", name="岑西九网格", parent=city.regions["350211001001"],
                              geometry={"type": "Polygon", "coordinates": [[
                                  [118.15, 24.65], [118.25, 24.65], [118.25, 24.75], [118.15, 24.75], [118.15, 24.65]]]})
        generation.bump()
        code = "grid_mismatch"
    # when an otherwise good case with one fault is parsed
    # then exactly that fault is reported
    assert errors_of(szcg_case(**overrides)) == {field: code}


def test_a_category_switched_off_is_not_available(city):
    # given our matter category 06010 deactivated
    Category.objects.filter(pk=city.dumping.pk).update(is_active=False)
    # when a case of it arrives
    # then it is refused as a category we do not handle
    assert errors_of(szcg_case()) == {"事项代码": "category_not_available"}


def test_every_problem_is_reported_together(city):
    # given a case with a bad code, a bad grid and no time
    record = szcg_case(**{"事项代码": "35021106999", "单元网格码": "350211001001002", "上报时间": None})
    # then all three are reported
    assert errors_of(record) == {"事项代码": "unknown_code", "单元网格码": "unknown_grid", "上报时间": "required"}


def test_cached_lookups_remember_categories_within_the_block(city, django_assert_num_queries):
    # given the region index warmed up, and outside a cached block one query per lookup
    szcg.parse_case(szcg_case())
    with django_assert_num_queries(2):  # the region generation, the category
        szcg.parse_case(szcg_case())
    # when many cases are parsed inside one cached block
    with cached_lookups():
        szcg.parse_case(szcg_case())
        # then the category and the region codes are read once: afterwards a case costs no query
        with django_assert_num_queries(0):
            szcg.parse_case(szcg_case())
