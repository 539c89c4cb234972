"""Drive a case into any state through the real actions (no rows written behind their back)."""

from civicgrid.cases import actions
from civicgrid.cases.models import Assignment, Channel
from civicgrid.cases.workflow import AssignmentRole, State

from .conftest import GRID


def new_case(city, title="井盖缺失"):
    return actions.report_case(channel=Channel.WEB, title=title, region_code=GRID)


def lead_of(case):
    return Assignment.objects.filter(case=case, role=AssignmentRole.LEAD).order_by("-pk").first()


def case_in_state(city, state: str):
    """A case in ``state`` reached along the table, with a lead-only dispatch."""
    d = city.dispatcher
    case = new_case(city)
    if state == State.REPORTED:
        return case
    if state == State.REJECTED:
        return actions.reject_case(case, "不属于受理范围", d)
    if state == State.MERGED:
        return actions.merge_case(case, new_case(city, "同一井盖"), d)
    case = actions.file_case(case, d, category=city.category)
    if state == State.FILED:
        return case
    if state == State.CANCELLED:
        return actions.cancel_case(case, "群众撤回", d)
    case = actions.dispatch_case(case, city.city_management, [], d)
    if state == State.DISPATCHED:
        return case
    actions.sign_for(lead_of(case), city.cm_handler)
    case.refresh_from_db()
    if state == State.IN_PROGRESS:
        return case
    if state == State.SUSPENDED:
        return actions.suspend_case(case, "等待产权单位确认", d)
    actions.report_result(lead_of(case), "已补装井盖", city.cm_handler)
    case.refresh_from_db()
    if state == State.RESOLVED:
        return case
    if state == State.CLOSED:
        return actions.verify_case(case, True, d, "现场核实已修复")
    raise ValueError(state)
