"""`make bench`: performance figures, each next to a raw baseline measured in the same run.

Runs against its own database (``civicgrid_bench`` on the PostgreSQL server named by
DATABASE_URL, or a SQLite file under var/ when DATABASE_URL is unset) with the Xiamen demo loaded,
so figures come from the real demo geometry. Nothing here asserts: it prints.
"""

import argparse
import os
import sys
import time

BENCHES = ["locator", "intake", "pages", "bulk_import", "registry_import", "personal_data", "dedup", "classifier"]
# Page timings need the two-year demo history (issue 5); below this many cases it is loaded.
HISTORY_MIN_CASES = 10_000


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return ""
    import psycopg

    base, _, _name = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'civicgrid_bench'").fetchone()
        if not exists:
            conn.execute("CREATE DATABASE civicgrid_bench")
    return f"{base}/civicgrid_bench"


def _ensure_history() -> None:
    """Load the two-year demo history when the bench database holds too few cases for figures
    that mean something (its loader replaces only its own cases, so live ones are kept)."""
    from django.core.management import call_command, get_commands

    from civicgrid.cases.models import Case

    cases = Case.objects.count()
    if cases >= HISTORY_MIN_CASES:
        return
    if "load_demo_history" not in get_commands():
        print(f"(the demo history is missing: no load_demo_history command; measuring on {cases:,} cases)")
        return
    started = time.perf_counter()
    call_command("load_demo_history", verbosity=0)
    print(f"load_demo_history: {time.perf_counter() - started:.1f} s ({Case.objects.count():,} cases)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m civicgrid.bench", description=__doc__)
    parser.add_argument("names", nargs="*", default=BENCHES, help=f"benchmarks to run (default: {BENCHES})")
    args = parser.parse_args(argv)

    bench_url = _bench_database_url()
    if bench_url:
        os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from civicgrid.regions.models import Region

    print(f"# civicgrid bench on {connection.vendor} ({connection.settings_dict['NAME']})")
    call_command("migrate", verbosity=0, interactive=False)
    if not Region.objects.filter(level=Region.Level.GRID).exists():
        started = time.perf_counter()
        call_command("load_demo", verbosity=0)
        print(f"load_demo: {time.perf_counter() - started:.1f} s")
    if "pages" in args.names:
        _ensure_history()

    import importlib

    for name in args.names:
        module = importlib.import_module(f"civicgrid.bench.{name}")
        print(f"\n## {name}")
        module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
