"""Citizen portal (/): report without an account, receipt with a private tracking link, the public
progress view (no personal data, no internal notes), rating through the tracking link."""
# Fixtures are imported from pages_support and then requested by name.
# ruff: noqa: F811

import re

from civicgrid.cases import actions, selectors
from civicgrid.cases.models import Case, CaseRating, CaseTracking
from civicgrid.cases.tests.builders import lead_of

from .pages_support import POINT, city, image_bytes, report, sla_rules, town, upload  # noqa: F401


def _report(client, town, **extra):
    data = {"category": town.category.pk, "description": "井盖没了，很危险", "lon": POINT[0], "lat": POINT[1],
            "name": "张三", "phone": "139 1234 5678", **extra}
    return client.post("/report/", data)


def _tracking_link(client) -> str:
    page = client.get("/receipt/").content.decode()
    return re.search(r'id="tracking-link" href="http://testserver(/track/[^"]+/)"', page).group(1)


def test_a_citizen_reports_with_a_pin_and_gets_a_receipt(client, town):
    # when a citizen reports with a pin, a photo and contact details
    response = _report(client, town, photos=[upload()])
    # then the case exists in the grid under the pin, with the normalised phone
    assert response.status_code == 302 and response["Location"] == "/receipt/"
    case = Case.objects.get()
    assert (case.channel, case.region_code, case.reporter_phone) == ("web", "350211001001001", "13912345678")
    # and the receipt shows the number and a private link whose token is stored only hashed
    link = _tracking_link(client)
    token = link.split("/")[2]
    assert len(token) >= 32 and not CaseTracking.objects.filter(token_hash=token).exists()
    assert selectors.case_by_tracking_token(token) == case


def test_report_refusals_are_field_level(client, town):
    # when nothing is said, the phone is wrong and there is no place
    response = client.post("/report/", {"phone": "12345"})
    # then the page explains what is missing, and nothing is reported
    page = response.content.decode()
    assert response.status_code == 422 and "请说明问题" in page and not Case.objects.exists()
    response = client.post("/report/", {"description": "路灯不亮", "phone": "12345"})
    assert "手机号码" in response.content.decode() and not Case.objects.exists()
    response = client.post("/report/", {"description": "路灯不亮"})
    assert "请在地图上标点" in response.content.decode()


def test_an_oversized_photo_is_refused_with_the_message(client, town, settings):
    settings.CIVICGRID_MAX_UPLOAD_BYTES = 1024
    # when the photo is larger than the limit
    response = _report(client, town, photos=[upload(data=image_bytes(size=(400, 400)))])
    # then the report is refused with the size message, and nothing is reported
    assert response.status_code == 422 and "图片不能超过" in response.content.decode()
    assert not Case.objects.exists()


def test_the_public_progress_hides_personal_data_notes_and_staff(client, town, sla_rules):
    # given a citizen's case carried to closure with internal notes on the way
    _report(client, town, photos=[upload()])
    link = _tracking_link(client)
    case = Case.objects.get()
    town.dispatcher.first_name = "王调度"
    town.dispatcher.save()
    case = actions.file_case(case, town.dispatcher, note="内部备注：疑似重复")
    case = actions.dispatch_case(case, town.city_management, [], town.dispatcher, note="派单备注")
    actions.sign_for(lead_of(case), town.cm_handler)
    actions.supervise_case(case, 1, "督办内部意见", town.dispatcher)
    actions.report_result(lead_of(case), "已补装井盖，恢复通行", town.cm_handler)
    actions.verify_case(case, True, town.dispatcher, "核查人内部意见")
    # when the citizen opens the tracking link
    page = client.get(link).content.decode()
    # then the steps and the department's reply are there
    for text in ("已受理立案", "已派遣至责任部门", "集美区城管执法局", "处置中", "已补装井盖，恢复通行", "现场核查通过"):
        assert text in page
    # but no personal data, staff names or internal notes
    for secret in ("张三", "13912345678", "139****5678", "王调度", "dispatcher", "内部备注", "派单备注",
                   "督办内部意见", "核查人内部意见"):
        assert secret not in page
    # and the citizen's own photo is shown through the tracking link only
    photo = re.search(r'src="(/track/[^"]+/photos/\d+/)"', page).group(1)
    assert client.get(photo).status_code == 200
    assert client.get(photo.replace(link, "/track/wrong-token/")).status_code == 404


def test_the_citizen_rates_the_closure_through_the_tracking_link_once(client, town, sla_rules):
    _report(client, town)
    link = _tracking_link(client)
    case = Case.objects.get()
    # while the case is open there is no rating form, and rating is refused
    assert 'id="rate-form"' not in client.get(link).content.decode()
    assert client.post(link + "rate/", {"rating": "satisfied"}).status_code == 422
    case = actions.file_case(case, town.dispatcher)
    case = actions.dispatch_case(case, town.city_management, [], town.dispatcher)
    actions.sign_for(lead_of(case), town.cm_handler)
    actions.report_result(lead_of(case), "已修复", town.cm_handler)
    actions.verify_case(case, True, town.dispatcher)
    # when closed, the form offers the three ratings
    page = client.get(link).content.decode()
    assert 'id="rate-form"' in page and "基本满意" in page and "不满意" in page
    # when the citizen rates it
    assert client.post(link + "rate/", {"rating": "basically_satisfied", "comment": "还行"}).status_code == 302
    # then the closure's rating is recorded, and a second one is refused
    rating = CaseRating.objects.get(case=case)
    assert (rating.rating, rating.comment) == ("basically_satisfied", "还行")
    again = client.post(link + "rate/", {"rating": "unsatisfied"})
    assert again.status_code == 422 or "基本满意" in client.get(link).content.decode()
    rating.refresh_from_db()
    assert rating.rating == "basically_satisfied"


def test_an_unknown_tracking_token_is_404(client, town):
    assert client.get("/track/not-a-real-token/").status_code == 404
    assert client.post("/track/not-a-real-token/rate/", {"rating": "satisfied"}).status_code == 404


def test_the_portal_category_search_offers_public_categories_only(client, town):
    town.category.is_public = False
    town.category.save()
    assert "上水井盖" not in client.get("/categories/", {"q": "井盖"}).content.decode()
