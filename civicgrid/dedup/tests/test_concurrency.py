"""Two reports of one incident arriving at the same moment (PostgreSQL): the duplicate check of
the second waits for the first, so they do not both stay separate."""

import pytest

from civicgrid.cases import actions
from civicgrid.cases.models import Case, Channel
from civicgrid.cases.tests.conftest import GRID, SIMING_GRID
from civicgrid.cases.workflow import State
from civicgrid.core.testing import race

from .conftest import LAT, T0, east

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_reports_of_one_incident_end_as_one_case(city, cats):
    # given an incident on a district border: the two reports are filed in different districts, so
    # they do not queue for the same case-number counter (only the duplicate check's lock orders them)
    regions = [GRID, SIMING_GRID]
    texts = [("下穿通道积水", "杏林湾路下穿通道积水严重，车辆无法通行"), ("下穿通道积水", "下穿通道积水严重，车辆熄火")]
    channels = [Channel.HOTLINE_12345, Channel.GRID_PATROL]

    def report(i):
        return actions.report_case(channel=channels[i], title=texts[i][0], description=texts[i][1],
                                   category=cats.flood, lon=east(10 * i)[0], lat=LAT, region_code=regions[i],
                                   reported_at=T0).pk

    # when both arrive at once
    results, errors = race(2, report)
    # then both were accepted, and exactly one is merged into the other
    assert errors == {}
    cases = list(Case.objects.filter(pk__in=results.values()).order_by("pk"))
    states = sorted(c.state for c in cases)
    assert states == [State.MERGED, State.REPORTED]
    merged = next(c for c in cases if c.state == State.MERGED)
    kept = next(c for c in cases if c.state == State.REPORTED)
    assert merged.parent_id == kept.pk
