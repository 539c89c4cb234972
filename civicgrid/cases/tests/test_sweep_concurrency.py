"""Two sweeps at once on PostgreSQL: row locks (SKIP LOCKED), checks under the lock and the unique
notice constraint keep every notice and escalation single."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from civicgrid.cases import actions, sweep
from civicgrid.cases.models import Case, CaseEvent, Notification, Supervision
from civicgrid.core.testing import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SH = ZoneInfo("Asia/Shanghai")


def test_concurrent_sweeps_never_double_a_notice_or_an_escalation(city, report, sla_rules, clock, centre_chain):
    # given 4 dispatched tasks long overdue (yellow and red due) and 4 undispatched reports at the
    # community centre past their filing limit
    for i in range(4):
        case = actions.file_case(report(title=f"井盖 {i}"), city.community_dispatcher, category=city.category)
        actions.dispatch_case(case, city.city_management, [], city.community_dispatcher)
    waiting = [report(title=f"占道 {i}", category=city.category).pk for i in range(4)]
    # when three sweeps run at the same moment
    when = datetime(2026, 11, 25, 9, 0, tzinfo=SH)
    _results, errors = race(3, lambda i: sweep.sweep_deadlines(when))
    # then none failed, and each task has exactly one yellow and one red notice
    assert errors == {}
    assert Supervision.objects.count() == 8
    assert sorted(Supervision.objects.values_list("assignment_id", "level").distinct()) == sorted(
        Supervision.objects.values_list("assignment_id", "level"))
    # and each waiting report was escalated exactly once, to the street centre
    assert CaseEvent.objects.filter(action="escalate").count() == 4
    assert set(Case.objects.filter(pk__in=waiting).values_list("owner_centre", "escalation_level")) == {
        (city.street_centre.pk, 1)}
    # and the department was told twice per task (yellow, red), the street centre once per case
    assert Notification.objects.filter(recipient=city.cm_handler, kind="supervised").count() == 8
    assert Notification.objects.filter(recipient=city.street_dispatcher, kind="escalated").count() == 4
