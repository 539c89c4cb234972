import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.taxonomy.models import Category, ResponsibilityRule


@pytest.mark.django_db
def test_load_categories_command_loads_everything_and_reruns_quietly(capsys):
    # when the command runs twice
    call_command("load_categories")
    first = capsys.readouterr().out
    call_command("load_categories")
    second = capsys.readouterr().out
    # then everything is loaded once, and the second run reports no change
    assert Category.objects.count() == 439 and ResponsibilityRule.objects.exists()
    assert "created or changed: 0" not in first
    assert "created or changed: 0" in second and "rules created: 0" in second


@pytest.mark.django_db
def test_load_categories_from_a_given_csv(tmp_path, capsys):
    # given a city file, when loaded with --csv and --no-matrix, then only its categories exist
    path = tmp_path / "c.csv"
    path.write_text("kind,code,name\ncomponent,01001,供水井盖\n", encoding="utf-8")
    call_command("load_categories", "--csv", str(path), "--no-matrix")
    assert list(Category.objects.values_list("code", flat=True)) == ["01001"]
    assert not ResponsibilityRule.objects.exists()
    # and a missing file is an error
    with pytest.raises(CommandError):
        call_command("load_categories", "--csv", str(tmp_path / "none.csv"))


@pytest.mark.django_db
def test_explain_responsibility_command(loaded, capsys):
    # when asked about 物业纠纷 in a 集美 community
    call_command("explain_responsibility", "治理", "91003", "350211001001")
    out = capsys.readouterr().out
    # then the answer and the losing rules are printed
    assert "residents_committee" in out or "居委会" in out
    assert out.count("#") >= 3
    # and an unknown category is an error
    with pytest.raises(CommandError):
        call_command("explain_responsibility", "matter", "99999", "350211")


@pytest.mark.django_db
def test_explain_responsibility_exits_2_when_ambiguous(loaded):
    # given a second catch-all that disagrees, and no other rule for a new category
    from civicgrid.taxonomy import actions

    actions.save_category(Category(kind="governance", code="95001", name="新类别"))
    actions.save_responsibility_rule(ResponsibilityRule(lead_kind="police_station"))
    # when explained, then the command exits with status 2
    with pytest.raises(SystemExit) as info:
        call_command("explain_responsibility", "governance", "95001", "350211")
    assert info.value.code == 2
