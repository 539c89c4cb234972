"""Performance figures (``make bench``): each measured next to a raw baseline in the same run."""


def vacuum(tables, full: bool = False) -> None:
    """VACUUM (ANALYZE) ``tables`` (those that exist): the rows an earlier run deleted (dead tuples)
    and stale statistics would otherwise slow this run's look-ups, where a production server's
    autovacuum would have cleared them (the bench server may run without it). ``full`` rewrites
    the tables and their indexes compactly, for a bench that added and deleted far more rows than
    the tables keep (the bulk import): their swollen indexes made the next intake bench a third
    slower (PostgreSQL CPU per case 0.8 → 1.7–2.1 ms)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is not None:
                cursor.execute(f"VACUUM ({'FULL, ' if full else ''}ANALYZE) {table}")


def machine_speed_ms() -> float:
    """Milliseconds a fixed piece of plain Python work takes now (best of three): printed next to
    the figures, as this shared machine's speed changes by a third from one minute to the next."""
    import time

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total, table = 0, {}
        for i in range(400_000):
            total += i * i % 7
            table[i & 1023] = str(i)
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)
