import pytest
from django.contrib.auth.models import AnonymousUser

from civicgrid.org.models import Role, User
from civicgrid.org.permissions import (
    ACTIONS,
    PERMISSIONS,
    PermissionDenied,
    allowed_actions,
    has_permission,
    require_permission,
)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.DISPATCHER, "case.file", True),
        (Role.DISPATCHER, "case.dispatch", True),
        (Role.DISPATCHER, "case.cancel", True),
        (Role.DISPATCHER, "case.sign_for", False),
        (Role.DISPATCHER, "org.manage", False),
        (Role.DEPARTMENT_HANDLER, "case.sign_for", True),
        (Role.DEPARTMENT_HANDLER, "case.return", True),
        (Role.DEPARTMENT_HANDLER, "case.report_result", True),
        (Role.DEPARTMENT_HANDLER, "case.dispatch", False),
        (Role.DEPARTMENT_HANDLER, "case.verify", False),
        (Role.GRID_WORKER, "case.report", True),
        (Role.GRID_WORKER, "case.verify", True),
        (Role.GRID_WORKER, "case.file", False),
        (Role.GRID_WORKER, "dashboard.view", False),
        (Role.MEDIATOR, "mediation.record", True),
        (Role.MEDIATOR, "case.dispatch", False),
        (Role.LEADER, "case.supervise", True),
        (Role.LEADER, "case.approve_extension", True),
        (Role.LEADER, "dashboard.view", True),
        (Role.LEADER, "case.file", False),
        (Role.ADMINISTRATOR, "org.manage", True),
        (Role.ADMINISTRATOR, "region.import", True),
        (Role.ADMINISTRATOR, "case.dispatch", False),
        (Role.ADMINISTRATOR, "mediation.record", False),
    ],
)
def test_role_table(role, action, allowed):
    # given a person with the role (permissions depend on the role alone)
    user = User(username="x", role=role)
    # when / then
    assert has_permission(user, action) is allowed


def test_every_role_has_an_entry_and_every_action_a_label():
    # given the table / then every role is listed and every action named in it is known
    assert set(PERMISSIONS) == set(Role.values)
    assert set().union(*PERMISSIONS.values()) <= set(ACTIONS)


def test_superuser_has_every_action():
    # given a superuser without a role
    user = User(username="root", is_superuser=True)
    # then every action but reading the access log, which only the security-administrator role
    # grants (separation of duties)
    assert allowed_actions(user) == frozenset(ACTIONS) - {"audit.view"}
    assert has_permission(user, "registry.unmask") and not has_permission(user, "audit.view")
    assert has_permission(User(username="sec", is_superuser=True, role=Role.SECURITY_ADMIN), "audit.view")


@pytest.mark.parametrize(
    "user",
    [AnonymousUser(), User(username="nobody"), User(username="gone", role=Role.DISPATCHER, is_active=False)],
    ids=["anonymous", "no role", "inactive"],
)
def test_no_actions_without_an_active_role(user):
    assert allowed_actions(user) == frozenset()
    assert not has_permission(user, "case.report")


def test_unknown_action_is_an_error_not_a_denial():
    # given a typo in an action name / then it fails loudly
    with pytest.raises(KeyError, match="case.fle"):
        has_permission(User(username="x", role=Role.DISPATCHER), "case.fle")


def test_require_permission_raises_with_a_code():
    # given a grid worker
    user = User(username="w", role=Role.GRID_WORKER)
    # when they try to dispatch
    with pytest.raises(PermissionDenied) as info:
        require_permission(user, "case.dispatch")
    # then the refusal has a stable code and a 403 status
    assert info.value.get_codes() == "permission_denied"
    assert info.value.status_code == 403
    # and an allowed action passes silently
    require_permission(user, "case.report")
