"""Warm-up (civicgrid.warmup): a web process loads the intake's data before its first request."""

import gc
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.cases import reference
from civicgrid.cases.tests.conftest import GRID
from civicgrid.regions.locator import current_index
from civicgrid.warmup import warm_up


@pytest.fixture
def restored_process():
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


@pytest.mark.django_db(transaction=True)
def test_after_warm_up_a_report_reads_no_reference_data_and_the_heap_is_frozen(city, restored_process, settings):
    # given a fresh process (nothing loaded)
    settings.CIVICGRID_WARM_UP = True
    settings.CIVICGRID_GIL_SWITCH_INTERVAL_MS = 0.5
    # when it warms up
    warm_up()
    # then the locator, the reference data and the centres answer from memory: a report's look-ups
    # cost only the one read of the generation tokens (none on PostgreSQL, where they are listened for)
    with CaptureQueriesContext(connection) as queries, reference.pinned():
        current_index()
        ref = reference.current()
        assert ref.centre_id(GRID) == city.jimei_centre.pk
    assert len(queries) <= 1, [q["sql"] for q in queries.captured_queries]
    # and what it loaded is out of the collector's way; waiting threads get the GIL within 0.5 ms
    assert gc.get_freeze_count() > 0
    assert sys.getswitchinterval() == pytest.approx(0.0005)


@pytest.mark.django_db(transaction=True)
def test_with_warm_up_off_nothing_is_loaded(city, restored_process, settings):
    # given warm-up turned off
    settings.CIVICGRID_WARM_UP = False
    settings.CIVICGRID_GIL_SWITCH_INTERVAL_MS = 0
    interval = sys.getswitchinterval()
    # when the process starts
    warm_up()
    # then the reference data is loaded on demand (reads), the heap is not frozen
    with CaptureQueriesContext(connection) as queries, reference.pinned():
        reference.current().centre_id(GRID)
    assert len(queries) > 1
    assert gc.get_freeze_count() == 0
    assert sys.getswitchinterval() == interval
