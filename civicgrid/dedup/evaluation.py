"""Measuring automatic merging on labelled report pairs (``data/evaluation_pairs.jsonl``).

Each pair is two would-be reports and whether they describe the same incident. A pair is merged
automatically when the second report would find the first as a candidate (radius, window,
category relation at the platform defaults) with a score at or above the threshold; the figures
are the precision and recall of that decision. The scoring is the service's own
(``civicgrid.dedup.services``): only the database lookup is replaced by the pair itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from civicgrid.dedup import services
from civicgrid.dedup import text as textsim

PAIRS_FILE = Path(__file__).with_name("data") / "evaluation_pairs.jsonl"


def load_pairs(path: Path | str = PAIRS_FILE) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score_pair(a: dict, b: dict) -> tuple[float | None, dict]:
    """The score report ``b`` gives report ``a`` as a candidate, or None when ``a`` is no
    candidate at all (too far, too long ago, unrelated category)."""
    info = services._CategoryInfo(kind=b["kind"], major=b.get("major", ""), radius_m=services.default_radius_m(),
                                  window_h=services.default_window_hours())
    relation = services._relation(info, (b["kind"], b["code"]), (a["kind"], a["code"]), a["kind"], a.get("major", ""))
    distance = float(services._distance_m(b["lon"], b["lat"], a["lon"], a["lat"]))
    minutes = (datetime.fromisoformat(a["at"]) - datetime.fromisoformat(b["at"])).total_seconds() / 60.0
    if relation is None or distance > info.radius_m or abs(minutes) > info.window_h * 60:
        return None, {"distance_m": round(distance, 1), "minutes_apart": int(minutes), "category": relation}
    parts = dict(distance_m=distance, radius_m=info.radius_m, same_region=False, minutes=minutes,
                 window_h=info.window_h, relation=relation,
                 text_sim=textsim.similarity(textsim.grams(b["text"], b.get("address", "")),
                                                     textsim.grams(a["text"], a.get("address", ""))),
                 same_address=textsim.same_address(b.get("address", ""), a.get("address", "")))
    return services._score(**parts), services._reasons(**parts)


@dataclass
class Figures:
    threshold: float
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float:
        merged = self.true_pos + self.false_pos
        return self.true_pos / merged if merged else 1.0

    @property
    def recall(self) -> float:
        same = self.true_pos + self.false_neg
        return self.true_pos / same if same else 1.0


def scored(pairs: list[dict]) -> list[tuple[dict, float | None, dict]]:
    return [(p, *score_pair(p["a"], p["b"])) for p in pairs]


def figures_at(scores: list[tuple[dict, float | None, dict]], threshold: float) -> Figures:
    tp = fp = fn = tn = 0
    for pair, score, _reasons in scores:
        merged = score is not None and score >= threshold
        if pair["label"]:
            tp, fn = (tp + 1, fn) if merged else (tp, fn + 1)
        else:
            fp, tn = (fp + 1, tn) if merged else (fp, tn + 1)
    return Figures(threshold, tp, fp, fn, tn)


def curve(scores, thresholds=None) -> list[Figures]:
    thresholds = thresholds or [round(0.30 + 0.05 * i, 2) for i in range(14)]
    return [figures_at(scores, t) for t in thresholds]
