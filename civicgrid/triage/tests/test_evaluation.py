"""``evaluate_classifier`` on a small history written by the demo's own report generator: it
reports sane held-out figures, per 大类 and the most confused pairs."""

import io
import json
import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from civicgrid.cases.models import Case, CaseEvent, Channel
from civicgrid.cases.workflow import Action, State
from civicgrid.demo import history_text
from civicgrid.demo.history import CATEGORY_WEIGHTS
from civicgrid.taxonomy.actions import load_standard_categories
from civicgrid.taxonomy.models import Category
from civicgrid.triage import training
from civicgrid.triage.evaluation import report
from civicgrid.triage.tests.conftest import GRID

CASES = 1500
REGISTERS = [history_text.CITIZEN] * 3 + [history_text.HOTLINE] * 4 + [history_text.FIELD] * 3


@pytest.fixture
def small_history(city):
    """``CASES`` reports over the demo history's category mix, each filed by the dispatcher."""
    load_standard_categories()
    categories = {(c.kind, c.code): c for c in Category.objects.all()}
    keys = [k for k in history_text.COVERED_CATEGORIES if k in CATEGORY_WEIGHTS]
    weights = [CATEGORY_WEIGHTS[k] for k in keys]
    rng = random.Random(2026)
    now = timezone.now()
    place = history_text.Place("集美区", "集美街道", "岑西社区")
    drafts = []
    for n in range(CASES):
        key = rng.choices(keys, weights)[0]
        text = history_text.compose(key, rng, register=rng.choice(REGISTERS), place=place)
        drafts.append(Case(number=f"T-{n:05d}", channel=Channel.WEB, title=text.title[:200],
                           description=text.description, region_code=GRID, state=State.FILED,
                           category=categories[key], reported_at=now, filed_at=now))
    cases = Case.objects.bulk_create(drafts)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=c, actor=city.dispatcher, at=now, action=Action.FILE, from_state=State.REPORTED,
                  to_state=State.FILED, data={"category": c.category_id, "urgency": c.urgency})
        for c in cases
    ])
    return cases


@pytest.mark.slow
def test_the_evaluation_reports_sane_held_out_figures(small_history):
    # when the classifier is evaluated on the held-out split
    out = io.StringIO()
    call_command("evaluate_classifier", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    # then it was measured on the held-out share of the history only (about a fifth, never trained on)
    heldout = sum(training.is_heldout(c.pk) for c in small_history)
    assert figures["examples"] == heldout and 0.1 * CASES < heldout < 0.3 * CASES
    assert figures["training_cases"] <= CASES - heldout
    # with figures that make sense: top-3 at least top-1, both well above chance among 439 categories
    assert 0.5 < figures["top1"] <= figures["top3"] <= 1.0
    # per 大类, adding up to the whole
    assert sum(g["examples"] for g in figures["per_group"].values()) == heldout
    assert all(0 <= g["top1"] <= g["top3"] <= 1 for g in figures["per_group"].values())
    # and the most confused pairs named, most frequent first, each a real confusion
    pairs = figures["confusions"]
    assert pairs == sorted(pairs, key=lambda p: -p["count"])
    assert all(p["true"] != p["predicted"] and p["count"] >= 1 and p["true_name"] != "?" for p in pairs)
    # and the command's text report says the same
    text = "\n".join(report(figures))
    assert f"top-1: {figures['top1']:.4f}" in text and "per major class" in text
