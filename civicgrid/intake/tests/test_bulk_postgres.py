"""The PostgreSQL path of the bulk importer: cases and their REPORT events written with COPY, their
ids reserved from the tables' sequences."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.cases import actions
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.intake import bulk_formats
from civicgrid.intake.tests.conftest import GRID
from civicgrid.intake.tests.test_bulk import add_routing, csv_row, run, write_csv


@pytest.fixture
def routed_city(city):
    return add_routing(city)


@pytest.mark.postgres
def test_cases_and_events_are_copied_with_ids_from_their_sequences(routed_city, tmp_path):
    # given a case reported one at a time, and a file of three more
    first = actions.report_case(channel="web", title="井盖缺失", region_code=GRID)
    rows = [csv_row(f"PG-{i}", title=f"第{i}处", lon=118.1005 + i * 0.003) for i in range(3)]
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, rows)
    # when the file is imported on PostgreSQL
    with CaptureQueriesContext(connection) as queries:
        run(path)
    # then the cases and their events went in by COPY, not INSERT
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any(s.startswith('INSERT INTO "cases_case"') for s in sql)
    assert not any(s.startswith('INSERT INTO "cases_caseevent"') for s in sql)
    imported = list(Case.objects.filter(external_id__startswith="PG-").order_by("external_id"))
    assert len(imported) == 3 and all(c.pk > first.pk for c in imported)
    assert all(c.created_at is not None and c.updated_at is not None for c in imported)
    assert imported[0].routing_suggestion["lead_department"] == routed_city.city_management.pk
    events = CaseEvent.objects.filter(case__in=imported, action="report")
    assert sorted(e.data["external_id"] for e in events) == ["PG-0", "PG-1", "PG-2"]
    # and the sequences moved past them: the next single report gets a fresh id, no collision
    later = actions.report_case(channel="web", title="路灯不亮", region_code=GRID)
    assert later.pk > max(c.pk for c in imported)
    assert CaseEvent.objects.filter(case=later).count() == 1


@pytest.mark.postgres
def test_an_import_that_grows_the_case_table_keeps_its_planner_statistics_current(routed_city, tmp_path, monkeypatch):
    # given an import that adds more than the share of the table after which statistics are stale
    # (thresholds lowered to the size of a test file)
    from civicgrid.intake import bulk

    monkeypatch.setattr(bulk.PlannerStatistics, "MIN_ROWS", 4)
    rows = [csv_row(f"AN-{i}", title=f"第{i}处", lon=118.1005 + (i % 3) * 0.003) for i in range(6)]
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, rows)
    # when it is imported in batches of two
    timings: dict = {}
    with CaptureQueriesContext(connection) as queries:
        bulk.run_import(path, "csv", batch_size=2, show_progress=False, timings=timings)
    # then the case table was analysed once the threshold was passed, not after every batch
    analysed = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analysed == ['ANALYZE "cases_case"']
    assert "analyze" in timings
    assert Case.objects.filter(external_id__startswith="AN-").count() == 6


@pytest.mark.postgres
def test_a_small_import_does_not_analyse(routed_city, tmp_path):
    # given a file far below the threshold
    path = write_csv(tmp_path / "cases.csv", bulk_formats.CSV_COLUMNS, [csv_row("SM-1", title="路灯不亮")])
    # when it is imported
    with CaptureQueriesContext(connection) as queries:
        run(path)
    # then no statistics are gathered
    assert not any(q["sql"].startswith("ANALYZE") for q in queries.captured_queries)
