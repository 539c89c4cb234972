"""The console's duplicates panel and its one-click decisions."""

import pytest
from django.test import override_settings
from django.urls import reverse

from civicgrid.cases.workflow import State
from civicgrid.dedup.models import Decision, DuplicateCandidate

from .conftest import east, later

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(file_report, cats):
    with override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=1.01):
        first = file_report("井盖缺失", cats.manhole, description="人行道井盖不见了")
        new = file_report("井盖没了", cats.manhole, description="下水道盖子没了", lon=east(20)[0], at=later(2))
    return first, new, DuplicateCandidate.objects.get(case=new)


def _login(client, user):
    client.force_login(user)
    return client


def test_the_case_view_shows_the_candidates_with_reasons_and_scores(client, city, pair):
    first, new, row = pair
    html = _login(client, city.dispatcher).get(reverse("web:console:case", args=[new.number])).content.decode()
    assert 'id="duplicates"' in html and f'id="candidate-{row.pk}"' in html
    assert first.number in html and f"{row.score:.2f}" in html
    assert reverse("dedup:merge", args=[row.pk]) in html and reverse("dedup:keep_apart", args=[row.pk]) in html
    # in Chinese, the default language
    assert "疑似重复件" in html and "合并到此案件" in html and "不合并" in html


def test_merge_into_with_one_click_then_undo(client, city, pair):
    first, new, row = pair
    c = _login(client, city.dispatcher)
    # when the dispatcher clicks "merge into"
    response = c.post(reverse("dedup:merge", args=[row.pk]))
    # then back on the case, merged
    assert response.status_code == 302 and response["Location"] == reverse("web:console:case", args=[new.number])
    new.refresh_from_db()
    assert (new.state, new.parent_id) == (State.MERGED, first.pk)
    # and the parent's page lists both reports; the merged one offers "undo"
    assert new.number in c.get(reverse("web:console:case", args=[first.number])).content.decode()
    assert reverse("dedup:unmerge", args=[new.number]) in c.get(
        reverse("web:console:case", args=[new.number])).content.decode()
    # when undone with a reason
    c.post(reverse("dedup:unmerge", args=[new.number]), {"reason": "两处不同井盖"})
    new.refresh_from_db()
    assert (new.state, new.parent_id) == (State.REPORTED, None)


def test_undo_without_a_reason_changes_nothing(client, city, pair):
    first, new, row = pair
    c = _login(client, city.dispatcher)
    c.post(reverse("dedup:merge", args=[row.pk]))
    response = c.post(reverse("dedup:unmerge", args=[new.number]), {"reason": ""}, follow=True)
    new.refresh_from_db()
    assert new.state == State.MERGED
    assert response.status_code == 200


def test_keep_apart_with_one_click(client, city, pair):
    _first, new, row = pair
    _login(client, city.dispatcher).post(reverse("dedup:keep_apart", args=[row.pk]))
    row.refresh_from_db()
    new.refresh_from_db()
    assert (row.decision, new.state) == (Decision.KEPT_APART, State.REPORTED)
    # and the panel no longer offers it
    html = client.get(reverse("web:console:case", args=[new.number])).content.decode()
    assert f'id="candidate-{row.pk}"' not in html


def test_another_districts_dispatcher_gets_404(client, city, pair):
    _first, new, row = pair
    c = _login(client, city.siming_dispatcher)
    assert c.post(reverse("dedup:merge", args=[row.pk])).status_code == 404
    assert c.post(reverse("dedup:keep_apart", args=[row.pk])).status_code == 404
    assert c.post(reverse("dedup:unmerge", args=[new.number]), {"reason": "x"}).status_code == 404
    row.refresh_from_db()
    assert row.decision == Decision.PENDING


def test_decisions_are_posts_for_centre_staff_only(client, city, pair):
    _first, _new, row = pair
    assert _login(client, city.dispatcher).get(reverse("dedup:merge", args=[row.pk])).status_code == 405
    assert _login(client, city.cm_handler).post(reverse("dedup:merge", args=[row.pk])).status_code == 403
