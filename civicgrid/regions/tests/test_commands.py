"""Operator commands: import_divisions, import_grids, import_boundaries, locate."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.regions.models import Region
from civicgrid.regions.selectors import region_counts
from civicgrid.regions.tests.conftest import DIVISIONS_CSV, GRID_1, GRID_2
from civicgrid.regions.tests.geometry import collection, feature, square


@pytest.mark.parametrize("command", ["import_divisions", "import_grids", "import_boundaries", "locate"])
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        call_command(command, "--help")
    assert stopped.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_import_divisions_with_prefix(db, capsys):
    call_command("import_divisions", str(DIVISIONS_CSV), "--prefix", "3502")
    assert "616 created" in capsys.readouterr().out
    assert Region.objects.count() == 616


def test_import_grids_fails_with_every_problem_listed(districts, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(collection(
        feature(GRID_1, square(118.09, 24.57)), feature(GRID_2, square(118.095, 24.57)),
        feature("123", square(118.15, 24.6)),
    )), encoding="utf-8")
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_grids", str(path))
    err = capsys.readouterr().err
    assert f"feature 1 ({GRID_2})" in err and "feature 2 (123)" in err
    assert not Region.objects.filter(level="grid").exists()


def test_import_grids_then_locate(districts, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(collection(feature(GRID_1, square(118.09, 24.57)))), encoding="utf-8")
    call_command("import_grids", str(path))
    call_command("locate", "118.097", "24.576")
    out = capsys.readouterr().out
    assert GRID_1 in out and "集美区" in out


def test_locate_csv_batch(grids, tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("id,lon,lat\na,118.095,24.575\nb,118.105,24.575\nc,0,0\n", encoding="utf-8")
    call_command("locate", "--csv", str(path))
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["id,lon,lat,code", f"a,118.095,24.575,{GRID_1}", f"b,118.105,24.575,{GRID_2}", "c,0,0,"]


def test_locate_outside_fails(grids):
    with pytest.raises(CommandError, match="0.0, 0.0"):
        call_command("locate", "0", "0")


def test_import_boundaries(xiamen, tmp_path):
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(collection(feature("350211000000", square(118.0, 24.5, 0.2)))), encoding="utf-8")
    call_command("import_boundaries", str(path), "--demo")
    assert Region.objects.get(code="350211000000").geometry_is_demo


def test_region_counts(grids):
    counts = {row["level"]: row["count"] for row in region_counts()}
    assert counts == {"city": 1, "district": 6, "street": 54, "community": 555, "grid": 2}
    assert all(row["label"] for row in region_counts())
