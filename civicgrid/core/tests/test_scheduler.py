"""The embedded mode's beat: the same schedule Celery beat runs, inside the serving process."""

import threading

import pytest

from civicgrid.core import scheduler
from civicgrid.core.scheduler import BeatSchedule

CALLS: list[str] = []
RAN = threading.Event()


def record_a():
    CALLS.append("a")
    RAN.set()


def record_b():
    CALLS.append("b")


def fail():
    raise RuntimeError("database unavailable")


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()
    RAN.clear()


PATH = "civicgrid.core.tests.test_scheduler"

# The scheduler closes stale database connections after each job, as a serving process must.
pytestmark = pytest.mark.django_db


def test_each_entry_runs_at_its_own_interval():
    # given two jobs, every 60 s and every 3600 s
    beat = BeatSchedule({
        "often": {"task": f"{PATH}.record_a", "schedule": 60.0},
        "hourly": {"task": f"{PATH}.record_b", "schedule": 3600.0},
    })
    # when the scheduler ticks at start, after 30 s, 61 s and 3601 s
    ran = [beat.run_due(now) for now in (0.0, 30.0, 61.0, 3601.0)]
    # then both run at once, the frequent one again after a minute, the hourly one after an hour
    assert ran == [["often", "hourly"], [], ["often"], ["often", "hourly"]]
    assert CALLS == ["a", "b", "a", "a", "b"]


def test_a_failing_job_is_logged_and_does_not_stop_the_others(caplog):
    beat = BeatSchedule({
        "broken": {"task": f"{PATH}.fail", "schedule": 60.0},
        "fine": {"task": f"{PATH}.record_a", "schedule": 60.0},
    })
    assert beat.run_due(0.0) == ["fine"]
    assert "scheduled job broken" in caplog.text
    # and the broken job is tried again at its next interval
    assert beat.run_due(60.0) == ["fine"]


def test_the_embedded_schedule_is_the_celery_beat_schedule(settings):
    # every beat entry names an importable task, so the embedded mode runs exactly what beat runs
    from django.utils.module_loading import import_string

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert callable(import_string(entry["task"]))
    names = set(settings.CELERY_BEAT_SCHEDULE)
    assert {"sweep-deadlines", "webhooks-retry", "purge-idempotency-records"} <= names


@pytest.mark.parametrize(("argv", "environ", "serving"), [
    (["manage.py", "migrate"], {}, False),
    (["manage.py", "runserver"], {}, False),  # the autoreloader's watching parent
    (["manage.py", "runserver"], {"RUN_MAIN": "true"}, True),
    (["manage.py", "runserver", "--noreload"], {}, True),
    (["civicgrid", "sweep_deadlines"], {}, False),
    (["/usr/bin/gunicorn", "civicgrid.wsgi"], {}, True),
])
def test_the_timer_runs_only_in_serving_processes(argv, environ, serving):
    assert scheduler.is_serving_process(argv, environ) is serving


def test_one_scheduler_thread_per_process():
    stop = threading.Event()
    schedule = {"often": {"task": f"{PATH}.record_a", "schedule": 3600.0}}
    assert scheduler.start(tick=0.01, stop=stop, schedule=schedule) is True
    try:
        assert scheduler.start(tick=0.01, stop=stop, schedule=schedule) is False
        # the first tick runs the job; later ticks within the hour do not
        assert RAN.wait(timeout=5)
        stop.wait(0.1)
    finally:
        stop.set()
        scheduler._thread.join(timeout=5)
    assert CALLS == ["a"]
