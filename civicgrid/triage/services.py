"""智能分拨 as a service for the rest of the platform.

``classify(text, region_code=…)`` → the best categories with confidence and the department the
responsibility matrix would send each to; ``classify_many(texts)`` → (category id, confidence)
lists, vectorised for bulk intake. Both use the active stored model, loaded once per process and
cached by its key; a process re-reads which model is active at most every
``CIVICGRID_CLASSIFIER_RECHECK_SECONDS``. With no model stored yet, a cold-start model is trained
from the taxonomy alone on first use and stored (and activated).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from civicgrid.triage import engine

_lock = threading.RLock()


@dataclass
class _Loaded:
    pk: int
    key: str
    version: int
    model: engine.TextModel
    categories: dict  # id → (kind, code, name, major_name)
    checked: float


_current: _Loaded | None = None


@dataclass(frozen=True)
class Prediction:
    """One proposed category: what it is, how sure the model is (0–1), and where it would go."""

    category_id: int
    kind: str
    code: str
    name: str
    major_name: str
    confidence: float
    lead_kind: str = ""  # the department kind the responsibility matrix names as lead
    department_id: int | None = None  # the one lead department serving the place, when clear
    department_name: str = ""


def forget() -> None:
    """Drop this process's cached model (after an activation, or between tests)."""
    global _current
    with _lock:
        _current = None


def _recheck_seconds() -> float:
    return float(getattr(settings, "CIVICGRID_CLASSIFIER_RECHECK_SECONDS", 30))


def _categories() -> dict:
    from civicgrid.taxonomy.models import Category

    return {pk: (kind, code, name, major) for pk, kind, code, name, major in
            Category.objects.values_list("pk", "kind", "code", "name", "major_name")}


def current() -> _Loaded | None:
    """The active model of this process (loading or cold-starting it when needed); ``None`` only
    when the taxonomy has fewer than two categories to choose from."""
    global _current
    loaded = _current
    if loaded is not None and time.monotonic() - loaded.checked < _recheck_seconds():
        return loaded
    from civicgrid.triage.models import ClassifierModel

    with _lock:
        row = ClassifierModel.objects.filter(is_active=True).values_list("pk", "key", "version").first()
        if row is None:
            from civicgrid.triage.actions import ensure_cold_start

            if ensure_cold_start() is None:
                return None
            row = ClassifierModel.objects.filter(is_active=True).values_list("pk", "key", "version").first()
        pk, key, version = row
        if _current is not None and _current.key == key:
            _current.checked = time.monotonic()
            return _current
        payload = ClassifierModel.objects.values_list("payload", flat=True).get(pk=pk)
        _current = _Loaded(pk, key, version, engine.TextModel.loads(payload), _categories(), time.monotonic())
        return _current


def describe(loaded: _Loaded, pairs) -> list[tuple[int, float, tuple]]:
    out = []
    for category_id, confidence in pairs:
        info = loaded.categories.get(category_id)
        if info is None:  # created after the model was loaded and unknown to it: refresh names once
            loaded.categories = _categories()
            info = loaded.categories.get(category_id)
        if info is not None:
            out.append((category_id, confidence, info))
    return out


def top_for_text(text: str, k: int = 3) -> tuple[int, list[dict]]:
    """(model version, best ``k`` as ``{"category", "kind", "code", "name", "confidence"}``) for
    one text, on the fast path and without department look-ups (the intake hook)."""
    loaded = current()
    if loaded is None or not (text or "").strip():
        return (loaded.version if loaded else 0), []
    pairs = loaded.model.top_k_one(text, k)
    return loaded.version, [
        {"category": cid, "kind": info[0], "code": info[1], "name": info[2], "confidence": round(p, 4)}
        for cid, p, info in describe(loaded, pairs)
    ]


def _department(category_id: int, region_code: str | None) -> tuple[str, int | None, str]:
    from civicgrid.org.selectors import departments_of_kind_for
    from civicgrid.taxonomy.models import Category
    from civicgrid.taxonomy.selectors import explain

    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        return "", None, ""
    explanation = explain(category, region_code or "")
    if explanation.ambiguous or not explanation.lead_kind:
        return "", None, ""
    if not region_code:
        return explanation.lead_kind, None, ""
    leads = departments_of_kind_for(explanation.lead_kind, region_code)
    if len(leads) == 1:
        return explanation.lead_kind, leads[0].pk, leads[0].name
    return explanation.lead_kind, None, ""


def classify(text: str, *, region_code: str | None = None, k: int = 3) -> list[Prediction]:
    """The best ``k`` categories for ``text``, most confident first, each with the lead department
    kind the responsibility matrix names and — with ``region_code`` — the one department of that
    kind serving the place (``department_id`` None when none or several do)."""
    loaded = current()
    if loaded is None or not (text or "").strip():
        return []
    out = []
    for category_id, confidence, (kind, code, name, major) in describe(loaded, loaded.model.top_k_one(text, k)):
        lead_kind, department_id, department_name = _department(category_id, region_code)
        out.append(Prediction(category_id, kind, code, name, major, round(confidence, 4), lead_kind,
                              department_id, department_name))
    return out


def classify_many(texts: list[str], k: int = 3) -> list[list[tuple[int, float]]]:
    """``[(category id, confidence), …]`` (best ``k``, best first) for each text, vectorised:
    thousands of texts a second. An empty text gets an empty list."""
    loaded = current()
    if loaded is None:
        return [[] for _ in texts]
    texts = list(texts)
    present = [i for i, t in enumerate(texts) if (t or "").strip()]
    results: list[list[tuple[int, float]]] = [[] for _ in texts]
    for start in range(0, len(present), 5000):
        chunk = present[start:start + 5000]
        for i, pairs in zip(chunk, loaded.model.top_k([texts[i] for i in chunk], k), strict=True):
            results[i] = pairs
    return results
