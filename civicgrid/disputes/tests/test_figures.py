"""The dispute figures: each definition (resolved, on time, average days, rates with an empty
denominator) on disputes played at known moments; the demo district's hand count is in
``test_figures_demo.py``."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import AssignmentState
from civicgrid.disputes import actions
from civicgrid.disputes.figures import dispute_figures

from .conftest import BAOAN_GRID, marriage_fields

TZ = ZoneInfo("Asia/Shanghai")


def close_at(w, dispute, moment, clock):
    clock.set(moment)
    case = Case.objects.get(pk=dispute.case_id)
    for a in case.assignments.filter(state=AssignmentState.PENDING).order_by("pk"):
        case_actions.sign_for(a, w.handler_of[a.department_id])
    for a in case.assignments.filter(state=AssignmentState.SIGNED).order_by("-role", "pk"):
        case_actions.report_result(a, "已调解", w.handler_of[a.department_id])
    case_actions.verify_case(Case.objects.get(pk=case.pk), True, w.baoan_dispatcher)


@pytest.fixture
def clock(monkeypatch):
    from civicgrid.cases.tests.conftest import Clock

    c = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=TZ))  # a Monday
    monkeypatch.setattr(timezone, "now", c)
    return c


@pytest.mark.django_db
def test_on_time_rate_and_average_days_follow_their_definitions(world, clock):
    w = world
    # given three disputes received on 2 Nov 2026 (deadline: 22 working days later, 2 Dec)
    disputes = [actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(
        w, place=f"宝民路{n}号", parties=[{"role": "applicant", "name": f"当事人{n}"}])) for n in range(3)]
    assert timezone.localtime(disputes[0].resolution_deadline).date().isoformat() == "2026-12-02"
    signed = list(disputes[0].parties.values_list("pk", flat=True))
    actions.record_agreement(disputes[0], w.mediator, committee="调委会", facts="事实", terms="条款",
                             signed_parties=signed, mediator_name="王调解", effective_on=clock.now.date())
    actions.record_failure(disputes[1], w.mediator, route="litigation", guidance="告知诉讼")
    # when the first closes after 4 days (on time) and the second (failed) after 40 days
    close_at(w, disputes[0], datetime(2026, 11, 6, 9, 0, tzinfo=TZ), clock)
    close_at(w, disputes[1], datetime(2026, 12, 12, 9, 0, tzinfo=TZ), clock)
    # then: received 3, resolved 1 (the failed one does not count), on time 1/1, 4.0 days
    total = dispute_figures(w.baoan_leader, start=datetime(2026, 11, 1, tzinfo=TZ),
                            end=datetime(2026, 12, 1, tzinfo=TZ))["total"]
    assert (total.received, total.resolved, total.on_time_rate, total.average_days) == (3, 1, 1.0, 4.0)
    assert (total.mediated, total.mediation_success, total.mediation_success_rate) == (2, 1, 0.5)
    # a late resolution lowers the on-time rate: the third closes on 10 Dec, after its deadline
    actions.record_agreement(disputes[2], w.mediator, committee="调委会", facts="事实", terms="条款",
                             signed_parties=list(disputes[2].parties.values_list("pk", flat=True)),
                             mediator_name="王调解", effective_on=clock.now.date())
    close_at(w, disputes[2], datetime(2026, 12, 10, 9, 0, tzinfo=TZ), clock)
    total = dispute_figures(w.baoan_leader, start=datetime(2026, 11, 1, tzinfo=TZ),
                            end=datetime(2026, 12, 1, tzinfo=TZ))["total"]
    assert (total.resolved, total.on_time_rate, total.average_days) == (2, 0.5, 21.0)
    # and a period without disputes has no rates rather than 0 %
    empty = dispute_figures(w.baoan_leader, start=datetime(2027, 1, 1, tzinfo=TZ),
                            end=datetime(2027, 2, 1, tzinfo=TZ))["total"]
    assert (empty.received, empty.resolution_rate, empty.mediation_success_rate, empty.average_days) == (
        0, None, None, None)


@pytest.mark.django_db
def test_figures_api_shows_definitions_and_is_scoped(world):
    w = world
    actions.open_dispute(actor=w.wf_handler, region_code=BAOAN_GRID, **marriage_fields(w))
    today = timezone.localdate().isoformat()
    client = APIClient()
    client.force_authenticate(w.baoan_leader)
    body = client.get(f"/api/v1/disputes/figures/?start={today}&end={today}&group_by=month").json()
    assert body["total"]["received"] == 1 and "resolution_rate" in body["definitions"]
    client.force_authenticate(w.st_dispatcher)
    assert client.get(f"/api/v1/disputes/figures/?start={today}&end={today}").json()["total"]["received"] == 0
