"""Bulk import throughput: ``import_cases`` end to end against a raw COPY of the same rows.

The bulk side: a CSV file of N realistic rows in civicgrid's ``csv`` format (a point strictly
inside a random demo grid, a category for most rows and none for the rest, varied Chinese text,
several channels, report times over the last year in file order, oldest first) is imported by ``civicgrid.intake.bulk.run_import``
exactly as the command does it: read, validate, locate (``locate_many``), classify, de-duplicate,
build (owner centre, stage deadline), route, persist (case numbers reserved per district and day,
COPY of the cases), timeline (COPY of the REPORT events), one transaction per batch.

The raw baseline, in the same run: the very same file streamed with ``COPY … FROM STDIN (FORMAT
csv)`` into a bare table with the file's columns (typed, no index, no constraint).

Prints cases/s, raw rows/s, their ratio, the seconds per stage and the extrapolated time for one
million rows. Targets (printed, not asserted): ≥ 5,000 cases/s, ≥ 0.25 of raw COPY, a million in
under 4 minutes. PostgreSQL only. Everything the bench creates (cases with their events, external
records and duplicate candidates, counter advances, the raw table, the file) is removed afterwards.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROWS = int(os.environ.get("CIVICGRID_BENCH_BULK_ROWS", "100000"))
BATCH_SIZE = int(os.environ.get("CIVICGRID_BENCH_BULK_BATCH", "10000"))
NO_CATEGORY_SHARE = 0.2
TARGET_RATE = 5000.0
TARGET_RATIO = 0.25
TARGET_MILLION_S = 240.0
RAW_TABLE = "bench_bulk_raw"

PLACES = ["小区门口", "公交站旁", "菜市场东侧", "学校南门", "人行道上", "路口西北角", "公园入口", "地下通道", "停车场",
          "商场后门", "河道边", "桥下"]
OPENINGS = ["市民来电反映", "网格员巡查发现", "群众反映", "有居民说", "", "路过看到", "业主投诉"]
CLOSINGS = ["请尽快处理。", "希望有关部门管一管", "已经好几天了", "影响出行", "", "麻烦派人看看", "太危险了"]
FREE_TEXT = ["楼下有人半夜施工吵得睡不着", "路灯坏了一直不亮", "井盖不见了很危险", "门口垃圾堆了好几天没人清",
             "下雨后积水很深过不去", "有人占道经营摆摊", "树枝断了挂在电线上", "小广告贴满了墙"]


def _rows(count: int, rng: random.Random, prefix: str) -> list[list]:
    from civicgrid.bench.intake import _grid_points
    from civicgrid.cases.models import Channel
    from civicgrid.taxonomy.models import Category

    categories = list(Category.objects.filter(is_active=True).values_list("kind", "code", "name"))
    channels = [Channel.HOTLINE_12345, Channel.DIGITAL_CITY, Channel.GRID_PATROL, Channel.WECHAT, Channel.WEB,
                Channel.API]
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    now = time.time()
    # A year of reports in the order an export lists them (oldest first), as a hotline's or a
    # city's yearly file comes.
    moments = sorted(now - rng.uniform(3600, 365 * 86400) for _ in range(count))
    out = []
    for i, (lon, lat) in enumerate(_grid_points(count, rng)):
        place = rng.choice(PLACES)
        if rng.random() < NO_CATEGORY_SHARE:
            category, text = "", rng.choice(FREE_TEXT)
        else:
            kind, code, name = rng.choice(categories)
            category, text = f"{kind}-{code}", name
        description = f"{rng.choice(OPENINGS)}{place}{text}，{rng.choice(CLOSINGS)}"
        moment = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moments[i]))
        out.append([
            f"{prefix}{i:07d}", str(rng.choice(channels)), f"{text}：{place}"[:60], description, category,
            "complaint" if rng.random() < 0.3 else "field_report", "urgent" if rng.random() < 0.1 else "normal",
            lon, lat, "", f"{place}{rng.randrange(1, 300)}号", rng.choice(surnames) + rng.choice(["先生", "女士"]),
            f"13{rng.randrange(10**9):09d}", moment,
        ])
    return out


def _write(path: Path, rows: list[list]) -> None:
    from civicgrid.intake.bulk_formats import CSV_COLUMNS

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)


def _raw_copy(path: Path) -> float:
    """Seconds to COPY the file into a bare table of its columns (created, filled, committed)."""
    from django.db import connection, transaction

    types = {"lon": "double precision", "lat": "double precision", "reported_at": "timestamptz"}
    from civicgrid.intake.bulk_formats import CSV_COLUMNS

    columns = ", ".join(f"{c} {types.get(c, 'text')}" for c in CSV_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        cursor.execute(f"CREATE TABLE {RAW_TABLE} (id bigserial PRIMARY KEY, {columns})")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {RAW_TABLE} ({', '.join(CSV_COLUMNS)}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
            path.open("rb") as handle:
        while block := handle.read(1 << 20):
            copy.write(block)
    return time.perf_counter() - started


def _stored_rows_ceiling(prefix: str) -> dict:
    """The most any importer could reach on this schema: the finished rows the import wrote (its
    cases and their REPORT events, read back into memory) COPYed into fresh tables with the same
    columns, indexes and checks as ``cases_case`` and ``cases_caseevent`` (foreign keys left out,
    which only flatters the figure) and committed, timed as the raw COPY is; the tables are
    dropped afterwards. No validation and no Python per row: the database's own cost of storing a
    case with its indexes."""
    from django.db import connection, transaction

    from civicgrid.cases.models import Case, CaseEvent

    selects = {
        Case: f"SELECT * FROM {Case._meta.db_table} WHERE external_id LIKE %s",
        CaseEvent: (f"SELECT e.* FROM {CaseEvent._meta.db_table} e JOIN {Case._meta.db_table} c "
                    "ON c.id = e.case_id WHERE c.external_id LIKE %s AND e.action = 'report'"),
    }
    tables = {model: f"bench_ceiling_{model._meta.model_name}" for model in selects}
    payloads = {}
    try:
        with connection.cursor() as cursor:
            raw = cursor.cursor
            for model, select in selects.items():
                query = raw.mogrify(select, [prefix + "%"])
                with raw.copy(f"COPY ({query}) TO STDOUT") as copy:
                    payloads[model] = b"".join(bytes(block) for block in copy)
                cursor.execute(f"DROP TABLE IF EXISTS {tables[model]}")
                cursor.execute(f"CREATE TABLE {tables[model]} (LIKE {model._meta.db_table} INCLUDING ALL)")
            started = time.perf_counter()
            with transaction.atomic():
                for model, payload in payloads.items():
                    with raw.copy(f"COPY {tables[model]} FROM STDIN") as copy:
                        copy.write(payload)
            seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            for table in tables.values():
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return {"seconds": seconds, "cases": payloads[Case].count(b"\n")}


TOUCHED_TABLES = ("cases_case", "cases_caseevent", "cases_casenumbercounter", "intake_externalrecord",
                  "triage_caseprediction", "dedup_duplicatecandidate")


def _vacuum(full: bool = False) -> None:
    """VACUUM (ANALYZE) the tables an import writes (see ``civicgrid.bench.vacuum``)."""
    from civicgrid.bench import vacuum

    vacuum(TOUCHED_TABLES, full=full)


def _restore_counters(before: dict) -> None:
    """Give back the case numbers the run took, without ever lowering a counter below a number
    still in use: other processes may share the bench database and take numbers meanwhile. Each
    counter row goes back to the higher of its value before the run and the highest sequence a
    remaining case of its district and day holds (a row the run created and no case uses goes)."""
    from django.db import transaction

    from civicgrid.cases.models import Case, CaseNumberCounter

    with transaction.atomic():
        for counter in CaseNumberCounter.objects.select_for_update().order_by("pk"):
            if before.get((counter.district_code, counter.day)) == counter.last:
                continue  # untouched
            prefix = f"{counter.district_code}-{counter.day:%Y%m%d}-"
            used = max((int(n[len(prefix):]) for n in Case.objects.filter(number__startswith=prefix)
                        .values_list("number", flat=True) if n[len(prefix):].isdigit()), default=0)
            target = max(before.get((counter.district_code, counter.day), 0), used)
            if target == 0 and (counter.district_code, counter.day) not in before:
                counter.delete()
            elif target < counter.last:
                counter.last = target
                counter.save(update_fields=["last"])


def _cleanup(prefix: str, counters_before: dict, workdir: Path) -> int:
    from django.db import connection

    from civicgrid.cases.models import Case

    def candidates():
        # On a shared bench database other processes' reports may have found bench cases as their
        # possible duplicates: those links go first, or they would block deleting the cases.
        from django.db.models import Q

        from civicgrid.dedup.models import DuplicateCandidate

        DuplicateCandidate.objects.filter(
            Q(case__external_id__startswith=prefix) | Q(candidate__external_id__startswith=prefix)).delete()

    steps = [
        candidates,
        lambda: Case.objects.filter(external_id__startswith=prefix, parent__isnull=False).delete(),
        lambda: Case.objects.filter(external_id__startswith=prefix).delete(),
        lambda: _restore_counters(counters_before),
        lambda: connection.cursor().execute(f"DROP TABLE IF EXISTS {RAW_TABLE}"),
        lambda: shutil.rmtree(workdir, ignore_errors=True),
        lambda: _vacuum(full=True),  # the next bench finds the tables as compact as before this one
    ]
    deleted = Case.objects.filter(external_id__startswith=prefix).count()
    for step in steps:
        try:
            step()
        except Exception as exc:  # report and go on with the rest
            print(f"cleanup step failed: {exc.__class__.__name__}: {exc}")
    return deleted


def run(rows: int = ROWS, batch_size: int = BATCH_SIZE) -> dict:
    from django.db import connection

    from civicgrid.cases.models import Case, CaseNumberCounter
    from civicgrid.intake import bulk

    if connection.vendor != "postgresql":
        print("(bulk import bench needs PostgreSQL: set DATABASE_URL)")
        return {}
    rng = random.Random(20261124)
    prefix = f"BULKBENCH-{uuid.uuid4().hex[:8]}-"
    workdir = Path(tempfile.mkdtemp(prefix="civicgrid-bulk-bench-"))
    counters_before = {(d, day): last for d, day, last in
                       CaseNumberCounter.objects.values_list("district_code", "day", "last")}
    path = workdir / "cases.csv"
    started = time.perf_counter()
    _write(path, _rows(rows, rng, prefix))
    print(f"generated {rows:,} rows inside demo grids in {time.perf_counter() - started:.1f} s "
          f"({path.stat().st_size / 1e6:.1f} MB); stages: validate, locate, "
          f"{', '.join(bulk.STAGES)}, build, route, persist, timeline")
    figures = {}
    try:
        _vacuum()
        raw_s = _raw_copy(path)
        timings: dict = {}
        started = time.perf_counter()
        batch_seconds: list = []
        busy_before = _cpu_busy()
        summary = bulk.run_import(path, "csv", batch_size=batch_size, show_progress=False, timings=timings,
                                  batch_seconds=batch_seconds)
        bulk_s = time.perf_counter() - started
        busy = _cpu_busy() - busy_before if busy_before is not None else float("nan")
        made = Case.objects.filter(external_id__startswith=prefix).count()
        merged = Case.objects.filter(external_id__startswith=prefix, parent__isnull=False).count()
        figures = {
            "rows": rows, "imported": summary.imported, "cases": made, "merged": merged,
            "problems": summary.problems, "bulk_s": bulk_s, "raw_s": raw_s,
            "rate": summary.imported / bulk_s, "raw_rate": rows / raw_s, "cores_busy": busy / bulk_s,
        }
        figures["ratio"] = figures["rate"] / figures["raw_rate"]
        ceiling = _stored_rows_ceiling(prefix)
        figures["ceiling_rate"] = ceiling["cases"] / ceiling["seconds"] if ceiling["seconds"] else float("nan")
        figures["ceiling_ratio"] = figures["ceiling_rate"] / figures["raw_rate"]
        # The first batch also loads the classifier, the tokenizer's dictionary and the reference
        # data once per import: counted once in the million, the rest scaled by rows.
        first = batch_seconds[0] if len(batch_seconds) > 1 else 0.0
        figures["first_batch_s"] = first
        figures["million_s"] = first + (bulk_s - first) * (1_000_000 - (batch_size if first else 0)) / (
            summary.imported - (batch_size if first else 0))
        staged = sum(timings.values())
        timings["read file, checkpoint, error report"] = max(0.0, bulk_s - staged)
        _print(figures, timings, batch_size)
    finally:
        deleted = _cleanup(prefix, counters_before, workdir)
        print(f"cleanup: removed {deleted:,} bench cases, restored counters, dropped {RAW_TABLE}, vacuumed")
    return figures


def _cpu_busy() -> float | None:
    """Seconds of CPU the whole machine has spent busy (all cores; Linux ``/proc/stat``): the
    import's process, its worker and the PostgreSQL backends together."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _print(f: dict, timings: dict, batch_size: int) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    def verdict(ok):
        return "met" if ok else "NOT met"

    print(f"bulk import ({batch_size:,} rows per batch): {f['imported']:,} cases in {f['bulk_s']:.1f} s = "
          f"{f['rate']:,.0f} cases/s ({f['merged']:,} merged as duplicates, {f['problems']} row problems)")
    print(f"raw COPY of the same file into a bare table: {f['raw_s']:.2f} s = {f['raw_rate']:,.0f} rows/s")
    print(f"ratio to raw COPY: {f['ratio']:.3f} (target ≥ {TARGET_RATIO}: {verdict(f['ratio'] >= TARGET_RATIO)})")
    print(f"ceiling: the import's finished case and REPORT-event rows COPYed from memory into tables with "
          f"the same indexes and checks: {f['ceiling_rate']:,.0f} cases/s = {f['ceiling_ratio']:.3f} of raw COPY")
    print(f"cases/s target ≥ {TARGET_RATE:,.0f}: {verdict(f['rate'] >= TARGET_RATE)}")
    print(f"one million rows, extrapolated: {timedelta(seconds=round(f['million_s']))} "
          f"(target < 4 min: {verdict(f['million_s'] < TARGET_MILLION_S)}; the first batch, {f['first_batch_s']:.1f} s "
          "with the one-time loading of the classifier and reference data, counted once, the rest scaled by rows)")
    print("seconds per stage (worker processes prepare batches while this one stores: the stages overlap): "
          + ", ".join(f"{k} {v:.1f}" for k, v in sorted(timings.items(), key=lambda kv: -kv[1])))
    print(f"CPU busy during the import: {f['cores_busy']:.2f} of {os.cpu_count()} cores")
    print(f"(machine: {os.cpu_count()} cores shared with other work, load average {load:.1f} at the end)")
