"""The console in headless Chromium: the live queue shows a new report without a reload, a
dispatcher dispatches a filed case from the case view, the map draws polygons and markers, and
axe-core finds no serious or critical violations on the queue, case view, map and dashboard.
Screenshots go to artifacts/screenshots/console-*.png."""


import pytest
from django.test import Client
from playwright.sync_api import expect

from civicgrid.cases import actions
from civicgrid.cases.models import Case, Channel
from civicgrid.cases.tests import conftest as case_fixtures
from civicgrid.cases.tests.conftest import GRID
from civicgrid.cases.workflow import State

from .browser import check_axe

city, report = case_fixtures.city, case_fixtures.report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def logged_in(browser, live_server, user, **context_options):
    """A browser context carrying ``user``'s session cookie."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", **context_options)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])
    return context


def square(lon, lat, d):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d],
                                                [lon, lat]]]}


def test_queue_shows_a_new_report_without_reload_and_keys_work(browser, live_server, city, report):
    # given the dispatcher's queue open with one case
    first = report(title="路灯不亮")
    context = logged_in(browser, live_server, city.dispatcher)
    page = context.new_page()
    page.goto(live_server.url + "/console/")
    expect(page.locator(f'tr[data-number="{first.number}"]')).to_be_visible()
    page.evaluate("window.__marker = 1")  # survives only if the page is not reloaded
    # when a citizen reports a new case meanwhile
    new = actions.report_case(channel=Channel.WEB, title="井盖缺失", region_code=GRID)
    # then it appears within 10 s, without a reload, and the tab count follows
    expect(page.locator(f'tr[data-number="{new.number}"]')).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__marker") == 1
    expect(page.locator('[data-count="reported"]')).to_have_text("2")
    # and j moves to the first row, Enter opens it, / focuses the search
    page.keyboard.press("j")
    focused = page.evaluate("document.activeElement.closest('tr').dataset.number")
    assert focused in {first.number, new.number}
    check_axe(page, "console-queue")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/cases/{focused}/")
    page.go_back()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "id_q"
    context.close()


def test_dispatcher_dispatches_a_filed_case_from_the_case_view(browser, live_server, city, report):
    # given a filed case located in a grid with a boundary
    grid = city.regions[GRID]
    grid.geometry = square(118.09, 24.59, 0.02)
    grid.save()
    case = actions.file_case(report(lon=118.1, lat=24.6, description="人行道井盖缺失"), city.dispatcher,
                             category=city.category)
    context = logged_in(browser, live_server, city.dispatcher)
    page = context.new_page()
    # when the dispatcher opens it, the grid is drawn, and the page passes axe
    page.goto(f"{live_server.url}/console/cases/{case.number}/")
    expect(page.locator("#case-map path.leaflet-interactive").first).to_be_attached()
    check_axe(page, "console-case")
    # and they dispatch it to city management with the police assisting
    form = page.locator("#form-dispatch")
    form.locator("select[name=lead_department]").select_option(str(city.city_management.pk))
    form.locator(f'input[name=assisting_departments][value="{city.police.pk}"]').check()
    form.locator("button[type=submit]").click()
    # then the page reloads with a success message and the case is dispatched
    expect(page.locator(".console-messages")).to_be_visible()
    assert Case.objects.get(pk=case.pk).state == State.DISPATCHED
    assert set(Case.objects.get(pk=case.pk).assignments.values_list("department_id", flat=True)) == {
        city.city_management.pk, city.police.pk}
    context.close()


def test_map_draws_polygons_and_markers_and_dashboard_passes_axe(browser, live_server, city, report):
    # given boundaries for 集美's district, street, community and grid, and two located cases
    boxes = {"350211000000": 0.2, "350211001000": 0.1, "350211001001": 0.05, GRID: 0.02}
    for code, size in boxes.items():
        region = city.regions[code]
        region.geometry = square(118.09, 24.59, size)
        region.save()
    report(lon=118.1, lat=24.6)
    report(lon=118.101, lat=24.601, urgency="urgent")
    context = logged_in(browser, live_server, city.dispatcher, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # when the map opens
    page.goto(live_server.url + "/console/map/")
    expect(page.locator("#console-map[data-ready='1']")).to_be_attached(timeout=10_000)
    # then polygons are drawn and the two cases are on it (clustered or not)
    assert page.locator("#console-map path.leaflet-interactive").count() >= 3
    assert page.get_attribute("#console-map", "data-markers") == "2"
    expect(page.locator("#console-map .cluster, #console-map path[fill='#1e7b34']").first).to_be_attached()
    check_axe(page, "console-map")
    # and the dashboard renders its charts and passes axe
    page.goto(live_server.url + "/console/dashboard/")
    expect(page.locator("#chart-intake svg")).to_be_attached()
    assert page.inner_text("#kpi-intake") == "2"
    check_axe(page, "console-dashboard")
    context.close()
