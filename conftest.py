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
def _fresh_process_state():
    """The working-day table, the intake reference and the token cache are kept per process, and
    the active language per thread; a test must not leak into the next."""
    from django.conf import settings
    from django.utils import translation

    from civicgrid.cases import group_commit, reference
    from civicgrid.core.calendar import clear_cache
    from civicgrid.org import authentication
    from civicgrid.regions import generation

    clear_cache()
    reference.forget()
    authentication.forget()
    # A request's LocaleMiddleware leaves its language active in the thread (a server's next
    # request activates its own): each test starts in the platform's language.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    clear_cache()
    reference.forget()
    authentication.forget()
    # A test that reported from several threads started the group committer: its connection
    # must not outlive the test database.
    group_commit.stop()
    generation.stop_listener()


@pytest.fixture(scope="session", autouse=True)
def _stop_listener_before_the_test_database_goes(django_db_setup):
    """The generation listener (PostgreSQL) holds a connection; a live server's request after a
    test's end may have started it again: stopped before the test database is dropped."""
    yield
    from civicgrid.cases import group_commit
    from civicgrid.regions import generation

    group_commit.stop()
    generation.stop_listener()
