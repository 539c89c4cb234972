"""Bulk import interrupted mid-run: the batch in progress is rolled back whole, and running the same
command again finishes the file with no duplicate and no half batch."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from civicgrid.cases.models import Case, CaseEvent, CaseNumberCounter
from civicgrid.intake import bulk, bulk_formats
from civicgrid.intake.tests.test_bulk import add_routing, csv_row, run, write_csv

ROWS = 600
BATCH = 20
BASE_DIR = Path(__file__).resolve().parents[3]
WORDS = ["垃圾", "井盖", "路灯", "积水", "噪音", "占道", "广告", "树木", "油烟", "车辆"]


@pytest.fixture
def routed_city(city):
    return add_routing(city)


def many_rows(count: int) -> list[list]:
    """Reports spread over the grid (distinct places and words: no duplicates among them)."""
    rows = []
    for i in range(count):
        lon, lat = 118.1002 + (i % 30) * 0.00032, 24.6002 + (i // 30) * 0.00046
        rows.append(csv_row(f"M-{i:05d}", title=f"{WORDS[i % 10]}问题第{i}号", description=f"编号{i}的{WORDS[i // 60]}",
                            lon=round(lon, 6), lat=round(lat, 6), reported_at="2026-11-20 09:00:00"))
    return rows


def committed_row(path) -> int | None:
    try:
        return json.loads(bulk.checkpoint_path(path).read_text(encoding="utf-8")).get("committed_through_row")
    except (OSError, ValueError):
        return None


def assert_complete_without_duplicates(count: int):
    assert Case.objects.count() == count
    assert Case.objects.values("external_id").distinct().count() == count
    assert CaseEvent.objects.filter(action="report").count() == count
    assert Case.objects.values("number").distinct().count() == count
    # no number was taken by a batch that did not commit: the counter ends at the count
    assert CaseNumberCounter.objects.get(district_code="350211", day="2026-11-20").last == count


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_import_resumes_after_its_last_committed_batch(routed_city, tmp_path, monkeypatch):
    # given a file of 600 rows imported in batches of 20, interrupted (SIGINT, as Ctrl-C) in the
    # middle of the second batch — the signal is raised from inside the batch's work in the
    # importing process (on PostgreSQL a worker process prepares the batches ahead meanwhile), so
    # it lands in the import's own code, not at a random instruction of the database driver
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, many_rows(ROWS))
    persist, calls, importer = bulk.persist, [], os.getpid()

    def persist_then_interrupt(*args, **kwargs):
        assert os.getpid() == importer
        calls.append(1)
        persist(*args, **kwargs)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(bulk, "persist", persist_then_interrupt)
    with pytest.raises(SystemExit) as stopped:
        run(path, batch_size=BATCH)
    monkeypatch.setattr(bulk, "persist", persist)
    # then the run stopped, holding whole batches only, exactly those the checkpoint names
    assert stopped.value.code == 130
    done = Case.objects.count()
    assert 0 < done < ROWS and done % BATCH == 0
    assert done == committed_row(path) - 1  # rows 2 … committed row
    # when the same command runs again
    out, _err = run(path, batch_size=BATCH)
    # then it resumes after the committed rows and finishes the file: no duplicate, no gap
    assert f"resumed after row {done + 1}" in out
    assert f"imported {ROWS} case(s)" in out
    assert_complete_without_duplicates(ROWS)
    # and a third run finds everything imported
    out, _err = run(path, batch_size=BATCH)
    assert f"imported 0 case(s), skipped {ROWS}" in out


@pytest.mark.django_db(transaction=True)
def test_errors_of_an_uncommitted_batch_are_not_reported_twice_on_resume(routed_city, tmp_path):
    # given a checkpoint after row 3 and an error report that also lists row 5 (its batch never committed)
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [
        csv_row("K-1"), csv_row("K-2", urgency="x", lon=118.1015), csv_row("K-3", lon=118.102),
        csv_row("K-4", urgency="y", lon=118.103)])
    run(path, batch_size=2)
    state = json.loads(bulk.checkpoint_path(path).read_text(encoding="utf-8"))
    Case.objects.filter(external_id__in=["K-3", "K-4"]).delete()
    state.update(committed_through_row=3, complete=False, imported=1, skipped=0)
    bulk.checkpoint_path(path).write_text(json.dumps(state), encoding="utf-8")
    # when the run resumes
    run(path, batch_size=2)
    # then every problem is listed once
    with bulk.errors_path(path).open(encoding="utf-8-sig") as handle:
        lines = handle.read().splitlines()[1:]
    assert [line.split(",")[:3] for line in lines] == [["3", "urgency", "invalid_choice"],
                                                        ["5", "urgency", "invalid_choice"]]
    assert set(Case.objects.values_list("external_id", flat=True)) == {"K-1", "K-3"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_import_process_resumes_without_duplicates(routed_city, tmp_path):
    # given an import running in its own process (PostgreSQL: it sees the test database)
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, many_rows(ROWS))
    s = connection.settings_dict
    url = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "civicgrid.settings_test"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_cases", str(path), "--format", "csv", "--batch-size", str(BATCH),
         "--no-progress"], cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # when it is terminated (SIGTERM) after its first batch committed
    deadline = time.monotonic() + 120
    while committed_row(path) is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    _stdout, stderr = process.communicate(timeout=60)
    # then it stopped with whole batches committed
    assert process.returncode == 130, stderr.decode()
    done = Case.objects.count()
    assert 0 < done < ROWS and done % BATCH == 0
    # and running the command again completes the file with no duplicate
    out, _err = run(path, batch_size=BATCH)
    assert f"resumed after row {done + 1}" in out
    assert_complete_without_duplicates(ROWS)
