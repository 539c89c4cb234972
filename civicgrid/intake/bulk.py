"""Bulk import of cases from files (``import_cases``): validate, locate, classify, de-duplicate,
route, persist, timeline — each a function over one batch, so each can be tested on its own.

A batch is one transaction: either every good row of it becomes a case (with its REPORT event,
routing suggestion, owner centre, stage deadline and case number) or none does. Rows become cases
through the same set-wise engine as single reports (``civicgrid.cases.reporting``): the same
fields, numbers, events, duplicate merging and auto-dispatch (智能派单) — written with ``COPY`` on
PostgreSQL (ids reserved from the sequences first), ``bulk_create``-like inserts elsewhere. Case
numbers are reserved as a block per district and day with one locked counter update.

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
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.reference import Reference
from civicgrid.cases.reporting import Report
from civicgrid.core import rows, sql
from civicgrid.core.rows import build_rows
from civicgrid.core.timing import StageTimer
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


@dataclass(eq=False)
class Item(Report):
    """One good row on its way through the stages: a report of ``civicgrid.cases.reporting``
    with its row and what the file said."""

    row: int = 0
    report: NormalizedReport | None = None  # the row, as its format's parser read it
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
            items.append(Item(row=row, report=bulk_formats.parse_row(fmt, record)))
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
            # One array parameter on PostgreSQL; the partial unique index answers.
            among, params = sql.any_of("external_id", ids[start:start + 5000])
            with sql.cursor() as cursor:
                cursor.execute(f"SELECT external_id FROM {connection.ops.quote_name(Case._meta.db_table)} "
                               f"WHERE channel = %s AND external_id <> '' AND {among}", [channel, *params])
                existing.update((channel, r[0]) for r in cursor.fetchall())
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


# --- stages 3–5: build, classify, route -------------------------------------------------------


def build_cases(items: list[Item], ref: Reference, now: datetime) -> None:
    """The case of every item, as ``report_case`` builds it (``reporting.new_case``): state
    reported, the owner centre of its place, the filing deadline of its category and urgency
    (numbers come when stored)."""
    from civicgrid.cases.reporting import new_case

    for item in items:
        r = item.report
        item.case = new_case(
            ref, now, region_code=r.region_code, category=ref.category(r.category_id) if r.category_id else None,
            reported_at=r.reported_at, channel=r.channel, external_id=r.external_id, request_type=r.request_type,
            urgency=r.urgency, title=r.title, description=r.description, lon=r.lon, lat=r.lat, address=r.address,
            reporter_name=r.reporter_name, reporter_phone=r.reporter_phone,
        )


def classify(items: list[Item], ref: Reference, now: datetime) -> None:
    """智能分拨 for the rows without a category, all at once, as for single reports
    (``reporting.classify``; off with ``CIVICGRID_CLASSIFY_AT_INTAKE``)."""
    from civicgrid.cases.reporting import classify as classify_reports

    classify_reports(items, ref, now)


def route(items: list[Item], ref: Reference) -> None:
    """The responsibility matrix's suggestion (智能派单) for every categorised case, one dict shared
    by the cases with the same answer (``reporting.route``)."""
    from civicgrid.cases.reporting import route as route_reports

    route_reports(items, ref, shared=True)


# --- stages 6–7: persist and timeline --------------------------------------------------------------


def persist(items: list[Item], ref: Reference, *, deduplicate: bool = True, timings: dict | None = None) -> None:
    """De-duplicate, number, merge and auto-dispatch, then write the cases and their timelines
    (``reporting.store``, with COPY; the case rows the worker built ahead are used where the case
    did not change since), and the external records of rows that carry source details."""
    from civicgrid.cases.reporting import store
    from civicgrid.intake.models import ExternalRecord

    store(items, ref, copy=True, known_checked=True, deduplicate=deduplicate, timings=timings)
    now = timezone.now()
    rows.insert(ExternalRecord, [
        ExternalRecord(channel=i.case.channel, external_id=i.case.external_id, case_id=i.case.pk,
                       client=None, extra=i.report.extra, received_at=now)
        for i in items if i.report.extra
    ], copy=True)


# --- one batch ----------------------------------------------------------------------------------------


def prepare(fmt: str, rows: list[tuple[int, dict]], ref: Reference, now: datetime,
            stages: Iterable[str] = STAGES, timings: dict | None = None) -> tuple[list[Item], list[RowProblem]]:
    """The stages that only read (reference data, the locator, the classifier) — validate, locate,
    build, classify, route — so they may run in another process while the previous batch is
    stored. Returns every row that validated as an item (one that could not be placed carries its
    problems and no case: whether they are reported depends on the rows already imported, which
    ``store`` checks) and the problems of the rows that did not validate."""
    timer = StageTimer(timings)
    with cached_lookups():
        items, problems = validate(fmt, rows)
        timer.lap("validate")
        placed, misplaced = locate(items, ref)
        by_row = {item.row: item for item in items}
        for problem in misplaced:
            by_row[problem.row].problems.append(problem)
        timer.lap("locate")
        build_cases(placed, ref, now)
        timer.lap("build (centre, deadline)")
        if "classify" in stages:
            classify(placed, ref, now)
            timer.lap("classify")
        route(placed, ref)
        timer.lap("route")
    return items, problems


def store(items: list[Item], result: BatchResult, *, seen: dict | None, ref: Reference, dry_run: bool,
          stages: Iterable[str] = STAGES, timings: dict | None = None) -> BatchResult:
    """The stages that read and write the cases, in one transaction (rolled back for a dry run):
    leave out rows already imported, report the rows that could not be placed, look for
    duplicates, number and insert the cases, write their timelines."""
    timer = StageTimer(timings)
    with transaction.atomic():
        items, result.skipped, problems = drop_known(items, seen)
        result.problems += problems
        for item in items:
            result.problems += item.problems
        items = [item for item in items if not item.problems]
        timer.lap("skip known")
        persist(items, ref, deduplicate="deduplicate" in stages, timings=timings)
        timer.restart()  # persist timed its own steps
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
    ) for i in items]
    return packed, problems, timings


def _unpack(packed: list, ref: Reference) -> list[Item]:
    """Items with their cases (unsaved, as ``build_cases`` leaves them) from what the worker sent."""
    from django.db.models.base import ModelState

    from civicgrid.cases.actions import MadeByReport
    from civicgrid.cases.models import Case

    names = _case_attnames()
    items = []
    for row, channel, external_id, extra, problems, values, built, prediction in packed:
        case = None
        if values is not None:
            case = Case.__new__(Case)
            case._state = ModelState()
            case.__dict__.update(zip(names, values, strict=True))
            case.made_by_report = MadeByReport(pending=True)
            if case.category_id is not None:
                case._state.fields_cache["category"] = ref.category(case.category_id)
                ref.stage_limits(case)
            channel, title = case.channel, case.title
        else:
            title = ""
        report = NormalizedReport(channel=channel, title=title, external_id=external_id, extra=extra)
        items.append(Item(row=row, report=report, case=case, prediction=prediction, problems=problems,
                          built=built, ref=ref))
    return items


def _parallel(batches_expected: int) -> bool:
    """Whether worker processes prepare batches: on PostgreSQL (COPY rows are built ahead; the worker needs its own
    connection to the same data: not an in-memory database, not inside a caller's transaction,
    whose rows it could not see), with more than one core and more than one batch to do."""
    return (_workers() > 0 and connection.vendor == "postgresql"
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
    statistics = None if dry_run else PlannerStatistics()
    run = functools.partial(_run_batch, fmt, seen=seen, ref=ref, dry_run=dry_run, report=report, summary=summary,
                            statistics=statistics,
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
               batch_seconds=None, prepared=None, started=None, statistics=None) -> int:
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
    if statistics is not None:
        statistics.grew(result.imported, timings)
    if batch_seconds is not None:
        batch_seconds.append(time.perf_counter() - started)
    return len(rows)


class PlannerStatistics:
    """Keeps PostgreSQL's statistics of the case table current while an import grows it, as
    autovacuum does (``ANALYZE`` once a tenth of its size was added), whether or not
    autovacuum runs: planning against the statistics of a table a fraction of its size, the
    look-ups by external id read the whole table (measured on a server without autovacuum: a
    million-row import spent 122 s on them; 17 s with the statistics kept current)."""

    SHARE = 0.1
    MIN_ROWS = 50_000

    def __init__(self):
        from civicgrid.cases.models import Case

        # The case table only: the look-ups that go astray read it (events are written, not read).
        self.tables = [Case._meta.db_table]
        self.size = 0
        self.added = 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass",
                               [self.tables[0]])
                row = cursor.fetchone()
                self.size = row[0] if row else 0

    def grew(self, rows: int, timings: dict | None = None) -> None:
        if connection.vendor != "postgresql":
            return
        self.added += rows
        if self.added < max(self.MIN_ROWS, self.SHARE * self.size):
            return
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(t) for t in self.tables)}")
        self.size += self.added
        self.added = 0
        if timings is not None:
            timings["analyze"] = timings.get("analyze", 0.0) + time.perf_counter() - started


def _workers() -> int:
    """Worker processes preparing batches (``CIVICGRID_IMPORT_WORKERS``; 0: none)."""
    return max(0, int(getattr(settings, "CIVICGRID_IMPORT_WORKERS", 2)))


def _run_prepared_elsewhere(batches, fmt, run, stages, ref, timings, bar, passed) -> int:
    """Store the batches in order while forked worker processes prepare the next ones (one more
    than there are workers ahead, so none waits for work). Returns the rows done."""
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
    # Two workers by default: the storing process waits for PostgreSQL (COPY, index upkeep) much of
    # the time, and one worker alone left a core idle (2 workers: 3,300 cases/s, 1: 2,800).
    workers = _workers()
    prefetch = workers + 1
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker)
    try:
        for rows in itertools.islice(batches, prefetch):
            waiting.append((rows, pool.submit(_prepare_in_worker, fmt, rows, tuple(sorted(stages)))))
        done += run(first, prepared=prepared, started=started)
        if bar:
            bar.update(done + passed[0])
        for rows in batches:
            waiting.append((rows, pool.submit(_prepare_in_worker, fmt, rows, tuple(sorted(stages)))))
            if len(waiting) > prefetch:
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
