"""The dispute figures for a demo district: the demo's eight disputes in 集美区, counted by hand
from ``civicgrid.disputes.demo.SPECS``. The whole demo is loaded once for this module inside a
transaction that is rolled back afterwards."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from civicgrid.disputes.figures import dispute_figures
from civicgrid.disputes.models import Dispute
from civicgrid.org.models import User
from civicgrid.regions.models import Region


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("load_demo", stdout=io.StringIO())
            yield
            transaction.set_rollback(True)


@pytest.mark.slow
def test_figures_for_jimei_match_the_hand_count(demo, db):
    # given the demo's disputes; by hand from SPECS, 集美区 has 8 received (1–8); resolved = closed
    # and not failed: 1, 2, 3, 8 → 4; mediated (agreement or failure): 1, 2, 3, 4, 8 → 5; successful
    # (agreement): 1, 2, 3, 8 → 4; confirmed: 1 → 1; all four resolved closed the day they opened
    # (on time, 0 days). 思明区's 深田 dispute (9) is not counted.
    leader = User.objects.get(username="jimei_leader")
    today = timezone.localdate()
    start = timezone.make_aware(datetime.combine(today - timedelta(days=1), datetime.min.time()))
    end = start + timedelta(days=3)
    jimei = Region.objects.get(code="350211000000")
    result = dispute_figures(leader, start=start, end=end, region=jimei, group_by="type")
    total = result["total"].as_dict()
    assert {k: total[k] for k in ("received", "resolved", "resolution_rate", "mediated", "mediation_success",
                                  "mediation_success_rate", "confirmed", "on_time_rate", "average_days")} == {
        "received": 8, "resolved": 4, "resolution_rate": 0.5, "mediated": 5, "mediation_success": 4,
        "mediation_success_rate": 0.8, "confirmed": 1, "on_time_rate": 1.0, "average_days": 0.0,
    }
    # by type, by hand: 邻里 2 (one resolved), 物业 2 (one resolved, one high-risk open)
    by_type = {row.key: row for row in result["rows"]}
    assert (by_type["neighbour"].received, by_type["neighbour"].resolved) == (2, 1)
    assert (by_type["property"].received, by_type["property"].resolved) == (2, 1)
    assert (by_type["labour"].mediated, by_type["labour"].mediation_success, by_type["labour"].resolved) == (1, 0, 0)
    # by region: all eight lie in 侨英街道
    by_region = dispute_figures(leader, start=start, end=end, region=jimei, group_by="region")["rows"]
    assert [(r.label, r.received) for r in by_region] == [("侨英街道", 8)]
    # and the city leader sees 深田 too
    city = dispute_figures(User.objects.get(username="city_leader"), start=start, end=end)["total"]
    assert (city.received, city.confirmed) == (9, 2)
    # the high-risk demo dispute waits in the review queue
    assert Dispute.objects.get(case__external_id="demo-dispute-6").reviews.filter(decision="").count() == 1
    # loading the demo again writes nothing twice
    call_command("load_demo", stdout=io.StringIO())
    assert Dispute.objects.filter(case__external_id__startswith="demo-dispute-").count() == 9
