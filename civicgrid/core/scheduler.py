"""The embedded mode's stand-in for Celery beat.

Production runs ``celery -A civicgrid worker -B``: beat fires every entry of
``settings.CELERY_BEAT_SCHEDULE``. The embedded default (SQLite, one process, no broker) runs the
*same* entries here, on one daemon thread, by calling each task's function directly — so the two
modes cannot drift apart. Every scheduled task is idempotent, so a late or doubled run is harmless.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
TICK_SECONDS = 5.0

_lock = threading.Lock()
_thread: threading.Thread | None = None


def is_serving_process(argv: list[str] | None = None, environ=None) -> bool:
    """Whether this process serves requests (a WSGI server, or ``runserver``'s serving child): the
    timer must not run in ``migrate``, ``shell`` or the autoreloader's watching parent."""
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    program = Path(argv[0]).name if argv else ""
    if program in {"manage.py", "civicgrid", "django-admin"} or program.startswith("pytest"):
        if len(argv) < 2 or argv[1] != "runserver":
            return False
        return environ.get("RUN_MAIN") == "true" or "--noreload" in argv
    return True


class BeatSchedule:
    """Which entries of a beat schedule are due; remembers when each last ran."""

    def __init__(self, schedule: dict):
        self.entries = {name: (entry["task"], float(entry["schedule"])) for name, entry in schedule.items()}
        self.last_run: dict[str, float] = {}

    def due(self, now: float) -> list[str]:
        return [
            name for name, (_task, interval) in self.entries.items()
            if now - self.last_run.get(name, now - interval) >= interval
        ]

    def run_due(self, now: float | None = None) -> list[str]:
        """Run every due entry once; a failing one is logged and retried at its next interval."""
        now = time.monotonic() if now is None else now
        ran = []
        for name in self.due(now):
            self.last_run[name] = now
            task_path = self.entries[name][0]
            try:
                import_string(task_path)()  # a Celery task called directly runs in this thread
                ran.append(name)
            except Exception:
                logger.exception("scheduled job %s (%s) failed", name, task_path)
            finally:
                close_old_connections()
        return ran


def _run(schedule: BeatSchedule, tick: float, stop: threading.Event) -> None:
    while not stop.wait(tick):
        schedule.run_due()


def start(tick: float = TICK_SECONDS, stop: threading.Event | None = None, schedule: dict | None = None) -> bool:
    """Start this process's one scheduler thread; ``False`` when it already runs."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return False
        beat = BeatSchedule(settings.CELERY_BEAT_SCHEDULE if schedule is None else schedule)
        _thread = threading.Thread(
            target=_run, args=(beat, tick, stop or threading.Event()), name="civicgrid-scheduler", daemon=True,
        )
        _thread.start()
        return True


def start_if_embedded() -> bool:
    """Called once at start-up: run the beat schedule here when no Celery beat does."""
    if getattr(settings, "CIVICGRID_INPROCESS_SCHEDULER", False) and is_serving_process():
        return start()
    return False
