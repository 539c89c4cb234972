"""Group commit (成批提交) of the reports that reach one process at the same moment.

A web process answers many reports at once (12345 platforms, sensors and the 数字城管 exchange
push them in bursts). Each report is checked and built by its own request thread
(``actions.prepare_report``: refusals are answered there, at once); the writing is handed to this
process's committer, which stores every report waiting at that moment in **one transaction**
through the set-wise engine (``civicgrid.cases.reporting.store``) — numbering, duplicate search,
merges, auto-dispatch, timelines — together with each request's ``Idempotency-Key`` record and
stored answer, and then wakes each request with its own answer. A batch costs about the
statements and the commit of one report, so the database work per report falls with the load,
and the district's case-number counter is taken once per batch rather than once per report.

On PostgreSQL the committer takes a batch's case numbers in a short transaction of its own (on
a second connection), so a district's counter is never held while a batch is written and the web
processes' committers never queue for it; a batch that fails after taking its numbers leaves them
unused (a gap in the day's sequence), and its reports get new ones when stored again.

Each report keeps the guarantees it has alone: its key is claimed in the batch's transaction (a
retry of a key still being written waits for it, then gets the first answer; the same key twice
in one batch answers the second with 409 ``idempotency_in_progress``); its answer is stored with
its case. When a batch fails — a report refused by a rule while being stored, or the database
refusing one (the same external id written by another process at the same moment) — nothing of
it is kept, and each of its reports is stored again on its own, so one bad report fails alone.

Nothing waits for company: a report that arrives while the committer is idle is written at once,
as a batch of one. A caller already inside a transaction (tests, ``ATOMIC_REQUESTS``) is served
inline, in its own transaction, as is everyone when ``CIVICGRID_INTAKE_GROUP_COMMIT`` is off.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections, transaction
from django.utils import translation

from civicgrid.core import sql
from civicgrid.core.threads import PerProcess

logger = logging.getLogger(__name__)

# The most reports one transaction stores (a burst larger than this is split).
MAX_BATCH = 64
# Batches and reports this process's committer stored (for the bench and the curious).
STATS = {"batches": 0, "reports": 0}
# How long a request waits for its batch before giving up (the batch may still commit: a retry
# with the same Idempotency-Key then gets its answer).
WAIT_SECONDS = 60.0


@dataclass(eq=False)
class Job:
    """One report handed to the committer by its request thread."""

    prepare: Callable  # () -> reporting.Report: builds the report (again, after a failed batch)
    report: object  # the report built by the request thread
    answer: Callable  # (report) -> the request's answer (a DRF Response), inside the transaction
    claim: tuple | None = None  # (scope, key, request hash) of the request's Idempotency-Key
    language: str = ""
    future: Future = field(default_factory=Future)


def enabled() -> bool:
    return bool(getattr(settings, "CIVICGRID_INTAKE_GROUP_COMMIT", True))


def submit(job: Job):
    """Store ``job``'s report and return its answer (or raise what refused it). Through this
    process's committer, or inline when the caller holds a transaction or group commit is off."""
    if not enabled() or connection.in_atomic_block:
        _commit_alone(job)
    else:
        _committer().put(job)
    return job.future.result(timeout=WAIT_SECONDS)


# --- the committer ----------------------------------------------------------------------------


class _Committer:
    def __init__(self):
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="civicgrid-group-commit", daemon=True)
        self.thread.start()

    def put(self, job: Job) -> None:
        self.jobs.put(job)

    def _run(self) -> None:
        self.numbering = None
        try:
            while self._one_batch():
                pass
        finally:
            connection.close()
            if self.numbering is not None:
                self.numbering.close()

    def _numbers(self, counts: dict) -> dict:
        """Case numbers taken in their own transaction, on this thread's second connection."""
        from civicgrid.cases.actions import advance_counters

        if self.numbering is None:
            self.numbering = connections.create_connection(DEFAULT_DB_ALIAS)
        self.numbering.close_if_unusable_or_obsolete()
        return advance_counters(counts, using=self.numbering)

    def _one_batch(self) -> bool:
        first = self.jobs.get()
        if first is None:  # stop()
            return False
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self.jobs.put(None)  # stop after this batch
                break
            batch.append(job)
        self._commit(batch)
        return True

    def _commit(self, batch: list[Job]) -> None:
        STATS["batches"] += 1
        STATS["reports"] += len(batch)
        # This thread's connection, as a request's: closed when broken or past its age.
        close_old_connections()
        if sql.postgres():
            sql.configure(connection)  # before the batch's transaction opens
        try:
            commit(batch, self._numbers if connection.vendor == "postgresql" else None)
        except Exception as exc:  # never leave a request waiting
            logger.exception("group commit failed")
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)


def stop() -> None:
    """Stop this process's committer (after the reports it holds) and close its connection; the
    next report starts a new one. For tests and orderly shutdowns."""
    current = _committers.take()
    if current is not None and current.thread.is_alive():
        current.jobs.put(None)
        current.thread.join(WAIT_SECONDS)


# A forked child (a web worker) starts its own; so does a process whose thread died.
_committers = PerProcess(lambda: _Committer())


def _committer() -> _Committer:
    return _committers.get()


# --- one batch ------------------------------------------------------------------------------------


def commit(jobs: list[Job], numbers=None) -> None:
    """Store ``jobs`` in one transaction and settle each one's future; when the batch fails, store
    each job on its own. ``numbers``: how case numbers are taken (``reporting.store``)."""
    if len(jobs) == 1:
        _commit_alone(jobs[0], numbers=numbers)
        return
    try:
        with transaction.atomic():
            answers = _store(jobs, numbers)
    except Exception:
        logger.info("a batch of %d reports failed; storing them one by one", len(jobs), exc_info=True)
        for job in jobs:
            _commit_alone(job, rebuild=True, numbers=numbers)
        return
    for job, outcome in zip(jobs, answers, strict=True):
        _settle(job, outcome)


def _commit_alone(job: Job, rebuild: bool = False, numbers=None) -> None:
    try:
        if rebuild:
            job.report = job.prepare()
        with transaction.atomic():
            outcome = _store([job], numbers)[0]
    except Exception as exc:
        job.future.set_exception(exc)
        return
    _settle(job, outcome)


def _settle(job: Job, outcome) -> None:
    if isinstance(outcome, BaseException):
        job.future.set_exception(outcome)
    else:
        job.future.set_result(outcome)


def _store(jobs: list[Job], numbers=None) -> list:
    """Inside the batch's transaction: claim the keys, store the reports, answer each request and
    keep the answers of those with a key. Returns each job's answer (or the exception that refused
    its key)."""
    from civicgrid.cases import reporting
    from civicgrid.core import idempotency

    outcomes: list = [None] * len(jobs)
    records: dict[int, object] = {}
    keyed = [i for i, job in enumerate(jobs) if job.claim is not None]
    for i, record in zip(keyed, idempotency.claim_many([jobs[i].claim for i in keyed]), strict=True):
        if record is not None:
            records[i] = record
            continue
        # The key is taken: a retry of a finished request gets the first answer; a key in use, or
        # used with another body, is refused for this report alone.
        try:
            claimed = idempotency.claim(*jobs[i].claim)
        except Exception as exc:
            outcomes[i] = exc
            continue
        if idempotency.is_answer(claimed):
            outcomes[i] = claimed
        else:
            records[i] = claimed  # taken over from a request that died
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]
    # Reports built from different generations of the reference data are stored by their own.
    by_ref: dict[int, list] = {}
    for i in todo:
        by_ref.setdefault(id(jobs[i].report.ref), []).append(jobs[i].report)
    for reports in by_ref.values():
        reporting.store(reports, reports[0].ref, numbers=numbers)
    kept = []
    for i in todo:
        job = jobs[i]
        try:
            with translation.override(job.language or settings.LANGUAGE_CODE):
                outcomes[i] = job.answer(job.report)
        except Exception as exc:
            if job.report.existing is None:
                raise  # a case written without its answer must not commit: the batch fails
            outcomes[i] = exc  # a retry answered with a refusal: nothing of it was written
            if i in records:
                idempotency.release(records[i])
            continue
        if i in records:
            kept.append((records[i], outcomes[i]))
    idempotency.keep_many(kept)
    return outcomes
