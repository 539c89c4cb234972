"""Region admin: Chinese, searchable by code prefix and name, read-only with a geometry summary."""

from django.test import Client

from civicgrid.regions.models import Region
from civicgrid.regions.tests.conftest import GRID_1


def test_changelist_search_by_code_prefix_and_name(grids, superuser):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    by_code = client.get("/admin/regions/region/", {"q": "350211001001"})
    assert by_code.status_code == 200
    assert GRID_1 in by_code.content.decode() and "350203" not in by_code.content.decode()
    by_name = client.get("/admin/regions/region/", {"q": "深田社区"}).content.decode()
    assert "350203007010" in by_name
    assert client.get("/admin/regions/region/", {"level__exact": "grid"}).status_code == 200


def test_detail_is_read_only_with_geometry_summary(grids, superuser):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    region_pk = Region.objects.get(code=GRID_1).pk
    page = client.get(f"/admin/regions/region/{region_pk}/change/").content.decode()
    assert "Polygon: 1" in page and "km²" in page
    assert 'name="_save"' not in page
