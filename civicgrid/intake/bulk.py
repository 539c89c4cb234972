"""Bulk import of cases from files (``import_cases``): validate, locate, classify, de-duplicate,
route, persist, timeline — each a function over one batch, so each can be tested on its own.

A batch is one transaction: either every good row of it becomes a case (with its REPORT event,
routing suggestion, owner centre, stage deadline and case number) or none does. Cases look exactly
like those ``civicgrid.cases.actions.report_case`` makes one at a time — the same fields, numbers,
events and side steps (auto-dispatch for a clear matrix answer) — but are written with bulk
inserts: ``COPY`` on PostgreSQL (ids reserved from the sequence first), ``bulk_create`` elsewhere.
Case numbers are reserved as a block per district and day with one locked counter update.

Re-running a file is safe: a row whose (channel, external id) is already a case is skipped. An
interrupted run resumes from its checkpoint (``FILE.import-state.json``, written after each
committed batch): rows up to the last committed one are not read again. Row problems go to
``FILE.errors.csv`` (row, field, code, problem).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import itertools
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.reference import Reference
from civicgrid.intake import bulk_formats
from civicgrid.intake.records import NormalizedReport, RecordErrors
from civicgrid.intake.wire import cached_lookups

DEFAULT_BATCH_SIZE = 5000
# The stages a caller may leave out (tests of the other stages, profiling); all run by default.
STAGES = ("classify", "deduplicate")
CHECKPOINT_VERSION = 1


@dataclass
class RowProblem:
    """One problem of one row, as the error report lists it."""

    row: int
    field: str
    code: str
    message: str


@dataclass
class Item:
    """One good row on its way through the stages."""

    row: int
    report: NormalizedReport
    case: object = None  # civicgrid.cases.models.Case, built by ``build_cases``
    prediction: tuple | None = None  # (model version, best three, threshold, applied) from the classifier
    classified_category: int | None = None  # the category the classifier set
    candidates: list = field(default_factory=list)  # duplicate candidates reaching the suggest score
    merged: bool = False  # merged into an earlier case as a duplicate
    problems: list = field(default_factory=list)  # why it could not be placed (then it has no case)
    built: dict = field(default_factory=dict)  # COPY rows built ahead by the worker ("case")


@dataclass
class BatchResult:
    imported: int = 0
    skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    last_row: int = 0
    cases: list = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len({p.row for p in self.problems})


# --- stage 1: validate -----------------------------------------------------------------------------


def validate(fmt: str, rows: Iterable[tuple[int, dict]]) -> tuple[list[Item], list[RowProblem]]:
    """Parse every row with the format's parser: the good ones as items, every problem of the bad
    ones (all of a row's problems, not just the first)."""
    items, problems = [], []
    for row, record in rows:
        try:
            items.append(Item(row, bulk_formats.parse_row(fmt, record)))
        except RecordErrors as exc:
            problems += [RowProblem(row, e.field, e.code, str(e.message)) for e in exc.errors]
    return items, problems


def drop_known(items: list[Item], seen: dict | None = None) -> tuple[list[Item], int, list[RowProblem]]:
    """Leave out rows whose (channel, external id) is already a case (skipped: a re-run) and rows
    repeating an external id of an earlier row of the file (a problem). ``seen`` carries the ids of
    earlier batches of the run: {(channel, external id): row}."""
    from civicgrid.cases.models import Case

    seen = {} if seen is None else seen
    by_channel = defaultdict(list)
    for item in items:
        by_channel[item.report.channel].append(item.report.external_id)
    existing = set()
    for channel, ids in by_channel.items():
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            if connection.vendor == "postgresql":
                # One array parameter instead of 5,000 placeholders (the partial unique index answers it).
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT external_id FROM {connection.ops.quote_name(Case._meta.db_table)} "
                        "WHERE channel = %s AND external_id <> '' AND external_id = ANY(%s)", [channel, chunk])
                    found = [r[0] for r in cursor.fetchall()]
            else:
                found = Case.objects.filter(channel=channel, external_id__in=chunk).values_list("external_id", flat=True)
            existing.update((channel, e) for e in found)
    kept, skipped, problems = [], 0, []
    for item in items:
        key = (item.report.channel, item.report.external_id)
        if key in seen:
            problems.append(RowProblem(item.row, "external_id", "duplicate", str(format_lazy(
                _("The external id {id} was already given in row {row}."), id=key[1], row=seen[key]))))
        elif key in existing:
            skipped += 1
        else:
            seen[key] = item.row
            kept.append(item)
    return kept, skipped, problems


# --- stage 2: locate ------------------------------------------------------------------------------


def _location_field(item: Item) -> str:
    return "long" if item.report.channel == "open311" else "lon"


def locate(items: list[Item], ref: Reference | None = None) -> tuple[list[Item], list[RowProblem]]:
    """Points → the finest region containing them, all at once (``locate_many``); region codes
    given without a point must name a region we have."""
    import numpy as np

    from civicgrid.regions.locator import locate_many
    from civicgrid.regions.models import Region

    pending = [i for i in items if i.report.region_code is None and i.report.lon is not None]
    if pending:
        codes = locate_many(np.array([i.report.lon for i in pending]), np.array([i.report.lat for i in pending]))
        for item, code in zip(pending, codes, strict=True):
            item.report.region_code = code
    named = {i.report.region_code for i in items if i.report.region_code}
    known = set()
    if named:
        if ref is not None:
            known = {code for code in named if ref.has_region(code)}
        else:
            known = set(Region.objects.filter(code__in=named).values_list("code", flat=True))
    kept, problems = [], []
    for item in items:
        code = item.report.region_code
        if code is None:
            problems.append(RowProblem(item.row, _location_field(item), "outside_regions",
                                       str(_("No region of the platform contains this point."))))
        elif code not in known:
            problems.append(RowProblem(item.row, "region_code", "unknown_region",
                                       str(format_lazy(_("Unknown region code {code}."), code=code))))
        else:
            kept.append(item)
    return kept, problems


# --- stage 3: classify ----------------------------------------------------------------------------


def classify(items: list[Item], ref: Reference) -> None:
    """智能分拨 as ``civicgrid.triage.actions.classify_new_case`` does it for one report, for the whole
    batch at once (``classify_many``): a row without a category but with words gets the best three
    kept for the dispatcher, and the best becomes its category when it is at least
    ``CIVICGRID_CLASSIFIER_THRESHOLD`` sure (and active). Off with ``CIVICGRID_CLASSIFY_AT_INTAKE``,
    as for single reports."""
    from civicgrid.triage import services, training
    from civicgrid.triage.actions import threshold

    if not getattr(settings, "CIVICGRID_CLASSIFY_AT_INTAKE", True):
        return
    todo = [(i, text) for i in items if i.report.category_id is None
            and (text := training.case_text(i.report.title, i.report.description))]
    if not todo:
        return
    loaded = services.current()
    if loaded is None:
        return
    ranked = services.classify_many([text for _item, text in todo], k=3)
    limit = threshold()
    for (item, _text), pairs in zip(todo, ranked, strict=True):
        top = [{"category": cid, "kind": info[0], "code": info[1], "name": info[2], "confidence": round(p, 4)}
               for cid, p in pairs if (info := loaded.categories.get(cid)) is not None]
        if not top:
            continue
        best = ref.category(top[0]["category"])
        applied = top[0]["confidence"] >= limit and best is not None and best.is_active
        item.prediction = (loaded.version, top, limit, applied)
        if applied:
            item.classified_category = best.pk


# --- building the cases -------------------------------------------------------------------------------


def build_cases(items: list[Item], ref: Reference, now: datetime) -> None:
    """A ``Case`` in state reported for every item, as ``report_case`` builds it: the owner centre
    of its place and the filing deadline of its category and urgency (numbers come at persist)."""
    from civicgrid.cases.actions import _set_stage
    from civicgrid.cases.deadlines import file_deadline
    from civicgrid.cases.models import Case
    from civicgrid.cases.workflow import State

    for item in items:
        r = item.report
        moment = r.reported_at or now
        case = make(
            Case, channel=r.channel, external_id=r.external_id, request_type=r.request_type,
            category=ref.category(r.category_id) if r.category_id else None, urgency=r.urgency,
            title=r.title, description=r.description, lon=r.lon, lat=r.lat, address=r.address,
            region_code=r.region_code, reporter_name=r.reporter_name, reporter_phone=r.reporter_phone,
            owner_centre_id=ref.centre_id(r.region_code), state=State.REPORTED, reported_at=moment,
        )
        if item.classified_category is not None:
            # As for a single report: the classifier's category sets the filing clock and routes.
            case.category = ref.category(item.classified_category)
        if case.category_id is not None:
            ref.stage_limits(case)
        _set_stage(case, moment, file_deadline(case, moment), now)
        item.case = case


class _Factory:
    """Model instances for bulk rows without ``Model.__init__``'s per-field work: the defaults of
    the model's fields are computed once (callable defaults per instance), the given values set on
    top — by attname, or a related object by field name (cached on the instance, as ``__init__``
    does). The instances are ordinary unsaved model instances."""

    def __init__(self, model):
        from django.db.models.base import ModelState

        self.model, self.state_class = model, ModelState
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
        obj._state = self.state_class()
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


# --- stage 4: de-duplicate -------------------------------------------------------------------------


def deduplicate(items: list[Item]) -> None:
    """Duplicate candidates of every row among the open cases and the earlier rows of the batch
    (``candidates_many``), kept on the item when they reach the suggest score: after persisting,
    the timeline stage merges a row whose best candidate reaches the auto-merge score and keeps the
    others for the dispatcher, as ``civicgrid.dedup.actions.check_new_report`` does for one."""
    from civicgrid.dedup.services import candidates_many, suggest_score

    if not items:
        return
    reports = [{
        "text": f"{i.case.title} {i.case.description}", "category_id": i.case.category_id,
        "lon": i.case.lon, "lat": i.case.lat, "at": i.case.reported_at, "address": i.case.address,
        "region_code": i.case.region_code,
    } for i in items]
    threshold = suggest_score()
    for item, found in zip(items, candidates_many(reports), strict=True):
        item.candidates = [c for c in found if c.score >= threshold]


# --- stage 5: route -----------------------------------------------------------------------------------


def route(items: list[Item], ref: Reference) -> None:
    """The responsibility matrix's suggestion (智能派单) for every categorised case, as
    ``routing.suggest`` gives it, with its look-ups shared across the import (see ``Routing``)."""
    for item in items:
        if item.case.category_id is not None:
            item.case.routing_suggestion = ref.routing.suggest(item.case)


# --- stage 6: persist -------------------------------------------------------------------------------




def number_cases(items: list[Item]) -> None:
    """Case numbers as ``report_case`` gives them (district, local day of the report, sequence),
    reserved as one block per district and day (``advance_counters``), handed out in row order."""
    groups = defaultdict(list)
    for item in items:
        groups[(item.case.region_code[:6], timezone.localdate(item.case.reported_at))].append(item)
    from civicgrid.cases.actions import advance_counters

    lasts = advance_counters({key: len(members) for key, members in groups.items()})
    for (district, day), members in groups.items():
        first = lasts[(district, day)] - len(members) + 1
        for offset, item in enumerate(members):
            item.case.number = f"{district}-{day:%Y%m%d}-{first + offset:05d}"


_PLAIN_FIELDS = (
    models.AutoField, models.BigAutoField, models.CharField, models.TextField, models.IntegerField,
    models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
    models.PositiveSmallIntegerField, models.FloatField, models.BooleanField, models.DateField,
    models.DateTimeField, models.ForeignKey,
)


class _Columns:
    """How the rows of a model are written by COPY: every concrete column, its ``pre_save`` (auto
    times, blind indexes …) and database value — with a fast path for plain built-in fields."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.names = [f.column for f in self.fields]
        self.json_cache: dict = {}
        self.plan = []
        for f in self.fields:
            plain = type(f) in _PLAIN_FIELDS
            needs_pre_save = not plain or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            if isinstance(f, models.JSONField):
                self.plan.append((f, "json"))
            elif plain and not needs_pre_save:
                self.plan.append((f.attname, "attr"))
            else:
                self.plan.append((f, "field"))

    def row(self, obj) -> tuple:
        out = []
        for what, how in self.plan:
            if how == "attr":
                out.append(getattr(obj, what))
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


_columns_cache: dict = {}


def _columns(model) -> _Columns:
    if model not in _columns_cache:
        _columns_cache[model] = _Columns(model)
    return _columns_cache[model]


def copy_insert(model, objs: list) -> None:
    """Insert ``objs`` (pks set) with PostgreSQL ``COPY … FROM STDIN``."""
    if not objs:
        return
    columns = _columns(model)
    columns.json_cache = {}
    try:
        copy_rows(model, (columns.row(obj) for obj in objs))
    finally:
        columns.json_cache = {}


def copy_rows(model, rows: Iterable) -> None:
    """``COPY … FROM STDIN`` of rows in ``_columns(model)`` order."""
    columns = _columns(model)
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns.names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def build_rows(model, objs: list) -> list[list]:
    """The COPY rows of unsaved ``objs``, built ahead of the insert (``insert_built``): the per-row
    work of ``copy_insert`` — encryption, blind indexes, JSON, times — done by the worker."""
    columns = _columns(model)
    columns.json_cache = {}
    try:
        return [list(columns.row(obj)) for obj in objs]
    finally:
        columns.json_cache = {}


def insert_built(model, rows: list[list], **values: list) -> list[int]:
    """COPY rows built ahead (``build_rows``, PostgreSQL): their primary keys reserved here, and the
    columns known only now (``values``: attname → one value per row) filled in. Returns the pks."""
    columns = _columns(model)
    ids = reserve_ids(model, len(rows))
    for attname, column_values in [("id", ids), *values.items()]:
        index = columns.names.index(model._meta.get_field(attname).column)
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


def insert(model, objs: list) -> None:
    """Bulk insert that leaves every object with its pk: COPY on PostgreSQL, ``bulk_create``
    (with RETURNING) elsewhere."""
    if not objs:
        return
    if connection.vendor == "postgresql":
        for obj, pk in zip(objs, reserve_ids(model, len(objs)), strict=True):
            obj.pk = pk
        copy_insert(model, objs)
    else:
        model.objects.bulk_create(objs, batch_size=500)


def _all_built(items: list[Item], kind: str) -> bool:
    return bool(items) and all(i.built.get(kind) is not None for i in items)


def persist(items: list[Item]) -> None:
    """Number the cases and insert them (from their rows built ahead, when the worker built them)."""
    from civicgrid.cases.models import Case

    number_cases(items)
    if _all_built(items, "case"):
        ids = insert_built(Case, [i.built["case"] for i in items], number=[i.case.number for i in items])
        for item, pk in zip(items, ids, strict=True):
            item.case.pk = pk
    else:
        insert(Case, [i.case for i in items])


# --- stage 7: timeline -----------------------------------------------------------------------------


def timeline(items: list[Item], now: datetime, ref: Reference | None = None) -> None:
    """The REPORT event of every case (as ``report_case`` writes it), the external record of rows
    that carry source details and the classifier's proposals; then what follows a report on its
    own: merging a duplicate into its original (keeping the candidates with their decision, or for
    the dispatcher), and auto-dispatch of a case the matrix answers clearly."""
    from civicgrid.cases.models import CaseEvent
    from civicgrid.intake.models import ExternalRecord

    insert(CaseEvent, [_report_event(i, now) for i in items])
    insert(ExternalRecord, [
        ExternalRecord(channel=i.case.channel, external_id=i.case.external_id, case_id=i.case.pk,
                       client=None, extra=i.report.extra, received_at=now)
        for i in items if i.report.extra
    ])
    _keep_predictions(items)
    _merge_duplicates(items)
    _auto_dispatch(items, ref)


def _report_event(item: Item, now: datetime):
    """The case's REPORT event (unsaved), as ``report_case`` writes it."""
    from civicgrid.cases.models import CaseEvent
    from civicgrid.cases.workflow import Action

    return make(CaseEvent, case_id=item.case.pk, actor_id=None, action=Action.REPORT, from_state="",
                to_state=item.case.state, note="", at=now,
                data={"channel": item.case.channel, "external_id": item.case.external_id})


def _keep_predictions(items: list[Item]) -> None:
    """The classifier's proposals, kept for the dispatcher as for a single report."""
    from civicgrid.triage.models import CasePrediction

    insert(CasePrediction, [
        CasePrediction(case_id=i.case.pk, version=i.prediction[0], top=i.prediction[1], threshold=i.prediction[2],
                       applied=i.prediction[3])
        for i in items if i.prediction is not None
    ])


def _merge_duplicates(items: list[Item]) -> None:
    """One incident, one case: a row whose best candidate reaches the auto-merge score is merged
    into it (an earlier row of the batch counts as its case, or the case that one was merged
    into); the candidates are kept with their decision, as for a single report."""
    from civicgrid.cases.actions import merge_case
    from civicgrid.cases.workflow import State
    from civicgrid.dedup.actions import _note
    from civicgrid.dedup.models import Decision, DuplicateCandidate
    from civicgrid.dedup.services import auto_merge_score

    auto = auto_merge_score()
    rows = []
    for item in items:
        if not item.candidates:
            continue
        found = []
        for c in item.candidates:
            if c.case_id is None:  # an earlier row of this batch: its case, or where it went
                other = items[c.batch_index].case
                target_pk = other.parent_id if other.state == State.MERGED else other.pk
                c = type(c)(target_pk, other.number if target_pk == other.pk else "", c.score, c.reasons, None)
            if c.case_id != item.case.pk and all(c.case_id != f.case_id for f in found):
                found.append(c)
        if not found:
            continue
        top, merged = found[0], False
        if top.score >= auto:
            if not top.number:
                top.number = type(item.case).objects.filter(pk=top.case_id).values_list("number", flat=True).get()
            item.case = merge_case(item.case, top.case_id, None, _note(top))
            item.merged = merged = True
        rows += [DuplicateCandidate(
            case_id=item.case.pk, candidate_id=c.case_id, score=round(c.score, 4), reasons=c.reasons,
            decision=(Decision.MERGED if merged and c is top else Decision.KEPT_APART if merged else Decision.PENDING),
            decided_at=timezone.now() if merged else None,
        ) for c in found]
    DuplicateCandidate.objects.bulk_create(rows)


def _auto_dispatch(items: list[Item], ref: Reference | None) -> None:
    """智能派单 exactly as ``report_case`` does it, case by case (only cases the matrix answers
    clearly and whose category is marked for it)."""
    from civicgrid.cases.actions import _file

    for item in items:
        suggestion = item.case.routing_suggestion
        if not item.merged and suggestion and suggestion.get("auto"):
            # Inserted by this batch's transaction, which holds it.
            item.case = _file(item.case, None, None, None, str(_("Filed automatically for auto-dispatch.")), auto=True,
                              new=True, ref=ref)


# --- one batch ----------------------------------------------------------------------------------------


class _Timer:
    """Seconds spent per stage, summed over batches (for ``make bench``); a no-op without a dict."""

    def __init__(self, into: dict | None):
        self.into = into
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.into is not None:
            self.into[stage] = self.into.get(stage, 0.0) + now - self.last
        self.last = now


def prepare(fmt: str, rows: list[tuple[int, dict]], ref: Reference, now: datetime,
            stages: Iterable[str] = STAGES, timings: dict | None = None) -> tuple[list[Item], list[RowProblem]]:
    """The stages that only read (reference data, the locator, the classifier) — validate, locate,
    classify, build, route — so they may run in another process while the previous batch is
    stored. Returns every row that validated as an item (one that could not be placed carries its
    problems and no case: whether they are reported depends on the rows already imported, which
    ``store`` checks) and the problems of the rows that did not validate."""
    timer = _Timer(timings)
    with cached_lookups():
        items, problems = validate(fmt, rows)
        timer.lap("validate")
        placed, misplaced = locate(items, ref)
        by_row = {item.row: item for item in items}
        for problem in misplaced:
            by_row[problem.row].problems.append(problem)
        timer.lap("locate")
        if "classify" in stages:
            classify(placed, ref)
            timer.lap("classify")
        build_cases(placed, ref, now)
        timer.lap("build (centre, deadline)")
        route(placed, ref)
        timer.lap("route")
    return items, problems


def store(items: list[Item], result: BatchResult, *, seen: dict | None, ref: Reference, dry_run: bool,
          stages: Iterable[str] = STAGES, timings: dict | None = None) -> BatchResult:
    """The stages that read and write the cases, in one transaction (rolled back for a dry run):
    leave out rows already imported, report the rows that could not be placed, look for
    duplicates, number and insert the cases, write their timelines."""
    timer = _Timer(timings)
    now = timezone.now()
    with transaction.atomic():
        items, result.skipped, problems = drop_known(items, seen)
        result.problems += problems
        for item in items:
            result.problems += item.problems
        items = [item for item in items if not item.problems]
        timer.lap("skip known")
        if "deduplicate" in stages:
            deduplicate(items)
            timer.lap("deduplicate")
        persist(items)
        timer.lap("persist")
        timeline(items, now, ref)
        timer.lap("timeline")
        result.imported = len(items)
        result.cases = [i.case for i in items]
        if dry_run:
            transaction.set_rollback(True)
    timer.lap("commit")
    result.problems.sort(key=lambda p: p.row)
    return result


def import_batch(fmt: str, rows: list[tuple[int, dict]], *, seen: dict | None = None, ref: Reference | None = None,
                 dry_run: bool = False, stages: Iterable[str] | None = None, timings: dict | None = None) -> BatchResult:
    """The whole pipeline for one batch of rows in this process: ``prepare``, then ``store`` in
    one transaction (rolled back for a dry run). ``stages`` limits the optional stages
    (``classify``, ``deduplicate``) for tests and the bench."""
    ref = ref or Reference()
    stages = set(STAGES if stages is None else stages)
    items, problems = prepare(fmt, rows, ref, timezone.now(), stages, timings)
    result = BatchResult(last_row=rows[-1][0] if rows else 0, problems=problems)
    return store(items, result, seen=seen, ref=ref, dry_run=dry_run, stages=stages, timings=timings)


# --- preparing in a second process ------------------------------------------------------------------
# The read-only stages of batch n+1 run in a forked worker process while this process stores batch
# n: on two cores the import's Python work is shared out. The worker returns plain values (its
# cases as tuples of their column values), which pickle far faster than model instances.

_CASE_ATTNAMES: list[str] = []
_worker: dict = {}


def _case_attnames() -> list[str]:
    if not _CASE_ATTNAMES:
        from civicgrid.cases.models import Case

        _CASE_ATTNAMES.extend(f.attname for f in Case._meta.concrete_fields)
    return _CASE_ATTNAMES


def _start_worker() -> None:
    """In the forked worker: its own database connection. The connections inherited from the
    parent share the parent's sockets: they are set aside, never used or closed here (closing
    would end the parent's session), and the worker exits without finalising them. What the
    parent loaded before the fork — its reference (``_worker["ref"]``), the classifier, the
    tokenizer's dictionary, the locator's index — the worker has without loading it again."""
    import signal

    from django.db import connections

    # Ctrl-C reaches the whole process group: the parent stops the import and then this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    inherited = []
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            inherited.append(conn.connection)
            conn.connection = None
    _worker["inherited"] = inherited


def _prepare_in_worker(fmt: str, rows: list, stages: tuple) -> tuple[list, list, dict]:
    from civicgrid.cases.models import Case

    timings: dict = {}
    items, problems = prepare(fmt, rows, _worker["ref"], timezone.now(), stages, timings)
    started = time.perf_counter()
    # The case rows only: the events and proposals are left to the storing process, which has
    # time to spare while the worker prepares (measured: moving them too made the worker the
    # slower of the two).
    placed = [i for i in items if i.case is not None]
    for item, row in zip(placed, build_rows(Case, [i.case for i in placed]), strict=True):
        item.built["case"] = row
    timings["persist (case rows built ahead)"] = time.perf_counter() - started
    names = _case_attnames()
    packed = [(
        i.row, i.report.channel, i.report.external_id, i.report.extra, i.problems,
        None if i.case is None else tuple(getattr(i.case, n) for n in names), i.built, i.prediction,
        i.classified_category,
    ) for i in items]
    return packed, problems, timings


def _unpack(packed: list, ref: Reference) -> list[Item]:
    """Items with their cases (unsaved model instances, as ``build_cases`` leaves them) from what
    the worker sent."""
    from django.db.models.base import ModelState

    from civicgrid.cases.models import Case

    names = _case_attnames()
    items = []
    for row, channel, external_id, extra, problems, values, built, prediction, classified in packed:
        case = None
        if values is not None:
            case = Case.__new__(Case)
            case._state = ModelState()
            case.__dict__.update(zip(names, values, strict=True))
            if case.category_id is not None:
                case._state.fields_cache["category"] = ref.category(case.category_id)
                ref.stage_limits(case)
            channel, title = case.channel, case.title
        else:
            title = ""
        report = NormalizedReport(channel=channel, title=title, external_id=external_id, extra=extra)
        items.append(Item(row, report, case=case, prediction=prediction, classified_category=classified,
                          problems=problems, built=built))
    return items


def _parallel(batches_expected: int) -> bool:
    """Whether a worker process prepares batches: on PostgreSQL (COPY rows are built ahead; the worker needs its own
    connection to the same data: not an in-memory database, not inside a caller's transaction,
    whose rows it could not see), with more than one core and more than one batch to do."""
    return (getattr(settings, "CIVICGRID_IMPORT_WORKER", True) and connection.vendor == "postgresql"
            and not connection.in_atomic_block and (os.cpu_count() or 1) > 1 and batches_expected > 1)


# --- files: checkpoint, error report, progress ------------------------------------------------------


def checkpoint_path(path: Path) -> Path:
    return path.with_name(path.name + ".import-state.json")


def errors_path(path: Path) -> Path:
    return path.with_name(path.name + ".errors.csv")


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json_atomically(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


ERROR_HEADER = ("row", "field", "code", "problem")


class ErrorReport:
    """``FILE.errors.csv``: one line per problem. On resume the lines of rows after the checkpoint
    (written for a batch that did not commit) are dropped before new ones are appended."""

    def __init__(self, path: Path, keep_through_row: int | None):
        self.path = path
        kept = []
        if keep_through_row is not None and path.exists():
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                next(reader, None)
                kept = [line for line in reader if line and line[0].isdigit() and int(line[0]) <= keep_through_row]
        self.count = len(kept)
        self.handle = path.open("w", encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(ERROR_HEADER)
        self.writer.writerows(kept)
        self.flush()

    def add(self, problems: list[RowProblem]) -> None:
        self.writer.writerows((p.row, p.field, p.code, p.message) for p in problems)
        self.count += len(problems)
        self.flush()

    def flush(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def close(self) -> None:
        self.handle.close()


class Progress:
    """A one-line progress bar on a stream (stderr): rows done of the total, rate and ETA. On a
    terminal the line is redrawn in place; otherwise a plain line is printed every few seconds."""

    def __init__(self, total: int, stream=None, width: int = 28, interval: float = 2.0, start: int = 0):
        self.total, self.stream, self.width = total, stream or sys.stderr, width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.1 if self.tty else interval
        self.started = time.monotonic()
        self.last_shown = 0.0
        self.start_done = start  # rows already done before this run (a resume): not in the rate

    def line(self, done: int, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = (done - self.start_done) / elapsed
        share = done / self.total if self.total else 1.0
        filled = int(self.width * min(share, 1.0))
        bar = "#" * filled + "-" * (self.width - filled)
        left = (self.total - done) / rate if rate > 0 else None
        eta = _clock(left) if left is not None else "--:--"
        return f"[{bar}] {done:,}/{self.total:,} rows {share:6.1%} {rate:,.0f} rows/s ETA {eta}"

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        text = self.line(done, now)
        if not force and now - self.last_shown < self.interval:
            return
        self.last_shown = now
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, done: int) -> None:
        self.update(done, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def count_rows(path: Path) -> int:
    """Data rows of a file (for the progress bar): lines after the header of a CSV, rows of a
    sheet; an estimate when CSV fields hold line breaks."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return sum(1 for _ in bulk_formats.read_rows(path))
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 1))
        ends_with_newline = handle.read(1) == b"\n"
    return max(0, lines + (0 if ends_with_newline else 1) - 1)


@dataclass
class Summary:
    imported: int = 0
    skipped: int = 0
    failed_rows: int = 0
    problems: int = 0
    resumed_after_row: int | None = None
    batches: int = 0
    seconds: float = 0.0
    errors_file: Path | None = None


def _batches(rows: Iterator[tuple[int, dict]], size: int) -> Iterator[list[tuple[int, dict]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_import(path, fmt: str, *, batch_size: int = DEFAULT_BATCH_SIZE, dry_run: bool = False,
               progress_stream=None, show_progress: bool = True, timings: dict | None = None,
               stages: Iterable[str] | None = None, batch_seconds: list | None = None) -> Summary:
    """Import a whole file batch by batch; resumes after the last committed batch of an earlier
    run of the same file (same content and format). A dry run validates and rolls every batch
    back, and leaves no checkpoint. ``batch_seconds`` (for ``make bench``) receives each batch's
    wall time."""
    if fmt not in bulk_formats.PARSERS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(bulk_formats.FORMATS)}")
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    path = Path(path)
    started = time.monotonic()
    fingerprint = file_fingerprint(path)
    state_file = checkpoint_path(path)
    state = _load_checkpoint(state_file, fingerprint, fmt) if not dry_run else None
    resume_after = state["committed_through_row"] if state else 0
    summary = Summary(resumed_after_row=resume_after if state else None, errors_file=errors_path(path))
    if state:
        summary.imported, summary.skipped = state["imported"], state["skipped"]
    report = ErrorReport(summary.errors_file, keep_through_row=resume_after if state else None)
    summary.problems = report.count
    total = count_rows(path)
    bar = Progress(total, progress_stream, start=max(0, resume_after - 1)) if show_progress else None
    passed = [0]  # rows at or before the resume point

    def after_resume_point():
        for row in bulk_formats.read_rows(path):
            if row[0] <= resume_after:
                passed[0] += 1
            else:
                yield row

    seen: dict = {}
    ref = Reference()
    stage_set = set(STAGES if stages is None else stages)
    run = functools.partial(_run_batch, fmt, seen=seen, ref=ref, dry_run=dry_run, report=report, summary=summary,
                            state_file=state_file, fingerprint=fingerprint, timings=timings, stages=stage_set,
                            batch_seconds=batch_seconds)
    try:
        batches = _batches(after_resume_point(), batch_size)
        done = 0
        if _parallel(math.ceil(max(0, total - resume_after) / batch_size)):
            done = _run_prepared_elsewhere(batches, fmt, run, stage_set, ref, timings, bar, passed)
        else:
            for rows in batches:
                done += run(rows)
                if bar:
                    bar.update(done + passed[0])
        if bar:
            bar.finish(done + passed[0])
    finally:
        report.close()
    if not dry_run:
        _write_json_atomically(state_file, _state(fingerprint, fmt, summary, last_row=None, complete=True))
    summary.seconds = time.monotonic() - started
    return summary


def _run_batch(fmt, rows, *, seen, ref, dry_run, report, summary, state_file, fingerprint, timings, stages,
               batch_seconds=None, prepared=None, started=None) -> int:
    """Store one batch (``prepared`` by the worker, else prepared here), then record its outcome:
    error report, summary, checkpoint."""
    started = time.perf_counter() if started is None else started
    try:
        if prepared is not None:
            result = store(prepared[0], BatchResult(last_row=rows[-1][0], problems=prepared[1]), seen=seen, ref=ref,
                           dry_run=dry_run, stages=stages, timings=timings)
        else:
            result = import_batch(fmt, rows, seen=seen, ref=ref, dry_run=dry_run, timings=timings, stages=stages)
    except IntegrityError:
        # Another intake made one of these (channel, external id) meanwhile: the batch was rolled
        # back whole; once more, now skipping it.
        numbers = {row for row, _record in rows}
        for key in [k for k, row in seen.items() if row in numbers]:
            del seen[key]
        result = import_batch(fmt, rows, seen=seen, ref=ref, dry_run=dry_run, timings=timings, stages=stages)
    report.add(result.problems)
    summary.imported += result.imported
    summary.skipped += result.skipped
    summary.problems += len(result.problems)
    summary.failed_rows += result.failed_rows
    summary.batches += 1
    if not dry_run:
        _write_json_atomically(state_file, _state(fingerprint, fmt, summary, last_row=result.last_row))
    if batch_seconds is not None:
        batch_seconds.append(time.perf_counter() - started)
    return len(rows)


# Batches handed to the worker ahead of the one being stored.
PREFETCH = 2


def _run_prepared_elsewhere(batches, fmt, run, stages, ref, timings, bar, passed) -> int:
    """Store the batches in order while a forked worker process prepares the next ones (at most
    ``PREFETCH`` ahead). Returns the rows done."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    first = next(batches, None)
    if first is None:
        return 0
    # The first batch is prepared here, loading the classifier, the locator and the reference
    # data once; the worker, forked after it, starts with them.
    started = time.perf_counter()
    prepared = prepare(fmt, first, ref, timezone.now(), stages, timings)
    _worker["ref"] = ref
    done = 0
    waiting: deque = deque()
    # A worker that dies fails its batch's future (BrokenProcessPool) instead of leaving it unanswered.
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker)
    try:
        for rows in itertools.islice(batches, PREFETCH):
            waiting.append((rows, pool.submit(_prepare_in_worker, fmt, rows, tuple(sorted(stages)))))
        done += run(first, prepared=prepared, started=started)
        if bar:
            bar.update(done + passed[0])
        for rows in batches:
            waiting.append((rows, pool.submit(_prepare_in_worker, fmt, rows, tuple(sorted(stages)))))
            if len(waiting) > PREFETCH:
                done += _store_next(waiting, run, ref, timings)
                if bar:
                    bar.update(done + passed[0])
        while waiting:
            done += _store_next(waiting, run, ref, timings)
            if bar:
                bar.update(done + passed[0])
    finally:
        # Stopped (an error, Ctrl-C): the batches prepared ahead are dropped with the worker.
        pool.shutdown(wait=True, cancel_futures=True)
        _worker.pop("ref", None)
    return done


def _store_next(waiting, run, ref, timings) -> int:
    started = time.perf_counter()
    rows, future = waiting.popleft()
    packed, problems, worker_timings = future.result()
    if timings is not None:
        for stage, seconds in worker_timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
    return run(rows, prepared=(_unpack(packed, ref), problems), started=started)


def _state(fingerprint: str, fmt: str, summary: Summary, last_row: int | None, complete: bool = False) -> dict:
    return {
        "version": CHECKPOINT_VERSION, "file_sha256": fingerprint, "format": fmt,
        "committed_through_row": last_row, "complete": complete, "imported": summary.imported,
        "skipped": summary.skipped, "updated_at": timezone.now().isoformat(),
    }


def _load_checkpoint(path: Path, fingerprint: str, fmt: str) -> dict | None:
    """The checkpoint of an unfinished earlier run of this very file and format, else None."""
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (state.get("version") != CHECKPOINT_VERSION or state.get("file_sha256") != fingerprint
            or state.get("format") != fmt or state.get("complete") or not state.get("committed_through_row")):
        return None
    return state
