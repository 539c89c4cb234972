"""Duplicate merging tests run in the case tests' small city (集美区 and 思明区), with points
around 岑西社区 and three categories: two of major class 01 (井盖, 路灯) and one of 06."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from civicgrid.cases import actions
from civicgrid.cases.models import Channel
from civicgrid.cases.tests import conftest as case_fixtures
from civicgrid.cases.tests.conftest import GRID

city, clock = case_fixtures.city, case_fixtures.clock

LON, LAT = 118.0960, 24.5800  # 杏林湾路, 集美
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def fresh_rules():
    """Rules are kept per process for a minute: each test starts and ends without a stale copy."""
    from civicgrid.dedup import services

    services.forget_rules()
    yield
    services.forget_rules()


def east(metres: float) -> tuple[float, float]:
    """The point ``metres`` east of (LON, LAT)."""
    import math

    return LON + metres / (111_320.0 * math.cos(math.radians(LAT))), LAT


@pytest.fixture
def cats(city):
    from civicgrid.taxonomy.models import Category

    class Cats:
        manhole = Category.objects.create(kind="matter", code="01002", major_code="01", name="污水井盖异常")
        lamp = Category.objects.create(kind="matter", code="01037", major_code="01", name="路灯异常")
        road = Category.objects.create(kind="matter", code="06013", major_code="06", name="道路破损")
        flood = Category.objects.create(kind="governance", code="92004", major_code="92", name="防汛防台安全隐患")

    return Cats


@pytest.fixture
def file_report(city):
    """``file_report(title, category, lon=, lat=, at=, channel=, **kw)`` → a report through
    ``report_case`` (the intake hook runs)."""

    def make(title, category, *, lon=LON, lat=LAT, at=T0, channel=Channel.WEB, **kwargs):
        kwargs.setdefault("region_code", GRID)
        return actions.report_case(channel=channel, title=title, category=category, lon=lon, lat=lat,
                                   reported_at=at, **kwargs)

    return make


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)
