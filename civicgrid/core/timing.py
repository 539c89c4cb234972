"""Seconds per stage of a pipeline, for ``make bench``."""

from __future__ import annotations

import time


class StageTimer:
    """Adds the seconds since the previous lap to ``into[stage]`` at each ``lap(stage)``, summed
    over calls (batches); a no-op without a dict."""

    def __init__(self, into: dict | None):
        self.into = into
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[stage] = self.into.get(stage, 0.0) + now - self.last
        self.last = now

    def restart(self) -> None:
        """Count from now: the time since was timed by a nested step into the same dict."""
        self.last = time.perf_counter()
