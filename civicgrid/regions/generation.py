"""Generations: tokens that change with every change to what a per-process cache was built from.

The regions' own generation (``KEY``) changes with every change to regions or their geometry:
actions call ``bump()`` inside their transaction. Other generations (the intake reference, token
users) are replaced by database triggers. In-memory indexes call ``current_token()`` and rebuild
when it differs from the token they were built from (see ``RegionGeneration``).

Reading the tokens costs one primary-key read, which a busy web process would pay on every
request. On PostgreSQL a per-process listener (``listener()``) keeps the committed tokens instead:
a trigger on the generations table notifies every new token when its transaction commits
(``LISTEN``/``NOTIFY``, delivered in commit order). Outside a transaction ``current_token``
answers from the listener without a query; inside one (which may hold a change of its own not yet
committed) it reads the table, as it does whenever the listener is off, starting, or has lost its
connection.
"""

import logging
import threading
import time
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F

from civicgrid.core.threads import PerProcess
from civicgrid.regions.models import RegionGeneration

logger = logging.getLogger(__name__)

KEY = "regions"
CHANNEL = "civicgrid_generation"


_pins = threading.local()


def current_token(key: str = KEY) -> str:
    """The committed (or, inside the writer's own transaction, pending) token of ``key``; "" before
    any change. Inside ``pinned()``, the token read when the block began."""
    tokens = getattr(_pins, "tokens", None)
    if tokens is not None and key in tokens:
        return tokens[key]
    return _tokens([key])[key]


def _tokens(keys: list[str]) -> dict[str, str]:
    """The tokens of ``keys``: from the listener when it may answer, else read."""
    known = _listened(keys)
    if known is not None:
        return known
    found = _read(keys)
    return {key: found.get(key, "") for key in keys}


def _read(keys: list[str]) -> dict[str, str]:
    # Written out: every request of the intake reads the tokens, and building the query through
    # the ORM cost several times running it.
    from civicgrid.core import sql

    connection = connections[RegionGeneration.objects.db]
    table = connection.ops.quote_name(RegionGeneration._meta.db_table)
    among, params = sql.any_of("key", keys, connection)
    with sql.cursor(connection) as cursor:
        cursor.execute(f"SELECT key, token FROM {table} WHERE {among}", params)
        return dict(cursor.fetchall())


@contextmanager
def pinned(*keys: str):
    """Read the tokens of ``keys`` once (one query) and answer ``current_token`` with them until the
    block ends: a request that locates a point and reads reference data pays one read, not one per
    look-up. Only for blocks that do not change what the tokens guard."""
    if getattr(_pins, "tokens", None) is not None:  # an outer block pinned them already
        yield
        return
    _pins.tokens = _tokens(list(keys))
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


# --- the listener (PostgreSQL) -------------------------------------------------------------------


def install_notify_trigger(using: str = "default") -> None:
    """On PostgreSQL, a trigger on the generations table that notifies ``CHANNEL`` with
    ``key:token`` of every row written (delivered when the writing transaction commits)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(RegionGeneration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION civicgrid_notify_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_notify('{CHANNEL}', NEW.key || ':' || NEW.token); RETURN NULL; END $$")
        cursor.execute(
            f"CREATE OR REPLACE TRIGGER civicgrid_notify_generation AFTER INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION civicgrid_notify_generation()")


class _Listener:
    """A thread with its own connection that LISTENs for new generation tokens and keeps them.
    ``tokens`` is None while it cannot vouch for them (starting, reconnecting, stopped)."""

    RETRY_SECONDS = 5.0

    def __init__(self, alias: str):
        self.params = connections[alias].get_connection_params()
        self.table = connections[alias].ops.quote_name(RegionGeneration._meta.db_table)
        self.tokens: dict[str, str] | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="civicgrid-generation-listener", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psycopg

        while not self.stopping.is_set():
            try:
                with psycopg.connect(**self.params, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Listening first, then reading: no change falls between the two.
                    self.tokens = dict(conn.execute(f"SELECT key, token FROM {self.table}").fetchall())
                    while not self.stopping.is_set():
                        # The new token comes with the notice: nothing is read on the connection
                        # while its notices are consumed.
                        for note in conn.notifies(timeout=1.0):
                            key, _sep, token = note.payload.partition(":")
                            self.tokens = {**self.tokens, key: token}
            except Exception:
                if not self.stopping.is_set():
                    logger.warning("generation listener lost its connection; reading tokens meanwhile", exc_info=True)
            self.tokens = None
            self.stopping.wait(self.RETRY_SECONDS)

    def stop(self) -> None:
        self.tokens = None
        self.stopping.set()
        self.thread.join(5)


_listeners = PerProcess(lambda: _Listener(DEFAULT_DB_ALIAS))


def _listened(keys: list[str]) -> dict[str, str] | None:
    """The tokens of ``keys`` from this process's listener, or None when it may not answer: not
    on PostgreSQL, turned off (``CIVICGRID_GENERATION_LISTENER``), inside a transaction (which may
    hold an uncommitted change), or not (yet) listening."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    if not getattr(settings, "CIVICGRID_GENERATION_LISTENER", True):
        return None
    held = listener()
    tokens = held.tokens
    if tokens is None:
        return None
    return {key: tokens.get(key, "") for key in keys}


def listener() -> _Listener:
    """This process's listener, started on first use (and again in a forked child)."""
    return _listeners.get()


def wait_listening(timeout: float = 5.0) -> bool:
    """Start the listener and wait until it answers (warm-up, tests); whether it does."""
    held = listener()
    deadline = time.monotonic() + timeout
    while held.tokens is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return held.tokens is not None


def stop_listener() -> None:
    """Stop this process's listener (tests; it starts again on demand)."""
    held = _listeners.take()
    if held is not None:
        held.stop()
