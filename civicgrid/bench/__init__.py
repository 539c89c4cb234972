"""Performance figures (``make bench``): each measured next to a raw baseline in the same run."""


def vacuum(tables) -> None:
    """VACUUM (ANALYZE) ``tables`` (those that exist): the rows an earlier run deleted (dead tuples)
    and stale statistics would otherwise slow this run's look-ups, where a production server's
    autovacuum would have cleared them (the bench server may run without it)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is not None:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
