"""The dispatcher's case view: the best three with confidence and department, and one click to
file the case under one of them (which then counts as the dispatcher's decision)."""

from django.test import Client

from civicgrid.cases.workflow import State
from civicgrid.triage import training


def test_the_case_view_shows_the_proposals_and_one_click_files_with_that_category(taxonomy, report, city,
                                                                                  at_intake):
    # given a report the classifier was not sure enough about
    at_intake.CIVICGRID_CLASSIFIER_THRESHOLD = 1.01
    case = report(title="门口垃圾", description="小区门口垃圾堆了好几天没人清，很臭")
    top = case.triage_prediction.top
    browser = Client()
    browser.force_login(city.dispatcher)
    # when the dispatcher opens the case
    page = browser.get(f"/console/cases/{case.number}/")
    html = page.content.decode()
    # then the three proposals show with their confidence, the department, and a button each
    assert page.status_code == 200
    assert 'id="predictions"' in html
    for item in top:
        assert item["name"] in html and f"{round(item['confidence'] * 100)} %" in html
    assert "集美区城管执法局" in html
    assert html.count('name="category" value=') >= 3
    # when they use the second proposal
    chosen = top[1]["category"]
    r = browser.post(f"/console/cases/{case.number}/file/", {"category": chosen, "urgency": case.urgency})
    # then the case is filed under it, and that is a correction the next training learns from
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.FILED and case.category_id == chosen
    [example] = training.confirmed_examples({c.pk for c in taxonomy.values()})
    assert example.case_id == case.pk and example.corrected


def test_a_user_who_may_not_file_sees_the_proposals_without_buttons(taxonomy, report, city, at_intake):
    # given a predicted case seen by a leader (who may look, not file)
    at_intake.CIVICGRID_CLASSIFIER_THRESHOLD = 1.01
    case = report(title="井盖没了")
    browser = Client()
    browser.force_login(city.leader)
    html = browser.get(f"/console/cases/{case.number}/").content.decode()
    # then the proposals show without the one-click buttons
    assert 'id="predictions"' in html and 'name="category" value=' not in html
