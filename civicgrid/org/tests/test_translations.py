"""The Chinese catalogue (compiled by `make messages`) covers the org strings."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from civicgrid.org.models import CentreLevel, CommandCentre, Department, DepartmentKind, Role, User
from civicgrid.org.permissions import ACTIONS


def test_role_and_kind_labels_are_chinese():
    with translation.override("zh-hans"):
        assert [str(label) for label in Role.labels] == [
            "受理员/派遣员", "职能部门人员", "网格员", "调解员", "领导", "管理员", "安全管理员",
        ]
        assert str(DepartmentKind.POLICE_STATION.label) == "公安派出所"
        assert str(DepartmentKind.CITY_MANAGEMENT.label) == "城管执法"
        assert str(DepartmentKind.JUDICIAL_OFFICE.label) == "司法所"
        assert str(DepartmentKind.COURT.label) == "人民法院"
        assert str(Department._meta.verbose_name) == "职能部门"
        assert str(CommandCentre._meta.verbose_name) == "综治中心"
        assert str(User._meta.get_field("jurisdiction").verbose_name) == "管辖范围"


@pytest.mark.parametrize(
    "labels",
    [DepartmentKind.labels, CentreLevel.labels, list(ACTIONS.values())],
    ids=["kinds", "centre levels", "actions"],
)
def test_every_label_has_a_translation(labels):
    # given each English label / then the Chinese catalogue has a different (translated) text
    with translation.override("zh-hans"):
        untranslated = [str(label) for label in labels if str(label).isascii()]
    assert untranslated == []


@pytest.mark.urls("civicgrid.org.tests.urls")
def test_permission_refusal_is_translated(jimei_dispatcher):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(jimei_dispatcher)
    body = client.get("/api/v1/org/staff/").json()
    assert body["error"]["message"] == "您无权管理职能部门、综治中心与人员。"
