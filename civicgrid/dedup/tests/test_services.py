"""The candidate search and its score: radius, window, category relation, text, address, open
states, per-category rules, scope and the batch form."""

import pytest
from django.test import override_settings

from civicgrid.cases import actions
from civicgrid.cases.models import Case
from civicgrid.cases.tests.conftest import SIMING_GRID
from civicgrid.dedup import services
from civicgrid.dedup.models import DedupRule

from .conftest import LAT, LON, T0, east, later

pytestmark = pytest.mark.django_db


def _find(category, *, text="井盖缺失", lon=LON, lat=LAT, at=T0, address="", **kwargs):
    return services.candidates(text=text, category_id=category.pk if category else None, lon=lon, lat=lat, at=at,
                               address=address, **kwargs)


def _numbers(found):
    return [c.number for c in found]


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)  # keep every report separate here
def test_the_radius_decides_who_is_a_candidate(file_report, cats):
    # given two open manhole reports, 100 m and 200 m east
    near = file_report("井盖缺失", cats.manhole, lon=east(100)[0])
    far = file_report("井盖缺失", cats.manhole, lon=east(200)[0])
    # when a report at the origin looks for candidates (default radius 150 m)
    found = _find(cats.manhole)
    # then only the near one is found, with its distance
    assert _numbers(found) == [near.number]
    assert found[0].reasons["distance_m"] == pytest.approx(100, abs=1)
    assert found[0].reasons["radius_m"] == 150
    # and a category rule with a 300 m radius finds both
    DedupRule.objects.create(category=cats.manhole, radius_m=300)
    services.forget_rules()  # as the admin does on a change
    assert set(_numbers(_find(cats.manhole))) == {near.number, far.number}


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_the_time_window_decides_who_is_a_candidate(file_report, cats):
    # given reports 71 h and 73 h before the new one, at the same spot
    recent = file_report("井盖缺失", cats.manhole, at=later(-71))
    old = file_report("井盖缺失", cats.manhole, at=later(-73))
    # when the new report looks (default window 72 h)
    found = _find(cats.manhole)
    # then only the recent one is a candidate, with the minutes apart
    assert _numbers(found) == [recent.number]
    assert found[0].reasons["minutes_apart"] == -71 * 60
    # and a window of 100 h from a category rule reaches the older one
    DedupRule.objects.create(category=cats.manhole, window_hours=100)
    services.forget_rules()
    assert set(_numbers(_find(cats.manhole))) == {recent.number, old.number}


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0, CIVICGRID_DEDUP_WINDOW_HOURS=10)
def test_the_window_default_comes_from_the_settings(file_report, cats):
    file_report("井盖缺失", cats.manhole, at=later(-11))
    assert _find(cats.manhole) == []


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_same_and_related_categories_only(file_report, cats):
    # given a lamp report (same major class 01) and a road report (class 06) at the same spot
    lamp = file_report("路灯不亮", cats.lamp)
    road = file_report("路面坑洼", cats.road)
    # when a manhole report looks
    found = {c.number: c for c in _find(cats.manhole)}
    # then the lamp is a related candidate and the road report is no candidate
    assert set(found) == {lamp.number}
    assert found[lamp.number].reasons["category"] == "related"
    # and a rule relating manholes to road damage brings the road report in (both ways)
    rule = DedupRule.objects.create(category=cats.road)
    rule.related.add(cats.manhole)
    services.forget_rules()
    assert set(_numbers(_find(cats.manhole))) == {lamp.number, road.number}


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_the_same_category_scores_above_a_related_one(file_report, cats):
    same = file_report("井盖缺失", cats.manhole)
    related = file_report("井盖缺失", cats.lamp)
    found = {c.number: c for c in _find(cats.manhole)}
    assert found[same.number].reasons["category"] == "same"
    assert found[same.number].score > found[related.number].score


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_similar_words_and_the_same_address_raise_the_score(file_report, cats):
    # given two reports at the same spot and time, one about a missing cover, one about something else
    alike = file_report("井盖不见了", cats.manhole, description="下水道盖子不见了，晚上很危险",
                        address="厦门市集美区杏林湾路诚毅广场东侧")
    other = file_report("井盖有异响", cats.manhole, description="车开过去咣当咣当响")
    # when a report about a missing cover at that address looks
    found = {c.number: c for c in _find(cats.manhole, text="市民来电反映：杏林湾路诚毅广场东侧井盖缺失，请尽快处理",
                                        address="集美区杏林湾路诚毅广场东侧")}
    # then the alike report scores higher: more words in common and the same address
    a, o = found[alike.number], found[other.number]
    assert a.reasons["text_similarity"] > o.reasons["text_similarity"]
    assert a.reasons["same_address"] is True and o.reasons["same_address"] is False
    assert a.score > o.score


def test_place_names_alone_do_not_make_words_alike():
    from civicgrid.dedup import text

    # given two different problems at one named spot
    a = text.grams("杏林湾路诚毅广场东侧路灯不亮")
    b = text.grams("杏林湾路诚毅广场东侧井盖缺失")
    # then the shared place name does not count as shared words
    assert text.similarity(a, b) == 0.0
    # while everyday and official words for one problem meet
    assert text.similarity(text.grams("盖子没了"), text.grams("井盖缺失")) > 0.5


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_only_open_cases_are_candidates_and_the_case_itself_is_not(file_report, cats, city):
    # given a rejected and an open report at the spot
    rejected = actions.reject_case(file_report("井盖缺失", cats.manhole), "重复", city.dispatcher)
    open_case = file_report("井盖缺失", cats.manhole)
    # when looking, then the rejected one is not a candidate
    assert _numbers(_find(cats.manhole)) == [open_case.number]
    assert rejected.state == "rejected"
    # and a case never finds itself
    assert _find(cats.manhole, exclude_case_id=open_case.pk) == []


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_the_search_can_be_scoped(file_report, cats):
    # given a report in 思明区 at (for this test) the same coordinates
    file_report("井盖缺失", cats.manhole, region_code=SIMING_GRID)
    # when the search is limited to 集美区's cases, then it finds nothing
    assert _find(cats.manhole, cases=Case.objects.filter(region_code__startswith="350211")) == []
    assert len(_find(cats.manhole)) == 1


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_without_a_point_only_the_same_grid_counts(file_report, cats):
    from civicgrid.cases.tests.conftest import GRID, OTHER_GRID

    here = file_report("井盖缺失", cats.manhole)
    file_report("井盖缺失", cats.manhole, region_code=OTHER_GRID)
    found = _find(cats.manhole, lon=None, lat=None, region_code=GRID)
    assert _numbers(found) == [here.number]
    assert found[0].reasons["distance_m"] is None and found[0].reasons["same_region"] is True


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_the_batch_form_matches_the_single_one_and_finds_duplicates_within_the_batch(file_report, cats):
    # given one open case at the origin
    existing = file_report("井盖缺失", cats.manhole)
    reports = [
        {"text": "井盖缺失", "category_id": cats.manhole.pk, "lon": LON, "lat": LAT, "at": later(1)},
        {"text": "路面坑洼", "category_id": cats.road.pk, "lon": east(1000)[0], "lat": LAT, "at": later(1)},
        {"text": "井盖丢了", "category_id": cats.manhole.pk, "lon": east(20)[0], "lat": LAT, "at": later(2)},
    ]
    # when the batch is checked
    batch = services.candidates_many(reports)
    # then each report gets what the single call finds …
    for report, found in zip(reports, batch, strict=True):
        single = services.candidates(**report)
        db_found = [c for c in found if c.batch_index is None]
        assert [(c.number, round(c.score, 6)) for c in db_found] == [(c.number, round(c.score, 6)) for c in single]
    assert _numbers(batch[0]) == [existing.number]
    assert batch[1] == []
    # … and the third report also finds the first report of the batch (an earlier row)
    within = [c for c in batch[2] if c.batch_index is not None]
    assert [(c.batch_index, c.case_id) for c in within] == [(0, None)]
    assert within[0].reasons["distance_m"] == pytest.approx(20, abs=1)


@override_settings(CIVICGRID_DEDUP_AUTO_MERGE_SCORE=2.0)
def test_a_rule_saved_in_the_admin_applies_at_once(file_report, cats, city, client):
    # given a report 200 m away, out of the default radius, and the rules already read
    far = file_report("井盖缺失", cats.manhole, lon=east(200)[0])
    assert _find(cats.manhole) == []
    # when an administrator sets a 300 m radius for the category in the admin
    from civicgrid.org.models import User

    client.force_login(User.objects.create_superuser("root", password="x"))
    r = client.post("/admin/dedup/deduprule/add/", {"category": cats.manhole.pk, "radius_m": 300, "window_hours": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    # then the next search uses it
    assert _numbers(_find(cats.manhole)) == [far.number]
