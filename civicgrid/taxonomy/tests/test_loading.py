import csv

import pytest
from django.core.exceptions import ValidationError

from civicgrid.taxonomy import actions
from civicgrid.taxonomy.models import Category, CategoryKind, ResponsibilityRule, SlaRule
from civicgrid.taxonomy.selectors import explain


def _directory_keys():
    with open(actions.DIRECTORY_CSV, encoding="utf-8") as handle:
        return {(actions.KIND_NAMES[row["kind"]], row["code"]) for row in csv.DictReader(handle)}


@pytest.mark.django_db
def test_directory_loads_every_component_and_matter_with_gaps_kept():
    # given an empty database
    # when the standard categories are loaded
    actions.load_standard_categories()
    # then there are 153 部件 and 250 事项, keyed exactly as in the standard
    assert Category.objects.filter(kind=CategoryKind.COMPONENT).count() == 153
    assert Category.objects.filter(kind=CategoryKind.MATTER).count() == 250
    loaded = set(Category.objects.exclude(kind=CategoryKind.GOVERNANCE).values_list("kind", "code"))
    assert loaded == _directory_keys()
    # and gaps in the numbering stay gaps
    for code in ("01016", "06031", "07005", "09007"):
        assert not Category.objects.filter(kind=CategoryKind.MATTER, code=code).exists()
    assert not Category.objects.filter(kind=CategoryKind.COMPONENT, code="05001").exists()
    # and 部件 and 事项 share codes but stay distinct
    assert Category.objects.get(kind=CategoryKind.COMPONENT, code="01001").name == "供水井盖"
    matter = Category.objects.get(kind=CategoryKind.MATTER, code="01001")
    assert (matter.name, matter.major_code, matter.major_name) == ("供水井盖异常", "01", "市政公用设施类")


@pytest.mark.django_db
def test_reload_is_idempotent_and_keeps_administrators_choices():
    # given loaded categories, one edited by an administrator
    first = actions.load_standard_categories()
    assert first > 403
    edited = Category.objects.get(kind=CategoryKind.MATTER, code="06010")
    edited.is_public, edited.auto_dispatch = False, True
    edited.keywords += "、垃圾成堆"
    actions.save_category(edited)
    # when the categories are loaded again
    again = actions.load_standard_categories()
    # then nothing is created or changed, and the edit stays
    assert again == 0
    assert Category.objects.count() == 403 + 36
    edited.refresh_from_db()
    assert (edited.is_public, edited.auto_dispatch) == (False, True)
    assert "垃圾成堆" in edited.keyword_list and "暴露垃圾" in edited.keyword_list


@pytest.mark.django_db
def test_reload_restores_a_renamed_standard_name():
    # given a loaded directory where a category's standard name was changed
    actions.load_standard_categories()
    Category.objects.filter(kind=CategoryKind.MATTER, code="06001").update(name="违建")
    # when it is loaded again
    changed = actions.load_standard_categories()
    # then the standard's name is back and exactly one row changed
    assert changed == 1
    assert Category.objects.get(kind=CategoryKind.MATTER, code="06001").name == "私搭乱建"


@pytest.mark.django_db
def test_governance_categories_have_their_own_kind_codes_and_keywords():
    # when the standard categories are loaded
    actions.load_standard_categories()
    governance = Category.objects.filter(kind=CategoryKind.GOVERNANCE)
    # then the governance categories are there, coded 9xxxx (majors 91-94, unused by the standard)
    assert set(governance.values_list("major_code", flat=True)) == {"91", "92", "93", "94"}
    assert all(code.startswith("9") for code in governance.values_list("code", flat=True))
    assert not Category.objects.exclude(kind=CategoryKind.GOVERNANCE).filter(code__startswith="9").exists()
    names = set(governance.values_list("name", flat=True))
    for name in ("婚姻家庭纠纷", "邻里纠纷", "物业纠纷", "劳动劳资纠纷", "土地山林纠纷", "合同债务纠纷",
                 "医疗纠纷", "消费纠纷", "征地拆迁纠纷", "涉台涉外纠纷", "其他矛盾纠纷", "消防安全隐患",
                 "燃气安全隐患", "房屋建筑安全隐患", "防汛防台安全隐患", "安全生产隐患", "供水问题",
                 "供电问题", "供气问题", "物业服务问题", "邻里噪声扰民", "供暖供冷问题"):
        assert name in names, name
    assert governance.filter(major_code="93").exists()  # 治安
    # and every governance category has keywords
    assert all(c.keyword_list for c in governance)
    # and the commonest GB categories got everyday words
    cover = Category.objects.get(kind=CategoryKind.MATTER, code="01002")
    assert {"窨井盖", "下水道", "马路上的洞"} <= set(cover.keyword_list)


def test_shipped_keyword_sla_and_matrix_files_name_existing_categories():
    # given the shipped directory and governance files
    names = {(r["kind"], r["code"]): r["name"]
             for path in (actions.DIRECTORY_CSV, actions.GOVERNANCE_CSV) for r in actions.read_category_csv(path)}
    # then every keyword and SLA line names a category with its exact name
    for path in (actions.KEYWORDS_CSV, actions.SLA_CSV):
        for line, row in actions._read_csv(path):
            assert names.get((actions.KIND_NAMES[row["kind"]], row["code"])) == row["name"], (path.name, line)
    for line, row in actions._read_csv(actions.MATRIX_CSV):
        if row["code"]:
            assert names.get((actions.KIND_NAMES[row["kind"]], row["code"])) == row["name"], line


@pytest.mark.django_db
def test_loading_from_a_given_csv(tmp_path):
    # given a city's own category file
    path = tmp_path / "city.csv"
    path.write_text("kind,code,name,keywords,is_public\n治理,95001,电动车入户充电,飞线充电,0\n"
                    "事项,06001,私搭乱建,违建,1\n", encoding="utf-8")
    # when it is loaded instead of the shipped files
    count = actions.load_standard_categories([path])
    # then exactly its categories exist, with their flags, and they got shipped SLA rules where any
    assert Category.objects.count() == 2
    own = Category.objects.get(kind=CategoryKind.GOVERNANCE, code="95001")
    assert (own.major_code, own.is_public, own.keyword_list) == ("95", False, ["飞线充电"])
    assert SlaRule.objects.filter(category__code="06001").exists()
    assert count == 2 + 1 + 1  # two categories, the default SLA rule, one shipped category rule


@pytest.mark.django_db
def test_a_bad_category_file_is_refused_with_its_line(tmp_path):
    # given a file with a four-digit code on line 3
    path = tmp_path / "bad.csv"
    path.write_text("kind,code,name\n事项,06001,私搭乱建\n事项,0601,坏\n", encoding="utf-8")
    # when it is loaded, then nothing is saved and the line is named
    with pytest.raises(ValidationError) as info:
        actions.load_standard_categories([path])
    assert info.value.code == "bad_code" and info.value.params["line"] == 3
    assert Category.objects.count() == 0


@pytest.mark.django_db
def test_default_matrix_resolves_every_category_and_is_idempotent():
    # given the loaded categories
    actions.load_standard_categories()
    # when the default matrix is loaded twice
    created = actions.load_default_responsibility_matrix()
    again = actions.load_default_responsibility_matrix()
    # then the second run adds nothing
    assert created > 100 and again == 0
    # and every category resolves, unambiguously, through a rule for it or for its group
    for category in Category.objects.all():
        explanation = explain(category, "350211001001")
        assert not explanation.ambiguous, category
        assert explanation.rule is not None and explanation.rule.scope != "all", category
    # and the catch-all exists for categories added later
    assert ResponsibilityRule.objects.filter(category=None, category_kind="", major_code="").count() == 1


@pytest.mark.django_db
def test_default_matrix_examples(loaded):
    # given the default matrix, then the documented examples hold
    def answer(kind, code):
        e = explain(Category.objects.get(kind=kind, code=code), "350211001001")
        return e.lead_kind, set(e.assisting_kinds)

    assert answer("matter", "01037")[0] == "city_management"  # 路灯 (市政公用设施)
    assert answer("governance", "91001") == ("judicial_office", {"police_station", "court", "womens_federation"})
    assert answer("governance", "91003") == ("residents_committee", {"housing", "judicial_office"})
    assert answer("governance", "93002")[0] == "police_station"  # 治安 via its group
    assert answer("governance", "92002") == ("gas_supply", {"emergency"})
    assert answer("governance", "94005") == ("residents_committee", {"police_station"})
    lead, assisting = answer("component", "01001")  # 供水井盖: water
    assert lead == "water_supply" and "water_affairs" in assisting


@pytest.mark.django_db
def test_default_matrix_keeps_an_administrators_change():
    # given the default matrix, where an administrator changed the 治理 93 group's lead
    actions.load_standard_categories()
    actions.load_default_responsibility_matrix()
    group = ResponsibilityRule.objects.get(category=None, category_kind="governance", major_code="93")
    group.lead_kind = "street_office"
    actions.save_responsibility_rule(group)
    # when the defaults are loaded again
    actions.load_default_responsibility_matrix()
    # then the change stays and no second rule appeared
    assert ResponsibilityRule.objects.filter(category_kind="governance", major_code="93").count() == 1
    group.refresh_from_db()
    assert group.lead_kind == "street_office"
