import pytest

from civicgrid.core import calendar


@pytest.fixture(autouse=True)
def fresh_calendar_cache():
    # Each test's database changes are rolled back, but day tables live in process memory.
    calendar.clear_cache()
    yield
    calendar.clear_cache()
