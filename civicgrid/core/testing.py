"""Helpers for the project's own tests (imported by tests only)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import close_old_connections, connection


def race(n: int, work: Callable[[int], object], timeout: float = 120) -> tuple[dict, dict]:
    """Run ``work(i)`` for ``i`` in ``range(n)`` on ``n`` threads released at the same instant.

    Returns ``(results, errors)``, each keyed by thread number. Every thread uses (and closes) its
    own database connection, as concurrent requests would.
    """
    barrier = threading.Barrier(n)
    results: dict[int, object] = {}
    errors: dict[int, BaseException] = {}

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # returned to the test, so a crash in a thread is seen
            errors[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    close_old_connections()
    return results, errors
