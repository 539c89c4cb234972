"""Bulk import with a worker process preparing the next batches (PostgreSQL, outside a caller's
transaction): the cases, numbers, timelines, row problems and duplicate merges are those of the
one-process import, a duplicate across two batches is still merged, and a worker that dies fails
the import cleanly after the committed batches instead of hanging."""

import os
from concurrent.futures.process import BrokenProcessPool

import pytest
from django.db import connection

from civicgrid.cases.models import Case, CaseEvent, CaseNumberCounter
from civicgrid.cases.workflow import State
from civicgrid.intake import bulk, bulk_formats
from civicgrid.intake.tests.test_bulk import add_routing, csv_row, error_lines, write_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
BATCH = 4


@pytest.fixture
def routed_city(city):
    return add_routing(city)


def rows() -> list[list]:
    """Eleven rows in three batches of four: distinct reports, one bad urgency, one outside every
    region, and row 9 repeating the incident of row 4 (the batch before it)."""
    out = []
    for i in range(11):
        out.append(csv_row(f"W-{i:02d}", title=f"问题{i}：路灯不亮", description=f"第{i}号路灯晚上不亮",
                           category="" if i in (1, 5) else "matter-06010",
                           lon=round(118.1005 + (i % 4) * 0.0025, 6), lat=round(24.6005 + (i // 4) * 0.003, 6),
                           reported_at=f"2026-11-20 {9 + i // 6}:{(i * 7) % 60:02d}:00"))
    out[2] = csv_row("W-02", urgency="soon", lon=118.106, lat=24.6005)
    out[6] = csv_row("W-06", lon=118.30, lat=24.40)  # outside every region
    out[3] = csv_row("W-03", reported_at="2026-11-20 09:21:00")  # 路边有人乱倒垃圾 at the fixture's point
    out[8] = csv_row("W-08", channel="wechat", reported_at="2026-11-20 10:05:00")  # the same, next batch
    return out


def snapshot(path):
    return {
        "cases": sorted(Case.objects.values_list("external_id", "number", "state", "category_id", "region_code",
                                                 "parent__external_id")),
        "events": sorted(CaseEvent.objects.values_list("case__external_id", "action")),
        "problems": [(line["row"], line["field"], line["code"]) for line in error_lines(path)],
    }


def test_the_worker_imports_what_one_process_imports(routed_city, tmp_path, settings):
    # given the same file imported by one process, with one worker and with two preparing batches
    outcomes, timings = {}, {}
    for worker in (0, 1, 2):
        settings.CIVICGRID_IMPORT_WORKERS = worker
        Case.objects.filter(parent__isnull=False).delete()
        Case.objects.all().delete()
        CaseNumberCounter.objects.all().delete()
        path = write_csv(tmp_path / f"cases-{worker}.csv", bulk_formats.CSV_COLUMNS, rows())
        timings[worker] = {}
        summary = bulk.run_import(path, "csv", batch_size=BATCH, show_progress=False, timings=timings[worker])
        outcomes[worker] = (summary.imported, summary.problems, snapshot(path))
    # then the worker did prepare batches (its rows are built ahead), and nothing else differs
    assert "persist (case rows built ahead)" in timings[2] and "persist (case rows built ahead)" not in timings[0]
    assert outcomes[2] == outcomes[1] == outcomes[0]
    imported, problems, seen = outcomes[2]
    assert imported == 9 and problems == 2
    # and the duplicate in the next batch was merged into the case of the batch before
    by_id = {c[0]: c for c in seen["cases"]}
    assert by_id["W-08"][2] == State.MERGED and by_id["W-08"][5] == "W-03"
    assert len({c[1] for c in seen["cases"]}) == 9


def test_a_worker_that_dies_fails_the_import_after_the_committed_batches(routed_city, tmp_path, monkeypatch):
    # given a worker that dies while preparing (the batch prepared by the importer itself is fine)
    importer, route = os.getpid(), bulk.route

    def route_or_die(*args, **kwargs):
        if os.getpid() != importer:
            os._exit(3)
        return route(*args, **kwargs)

    monkeypatch.setattr(bulk, "route", route_or_die)
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, rows())
    # when imported, then the import stops with the worker's failure (it does not wait forever)
    with pytest.raises(BrokenProcessPool):
        bulk.run_import(path, "csv", batch_size=BATCH, show_progress=False)
    # and the first batch, prepared and stored here, is committed whole, as the checkpoint says
    assert sorted(Case.objects.values_list("external_id", flat=True)) == ["W-00", "W-01", "W-03"]
    monkeypatch.setattr(bulk, "route", route)
    assert connection.is_usable()
    # and a second run finishes the file
    summary = bulk.run_import(path, "csv", batch_size=BATCH, show_progress=False)
    assert summary.resumed_after_row == 5
    assert Case.objects.count() == 9
