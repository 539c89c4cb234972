"""Who may do what: ONE table mapping each role to the actions it allows.

Later features add their actions here (to ``ACTIONS`` and to the roles that may perform them) and
nowhere else. Reading is governed by jurisdiction (``civicgrid.core.jurisdiction``), not by this
table: an action name says what a person may *do*; their jurisdiction says *where*.
"""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.permissions import BasePermission

from civicgrid.core.api import DomainError
from civicgrid.org.models import Role

# Every action name the platform knows, with a label for screens. An unknown name passed to
# ``has_permission`` is a programming error and raises, so a typo cannot silently deny (or allow).
ACTIONS: dict[str, str] = {
    # the case spine
    "case.report": _("report a case"),  # 上报
    "case.file": _("file a case"),  # 立案
    "case.reject": _("reject a report"),  # 不予立案
    "case.merge": _("merge duplicate cases"),  # 合并
    "case.dispatch": _("dispatch a case"),  # 派遣
    "case.sign_for": _("sign for a task"),  # 签收
    "case.return": _("return a task"),  # 退单
    "case.report_result": _("report a handling result"),  # 处置反馈
    "case.request_extension": _("request an extension"),  # 申请延期
    "case.approve_extension": _("approve an extension"),  # 审批延期
    "case.request_suspension": _("request a suspension"),  # 申请挂起
    "case.approve_suspension": _("approve a suspension"),  # 审批挂起
    "case.resume": _("resume a suspended case"),  # 恢复
    "case.verify": _("verify and close a case"),  # 核查结案
    "case.rework": _("send a case back for rework"),  # 返工
    "case.reopen": _("reopen a closed case"),  # 重办
    "case.cancel": _("cancel a case"),  # 撤销
    "case.supervise": _("issue a supervision notice"),  # 督办
    "case.escalate": _("escalate a case"),  # 上报上级
    # disputes
    "mediation.record": _("record a mediation"),  # 调解记录
    "dispute.open": _("open a dispute"),  # 纠纷登记
    "dispute.review": _("review high-risk disputes"),  # 研判
    # reference data and people
    "region.import": _("import regions and grids"),
    "taxonomy.manage": _("manage categories and rules"),
    "org.manage": _("manage departments, centres and staff"),
    "registry.unmask": _("see unmasked personal data"),  # 查看未脱敏信息 (logged)
    # personal data (docs/personal-data.md): every use is written to the access log
    "pii.unmask": _("show a masked personal identifier, with a reason"),  # 查看明文 (logged)
    "pii.export": _("export personal data"),  # 导出个人信息 (logged)
    "audit.view": _("search the personal-data access log"),  # 查阅访问日志
    "registry.edit": _("edit the registry"),  # 维护三实信息
    "registry.import": _("import the registry from Excel"),  # 导入
    "registry.visit": _("record household visits"),  # 近邻串门
    # figures
    "dashboard.view": _("view dashboards"),
}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.DISPATCHER: frozenset({
        "pii.unmask", "pii.export",
        "case.report", "case.file", "case.reject", "case.merge", "case.dispatch",
        "case.approve_extension", "case.approve_suspension", "case.resume", "case.verify",
        "case.rework", "case.reopen", "case.cancel", "case.supervise", "case.escalate",
        "dashboard.view", "registry.edit", "registry.import",
        "dispute.open", "dispute.review", "mediation.record",
    }),
    Role.DEPARTMENT_HANDLER: frozenset({
        "case.sign_for", "case.return", "case.report_result", "case.request_extension",
        "case.request_suspension", "dispute.open",
    }),
    # Grid workers report on patrol and verify on site (核查); they collect the 三实 registry, so
    # they see the personal data of the households in their grids.
    Role.GRID_WORKER: frozenset({
        "pii.unmask", "pii.export",
        "case.report", "case.verify", "case.rework", "registry.unmask", "registry.edit", "registry.visit",
        "dispute.open",
    }),
    Role.MEDIATOR: frozenset({
        "pii.unmask",
        "case.report", "mediation.record", "dispute.open",
    }),
    Role.LEADER: frozenset({
        "case.supervise", "case.escalate", "case.approve_extension", "case.approve_suspension",
        "dashboard.view", "dispute.review",
    }),
    # The security administrator (安全管理员) reads the access log and nothing else; the system
    # administrator cannot (separation of duties, 等保 2.0 三权分立).
    Role.SECURITY_ADMIN: frozenset({"audit.view"}),
    Role.ADMINISTRATOR: frozenset({
        "region.import", "taxonomy.manage", "org.manage", "registry.unmask", "dashboard.view",
        "registry.edit", "registry.import",
    }),
}

# Actions a superuser does not get by being one: only the role grants them.
ROLE_ONLY_ACTIONS = frozenset({"audit.view"})

_unknown = {a for allowed in PERMISSIONS.values() for a in allowed} - ACTIONS.keys()
if _unknown:  # pragma: no cover - guards edits to the table above
    raise RuntimeError(f"Unknown actions in PERMISSIONS: {sorted(_unknown)}")


class PermissionDenied(DomainError):
    """The user's role does not allow the action (403, code ``permission_denied``)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"


def _check_known(action: str) -> None:
    if action not in ACTIONS:
        raise KeyError(f"Unknown action {action!r}: add it to civicgrid.org.permissions.ACTIONS")


def allowed_actions(user) -> frozenset[str]:
    """Every action ``user`` may perform (all of them for a superuser, none when logged out)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return (frozenset(ACTIONS) - ROLE_ONLY_ACTIONS) | PERMISSIONS.get(user.role, frozenset())
    return PERMISSIONS.get(user.role, frozenset())


def has_permission(user, action: str) -> bool:
    _check_known(action)
    return action in allowed_actions(user)


def require_permission(user, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may perform ``action``."""
    if not has_permission(user, action):
        raise PermissionDenied(_denied_message(action), code="permission_denied")


def _denied_message(action: str):
    return format_lazy(_("You are not allowed to {action}."), action=ACTIONS[action])


def HasAction(action: str) -> type[BasePermission]:
    """A DRF permission class allowing only users whose role allows ``action``:
    ``permission_classes = [HasAction("case.dispatch")]``."""
    _check_known(action)

    class _HasAction(BasePermission):
        message = _denied_message(action)
        code = "permission_denied"

        def has_permission(self, request, view):
            return has_permission(request.user, action)

    _HasAction.__name__ = _HasAction.__qualname__ = f"HasAction({action!r})"
    return _HasAction
