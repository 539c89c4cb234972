"""Where the classifier's examples come from, and one training run with its held-out figures.

Examples are (text, category id, weight):

- **taxonomy phrases** (cold start): each active category's name, its 大类 name with its name, its
  keywords one by one and together, and its description; always in training, never held out;
- **confirmed cases**: cases whose category a person set or confirmed. The timeline's ``file``
  event (立案) records the category in ``data["category"]``: filed by a dispatcher (the event has
  an actor) it is a person's decision — a confirmation when it equals what the classifier proposed
  at intake (``CasePrediction``), a correction otherwise (weighted double). Filed without an actor
  (the auto-dispatch rule) it counts only when the category came with the report (chosen by the
  reporter, a grid worker or a channel's code mapping) and not from the classifier: the model never
  learns from its own unconfirmed guesses.

The held-out split is fixed by the case's key (a hash, about ``HELDOUT_PERCENT`` of cases), so a
case is held out for every version: two versions are compared on the same cases, and a held-out
case never leaks into any version's training.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from civicgrid.cases.models import CaseEvent
from civicgrid.cases.workflow import Action
from civicgrid.taxonomy.keywords import split_keywords
from civicgrid.taxonomy.models import Category
from civicgrid.triage import engine

HELDOUT_PERCENT = 20
CORRECTION_WEIGHT = 2.0


@dataclass(frozen=True)
class Example:
    text: str
    category_id: int
    weight: float = 1.0
    case_id: int | None = None
    event_id: int = 0
    corrected: bool = False  # a dispatcher chose another category than the classifier's best


def category_text(category) -> list[str]:
    """The phrases one category contributes to training (cold start)."""
    keywords = split_keywords(category.keywords)
    phrases = [category.name, f"{category.major_name}{category.name}" if category.major_name else ""]
    phrases += keywords
    if keywords:
        phrases.append("、".join(keywords[:12]))
    if category.description:
        phrases.append(category.description)
    return [p for p in dict.fromkeys(phrases) if p.strip()]


def active_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True).order_by("pk"))


def taxonomy_examples(categories: list[Category]) -> list[Example]:
    return [Example(text, c.pk) for c in categories for text in category_text(c)]


def taxonomy_fingerprint(categories: list[Category]) -> str:
    """Changes whenever anything the cold-start model learns from changes (keys aside: the same
    taxonomy loaded into another database gives the same fingerprint)."""
    digest = hashlib.sha256()
    for c in sorted(categories, key=lambda c: (c.kind, c.code)):
        digest.update(f"{c.kind}|{c.code}|{c.major_name}|{c.name}|{c.keywords}|{c.description}\n".encode())
    return digest.hexdigest()


def relabel(model: engine.TextModel, categories: list[Category]) -> engine.TextModel:
    """``model`` (a cold start fitted on a taxonomy with the same fingerprint) with its labels
    mapped onto ``categories``' keys by (kind, code)."""
    import dataclasses

    import numpy as np

    code_of = getattr(model, "codes", None)
    if code_of is None:
        return model
    key_of = {(c.kind, c.code): c.pk for c in categories}
    return dataclasses.replace(model, labels=np.array([key_of[k] for k in code_of], dtype=np.int64))


def case_text(title: str, description: str) -> str:
    title, description = (title or "").strip(), (description or "").strip()
    if description.startswith(title):
        return description
    return f"{title}\n{description}".strip()


def is_heldout(case_id: int, percent: int = HELDOUT_PERCENT) -> bool:
    digest = hashlib.blake2b(str(case_id).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 100 < percent


def latest_label_id() -> int:
    """The newest ``file`` event: new ones mean there is something new to learn."""
    return CaseEvent.objects.filter(action=Action.FILE).order_by("-pk").values_list("pk", flat=True).first() or 0


def confirmed_examples(active_ids: set[int]) -> list[Example]:
    """One example per case whose category a person set or confirmed (see the module docstring)."""
    from civicgrid.triage.models import CasePrediction

    predictions = {case_id: (applied, top[0]["category"] if top else None)
                   for case_id, applied, top in CasePrediction.objects.values_list("case_id", "applied", "top")}
    latest: dict[int, Example] = {}
    rows = (CaseEvent.objects.filter(action=Action.FILE).order_by("pk")
            .values_list("pk", "case_id", "actor_id", "data", "case__title", "case__description"))
    for event_id, case_id, actor_id, data, title, description in rows.iterator(chunk_size=5000):
        category_id = (data or {}).get("category")
        if category_id not in active_ids:
            continue
        applied, proposed = predictions.get(case_id, (False, None))
        if actor_id is None and applied:
            continue  # the classifier's own guess, filed by the rule: nobody confirmed it
        corrected = actor_id is not None and proposed is not None and proposed != category_id
        latest[case_id] = Example(case_text(title, description), category_id,
                                  CORRECTION_WEIGHT if corrected else 1.0, case_id, event_id, corrected)
    return list(latest.values())


@dataclass
class Run:
    """One training run: the model and what it was trained and measured on."""

    model: engine.TextModel
    examples: int
    cases: int
    categories: int
    heldout: list[Example] = field(default_factory=list)
    evaluation: engine.Evaluation | None = None
    last_label_id: int = 0
    seconds: float = 0.0
    corrections: int = 0


def group_names(categories: list[Category]) -> dict[int, str]:
    """Category id → its 大类 (``kind:major_code major_name``) for the per-group figures."""
    return {c.pk: f"{c.kind}:{c.major_code} {c.major_name}".strip() for c in categories}


def max_per_category() -> int:
    return int(getattr(settings, "CIVICGRID_CLASSIFIER_MAX_PER_CATEGORY", 150))


def train(*, categories: list[Category] | None = None, use_cases: bool = True) -> Run:
    """Fit a model on the taxonomy phrases and (``use_cases``) the confirmed cases outside the
    held-out split, newest first and at most ``CIVICGRID_CLASSIFIER_MAX_PER_CATEGORY`` distinct
    texts per category; measure it on the held-out cases."""
    started = time.perf_counter()
    categories = active_categories() if categories is None else categories
    phrases = taxonomy_examples(categories)
    last_label = latest_label_id() if use_cases else 0
    confirmed = confirmed_examples({c.pk for c in categories}) if use_cases else []
    heldout = [e for e in confirmed if is_heldout(e.case_id)]
    learn = [e for e in confirmed if not is_heldout(e.case_id)]
    # Newest first, one example per distinct text and category, at most ``cap`` per category:
    # field reports repeat themselves, and recent decisions say most about today's wording.
    cap, kept, seen = max_per_category(), defaultdict(int), set()
    chosen = []
    for example in sorted(learn, key=lambda e: -e.event_id):
        key = (example.text, example.category_id)
        if key in seen or kept[example.category_id] >= cap:
            continue
        seen.add(key)
        kept[example.category_id] += 1
        chosen.append(example)
    training = phrases + chosen
    model = engine.fit([e.text for e in training], [e.category_id for e in training],
                       sample_weight=[e.weight for e in training])
    kind_code = {c.pk: (c.kind, c.code) for c in categories}
    model.codes = [kind_code[int(label)] for label in model.labels]
    evaluation = None
    if heldout:
        texts, labels = [e.text for e in heldout], [e.category_id for e in heldout]
        model.scale = engine.fit_scale(model, texts, labels)
        evaluation = engine.evaluate(model, texts, labels, group_names(categories))
    return Run(model=model, examples=len(training), cases=len(chosen), categories=len(set(model.labels.tolist())),
               heldout=heldout, evaluation=evaluation, last_label_id=last_label,
               seconds=round(time.perf_counter() - started, 2), corrections=sum(e.corrected for e in chosen))
