"""The embedded mode's stand-in for a Celery worker: a small thread pool sends new deliveries
without holding up the request that committed them. (The retry sweep runs on the beat schedule:
Celery beat in production, ``civicgrid.core.scheduler`` in the embedded mode.)
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

log = logging.getLogger(__name__)

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


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
