"""The case lifecycle: ONE table of who may move a case from which state to which.

Every action in ``civicgrid.cases.actions`` asks ``check_transition`` before it changes anything,
and its permission comes from ``TRANSITIONS[action].permission`` (names from
``civicgrid.org.permissions``). Escalation, supervision, SLA status and extensions are overlays on a
case, not states, so they do not appear here.

Assignments (one per department, lead or assisting) have their own small lifecycle below
(``ASSIGNMENT_TRANSITIONS``); only some assignment steps move the case (the lead signing for it,
a lead return, the last report of a result).
"""

from dataclasses import dataclass

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.core.api import DomainError


class State(models.TextChoices):
    REPORTED = "reported", _("reported")  # 已上报
    FILED = "filed", _("filed")  # 已立案
    REJECTED = "rejected", _("rejected")  # 不予立案
    MERGED = "merged", _("merged")  # 已合并
    DISPATCHED = "dispatched", _("dispatched")  # 已派遣
    IN_PROGRESS = "in_progress", _("in progress")  # 处置中
    SUSPENDED = "suspended", _("suspended")  # 已挂起
    RESOLVED = "resolved", _("resolved")  # 已处置 (awaiting verification)
    CLOSED = "closed", _("closed")  # 已结案
    CANCELLED = "cancelled", _("cancelled")  # 已撤销


class Action(models.TextChoices):
    REPORT = "report", _("report")  # 上报
    FILE = "file", _("file")  # 立案
    REJECT = "reject", _("reject")  # 不予立案
    MERGE = "merge", _("merge")  # 合并
    UNMERGE = "unmerge", _("undo a merge")  # 撤销合并
    DISPATCH = "dispatch", _("dispatch")  # 派遣
    SIGN_FOR = "sign_for", _("sign for")  # 签收
    RETURN = "return", _("return")  # 退单
    REPORT_RESULT = "report_result", _("report a result")  # 处置反馈
    SUSPEND = "suspend", _("suspend")  # 挂起
    RESUME = "resume", _("resume")  # 恢复
    VERIFY = "verify", _("verify and close")  # 核查结案
    REWORK = "rework", _("send back for rework")  # 返工
    REOPEN = "reopen", _("reopen")  # 重办
    CANCEL = "cancel", _("cancel")  # 撤销


# A case in one of these states still needs work; cancel is allowed from each of them. A closed
# case is finished (it can only be reopened), rejected/merged/cancelled are final.
OPEN_STATES = frozenset({
    State.REPORTED, State.FILED, State.DISPATCHED, State.IN_PROGRESS, State.SUSPENDED, State.RESOLVED,
})
FINAL_STATES = frozenset({State.REJECTED, State.MERGED, State.CANCELLED})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset  # states the action may start from; empty for ``report`` (a new case)
    target: str
    permission: str  # name in civicgrid.org.permissions.ACTIONS
    system_allowed: bool = False  # may run without a person (intake channels, auto-dispatch rule)


def _t(action, sources, target, permission, system_allowed=False):
    return Transition(action, frozenset(sources), target, permission, system_allowed)


# The lifecycle of DESIGN.md, one row per action.
TRANSITIONS: dict[str, Transition] = {t.action: t for t in [
    _t(Action.REPORT, [], State.REPORTED, "case.report", system_allowed=True),
    _t(Action.FILE, [State.REPORTED], State.FILED, "case.file"),
    _t(Action.REJECT, [State.REPORTED], State.REJECTED, "case.reject"),
    # The intake's duplicate check (civicgrid.dedup) merges a clear duplicate without a person.
    _t(Action.MERGE, [State.REPORTED], State.MERGED, "case.merge", system_allowed=True),
    # Undo a merge: the report is a case of its own again, in the state it had before (reported).
    _t(Action.UNMERGE, [State.MERGED], State.REPORTED, "case.merge"),
    _t(Action.DISPATCH, [State.FILED], State.DISPATCHED, "case.dispatch", system_allowed=True),
    _t(Action.SIGN_FOR, [State.DISPATCHED], State.IN_PROGRESS, "case.sign_for"),
    _t(Action.RETURN, [State.DISPATCHED, State.IN_PROGRESS], State.FILED, "case.return"),
    _t(Action.REPORT_RESULT, [State.IN_PROGRESS], State.RESOLVED, "case.report_result"),
    # A department asks (case.request_suspension, an overlay); the approver's decision is the
    # transition.
    _t(Action.SUSPEND, [State.IN_PROGRESS], State.SUSPENDED, "case.approve_suspension"),
    _t(Action.RESUME, [State.SUSPENDED], State.IN_PROGRESS, "case.resume"),
    _t(Action.VERIFY, [State.RESOLVED], State.CLOSED, "case.verify"),
    _t(Action.REWORK, [State.RESOLVED], State.IN_PROGRESS, "case.rework"),
    _t(Action.REOPEN, [State.CLOSED], State.IN_PROGRESS, "case.reopen"),
    _t(Action.CANCEL, OPEN_STATES, State.CANCELLED, "case.cancel"),
]}

if set(TRANSITIONS) != set(Action.values):  # pragma: no cover - guards edits to the table above
    raise RuntimeError(f"Actions without a row: {sorted(set(Action.values) - set(TRANSITIONS))}")


class Overlay(models.TextChoices):
    """Timeline entries that change no state: requests and decisions, SLA marks, supervision,
    escalation, rating."""

    REQUEST_EXTENSION = "request_extension", _("request an extension")  # 申请延期
    APPROVE_EXTENSION = "approve_extension", _("approve an extension")  # 批准延期
    REFUSE_EXTENSION = "refuse_extension", _("refuse an extension")  # 驳回延期
    REQUEST_SUSPENSION = "request_suspension", _("request a suspension")  # 申请挂起
    REFUSE_SUSPENSION = "refuse_suspension", _("refuse a suspension")  # 驳回挂起
    SLA_WARNING = "sla_warning", _("due soon")  # 预警
    SLA_OVERDUE = "sla_overdue", _("overdue")  # 超期
    SUPERVISE = "supervise", _("supervise")  # 督办
    ESCALATE = "escalate", _("escalate")  # 升级
    RATE = "rate", _("rate")  # 回访评价
    ATTACH = "attach", _("attach a photo")  # 上传照片
    STAGE_REPLY = "stage_reply", _("progress reply")  # 阶段答复 (sent on to 12345 when it came from there)
    ALARM_REPEAT = "alarm_repeat", _("repeated alarm")  # 重复告警 (a sensor alarmed again within the window)
    # dispute mediation (civicgrid.disputes)
    DISPUTE_PROFILE = "dispute_profile", _("record the dispute")  # 纠纷登记
    JOINT_MEDIATION = "joint_mediation", _("start joint mediation")  # 联调
    MEDIATION_SESSION = "mediation_session", _("record a mediation session")  # 调解记录
    MEDIATION_AGREEMENT = "mediation_agreement", _("record a mediation agreement")  # 调解协议
    MEDIATION_FAILED = "mediation_failed", _("record a failed mediation")  # 调解不成
    JUDICIAL_CONFIRMATION = "judicial_confirmation", _("judicial confirmation")  # 司法确认
    FOLLOW_UP = "follow_up", _("follow-up visit")  # 回访
    RISK_WARNING = "risk_warning", _("high-risk warning")  # 高危预警
    RISK_REVIEW = "risk_review", _("risk review")  # 研判
    # On the open case a duplicate was merged into / split off from (the duplicate's own timeline
    # has the merge / unmerge step).
    MERGED_IN = "merged_in", _("duplicate report merged in")  # 重复件并入
    UNMERGED_OUT = "unmerged_out", _("duplicate report split off")  # 重复件撤销合并


EVENT_CHOICES = Action.choices + Overlay.choices

# States whose stage clock runs (a suspended case's clock stands still; final and closed cases
# have none).
RUNNING_STATES = frozenset({
    State.REPORTED, State.FILED, State.DISPATCHED, State.IN_PROGRESS, State.RESOLVED,
})


def illegal_transition(state, action) -> DomainError:
    """The error for ``action`` from ``state`` (returned, for the caller to raise)."""
    state_label = State(state).label if state in State.values else state
    action_label = Action(action).label if action in Action.values else action
    return DomainError(
        format_lazy(
            _("Cannot {action} a case that is {state} ({action_code} from {state_code})."),
            action=action_label, state=state_label, action_code=action, state_code=state or "-",
        ),
        code="illegal_transition",
    )


def check_transition(state: str | None, action: str) -> str:
    """The state ``action`` leads to from ``state`` (``None`` for a case not yet reported), or
    ``DomainError(code="illegal_transition")`` naming both when the table has no such row."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise illegal_transition(state, action)
    if state is None and not transition.sources or state in transition.sources:
        return transition.target
    raise illegal_transition(state, action)


def allowed_actions(state: str) -> list[str]:
    """Actions the table allows from ``state`` (for screens: which buttons to offer)."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


# --- assignments (派单: one per department) -------------------------------------------------


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("lead")  # 主办
    ASSISTING = "assisting", _("assisting")  # 协办


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("awaiting sign-for")  # 待签收
    SIGNED = "signed", _("signed for")  # 已签收
    REPORTED = "reported", _("result reported")  # 已反馈
    RETURNED = "returned", _("returned")  # 已退单
    RELEASED = "released", _("released")  # 已释放 (closed by the system)


# Assignments that still belong to the case; at most one lead among them.
ACTIVE_ASSIGNMENT_STATES = frozenset({
    AssignmentState.PENDING, AssignmentState.SIGNED, AssignmentState.REPORTED,
})
# An assisting assignment in one of these no longer holds up resolution.
FINISHED_ASSIGNMENT_STATES = frozenset({
    AssignmentState.REPORTED, AssignmentState.RETURNED, AssignmentState.RELEASED,
})
# Department work on an assignment happens only while the case is with the departments.
WORKING_CASE_STATES = frozenset({State.DISPATCHED, State.IN_PROGRESS})

ASSIGNMENT_TRANSITIONS: dict[str, tuple[frozenset, str]] = {
    Action.SIGN_FOR: (frozenset({AssignmentState.PENDING}), AssignmentState.SIGNED),
    Action.RETURN: (frozenset({AssignmentState.PENDING, AssignmentState.SIGNED}), AssignmentState.RETURNED),
    Action.REPORT_RESULT: (frozenset({AssignmentState.SIGNED}), AssignmentState.REPORTED),
}


def check_assignment_transition(state: str, action: str) -> str:
    """Like ``check_transition`` for one assignment."""
    sources, target = ASSIGNMENT_TRANSITIONS.get(action, (frozenset(), None))
    if state in sources:
        return target
    state_label = AssignmentState(state).label if state in AssignmentState.values else state
    action_label = Action(action).label if action in Action.values else action
    raise DomainError(
        format_lazy(
            _("Cannot {action} a task that is {state} ({action_code} from {state_code})."),
            action=action_label, state=state_label, action_code=action, state_code=state,
        ),
        code="illegal_transition",
    )
