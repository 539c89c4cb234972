"""The Bao'an story in headless Chromium: the women's federation opens the dispute in the console,
the mediator records a session and the agreement in the page's forms, the review queue and the
figures render, and axe-core finds no serious or critical violation on the dispute pages.
Screenshots go to artifacts/screenshots/disputes-*.png."""

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from civicgrid.cases.models import Case
from civicgrid.cases.workflow import State
from civicgrid.disputes.models import Agreement
from civicgrid.web.tests.browser import browser, check_axe  # noqa: F401

from .conftest import BAOAN_GRID

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def logged_in(browser, live_server, user):  # noqa: F811
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN")
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context


def test_baoan_dispute_in_the_browser(browser, live_server, world):  # noqa: F811
    w = world
    # given the women's federation opens a marriage dispute with a threat in it
    context = logged_in(browser, live_server, w.wf_handler)
    page = context.new_page()
    page.goto(live_server.url + "/console/disputes/new/")
    check_axe(page, "disputes-new")
    page.fill("#id_name", "张某与李某婚姻家庭纠纷")
    page.select_option("#id_dispute_type", str(w.marriage.pk))
    page.fill("#id_occurred_on", timezone.localdate().isoformat())
    page.fill("#id_place", "宝民一路12号")
    page.fill("#id_region_code", BAOAN_GRID)
    page.fill("#id_people_involved", "6")
    page.fill("#id_brief", "男方扬言要报复，女方到妇联求助。")
    page.fill("#id_applicant_name", "李红")
    page.fill("#id_applicant_phone", "13912341234")
    page.fill("#id_respondent_name", "张强")
    page.click("#form-open button[type=submit]")
    page.wait_for_url("**/console/disputes/*-*/")
    number = page.url.rstrip("/").split("/")[-1]
    # then it is shared with the four agencies and flagged high with its signals shown
    expect(page.locator("#agencies tbody tr")).to_have_count(4)
    expect(page.locator("#risk-level .risk-high")).to_be_visible()
    context.close()

    # when the mediator records a session and the agreement in the page
    context = logged_in(browser, live_server, w.mediator)
    page = context.new_page()
    page.goto(f"{live_server.url}/console/disputes/{number}/")
    check_axe(page, "disputes-detail")
    page.fill("#id_session-mediators", "王调解、陈警官、刘法官、赵主任")
    page.fill("#id_session-participants", "李红、张强")
    page.fill("#id_session-minutes", "双方就抚养费达成一致。")
    page.select_option("#id_session-result", "agreement")
    page.fill("#id_session-place", "新安街道矛盾纠纷调处化解中心")
    page.click("#form-session button[type=submit]")
    expect(page.locator("#sessions li")).to_have_count(1)
    page.locator("details.action-agreement summary").click()
    page.fill("#id_agreement-committee", "新安街道人民调解委员会")
    page.fill("#id_agreement-terms", "张强每月支付抚养费2000元。")
    page.fill("#id_agreement-mediator_name", "王调解")
    page.click("#form-agreement button[type=submit]")
    # then the agreement and its 30-day window are shown, and the printable agreement opens
    expect(page.locator("#agreement")).to_be_visible()
    assert Agreement.objects.filter(dispute__case__number=number).exists()
    context.close()

    # and the leader sees it in the review queue and the figures
    context = logged_in(browser, live_server, w.baoan_leader)
    page = context.new_page()
    page.goto(f"{live_server.url}/console/disputes/reviews/")
    expect(page.locator(f"text={number}")).to_be_visible()
    check_axe(page, "disputes-reviews")
    page.fill("textarea[name=review-reason]", "双方情绪已平复，但需持续关注")
    page.click("form[id^=form-review] button[type=submit]")
    expect(page.locator(".console-messages")).to_contain_text(number)
    # (the leader prints with masked names, so no access-log entry is written in this flushed test)
    page.goto(f"{live_server.url}/console/disputes/{number}/agreement/")
    expect(page.locator("h1")).to_have_text("人民调解协议书")
    check_axe(page, "disputes-agreement")
    page.goto(f"{live_server.url}/console/disputes/figures/")
    expect(page.locator("#figures tr[data-key=total]")).to_be_visible()
    check_axe(page, "disputes-figures")
    page.goto(f"{live_server.url}/console/disputes/")
    expect(page.locator(f'tr[data-number="{number}"]')).to_be_visible()
    check_axe(page, "disputes-list")
    context.close()
    assert Case.objects.get(number=number).state == State.DISPATCHED
