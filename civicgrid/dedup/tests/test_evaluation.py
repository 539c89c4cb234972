"""The labelled evaluation of automatic merging (``manage.py evaluate_dedup``) and its data."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from civicgrid.dedup import evaluation


def test_the_evaluation_set_is_large_and_hard():
    pairs = evaluation.load_pairs()
    kinds = Counter(p["kind"] for p in pairs)
    channels = Counter(frozenset((p["a"]["channel"], p["b"]["channel"])) for p in pairs if p["label"])
    # at least 300 pairs, a large share of them different incidents close together
    assert len(pairs) >= 300
    assert sum(1 for p in pairs if not p["label"]) >= len(pairs) / 3
    assert {"next_street", "other_category", "weeks_apart", "same_incident"} <= set(kinds)
    # and the same incident seen through every pair of channels
    assert {frozenset(("hotline_12345", "grid_patrol")), frozenset(("hotline_12345", "web")),
            frozenset(("grid_patrol", "web"))} <= set(channels)


def test_automatic_merging_meets_its_target_at_the_configured_threshold():
    # when the evaluation runs with --check (fails below precision 0.98 / recall 0.8)
    out = StringIO()
    call_command("evaluate_dedup", "--check", stdout=out)
    # then it reports the figures and the curve
    text = out.getvalue()
    assert "precision" in text and "recall" in text and "threshold" in text


def test_the_check_fails_when_the_threshold_is_too_low():
    # a threshold that merges nearly everything close by cannot keep precision
    with pytest.raises(CommandError, match="below target"):
        call_command("evaluate_dedup", "--check", "--threshold", "0.3", stdout=StringIO())


def test_a_pair_outside_the_window_is_never_merged():
    pairs = [p for p in evaluation.load_pairs() if p["kind"] == "weeks_apart"]
    assert pairs and all(evaluation.score_pair(p["a"], p["b"])[0] is None for p in pairs)
