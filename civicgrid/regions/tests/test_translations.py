"""The Chinese catalogue covers the regions strings (compiled by `make messages`)."""

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from civicgrid.regions.actions import GridImportError, import_grids
from civicgrid.regions.models import Region
from civicgrid.regions.selectors import region_counts
from civicgrid.regions.tests.conftest import GRID_1
from civicgrid.regions.tests.geometry import collection, feature, square


def test_levels_and_model_names_are_chinese():
    with translation.override("zh-hans"):
        assert [str(label) for label in Region.Level.labels] == ["市", "区/县", "街道/乡镇", "社区/村", "网格"]
        assert str(Region._meta.verbose_name) == "区划"
        assert str(Region._meta.get_field("code").verbose_name) == "代码"


def test_home_page_counts_are_labelled_in_the_active_language(xiamen):
    with translation.override("zh-hans"):
        assert [row["label"] for row in region_counts()][:2] == ["市", "区/县"]


def test_import_problems_are_translated(districts):
    with translation.override("zh-hans"):
        with pytest.raises(GridImportError) as caught:
            import_grids(collection(feature("350211001999001", square(118.09, 24.57))))
        assert str(caught.value.problems[0]).startswith("第 0 个要素（350211001999001）：不存在社区 350211001999")


def test_default_grid_names_use_the_installation_language(districts):
    # given a grid without a name, imported while the caller's language is English
    import_grids(collection(feature(GRID_1, square(118.09, 24.57))))
    # then its stored name follows LANGUAGE_CODE (zh-hans)
    assert Region.objects.get(code=GRID_1).name == "岑东社区第1网格"


def test_locate_404_is_translated(grids, superuser):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(superuser)
    response = client.get("/api/v1/regions/locate", {"lon": 116.4, "lat": 39.9})
    assert response.json()["error"]["message"].startswith("没有任何网格或有边界的区划包含该点（116.4, 39.9")
