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
