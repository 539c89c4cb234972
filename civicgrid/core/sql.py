"""Hand-written statements on the hot paths (every report runs them), prepared once per connection.

Django's PostgreSQL backend binds parameters on the client: each statement is sent as text with
its values quoted in, and the server parses and plans it anew. For the few statements a report
runs many thousands of times a minute, ``cursor()`` gives a cursor that sends parameters apart
from the statement (server-side binding) and asks PostgreSQL to prepare it: the server parses and
plans it once per connection, and the client quotes nothing. Such statements keep one shape
whatever the number of values (PostgreSQL arrays: ``= ANY(%s)``, ``unnest(%s::…[])``), so one
prepared statement serves every call.

Statements still go through Django's cursor wrapper (execute wrappers, query logging in tests).
Elsewhere (SQLite), and with ``CIVICGRID_DB_PREPARED`` off — for a connection pooler in
transaction mode that cannot keep prepared statements — it is Django's own cursor; callers write
both forms where the SQL differs (``postgres()`` tells which; ``any_of`` writes the commonest).
"""

from __future__ import annotations

import functools
import itertools
import re

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper

# psycopg prepares only what it is asked to (``prepare=True``) below this many executions; Django
# leaves automatic preparation off (None), which would also refuse explicit requests.
PREPARE_THRESHOLD = 1_000_000
# Prepared statements a connection keeps (psycopg drops the least used past it): the hot
# statements, and multi-row inserts per row count (``civicgrid.core.rows``).
PREPARED_MAX = 300


def postgres(conn=None) -> bool:
    """Whether statements on ``conn`` (this thread's default connection) take the prepared form."""
    conn = conn if conn is not None else connections[DEFAULT_DB_ALIAS]
    return conn.vendor == "postgresql" and settings.CIVICGRID_DB_PREPARED


def any_of(column: str, values, conn=None) -> tuple[str, list]:
    """(condition, params) for ``column`` equal to any of ``values``: ``column = ANY(%s)`` with one
    array on a prepared connection (one statement whatever the count), else ``column IN (%s, …)``."""
    values = list(values)
    if postgres(conn):
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", values


@functools.lru_cache(maxsize=1024)
def _numbered(query: str) -> str:
    """``query`` with PostgreSQL's own placeholders: ``%s`` → ``$1``, ``$2`` …, ``%%`` → ``%``."""
    count = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(count)}", query)


_PLACEHOLDER = re.compile(r"%%|%s")


class _PreparedCursor(psycopg.RawCursor):
    """Server-side binding with PostgreSQL's own placeholders (psycopg parses nothing: its own
    conversion is not cached for statements of more than 50 values, such as multi-row inserts),
    every statement prepared (named and planned once per connection). Statements are written with
    ``%s``, as for Django's cursor, and numbered once per statement text."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(_numbered(query), params, prepare=True if prepare is None else prepare,
                               binary=binary)


def configure(conn):
    """Make ``conn`` ready for prepared statements (once per connection; PostgreSQL): psycopg
    prepares what it is asked to, and PostgreSQL plans each of them once (a generic plan: their
    shapes were written for it) instead of again for each set of values. Returns psycopg's
    connection."""
    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
        raw.prepared_max = PREPARED_MAX
    if not getattr(raw, "_civicgrid_generic_plans", False) and not conn.in_atomic_block:
        # Outside a transaction, so that a rollback cannot undo it. Only prepared statements are
        # concerned: Django's own queries are sent with their values and planned each time.
        with conn.cursor() as c:
            c.execute("SET plan_cache_mode = force_generic_plan")
        raw._civicgrid_generic_plans = True
    return raw


class _DebugWrapper(CursorDebugWrapper):
    """Query logging (DEBUG, tests) of prepared statements: Django's backend reads the statement
    back from a client-side cursor only, so the statement as written is logged instead."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return super(CursorDebugWrapper, self).execute(sql, params)


def cursor(conn=None):
    """A cursor for a hot hand-written statement (see the module) on ``conn`` (a database wrapper;
    this thread's default connection when None)."""
    conn = conn if conn is not None else connections[DEFAULT_DB_ALIAS]
    if not postgres(conn):
        return conn.cursor()
    raw = configure(conn)
    wrapped = conn._prepare_cursor(_PreparedCursor(raw))
    if isinstance(wrapped, CursorDebugWrapper):
        wrapped = _DebugWrapper(wrapped.cursor, conn)
    return wrapped
