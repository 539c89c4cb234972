"""Model rows made and written without the ORM's per-object work, for code that writes many rows
of a few models on a hot path (the set-wise report of ``civicgrid.cases.reporting``, the bulk
importer).

- ``make(model, **values)``: an unsaved instance without ``Model.__init__``'s per-field work.
- ``insert(model, objs)``: every object inserted and given its primary key — by one multi-row
  ``INSERT … RETURNING`` per chunk (any database), or by ``COPY … FROM STDIN`` on PostgreSQL with
  the ids reserved from the table's sequence first (``copy=True``, or by default for many rows).
- ``build_rows`` / ``insert_built``: the COPY rows built ahead (in another process) and stored later.

Every column goes through its field's ``pre_save`` where the field needs it (auto times, blind
indexes, encryption), so the rows are exactly what ``save()`` would write. Objects come back as
``save()`` leaves them: with their pk, not ``adding`` any more, bound to the connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection, models
from django.db.models.base import ModelState
from django.utils import timezone

from civicgrid.core import sql

# From this many rows ``insert`` uses COPY on PostgreSQL unless told otherwise: below it, the
# sequence read and the COPY protocol's extra round trip cost more than they save.
COPY_MIN_ROWS = 50


class _Factory:
    """Model instances without ``Model.__init__``'s per-field work: the defaults of the model's
    fields are computed once (callable defaults per instance), the given values set on top — by
    attname, or a related object by field name (cached on the instance, as ``__init__`` does).
    The instances are ordinary unsaved model instances."""

    def __init__(self, model):
        self.model = model
        self.static, self.dynamic, self.relations = {}, [], {}
        for f in model._meta.concrete_fields:
            if f.has_default() and callable(f.default):
                self.dynamic.append((f.attname, f.default))
            else:
                self.static[f.attname] = f.get_default()
            if f.is_relation:
                self.relations[f.name] = f.attname

    def make(self, values: dict):
        obj = self.model.__new__(self.model)
        obj._state = ModelState()
        attrs = obj.__dict__
        attrs.update(self.static)
        for attname, default in self.dynamic:
            if attname not in values:
                attrs[attname] = default()
        for name, value in values.items():
            attname = self.relations.get(name)
            if attname is not None and attname != name:
                attrs[attname] = value.pk if value is not None else None
                obj._state.fields_cache[name] = value
            else:
                attrs[name] = value
        return obj


_factories: dict = {}


def make(model, **values):
    """An unsaved ``model`` instance with ``values`` (see ``_Factory``)."""
    factory = _factories.get(model)
    if factory is None:
        factory = _factories[model] = _Factory(model)
    return factory.make(values)


_PLAIN_FIELDS = (
    models.AutoField, models.BigAutoField, models.CharField, models.TextField, models.IntegerField,
    models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
    models.PositiveSmallIntegerField, models.FloatField, models.BooleanField, models.DateField,
    models.DateTimeField, models.ForeignKey,
)


class Columns:
    """How the rows of a model are written: every concrete column, its ``pre_save`` (auto times,
    blind indexes …) and database value. ``copy_row`` gives PostgreSQL's values (plain built-in
    fields as they are, JSON as text), ``prepared_row`` the values any backend takes."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.names = [f.column for f in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)
        self.json_cache: dict = {}
        from civicgrid.core.fields import BlindIndexField, EncryptedFieldMixin

        self.plan = []
        for f in self.fields:
            plain = type(f) in _PLAIN_FIELDS
            auto_time = isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add)
            if isinstance(f, models.JSONField):
                self.plan.append((f, "json"))
            elif auto_time:
                self.plan.append((f.attname, "now"))  # what DateTimeField.pre_save does, one clock per row
            elif isinstance(f, EncryptedFieldMixin):
                self.plan.append((f, "encrypt"))
            elif type(f) is BlindIndexField:
                self.plan.append((f, "pre_save"))  # computes the index from its source and keeps it
            elif plain:
                self.plan.append((f.attname, "attr"))
            else:
                self.plan.append((f, "field"))
        self.insert_sql: dict = {}

    def copy_row(self, obj) -> tuple:
        out = []
        now = None
        for what, how in self.plan:
            if how == "attr":
                out.append(getattr(obj, what))
            elif how == "now":
                if now is None:
                    now = timezone.now()
                setattr(obj, what, now)
                out.append(now)
            elif how == "encrypt":
                out.append(what.get_prep_value(getattr(obj, what.attname)))
            elif how == "pre_save":
                out.append(what.pre_save(obj, True))
            elif how == "json":
                value = getattr(obj, what.attname)
                if value is None:
                    out.append(None)
                    continue
                # Many rows share one value (a routing suggestion): serialised once per insert.
                cached = self.json_cache.get(id(value))
                if cached is None or cached[0] is not value:
                    cached = self.json_cache[id(value)] = (value, json.dumps(
                        value, cls=what.encoder, ensure_ascii=False))
                out.append(cached[1])
            else:
                out.append(what.get_db_prep_save(what.pre_save(obj, True), connection))
        return tuple(out)

    def prepared_row(self, obj) -> tuple:
        return tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields)


_columns_cache: dict = {}


def columns(model) -> Columns:
    found = _columns_cache.get(model)
    if found is None:
        found = _columns_cache[model] = Columns(model)
    return found


def _saved(objs: list) -> None:
    alias = connection.alias
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def copy_rows(model, rows: Iterable) -> None:
    """``COPY … FROM STDIN`` of rows in ``columns(model)`` order (PostgreSQL)."""
    cols = columns(model)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in cols.names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def copy_insert(model, objs: list) -> None:
    """Insert ``objs`` (pks set) with PostgreSQL ``COPY … FROM STDIN``."""
    if not objs:
        return
    cols = columns(model)
    cols.json_cache = {}
    try:
        copy_rows(model, (cols.copy_row(obj) for obj in objs))
    finally:
        cols.json_cache = {}


def build_rows(model, objs: list) -> list[list]:
    """The COPY rows of unsaved ``objs``, built ahead of the insert (``insert_built``): the per-row
    work of ``copy_insert`` — encryption, blind indexes, JSON, times — done by whoever has time."""
    cols = columns(model)
    cols.json_cache = {}
    try:
        return [list(cols.copy_row(obj)) for obj in objs]
    finally:
        cols.json_cache = {}


def insert_built(model, rows: list[list], **values: list) -> list[int]:
    """COPY rows built ahead (``build_rows``, PostgreSQL): their primary keys reserved here, and the
    columns known only now (``values``: attname → one value per row) filled in. Returns the pks."""
    cols = columns(model)
    ids = reserve_ids(model, len(rows))
    for attname, column_values in [(model._meta.pk.attname, ids), *values.items()]:
        index = cols.names.index(model._meta.get_field(attname).column)
        for row, value in zip(rows, column_values, strict=True):
            row[index] = value
    copy_rows(model, rows)
    return ids


def reserve_ids(model, count: int) -> list[int]:
    """``count`` new primary keys from the table's sequence (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [r[0] for r in cursor.fetchall()]


# Rows per prepared multi-row statement on PostgreSQL: each row count up to it is one prepared
# statement of the connection, so a larger insert goes in chunks of this many.
PREPARED_CHUNK = 16


def insert_returning(model, objs: list) -> None:
    """Insert ``objs`` and set their pks, the database numbering the rows as ``save()`` lets it:
    one multi-row ``INSERT … RETURNING`` per chunk, rows inserted and keys returned in order. On
    PostgreSQL the statements are prepared (``civicgrid.core.sql``), one per row count up to
    ``PREPARED_CHUNK``."""
    cols = columns(model)
    # The pk column is left to the database.
    keep = [i for i in range(len(cols.fields)) if i != cols.pk_index]
    prepared = sql.postgres()
    if prepared:
        chunk_size = PREPARED_CHUNK
    else:
        limit = connection.features.max_query_params or 65_535
        chunk_size = max(1, min(500, limit // len(keep)))
    pg = connection.vendor == "postgresql"
    cols.json_cache = {}
    try:
        for start in range(0, len(objs), chunk_size):
            chunk = objs[start:start + chunk_size]
            params = []
            for obj in chunk:
                row = cols.copy_row(obj) if pg else cols.prepared_row(obj)
                params.extend(row[i] for i in keep)
            with sql.cursor() as cursor:  # Django's own cursor where not prepared
                cursor.execute(_insert_sql(cols, keep, len(chunk)), params)
                pks = [r[0] for r in cursor.fetchall()]
            for obj, pk in zip(chunk, pks, strict=True):
                obj.pk = pk
    finally:
        cols.json_cache = {}


def _insert_sql(cols: Columns, keep: list[int], rows: int) -> str:
    sql = cols.insert_sql.get(rows)
    if sql is None:
        quote = connection.ops.quote_name
        one = "(" + ", ".join(["%s"] * len(keep)) + ")"
        sql = cols.insert_sql[rows] = (
            f"INSERT INTO {quote(cols.model._meta.db_table)} ({', '.join(quote(cols.names[i]) for i in keep)}) "
            f"VALUES {', '.join([one] * rows)} RETURNING {quote(cols.model._meta.pk.column)}"
        )
    return sql


def insert(model, objs: list, *, copy: bool | None = None) -> None:
    """Insert ``objs`` and leave each with its pk, as ``save()`` would: COPY on PostgreSQL when
    ``copy`` (by default: from ``COPY_MIN_ROWS`` rows), else multi-row ``INSERT … RETURNING``."""
    if not objs:
        return
    if copy is None:
        copy = len(objs) >= COPY_MIN_ROWS
    if copy and connection.vendor == "postgresql":
        for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
            obj.pk = pk
        copy_insert(model, objs)
    else:
        insert_returning(model, objs)
    _saved(objs)
