"""Background threads a process keeps one of (the group committer, the generation listener)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class PerProcess:
    """This process's one instance of ``make()`` — an object running a ``thread`` — made on first
    use, and made again in a forked child (which inherits the parent's object but not its thread)
    or when the thread has died."""

    def __init__(self, make: Callable):
        self._make = make
        self._lock = threading.Lock()
        self._held: tuple[int, object] | None = None  # (pid that made it, the object)

    def current(self):
        """The instance running in this process, or None."""
        held = self._held
        if held is not None and held[0] == os.getpid() and held[1].thread.is_alive():
            return held[1]
        return None

    def get(self):
        """The instance running in this process, started if there is none."""
        found = self.current()
        if found is not None:
            return found
        with self._lock:
            found = self.current()
            if found is None:
                found = self._make()
                self._held = (os.getpid(), found)
            return found

    def take(self):
        """Forget the instance and return it if this process made it (to stop it), else None."""
        with self._lock:
            held, self._held = self._held, None
        return held[1] if held is not None and held[0] == os.getpid() else None
