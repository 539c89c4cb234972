"""The region generation: a token that changes with every change to regions or their geometry.

Actions call ``bump()`` inside their transaction; in-memory indexes call ``current_token()`` once
per call and rebuild when it differs from the token they were built from (see ``RegionGeneration``).
"""

import threading
import uuid
from contextlib import contextmanager

from django.db import connections, transaction
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
    return _read([key]).get(key, "")


def _read(keys: list[str]) -> dict[str, str]:
    # Written out: every request of the intake reads the tokens, and building the query through
    # the ORM cost several times running it.
    from civicgrid.core import sql

    connection = connections[RegionGeneration.objects.db]
    table = connection.ops.quote_name(RegionGeneration._meta.db_table)
    with sql.cursor(connection) as cursor:
        if sql.postgres(connection):
            cursor.execute(f"SELECT key, token FROM {table} WHERE key = ANY(%s)", [keys])
        else:
            cursor.execute(f"SELECT key, token FROM {table} WHERE key IN ({', '.join(['%s'] * len(keys))})", keys)
        return dict(cursor.fetchall())


@contextmanager
def pinned(*keys: str):
    """Read the tokens of ``keys`` once (one query) and answer ``current_token`` with them until the
    block ends: a request that locates a point and reads reference data pays one read, not one per
    look-up. Only for blocks that do not change what the tokens guard."""
    if getattr(_pins, "tokens", None) is not None:  # an outer block pinned them already
        yield
        return
    found = _read(list(keys))
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


# --- generations kept by database triggers --------------------------------------------------------


def install_triggers(key: str, tables: list[str], prefix: str, using: str = "default") -> None:
    """Create (or replace) triggers that give generation ``key`` a new token on every write to
    ``tables``, whichever path writes (actions, the admin, imports, ``update()``, plain SQL).
    Statement-level on PostgreSQL (a bulk load bumps once per statement, TRUNCATE included);
    row-level on SQLite, which has no other kind. Triggers are named ``{prefix}_{table}``."""
    connection = connections[using]
    quote = connection.ops.quote_name
    generation = quote(RegionGeneration._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            function = f"civicgrid_new_{key}_generation"
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO {generation} (key, token, counter, changed_at) "
                f"VALUES ('{key}', md5(random()::text || clock_timestamp()::text), 1, now()) "
                f"ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, counter = {generation}.counter + 1, "
                "changed_at = EXCLUDED.changed_at; RETURN NULL; END $$")
            for table in tables:
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {_trigger_name(prefix, table)} AFTER INSERT OR UPDATE OR DELETE "
                    f"OR TRUNCATE ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
        elif connection.vendor == "sqlite":
            body = (f"INSERT INTO {generation} (key, token, counter, changed_at) VALUES ('{key}', "
                    "lower(hex(randomblob(16))), 1, strftime('%Y-%m-%d %H:%M:%f', 'now')) "
                    "ON CONFLICT(key) DO UPDATE SET token = excluded.token, counter = counter + 1, "
                    "changed_at = excluded.changed_at;")
            for table in tables:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {_trigger_name(prefix, table, event.lower())} "
                                   f"AFTER {event} ON {quote(table)} BEGIN {body} END")


def _trigger_name(prefix: str, table: str, event: str = "") -> str:
    return f"{prefix}_{table}{'_' + event if event else ''}"


def installed_triggers(prefix: str, using: str = "default") -> set[str]:
    """Names of the triggers named ``{prefix}_…`` present (for the checks and tests)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", [prefix + "_%"])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", [prefix + "_%"])
        return {r[0] for r in cursor.fetchall()}


def expected_triggers(tables: list[str], prefix: str, using: str = "default") -> set[str]:
    if connections[using].vendor == "postgresql":
        return {_trigger_name(prefix, t) for t in tables}
    return {_trigger_name(prefix, t, e) for t in tables for e in ("insert", "update", "delete")}
