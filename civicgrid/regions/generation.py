"""The region generation: a token that changes with every change to regions or their geometry.

Actions call ``bump()`` inside their transaction; in-memory indexes call ``current_token()`` once
per call and rebuild when it differs from the token they were built from (see ``RegionGeneration``).
"""

import threading
import uuid
from contextlib import contextmanager

from django.db import transaction
from django.db.models import F

from civicgrid.regions.models import RegionGeneration

KEY = "regions"


_pins = threading.local()


def current_token(key: str = KEY) -> str:
    """The committed (or, inside the writer's own transaction, pending) token of ``key``; "" before
    any change. Inside ``pinned()``, the token read when the block began."""
    tokens = getattr(_pins, "tokens", None)
    if tokens is not None and key in tokens:
        return tokens[key]
    row = RegionGeneration.objects.filter(key=key).values_list("token", flat=True).first()
    return row or ""


@contextmanager
def pinned(*keys: str):
    """Read the tokens of ``keys`` once (one query) and answer ``current_token`` with them until the
    block ends: a request that locates a point and reads reference data pays one read, not one per
    look-up. Only for blocks that do not change what the tokens guard."""
    if getattr(_pins, "tokens", None) is not None:  # an outer block pinned them already
        yield
        return
    found = dict(RegionGeneration.objects.filter(key__in=keys).values_list("key", "token"))
    _pins.tokens = {key: found.get(key, "") for key in keys}
    try:
        yield
    finally:
        _pins.tokens = None


def current_counter() -> int:
    row = RegionGeneration.objects.filter(key=KEY).values_list("counter", flat=True).first()
    return row or 0


def bump() -> str:
    """Give the regions a new token; call inside the action's transaction."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        updated = RegionGeneration.objects.filter(key=KEY).update(token=token, counter=F("counter") + 1)
        if not updated:
            RegionGeneration.objects.create(key=KEY, token=token, counter=1)
    return token


class CachedIndex:
    """Holds an object built from the regions and rebuilds it when the generation token changes.

    ``get()`` costs one primary-key read; the build runs at most once per token per process (a lock
    keeps concurrent threads from building the same index twice).
    """

    def __init__(self, build):
        self._build = build
        self._lock = threading.Lock()
        self._token: str | None = None
        self._value = None

    def get(self):
        token = current_token()
        if token == self._token and self._value is not None:
            return self._value
        with self._lock:
            if token != self._token or self._value is None:
                self._value = self._build()
                self._token = token
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._token = None
            self._value = None
