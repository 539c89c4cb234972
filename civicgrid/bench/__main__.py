"""`make bench`: performance figures, each next to a raw baseline measured in the same run.

Runs against its own database (``civicgrid_bench`` on the PostgreSQL server named by
DATABASE_URL, or a SQLite file under var/ when DATABASE_URL is unset) with the Xiamen demo loaded,
so figures come from the real demo geometry. Nothing here asserts: it prints.
"""

import argparse
import os
import sys
import time

BENCHES = ["locator", "intake"]


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

    import importlib

    for name in args.names:
        module = importlib.import_module(f"civicgrid.bench.{name}")
        print(f"\n## {name}")
        module.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
