"""The database itself refuses to change access-log entries or to delete young ones.

PostgreSQL and SQLite both get a trigger: every UPDATE fails; a DELETE fails for an entry younger
than 184 days (six months at their longest, ``civicgrid.audit.models.MIN_RETENTION_DAYS``). This
holds for raw SQL too, not only for the ORM. Note for later migrations: on SQLite, altering this
table rebuilds it and drops the triggers; such a migration must run ``install`` again.
"""

from django.db import migrations

TABLE = "audit_accesslogentry"
DAYS = 184

POSTGRES_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION audit_accesslog_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'access log entries cannot be changed';
        END IF;
        IF OLD.at > now() - interval '{DAYS} days' THEN
            RAISE EXCEPTION 'access log entries are kept at least {DAYS} days';
        END IF;
        RETURN OLD;
    END
    $$ LANGUAGE plpgsql
    """,
    f"DROP TRIGGER IF EXISTS audit_accesslog_append_only ON {TABLE}",
    f"""
    CREATE TRIGGER audit_accesslog_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_accesslog_append_only()
    """,
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS audit_accesslog_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_accesslog_append_only()",
]
SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_accesslog_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, 'access log entries cannot be changed'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS audit_accesslog_no_early_delete BEFORE DELETE ON {TABLE}
    WHEN OLD.at > strftime('%Y-%m-%d %H:%M:%f', 'now', '-{DAYS} days')
    BEGIN SELECT RAISE(ABORT, 'access log entries are kept at least {DAYS} days'); END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_accesslog_no_update",
    "DROP TRIGGER IF EXISTS audit_accesslog_no_early_delete",
]


def _run(schema_editor, statements):
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_INSTALL)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_INSTALL)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_REMOVE)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_REMOVE)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_access_log"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
