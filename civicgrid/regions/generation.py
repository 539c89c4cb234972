"""The region generation: a token that changes with every change to regions or their geometry.

Actions call ``bump()`` inside their transaction; in-memory indexes call ``current_token()`` once
per call and rebuild when it differs from the token they were built from (see ``RegionGeneration``).
"""

import threading
import uuid

from django.db import transaction
from django.db.models import F

from civicgrid.regions.models import RegionGeneration

KEY = "regions"


def current_token() -> str:
    """The committed (or, inside the writer's own transaction, pending) token; "" before any change."""
    row = RegionGeneration.objects.filter(key=KEY).values_list("token", flat=True).first()
    return row or ""


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
