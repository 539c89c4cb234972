"""What a web process loads before it serves its first request.

The intake keeps large read-mostly data in memory — the locator's index of every grid, the
reference data (categories, SLA rules, centres, departments, the matrix), the dispatch classifier
and its tokenizer's dictionary, the working-day tables — and, on PostgreSQL, listens for changes
to what they were built from (``civicgrid.regions.generation``). Left to the first requests, each process
would load them while callers wait. Loaded here, at start-up, they are then marked permanent for
the garbage collector (``gc.freeze``): its full collections, every few hundred requests, walked
these hundreds of thousands of long-lived objects each time (about 120 ms in a web worker of the
demo city: the slowest answers) and now walk only what requests made since.

A failure (no database yet, say) is logged and leaves the process to load on demand, as without
warm-up. ``CIVICGRID_WARM_UP`` turns it off.
"""

from __future__ import annotations

import gc
import logging

from django.conf import settings

logger = logging.getLogger(__name__)


def _set_switch_interval() -> None:
    """How soon a thread waiting for the GIL gets it (``CIVICGRID_GIL_SWITCH_INTERVAL_MS``).

    A web process's request threads run Python while its group-commit thread mostly waits for
    PostgreSQL: each of its dozen statements per batch gives the GIL up and, with CPython's default
    of 5 ms, may wait that long to get it back while request threads compute — the batch, and every
    request in it, waits with it. At 0.5 ms the intake bench served 296 cases/s on average against
    241 with the default (three alternating runs each, December 2026)."""
    import sys

    milliseconds = getattr(settings, "CIVICGRID_GIL_SWITCH_INTERVAL_MS", 0.5)
    if milliseconds:
        sys.setswitchinterval(milliseconds / 1000)


def warm_up() -> None:
    """Load the intake's in-memory data (see the module), then freeze the heap."""
    _set_switch_interval()
    if not getattr(settings, "CIVICGRID_WARM_UP", True):
        return
    from django.db import connection
    from django.utils import timezone

    from civicgrid.cases import reference
    from civicgrid.core import calendar
    from civicgrid.regions import generation
    from civicgrid.regions.locator import current_index
    from civicgrid.triage import engine, services

    try:
        if connection.vendor == "postgresql":
            generation.wait_listening()
        with reference.pinned():
            index = current_index()
            ref = reference.current()
            ref.category(0)
            ref.department(0)
            ref.has_region("")
            ref.centre_id(index.codes[0] if len(index.codes) else "")  # all centres are read with the first
            ref._sla_rules()
            ref.routing  # noqa: B018 — built on first use
        if getattr(settings, "CIVICGRID_CLASSIFY_AT_INTAKE", True) and services.current() is not None:
            engine.tokenizer()
        now = timezone.now()
        calendar.add_working_time(now, 1, calendar.DAYS)
        calendar.add_working_time(now.replace(year=now.year + 1, month=1, day=1), 1, calendar.DAYS)
    except Exception:
        logger.warning("warm-up incomplete: this process loads its data on demand", exc_info=True)
    finally:
        # The loading thread serves no request: its connection is not kept open.
        connection.close()
    gc.collect()
    gc.freeze()
