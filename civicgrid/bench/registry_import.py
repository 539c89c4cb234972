"""Registry import throughput: 100,000 residents from one .xlsx through ``import_residents``, next
to raw baselines measured in the same run.

The file: 100,000 rows in the columns districts keep (``civicgrid.registry.excel.COLUMNS``),
valid identity card numbers and mobiles, four residents per household, spread over the grids of
集美区 (so standard addresses, houses and households are created too), a care tag on one row in
twenty. It is written before the clock starts.

Measured: the whole import — reading the workbook, validating every row (check characters,
community, grid, jurisdiction, care tags, duplicates by blind index within the file and against
the registry), then bulk inserts of addresses, houses, households, residents (three AES-256-GCM
encryptions and two HMACs per resident) and care-tag links in one transaction.

Raw baselines: (1) reading the same workbook with openpyxl and nothing else; (2) inserting the
same 100,000 rows, plaintext, into a bare table with the same columns and only a primary key
(PostgreSQL ``COPY``, SQLite ``executemany``).

Target (printed, not asserted): 100,000 residents in under 60 s on PostgreSQL. The rows the bench
creates are removed afterwards (the import's change record stays: the history is append-only).
"""

from __future__ import annotations

import datetime
import io
import random
import time

ROWS = 100_000
PER_HOUSEHOLD = 4
ROAD_PREFIX = "基准测试路"
RAW_TABLE = "bench_registry_raw"
DISTRICT = "350211"  # 集美区
IMPORTER = "jimei_dispatcher"
# Region digits of the generated ID numbers: not the demo registry's (350211), so no generated
# person can collide with a demo resident.
ID_REGION = "350206"
TARGET_SECONDS = 60.0


def _id_number(region: str, birth: datetime.date, seq: int) -> str:
    from stdnum.cn import ric

    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _rows(grids, rows: int):
    rng = random.Random(20261124)
    start = datetime.date(1940, 1, 1)
    used = set()
    out = []
    tags = ["独居老人", "残疾人", "困难家庭", "留守儿童"]
    for i in range(rows):
        grid = grids[(i // PER_HOUSEHOLD) % len(grids)]
        while True:
            birth = start + datetime.timedelta(days=rng.randrange(0, 30000))
            number = _id_number(ID_REGION, birth, rng.randrange(0, 1000))
            if number not in used:
                used.add(number)
                break
        household = i // PER_HOUSEHOLD
        out.append([
            f"测试{i:06d}", "居民身份证", number, f"13{rng.randrange(0, 10**9):09d}",
            "户籍人口" if i % 3 else "流动人口", grid.parent.code if grid.parent else grid.code[:12], grid.code,
            f"{ROAD_PREFIX}{household // 500}", str(household // 20 % 200 + 1), str(household % 20 // 4 + 1),
            str(household % 4 + 1), f"{household % 4 + 1}01", "住宅", f"BENCH{household:07d}",
            "户主" if i % PER_HOUSEHOLD == 0 else "家属", tags[i % 4] if i % 20 == 0 else "",
        ])
    return out


def _workbook(rows) -> bytes:
    from openpyxl import Workbook

    from civicgrid.registry.excel import COLUMNS

    book = Workbook(write_only=True)
    sheet = book.create_sheet("实有人口")
    sheet.append([header for _key, header, _req in COLUMNS])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cleanup() -> None:
    from django.db import transaction

    from civicgrid.registry.models import Address, House, Household, Resident

    with transaction.atomic():
        residents = Resident.objects.filter(household__number__startswith="BENCH")
        Resident.care_tags.through.objects.filter(resident__in=residents).delete()
        residents.delete()
        Household.objects.filter(number__startswith="BENCH").delete()
        House.objects.filter(address__road__startswith=ROAD_PREFIX).delete()
        Address.objects.filter(road__startswith=ROAD_PREFIX).delete()


def _raw_insert(rows) -> float:
    """Seconds to insert the rows, plaintext, into a bare table (COPY / executemany)."""
    from django.db import connection

    columns = ["name", "id_type", "id_number", "phone", "residence_type", "community", "grid", "road", "number",
               "building", "unit", "room", "house_use", "household", "relation", "care_tags"]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        serial = "bigserial" if connection.vendor == "postgresql" else "integer"
        cursor.execute(f"CREATE TABLE {RAW_TABLE} (id {serial} PRIMARY KEY, "
                       + ", ".join(f"{c} text" for c in columns) + ")")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY {RAW_TABLE} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {RAW_TABLE} ({', '.join(columns)}) VALUES "
                               f"({', '.join(['%s'] * len(columns))})", rows)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    return seconds


def run(rows: int = ROWS) -> dict:
    from django.db import connection
    from openpyxl import load_workbook

    from civicgrid.org.models import User
    from civicgrid.regions.models import Region
    from civicgrid.registry import actions, excel

    actions.load_default_care_tags()
    importer = User.objects.get(username=IMPORTER)
    grids = list(Region.objects.filter(level=Region.Level.GRID, code__startswith=DISTRICT).select_related("parent")
                 .order_by("code")[:400])
    _cleanup()
    data = _workbook(_rows(grids, rows))
    print(f"{rows:,} rows over {len(grids)} grids of {DISTRICT}; file {len(data) / 1e6:.1f} MB; {connection.vendor}")

    started = time.perf_counter()
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    openpyxl_seconds = time.perf_counter() - started

    started = time.perf_counter()
    _header, body = excel.read_sheet(data)
    read_seconds = time.perf_counter() - started
    raw_seconds = _raw_insert(body)

    started, cpu = time.perf_counter(), time.process_time()
    report = excel.import_residents(importer, data, file_name="bench.xlsx")
    import_seconds, import_cpu = time.perf_counter() - started, time.process_time() - cpu
    _cleanup()

    figures = {
        "rows": rows, "created": report.created, "import_seconds": round(import_seconds, 1),
        "import_cpu_seconds": round(import_cpu, 1), "import_rows_per_s": round(rows / import_seconds),
        "raw_read_seconds": round(read_seconds, 1), "raw_insert_seconds": round(raw_seconds, 1),
        "openpyxl_read_seconds": round(openpyxl_seconds, 1),
    }
    insert = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(f"raw: reading the workbook (calamine, the importer's reader): {read_seconds:6.1f} s "
          f"(openpyxl read-only: {openpyxl_seconds:.1f} s)")
    print(f"raw: plaintext {insert} of the rows into a bare table:        {raw_seconds:6.1f} s")
    print(f"import_residents (read, validate, encrypt, bulk insert):   {import_seconds:6.1f} s wall, "
          f"{import_cpu:.1f} s CPU in this process ({figures['import_rows_per_s']:,} residents/s; "
          f"target < {TARGET_SECONDS:.0f} s)")
    print(f"created: {report.created}")
    return figures
