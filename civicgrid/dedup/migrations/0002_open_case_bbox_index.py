"""An index for the duplicate search: open cases by latitude, longitude and report time.

Every intake looks for open cases in a small box around the new report's point and a time window
(``civicgrid.dedup.services``); this partial index holds only open cases (a small share of the
table) so that lookup is one short range scan. It lives on the cases table but belongs to this
app's query, so it is created here with plain SQL (the same statement works on SQLite and
PostgreSQL) and is not part of the cases app's model state. The state list must stay equal to
``civicgrid.dedup.services.OPEN_STATE_LIST`` (sorted), or the planners will not use it.
"""

from django.db import migrations

OPEN_STATE_LIST = ["dispatched", "filed", "in_progress", "reported", "resolved", "suspended"]

CREATE = (
    "CREATE INDEX IF NOT EXISTS dedup_open_case_lat_lon ON cases_case (lat, lon, reported_at) "
    "WHERE state IN (" + ", ".join(f"'{s}'" for s in OPEN_STATE_LIST) + ")"
)
DROP = "DROP INDEX IF EXISTS dedup_open_case_lat_lon"


class Migration(migrations.Migration):

    dependencies = [
        ("dedup", "0001_initial"),
        ("cases", "0003_attachments_tracking"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
