import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` tests run only when the suite runs on PostgreSQL."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """The working-day table, the intake reference and the token cache are kept per process; a
    rolled-back test must not leak into them."""
    from civicgrid.cases import group_commit, reference
    from civicgrid.core.calendar import clear_cache
    from civicgrid.org import authentication

    clear_cache()
    reference.forget()
    authentication.forget()
    yield
    clear_cache()
    reference.forget()
    authentication.forget()
    # A test that reported from several threads started the group committer: its connection
    # must not outlive the test database.
    group_commit.stop()
