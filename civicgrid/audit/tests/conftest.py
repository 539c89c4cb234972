"""The case tests' small city (集美区 and 思明区 with centres, departments and staff), plus a
security administrator."""

import pytest

from civicgrid.cases.tests import conftest as case_fixtures
from civicgrid.org.models import Role, User

city, report = case_fixtures.city, case_fixtures.report


@pytest.fixture
def security_admin(city):
    return User.objects.create_user(username="secadmin", password="x", role=Role.SECURITY_ADMIN, is_staff=True)


def stored_row(table: str, pk: int, columns: list[str]) -> tuple:
    """The row as the database holds it (no field conversion)."""
    from django.db import connection

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} WHERE id = %s", [pk])
        return cursor.fetchone()


def all_text_in_table(table: str) -> str:
    """Every value of every row of ``table`` joined into one string, read with raw SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return "\n".join(" ".join(str(v) for v in row) for row in cursor.fetchall())


def all_text_in_database() -> str:
    """Every value of every table of the database, read with raw SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    return "\n".join(all_text_in_table(t) for t in tables)
