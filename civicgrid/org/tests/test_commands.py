import pytest
from django.core.management import CommandError, call_command

from civicgrid.org.models import Role, User


def test_check_staff_reports_invalid_accounts(org, grid_worker, jimei_dispatcher, capsys):
    # given valid staff / then the check passes
    call_command("check_staff")
    assert "2 staff checked, 0 invalid." in capsys.readouterr().out
    # given a handler written straight into the database without a department (e.g. an import)
    User.objects.create(username="broken", role=Role.DEPARTMENT_HANDLER)
    # when / then the check names them and fails
    with pytest.raises(CommandError, match="3 staff checked, 1 invalid"):
        call_command("check_staff")
    assert "broken\tdepartment\t" in capsys.readouterr().out
