"""Address text → region (cpca for province/city/district, the division names below that)."""

from civicgrid.regions.resolver import name_aliases, resolve_address


def test_district_only(xiamen):
    result = resolve_address("福建省厦门市思明区")
    assert (result.level, result.code, result.name) == ("district", "350203000000", "思明区")
    assert [r.code for r in result.path] == ["350200000000", "350203000000"]
    assert (result.remainder, result.confidence) == ("", 1.0)


def test_community_named_without_its_committee_suffix(xiamen):
    # the table says 深田社区居委会; people write 深田社区
    result = resolve_address("福建省厦门市思明区深田社区百家阁小区")
    assert (result.level, result.code, result.name) == ("community", "350203007010", "深田社区居委会")
    assert [r.code for r in result.path] == ["350200000000", "350203000000", "350203007000", "350203007010"]
    assert result.remainder == "百家阁小区"
    assert result.confidence == 1.0


def test_street_and_village_forms(xiamen):
    # 街道办事处 for a 街道, XX村 for an XX村委会
    assert resolve_address("厦门市湖里区禾山街道办事处").code == "350206003000"
    result = resolve_address("厦门市海沧区新垵村")
    assert (result.level, result.name) == ("community", "新垵村委会")


def test_same_community_name_in_two_districts_is_ambiguous(xiamen):
    # 何厝社区 exists in 思明区 (350203010028) and 翔安区 (350213005012)
    result = resolve_address("何厝社区18号")
    assert result.candidates == ("350203010028", "350213005012")
    assert result.code == "350203010028"  # deterministic: the lower code
    assert result.confidence == 0.5
    assert result.remainder == "18号"
    # naming the district settles it
    settled = resolve_address("厦门市翔安区何厝社区18号")
    assert (settled.code, settled.confidence, settled.candidates) == ("350213005012", 1.0, ())


def test_nothing_matched(xiamen):
    result = resolve_address("火星第一基地")
    assert (result.level, result.code, result.path, result.confidence) == (None, None, (), 0.0)
    assert result.remainder == "火星第一基地"


def test_a_district_of_another_city_that_is_not_loaded_matches_nothing(xiamen):
    result = resolve_address("北京市朝阳区建国路")
    assert result.code is None and result.parsed["district"] == "朝阳区"


def test_name_aliases():
    assert name_aliases("深田社区居委会", "community") >= {"深田社区居委会", "深田社区"}
    assert name_aliases("新垵村委会", "community") >= {"新垵村委会", "新垵村"}
    assert name_aliases("禾山街道", "street") >= {"禾山街道", "禾山街道办事处"}
