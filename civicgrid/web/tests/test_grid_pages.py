"""Grid worker page (/grid/): report with category, position and photo; verify in my grids."""
# Fixtures are imported from pages_support and then requested by name.
# ruff: noqa: F811

from civicgrid.cases import actions
from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.tests.builders import lead_of

from .pages_support import POINT, city, new_case, report, sla_rules, town, upload  # noqa: F401


def test_category_search_by_everyday_words(client, town):
    client.force_login(town.grid_worker)
    # when the worker types everyday words
    page = client.get("/grid/categories/", {"q": "窨井盖"}, HTTP_HX_REQUEST="true").content.decode()
    # then the matching category is offered as a big button
    assert f'data-id="{town.category.pk}"' in page and "上水井盖" in page


def test_a_patrol_report_with_position_and_photo(client, town):
    client.force_login(town.grid_worker)
    # when the worker reports a category at a point in their grid with a photo
    response = client.post("/grid/report/", {
        "category": town.category.pk, "lon": POINT[0], "lat": POINT[1], "description": "",
        "photos": [upload()],
    })
    # then a patrol case exists in that grid, titled by its category, with the photo
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.channel, case.region_code, case.title) == ("grid_patrol", "350211001001001", "上水井盖")
    assert Attachment.objects.get().uploaded_by == town.grid_worker
    # and the page greets the next report with the number
    assert case.number in client.get("/grid/").content.decode()


def test_a_report_without_category_or_position_is_refused_field_by_field(client, town):
    client.force_login(town.grid_worker)
    # when nothing is picked and no position given
    response = client.post("/grid/report/", {})
    # then both are asked for
    page = response.content.decode()
    assert response.status_code == 422 and "请选择问题类别" in page and "请获取手机定位或在地图上标点" in page
    # and a point outside the worker's grids is refused as outside their jurisdiction
    response = client.post("/grid/report/", {"category": town.category.pk, "lon": 118.085, "lat": 24.455})
    assert response.status_code == 422 and not Case.objects.exists()


def _resolved(town):
    case = actions.file_case(new_case(town), town.dispatcher)
    case = actions.dispatch_case(case, town.city_management, [], town.dispatcher)
    actions.sign_for(lead_of(case), town.cm_handler)
    actions.report_result(lead_of(case), "已补装井盖", town.cm_handler)
    case.refresh_from_db()
    return case


def test_verify_in_my_grid_with_pass_and_photo(client, town, sla_rules):
    case = _resolved(town)
    client.force_login(town.grid_worker)
    # when the worker opens the page, the resolved case is listed to verify
    assert f"/grid/verify/{case.pk}/" in client.get("/grid/").content.decode()
    # when failing it without a note
    refused = client.post(f"/grid/verify/{case.pk}/", {"outcome": "fail"})
    assert refused.status_code == 422
    # when passing it with a photo
    response = client.post(f"/grid/verify/{case.pk}/", {"outcome": "pass", "photos": [upload()]})
    # then the case is closed and the photo is a verification photo
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed" and Attachment.objects.get().kind == "verification"


def test_a_case_outside_my_grids_cannot_be_verified(client, town, sla_rules):
    # given a resolved case in the other grid of the street
    case = _resolved(town)
    Case.objects.filter(pk=case.pk).update(region_code="350211002001001")
    client.force_login(town.grid_worker)
    # when the worker opens it, then it does not exist for them
    assert client.get(f"/grid/verify/{case.pk}/").status_code == 404
    # and department staff cannot enter the grid page
    client.force_login(town.cm_handler)
    assert client.get("/grid/").status_code == 403
