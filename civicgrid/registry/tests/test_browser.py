"""The registry section in headless Chromium at 360 px: a grid worker finds a household, records a
visit with a need, and turns the need into a case in one tap; the pages pass axe-core and nothing
overflows the phone's width. Screenshots: artifacts/screenshots/registry-*.png."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from civicgrid.cases.models import Case, Channel
from civicgrid.web.tests.browser import check_axe

from .conftest import ID_1

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def phone_page(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", viewport={"width": 360, "height": 740}, has_touch=True,
                                  is_mobile=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context, context.new_page()


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_grid_worker_records_a_visit_and_turns_a_need_into_a_case_at_360px(browser, live_server, world, resident,
                                                                           sla_rules):
    context, page = phone_page(browser, live_server, world.grid_worker)
    # given the registry section, the worker searches the resident by ID number
    page.goto(live_server.url + "/grid/registry/")
    page.fill("#q", ID_1)
    page.click("#registry-search button[type=submit]")
    expect(page.locator("#found")).to_contain_text("张*")
    assert ID_1 not in page.locator("#found").inner_text()
    check_axe(page, "registry-search")
    assert no_horizontal_overflow(page)
    # and opens the resident, then the household
    page.locator("#found a").first.click()
    page.get_by_role("link", name=f"户 {resident.household.number}").or_(
        page.locator(f'a[href$="/households/{resident.household_id}/"]')).first.click()
    expect(page.locator("#visit-form")).to_be_visible()
    check_axe(page, "registry-household")
    assert no_horizontal_overflow(page)
    # when they record a 45-minute visit with a need
    page.fill("#duration_minutes", "45")
    page.fill("#notes", "老人独居，身体尚可")
    page.select_option("#kind_0", "need")
    page.fill("#text_0", "楼道灯坏了，晚上看不见")
    page.click("#visit-form button[type=submit]")
    item = page.locator("[data-item]").first
    expect(item).to_contain_text("楼道灯坏了")
    # and turn the need into a case with one tap
    item.get_by_role("button", name="转为事件").or_(item.locator("form button.primary")).first.click()
    # then the item shows the new case's number, which is a grid-patrol case in the grid
    expect(page.locator(".case-number")).to_be_visible()
    case = Case.objects.get()
    expect(page.locator(".case-number")).to_have_text(case.number)
    assert case.channel == Channel.GRID_PATROL and case.region_code == resident.grid_code
    assert no_horizontal_overflow(page)
    check_axe(page, "registry-item-case")
    context.close()
