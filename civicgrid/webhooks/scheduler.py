"""The embedded mode's stand-in for Celery: a small thread pool sends new deliveries without
holding up the request that committed them, and a daemon timer runs the retry sweep.

Started by ``WebhooksConfig.ready`` when ``CIVICGRID_INPROCESS_SCHEDULER`` is on, in serving
processes only (the same rule as the deadline sweep).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

log = logging.getLogger(__name__)
SWEEP_INTERVAL_SECONDS = 60.0

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_timer: threading.Thread | None = None


def _in_thread(function, *args) -> None:
    try:
        function(*args)
    except Exception:  # the delivery stays due; the next sweep tries again
        log.exception("webhook job failed")
    finally:
        connections.close_all()  # this thread's only; idle pool threads must not pin connections


def submit(function, *args) -> None:
    """Run ``function(*args)`` on the embedded pool (two threads: endpoints may be slow)."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="civicgrid-webhook")
    _executor.submit(_in_thread, function, *args)


def shutdown(wait: bool = True) -> None:
    """Stop the pool after the jobs it has; the next ``submit`` starts a new one."""
    global _executor
    with _lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=wait)


def sweep_once() -> None:
    from civicgrid.webhooks import actions

    _in_thread(actions.retry_due_deliveries)


def _run(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        sweep_once()


def start_inprocess_scheduler(interval: float = SWEEP_INTERVAL_SECONDS, stop: threading.Event | None = None) -> bool:
    """Start the one retry timer of this process; ``False`` when it already runs."""
    global _timer
    with _lock:
        if _timer is not None and _timer.is_alive():
            return False
        _timer = threading.Thread(
            target=_run, args=(interval, stop or threading.Event()), name="civicgrid-webhook-sweep", daemon=True,
        )
        _timer.start()
        return True
