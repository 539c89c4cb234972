"""``civicgrid rotate_data_key``: every encrypted field of every model re-encrypted with the first
key, batched and resumable; blind indexes recomputed only with --rehash."""

import base64
import io

import pytest
from django.core.management import CommandError, call_command

from civicgrid.cases.models import Case
from civicgrid.core import crypto
from civicgrid.core.fields import blind_lookup, encrypted_fields

from .conftest import stored_row

pytestmark = pytest.mark.django_db

NEW_KEY = "k2:" + base64.b64encode(b"N" * 32).decode()
NEW_INDEX = base64.b64encode(b"I" * 32).decode()
COLUMNS = ["reporter_name", "reporter_phone", "reporter_phone_hash"]


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_data_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_rotation_reencrypts_every_record_and_keeps_it_readable(settings, report):
    # given five cases written under the development key (one anonymous)
    cases = [report(reporter_name=f"王{i}", reporter_phone=f"1390000000{i}") for i in range(4)] + [report()]
    before = {c.pk: stored_row("cases_case", c.pk, COLUMNS) for c in cases}
    # when a new key is put first and the command runs in batches of two
    settings.CIVICGRID_DATA_KEYS = [NEW_KEY, *settings.CIVICGRID_DATA_KEYS]
    output = rotate("--batch-size", "2")
    # then every value is under the new key, the hashes did not change, the counts are reported
    for case in cases[:4]:
        name, phone, digest = stored_row("cases_case", case.pk, COLUMNS)
        assert crypto.key_id_of(name) == "k2" and crypto.key_id_of(phone) == "k2"
        assert digest == before[case.pk][2]
    assert "cases.Case.reporter_phone: re-encrypted 4" in output
    assert "cases.Case.reporter_phone: empty 1" in output
    # and with the old key removed, every record still reads
    settings.CIVICGRID_DATA_KEYS = [NEW_KEY]
    assert sorted(Case.objects.exclude(reporter_phone="").values_list("reporter_phone", flat=True)) == [
        f"1390000000{i}" for i in range(4)]
    # and a second run finds nothing left to do (an interrupted run is simply started again)
    again = rotate()
    assert "re-encrypted" not in again and "cases.Case.reporter_phone: already current 4" in again


def test_a_dry_run_changes_nothing(settings, report):
    case = report(reporter_phone="13900000001")
    before = stored_row("cases_case", case.pk, COLUMNS)
    settings.CIVICGRID_DATA_KEYS = [NEW_KEY, *settings.CIVICGRID_DATA_KEYS]
    assert "re-encrypted 1" in rotate("--dry-run")
    assert stored_row("cases_case", case.pk, COLUMNS) == before


def test_rehash_recomputes_blind_indexes_with_a_new_index_key(settings, report):
    # given a case found by phone
    case = report(reporter_phone="13900000001")
    # when the index key changes, search misses until --rehash runs
    settings.CIVICGRID_BLIND_INDEX_KEY = NEW_INDEX
    assert not Case.objects.filter(**blind_lookup(Case, "reporter_phone", "13900000001")).exists()
    output = rotate("--rehash")
    assert "cases.Case.reporter_phone_hash: rehashed 1" in output
    assert list(Case.objects.filter(**blind_lookup(Case, "reporter_phone", "13900000001"))) == [case]


def test_a_value_no_key_opens_is_reported_and_fails_the_run(settings, report):
    # given a value under a key that is no longer configured
    report(reporter_phone="13900000001")
    settings.CIVICGRID_DATA_KEYS = [NEW_KEY]
    # when rotating / then the run says so and fails, changing nothing it cannot read
    with pytest.raises(CommandError, match="could not be decrypted"):
        rotate()


def test_fields_are_discovered_by_type():
    assert {f.name for f in encrypted_fields(Case)} == {"reporter_name", "reporter_phone"}
