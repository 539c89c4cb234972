"""上报, set-wise: reports become cases a batch at a time. A single report (``report_case``) is a
batch of one; the bulk importer's batches hold thousands; both take this one path, so a case is
the same however it came in.

- ``new_case`` (no writes): the unsaved case of a report — in state reported, with the owner
  centre of its place and the filing clock of its category and urgency.
- ``classify`` (no writes): 智能分拨 for the reports without a category: the classifier's best
  three are kept for the dispatcher, and the best becomes the category when it is sure enough.
- ``route`` (no writes): the responsibility matrix's suggestion (智能派单) for each case.
- ``store`` (in the caller's transaction): a report this channel made before (same external id,
  a retry) is found instead of made again; duplicates among the open cases and the batch's
  earlier reports are found under the area locks; numbers are taken; a clear duplicate is merged
  into its original and a clear matrix answer is filed and dispatched, each by the case actions
  themselves (``merge_case``'s and ``dispatch_case``'s own steps), on cases not yet written, which
  hold those steps' events and tasks (``MadeByReport.pending``); then everything is written
  set-wise: cases, tasks, events, the classifier's proposals, the duplicate candidates.

Side effects (notices, department webhooks) are scheduled on commit by the actions, as for any
other step. Statements per batch do not grow with its size (but for the rare merge into a case of
the same batch, one update each).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import actions, deadlines, reference
from civicgrid.cases.actions import MadeByReport, PendingPk
from civicgrid.cases.models import Assignment, Case, CaseEvent
from civicgrid.cases.workflow import OPEN_STATES, Action, State
from civicgrid.core import rows, sql
from civicgrid.core.timing import StageTimer

# Cells of the advisory locks that serialise duplicate checks of nearby reports (PostgreSQL).
LOCK_CELL_DEG = 0.01  # ≈ 1 km; a report locks the cells its search box touches


@dataclass(eq=False)
class Report:
    """One report on its way to becoming a case."""

    case: Case | None = None  # built by ``new_case``; written by ``store``
    actor: object = None  # the member of staff reporting, or None for a channel
    prediction: tuple | None = None  # (model version, best three, threshold, applied)
    candidates: list = field(default_factory=list)  # duplicate candidates reaching the suggest score
    existing: Case | None = None  # the case this channel already made of the external id (a retry)
    merged: bool = False  # merged into an open case (or an earlier report of the batch)
    ref: reference.Reference | None = None  # the reference data it was built from

    @property
    def outcome(self) -> Case:
        """The case the report ended as: its own (perhaps merged), or the one found again."""
        return self.existing if self.existing is not None else self.case


# --- building (no writes) -------------------------------------------------------------------------


def new_case(ref: reference.Reference, now: datetime, *, region_code: str, category=None,
             reported_at: datetime | None = None, **values) -> Case:
    """The unsaved case of a report (state reported, owner centre of its place, the filing clock
    of its category and urgency). ``values`` are the case's other fields."""
    moment = reported_at or now
    if category is not None:
        category = ref.category(category.pk) or category
    case = rows.make(Case, region_code=region_code, category=category, owner_centre=ref.centre(region_code),
                     state=State.REPORTED, reported_at=moment, **values)
    case.made_by_report = MadeByReport(pending=True)
    start_filing_clock(case, ref, now)
    return case


def start_filing_clock(case: Case, ref: reference.Reference, now: datetime) -> None:
    """The stage clock of a reported case: filing, under its category's SLA rule (none without)."""
    if case.category_id is not None:
        ref.stage_limits(case)
    actions._set_stage(case, case.reported_at, deadlines.file_deadline(case, case.reported_at), now)


def classify(reports: list[Report], ref: reference.Reference, now: datetime) -> None:
    """智能分拨: each report without a category but with words gets the classifier's best three
    (kept for the dispatcher); the best becomes its category when at least
    ``CIVICGRID_CLASSIFIER_THRESHOLD`` sure and active, which restarts its filing clock. Off with
    ``CIVICGRID_CLASSIFY_AT_INTAKE``."""
    from civicgrid.triage import services, training
    from civicgrid.triage.actions import threshold

    if not getattr(settings, "CIVICGRID_CLASSIFY_AT_INTAKE", True):
        return
    todo = [(r, text) for r in reports if r.case.category_id is None
            and (text := training.case_text(r.case.title, r.case.description))]
    if not todo:
        return
    loaded = services.current()
    if loaded is None:
        return
    if len(todo) == 1:  # one report: the model's fast path for a single text
        ranked = [loaded.model.top_k_one(todo[0][1], 3)]
    else:
        ranked = services.classify_many([text for _report, text in todo], k=3)
    limit = threshold()
    for (report, _text), pairs in zip(todo, ranked, strict=True):
        top = [{"category": cid, "kind": info[0], "code": info[1], "name": info[2], "confidence": round(p, 4)}
               for cid, p, info in services.describe(loaded, pairs)]
        if not top:
            continue
        best = ref.category(top[0]["category"])
        applied = top[0]["confidence"] >= limit and best is not None and best.is_active
        report.prediction = (loaded.version, top, limit, applied)
        if applied:
            report.case.category = best
            start_filing_clock(report.case, ref, now)


def route(reports: list[Report], ref: reference.Reference, *, shared: bool = False) -> None:
    """The matrix's suggestion for each categorised case: its own copy, computed now, or (``shared``,
    the bulk importer) one read-only dict for the cases with the same answer."""
    for report in reports:
        case = report.case
        if case.category_id is not None:
            case.routing_suggestion = ref.routing.suggest(case) if shared else reference.suggestion(ref, case)


# --- storing (in the caller's transaction) ------------------------------------------------------


def store(reports: list[Report], ref: reference.Reference, *, copy: bool | None = None,
          known_checked: bool = False, deduplicate: bool = True, numbers=None, timings: dict | None = None) -> None:
    """Write the reports as cases, in the caller's transaction (see the module). ``copy``: write
    with COPY on PostgreSQL (default: by the batch's size). ``known_checked``: the caller already
    left out the reports whose (channel, external id) is a case. ``deduplicate``: look for
    duplicates (the bench and some tests leave it out). ``numbers``: how case numbers are taken
    ({(district, day): count} → {(district, day): last}); by default ``advance_counters`` in this
    transaction, which holds each district's counter until it ends. ``timings``: seconds per step
    are added to it (the bench)."""
    timer = StageTimer(timings)
    if not known_checked:
        _find_existing(reports)
    todo = [r for r in reports if r.existing is None]
    if not todo:
        return
    if deduplicate:
        _find_duplicates(todo)
        timer.lap("deduplicate")
    number(todo, numbers)
    timer.lap("number")
    locked = _lock_originals(todo)
    for report in todo:
        case = report.case
        actions._event(case, Action.REPORT, "", report.actor, channel=case.channel, external_id=case.external_id)
        # In order: an earlier report of the batch is merged or dispatched before a later one is
        # merged into it, as if they had come one after the other.
        if report.candidates:
            _merge_clear_duplicate(report, todo, locked)
        suggestion = case.routing_suggestion
        if not report.merged and suggestion and suggestion.get("auto"):
            # 智能派单: the matrix names exactly one department; no person needs to file it.
            actions._file(case, None, None, None, str(_("Filed automatically for auto-dispatch.")),
                          auto=True, new=True, ref=ref)
    timer.lap("timeline (report, merge, dispatch)")
    _write(todo, copy)
    timer.lap("persist (write)")


def _find_existing(reports: list[Report]) -> None:
    """Reports whose channel already made a case of their external id: that case, instead."""
    wanted: dict = {}
    for report in reports:
        if report.case.external_id:
            wanted.setdefault(report.case.channel, []).append(report)
    table = connection.ops.quote_name(Case._meta.db_table)
    for channel, of_channel in wanted.items():
        ids = sorted({r.case.external_id for r in of_channel})
        # The ids first (the partial unique index answers), whole cases only for those found.
        among, params = sql.any_of("external_id", ids)
        with sql.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE channel = %s AND external_id <> '' AND {among}",
                           [channel, *params])
            pks = [row[0] for row in cursor.fetchall()]
        if not pks:
            continue
        found = {c.external_id: c for c in Case.objects.filter(pk__in=pks)}
        for report in of_channel:
            report.existing = found.get(report.case.external_id)


def _lock_areas(reports: list[Report]) -> None:
    """On PostgreSQL, transaction-scoped advisory locks on the map cells the reports' search boxes
    touch (sorted, so two intakes cannot deadlock): two reports of the same incident arriving
    together are checked one after the other, and the second one sees the first (READ COMMITTED
    gives each statement a fresh snapshot). SQLite runs one write transaction at a time already."""
    from civicgrid.dedup import services

    if connection.vendor != "postgresql":
        return
    keys = set()
    for report in reports:
        case = report.case
        if case.lat is None or case.lon is None:
            keys.add(f"dedup:region:{case.region_code}")
            continue
        radius_m = services.search_radius_m(case.category_id)
        dlat = radius_m / services.EARTH_M_PER_DEG
        dlon = radius_m / (services.EARTH_M_PER_DEG * max(0.1, math.cos(math.radians(case.lat))))
        xs = range(math.floor((case.lon - dlon) / LOCK_CELL_DEG), math.floor((case.lon + dlon) / LOCK_CELL_DEG) + 1)
        ys = range(math.floor((case.lat - dlat) / LOCK_CELL_DEG), math.floor((case.lat + dlat) / LOCK_CELL_DEG) + 1)
        keys.update(f"dedup:cell:{x}:{y}" for x in xs for y in ys)
    ids = sorted({int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big", signed=True)
                  for k in keys})
    with sql.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) s",
                       [ids])


def _find_duplicates(reports: list[Report]) -> None:
    """Duplicate candidates of every report among the open cases and the batch's earlier reports,
    kept when they reach the suggest score."""
    from civicgrid.dedup.services import candidates_many, suggest_score

    _lock_areas(reports)
    found = candidates_many([{
        "text": f"{r.case.title} {r.case.description}", "category_id": r.case.category_id,
        "lon": r.case.lon, "lat": r.case.lat, "at": r.case.reported_at, "address": r.case.address,
        "region_code": r.case.region_code,
    } for r in reports], within_batch=len(reports) > 1)
    threshold = suggest_score()
    for report, candidates in zip(reports, found, strict=True):
        report.candidates = [c for c in candidates if c.score >= threshold]


def number(reports: list[Report], numbers=None) -> None:
    """Case numbers (district, local day of the report, sequence), reserved as one block per
    district and day (``advance_counters``, or ``numbers``), handed out in the reports' order."""
    groups: dict = {}
    for report in reports:
        case = report.case
        groups.setdefault((case.region_code[:6], timezone.localdate(case.reported_at)), []).append(case)
    lasts = (numbers or actions.advance_counters)({key: len(members) for key, members in groups.items()})
    for (district, day), members in groups.items():
        first = lasts[(district, day)] - len(members) + 1
        for offset, case in enumerate(members):
            case.number = f"{district}-{day:%Y%m%d}-{first + offset:05d}"


def _lock_originals(reports: list[Report]) -> dict:
    """The open cases that reports may be merged into (their best candidates), locked in pk order
    as ``merge_case`` locks them: {pk: case}."""
    from civicgrid.dedup.services import auto_merge_score

    limit = auto_merge_score()
    pks = sorted({r.candidates[0].case_id for r in reports
                  if r.candidates and r.candidates[0].case_id is not None and r.candidates[0].score >= limit})
    if not pks:
        return {}
    return {c.pk: c for c in Case.objects.select_for_update().filter(pk__in=pks).order_by("pk")}


def _merge_clear_duplicate(report: Report, batch: list[Report], locked: dict) -> None:
    """One incident, one case: a report whose best candidate is clear (``Candidate.mergeable``) is
    merged into it by the system; the candidates are kept with their decision for the
    dispatcher (merged / kept apart, or pending when nothing was merged)."""
    from civicgrid.dedup.actions import _note
    from civicgrid.dedup.models import Decision, DuplicateCandidate

    found, targets = [], []
    for c in report.candidates:
        if c.case_id is None:
            # An earlier report of the batch: its case, or the case that one was merged into.
            other = batch[c.batch_index].case
            target = other.parent if other.state == State.MERGED else other
            c = type(c)(target.pk, target.number, c.score, c.reasons, None)
        else:
            target = locked.get(c.case_id)
        if target is report.case or any(t is target and target is not None for t in targets) or (
                c.case_id is not None and any(f.case_id == c.case_id for f in found)):
            continue
        found.append(c)
        targets.append(target)
    if not found:
        report.candidates = []
        return
    top, original = found[0], targets[0]
    merged = top.mergeable and original is not None and original.state in OPEN_STATES
    if merged:
        top.number = original.number
        into = actions._check(report.case, Action.MERGE, report.case.state)
        actions._merge(report.case, original, into, None, _note(top))
        report.merged = True
    now = timezone.now()
    for c, target in zip(found, targets, strict=True):
        decision = Decision.MERGED if merged and c is top else Decision.KEPT_APART if merged else Decision.PENDING
        kept = rows.make(DuplicateCandidate, case=report.case, candidate_id=c.case_id, score=round(c.score, 4),
                         reasons=c.reasons, decision=decision, decided_at=now if merged else None)
        # A candidate of the same batch is named by its id once written.
        report.case.made_by_report.candidates.append((kept, target if c.case_id is None else None))
    report.candidates = found


def _write(reports: list[Report], copy: bool | None) -> None:
    """Write what the batch built, set-wise, in dependency order: cases, their tasks, the events
    (with the ids they name), the classifier's proposals and the duplicate candidates."""
    from civicgrid.triage.models import CasePrediction

    cases = [r.case for r in reports]
    built = [getattr(r, "built", {}).get("case") for r in reports]
    if copy and connection.vendor == "postgresql" and all(b is not None for b in built):
        _insert_built(reports, built)
    else:
        rows.insert(Case, cases, copy=copy)
    # A case merged into a case of the same batch learns its id only now.
    for case in cases:
        if case.parent is not None and case.parent_id is None:
            case.parent_id = case.parent.pk
            Case.objects.filter(pk=case.pk).update(parent_id=case.parent_id)
    made = [c.made_by_report for c in cases]
    for m in made:
        m.pending = False
    actions.notify_departments_on_commit([n for m in made for n in m.notices])
    tasks = [a for m in made for a in m.assignments]
    for a in tasks:
        a.case_id = a.case.pk
    rows.insert(Assignment, tasks, copy=copy)
    events = [e for m in made for e in (*m.events, *m.others)]
    for e in events:
        e.case_id = e.case.pk
        if any(isinstance(v, PendingPk | list) for v in e.data.values()):
            e.data = {k: _resolved(v) for k, v in e.data.items()}
    rows.insert(CaseEvent, events, copy=copy)
    rows.insert(CasePrediction, [
        rows.make(CasePrediction, case=r.case, version=r.prediction[0], top=r.prediction[1],
                  threshold=r.prediction[2], applied=r.prediction[3])
        for r in reports if r.prediction is not None
    ], copy=copy)
    found = [pair for m in made for pair in m.candidates]
    if found:
        from civicgrid.dedup.models import DuplicateCandidate

        for kept, pending_target in found:
            kept.case_id = kept.case.pk
            if pending_target is not None:
                kept.candidate_id = pending_target.pk
        rows.insert(DuplicateCandidate, [kept for kept, _target in found], copy=copy)


def _insert_built(reports: list[Report], built: list[list]) -> None:
    """COPY the case rows the bulk importer's worker built ahead, with the numbers taken since;
    a case merged or dispatched since is built again."""
    fresh = {i for i, r in enumerate(reports) if r.merged or r.case.state != State.REPORTED}
    if fresh:
        remade = rows.build_rows(Case, [reports[i].case for i in sorted(fresh)])
        for i, row in zip(sorted(fresh), remade, strict=True):
            built[i] = row
    ids = rows.insert_built(Case, built, number=[r.case.number for r in reports])
    for report, pk in zip(reports, ids, strict=True):
        report.case.pk = pk
        report.case._state.adding = False
        report.case._state.db = connection.alias


def _resolved(value):
    if isinstance(value, PendingPk):
        return value.obj.pk
    if isinstance(value, list):
        return [v.obj.pk if isinstance(v, PendingPk) else v for v in value]
    return value
