"""The demo history's report texts: deterministic, varied, readable, no template leaks."""

import random
import re
from collections import Counter

import pytest

from civicgrid.demo import history_text as ht
from civicgrid.taxonomy.actions import load_standard_categories
from civicgrid.taxonomy.models import Category

COMMON = [("matter", "06010"), ("matter", "06013"), ("matter", "01023"), ("matter", "09006"),
          ("matter", "09009"), ("matter", "06028"), ("matter", "08001"), ("governance", "91002"),
          ("governance", "92001"), ("governance", "94001"), ("matter", "06027"), ("governance", "91003")]


def test_the_same_seed_gives_the_same_texts():
    # given two generators with the same seed
    first, second = random.Random(42), random.Random(42)
    # when both write a report for every covered category in every register
    a = [ht.report_text(key, first, register=r) for key in ht.COVERED_CATEGORIES for r in ht.REGISTERS]
    b = [ht.report_text(key, second, register=r) for key in ht.COVERED_CATEGORIES for r in ht.REGISTERS]
    # then they wrote exactly the same, and another seed writes something else
    assert a == b
    c = [ht.report_text(key, random.Random(43), register=r) for key in ht.COVERED_CATEGORIES for r in ht.REGISTERS]
    assert a != c


def test_enough_categories_are_covered_and_all_of_them_exist_in_the_taxonomy(db):
    # given the standard categories
    load_standard_categories()
    known = set(Category.objects.values_list("kind", "code"))
    # then the generator covers 60–100 of them, each a real category with enough phrasings
    assert 60 <= len(ht.COVERED_CATEGORIES) <= 100
    assert set(ht.COVERED_CATEGORIES) <= known
    assert all(ht.template_count(key) >= 8 for key in ht.COVERED_CATEGORIES)


@pytest.mark.parametrize("key", COMMON)
def test_a_common_category_is_written_in_many_different_ways(key):
    # given 200 reports about one common category, over all registers
    rng = random.Random(7)
    texts = [ht.compose(key, rng, register=rng.choice(ht.REGISTERS)) for _ in range(200)]
    # then at least 8 hand-written phrasings were used, and most descriptions are unique
    assert len({t.template for t in texts}) >= 8
    assert len({t.description for t in texts}) >= 150


def test_no_placeholder_leaks_and_no_empty_texts():
    # given a few reports per category, register and place
    rng = random.Random(1)
    places = [None, ht.Place("集美区", "侨英街道", "浒井社区"), ht.Place("思明区", "", ""), ht.Place("", "", "")]
    for key in ht.COVERED_CATEGORIES:
        for register in ht.REGISTERS:
            for place in places:
                for _ in range(3):
                    title, description = ht.report_text(key, rng, register=register, place=place)
                    # then nothing of the template shows and both parts say something
                    assert not re.search(r"[{}]", title + description), (key, title, description)
                    assert 2 <= len(title) <= 120
                    assert len(description) >= 6


def test_most_texts_do_not_name_the_category(db):
    # given the category names
    load_standard_categories()
    names = {(c.kind, c.code): c.name for c in Category.objects.all()}
    rng = random.Random(3)
    # when writing 40 citizen or hotline reports per category
    named = total = 0
    for key in ht.COVERED_CATEGORIES:
        stem = names[key].removesuffix("异常")
        for _ in range(40):
            text = ht.report_text(key, rng, register=rng.choice([ht.CITIZEN, ht.HOTLINE]))[1]
            named += stem in text
            total += 1
    # then only a small share say the category's name in the description
    assert named / total < 0.15


def test_common_words_are_missing_from_a_good_share_of_texts():
    # given reports about potholes, manholes and rubbish in citizens' and operators' words
    rng = random.Random(5)
    for key, word in ((("matter", "06013"), "坑"), (("matter", "01023"), "井盖"), (("matter", "06010"), "垃圾")):
        texts = [ht.report_text(key, rng, register=rng.choice([ht.CITIZEN, ht.HOTLINE]))[1] for _ in range(300)]
        # then a good share never uses the obvious word (other phrasing, or a typo)
        assert sum(word not in t for t in texts) / len(texts) >= 0.15, key


def test_citizen_texts_carry_typos_and_mixed_requests_now_and_then():
    # given many citizen reports
    rng = random.Random(11)
    texts = [ht.report_text(key, rng)[1] for key in ht.COVERED_CATEGORIES for _ in range(20)]
    typos = {wrong for _right, wrong in ht._TYPOS if len(wrong) > 1}
    # then some have a typical input-method slip, and some mix in a second matter
    with_typo = sum(any(w in t for w in typos) for t in texts)
    mixed = sum(any(m in t for m in ("另外，", "还有，", "顺便反映一下", "另：", "还有一个事")) for t in texts)
    assert 0.03 <= with_typo / len(texts) <= 0.3
    assert 0.02 <= mixed / len(texts) <= 0.15


def test_places_follow_the_given_district():
    # given reports placed in 集美区
    rng = random.Random(9)
    jimei_roads = "|".join(ht.PLACES["roads"]["集美"])
    other_roads = [r for d, roads in ht.PLACES["roads"].items() if d != "集美" for r in roads
                   if r not in ht.PLACES["roads"]["集美"]]
    texts = [ht.report_text(("matter", "06013"), rng, register=ht.FIELD, place=ht.Place("集美区", "侨英街道", "浒井社区"))[1]
             for _ in range(100)]
    # then they name Jimei roads and never another district's
    assert sum(bool(re.search(jimei_roads, t)) for t in texts) >= 50
    assert not [t for t in texts if any(r in t for r in other_roads)]


def test_registers_read_differently():
    # given the same category in each register
    rng = random.Random(2)
    hotline = [ht.report_text(("matter", "06010"), rng, register=ht.HOTLINE)[1] for _ in range(50)]
    sensor = [ht.report_text(("matter", "06042"), rng, register=ht.SENSOR)[1] for _ in range(20)]
    # then operators write about the caller, sensors report a device
    assert all(re.match(r"^(来电|市民|来访)", t) for t in hotline)
    assert all("设备" in t for t in sensor)
    assert Counter(len(t) > 40 for t in hotline)[True] >= 30
