"""Every write of the dispatch classifier: storing and activating model versions, the cold start,
the scheduled retrain, and the prediction made when a case arrives without a category."""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from civicgrid.triage import engine, services, training
from civicgrid.triage.models import CasePrediction, ClassifierModel, ModelSource

logger = logging.getLogger(__name__)

# Cold-start models by taxonomy fingerprint (names and keywords, not keys): a process (or a test
# run) fits one taxonomy once; the payloads by fingerprint and category keys.
_cold_models: dict[str, engine.TextModel] = {}
_cold_cache: dict[tuple, bytes] = {}
_cold_lock = threading.Lock()


def threshold() -> float:
    return float(getattr(settings, "CIVICGRID_CLASSIFIER_THRESHOLD", 0.8))


def _store(run: training.Run, source: str, payload: bytes, note: str = "") -> ClassifierModel:
    evaluation = run.evaluation
    for _attempt in range(3):
        try:
            with transaction.atomic():
                version = (ClassifierModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
                return ClassifierModel.objects.create(
                    version=version, key=secrets.token_hex(16), source=source, trained_at=timezone.now(),
                    examples=run.examples, cases=run.cases, categories=run.categories,
                    heldout_examples=evaluation.examples if evaluation else 0,
                    top1=evaluation.top1 if evaluation else None, top3=evaluation.top3 if evaluation else None,
                    per_major=evaluation.per_group if evaluation else {},
                    confusions=evaluation.confusions if evaluation else [],
                    last_label_id=run.last_label_id, seconds=run.seconds, note=note[:300],
                    payload=payload, payload_bytes=len(payload),
                )
        except IntegrityError:  # another process stored the same version number meanwhile
            continue
    raise RuntimeError("Could not store the classifier model.")


def activate(model: ClassifierModel) -> ClassifierModel:
    """Make ``model`` the one active version (the previous one stays stored)."""
    with transaction.atomic():
        locked = ClassifierModel.objects.select_for_update().get(pk=model.pk)
        ClassifierModel.objects.filter(is_active=True).exclude(pk=locked.pk).update(is_active=False)
        locked.is_active, locked.activated_at = True, timezone.now()
        locked.save(update_fields=["is_active", "activated_at"])
    services.forget()
    return locked


def ensure_cold_start() -> ClassifierModel | None:
    """The active model, or — when none is stored — a cold-start model fitted on the taxonomy
    alone, stored and activated. ``None`` when fewer than two categories exist."""
    active = ClassifierModel.objects.filter(is_active=True).first()
    if active is not None:
        return active
    categories = training.active_categories()
    if len(categories) < 2:
        return None
    fingerprint = training.taxonomy_fingerprint(categories)
    ids = tuple(c.pk for c in categories)
    with _cold_lock:
        payload = _cold_cache.get((fingerprint, ids))
        if payload is None:
            fitted = _cold_models.get(fingerprint)
            if fitted is None:
                fitted = _cold_models[fingerprint] = training.train(categories=categories, use_cases=False).model
            # The same taxonomy under other keys (another database): the same model, relabelled.
            if len(_cold_cache) >= 8:
                _cold_cache.clear()
            payload = _cold_cache[(fingerprint, ids)] = training.relabel(fitted, categories).dumps()
    run = training.Run(model=None, examples=len(training.taxonomy_examples(categories)), cases=0,
                       categories=len(categories))
    with transaction.atomic():
        if ClassifierModel.objects.select_for_update().filter(is_active=True).exists():
            return ClassifierModel.objects.get(is_active=True)
        stored = _store(run, ModelSource.COLD_START, payload, "Fitted on category names and keywords only.")
        try:
            with transaction.atomic():
                return activate(stored)
        except IntegrityError:  # another process activated its cold start first
            return ClassifierModel.objects.get(is_active=True)


@dataclass
class TrainResult:
    model: ClassifierModel
    activated: bool
    reason: str
    active_top1: float | None = None  # the previously active model on the same held-out cases
    active_top3: float | None = None


def train_classifier(*, force: bool = False) -> TrainResult:
    """Train a new version on the taxonomy and the confirmed cases and store it; activate it when
    its held-out figures are not worse than the active version's on the same held-out cases (or
    when ``force``, or when the active one is a cold start)."""
    run = training.train()
    payload = run.model.dumps()
    active = ClassifierModel.objects.filter(is_active=True).first()
    active_top1 = active_top3 = None
    reason = "forced" if force else "first"
    better = True
    if active is not None and not force:
        if run.evaluation is None:
            better, reason = False, "no held-out cases to compare"
        elif active.source == ModelSource.COLD_START:
            reason = "replaces the cold start"
        else:
            previous = engine.TextModel.loads(active.payload)
            texts = [e.text for e in run.heldout]
            labels = [e.category_id for e in run.heldout]
            baseline = engine.evaluate(previous, texts, labels)
            active_top1, active_top3 = baseline.top1, baseline.top3
            better = run.evaluation.top1 >= baseline.top1 and run.evaluation.top3 >= baseline.top3
            reason = (f"held-out top-1 {run.evaluation.top1:.4f} vs {baseline.top1:.4f}, "
                      f"top-3 {run.evaluation.top3:.4f} vs {baseline.top3:.4f}")
    note = f"{reason}; {run.corrections} corrections among {run.cases} cases"
    stored = _store(run, ModelSource.TRAINED, payload, note)
    if better:
        stored = activate(stored)
    return TrainResult(stored, better, reason, active_top1, active_top3)


def retrain_if_due() -> TrainResult | None:
    """The scheduled retrain: only when enough new filings arrived since the latest version was
    trained (``CIVICGRID_CLASSIFIER_RETRAIN_MIN_NEW``), or no trained version exists yet and
    confirmed cases do. Idempotent: a second run right after the first does nothing."""
    # Since the latest trained version, activated or not: a version that lost to the active one
    # is not retrained every hour on the same cases.
    since = (ClassifierModel.objects.filter(source=ModelSource.TRAINED)
             .aggregate(last=Max("last_label_id"))["last"] or 0)
    latest = training.latest_label_id()
    if latest == 0 or latest <= since:
        return None
    from civicgrid.cases.models import CaseEvent
    from civicgrid.cases.workflow import Action

    fresh = CaseEvent.objects.filter(action=Action.FILE, pk__gt=since).count()
    if since and fresh < int(getattr(settings, "CIVICGRID_CLASSIFIER_RETRAIN_MIN_NEW", 50)):
        return None
    return train_classifier()


def classify_new_case(case) -> CasePrediction | None:
    """At intake (上报): a case without a category but with words gets the classifier's best three
    stored for the dispatcher; when the best is at least ``CIVICGRID_CLASSIFIER_THRESHOLD`` sure,
    it becomes the case's category (routing and auto-dispatch then work as for a chosen category),
    otherwise the case waits for a person. Called inside ``report_case``'s transaction."""
    if case.category_id is not None or not getattr(settings, "CIVICGRID_CLASSIFY_AT_INTAKE", True):
        return None
    text = training.case_text(case.title, case.description)
    if not text:
        return None
    version, top = services.top_for_text(text, 3)
    if not top:
        return None
    limit = threshold()
    applied = top[0]["confidence"] >= limit
    if applied:
        from civicgrid.cases import reference

        category = reference.current().category(top[0]["category"])
        applied = category is not None and category.is_active
        if applied:
            case.category = category
            case.save(update_fields=["category", "updated_at"])
    return CasePrediction.objects.create(case=case, version=version, top=top, threshold=limit, applied=applied)
