"""Dispatch classifier (智能分拨): held-out accuracy on the demo history, and prediction cost.

Trains a version as the scheduled retrain does, then prints ``evaluate_classifier --active``'s figures (top-1/top-3 on the held-out split of the two-year demo
history, per 大类, most confused pairs; targets 0.90 / 0.97), then the cost of one prediction on
the intake path (CPU per call after warm-up, target well under 1 ms) and the batch throughput of
``classify_many`` (target: thousands of texts a second), each next to its raw baseline: the bare
``LinearSVC.decision_function`` on already-built features. Asserts nothing.
"""

from __future__ import annotations

import gc
import time


def run() -> None:
    from civicgrid.bench.__main__ import _ensure_history
    from civicgrid.cases.models import Case
    from civicgrid.triage import services, training
    from civicgrid.triage.actions import train_classifier
    from civicgrid.triage.evaluation import evaluate, report

    _ensure_history()
    started = time.perf_counter()
    # Train as the scheduled retrain does (stored; activated when not worse), then measure the
    # active version on the held-out split: the figures of the model the intake below uses.
    result = train_classifier()
    print(f"train_classifier: v{result.model.version} in {time.perf_counter() - started:.1f} s "
          f"({'activated' if result.activated else 'not activated'}: {result.reason})")
    figures = evaluate(active=True)
    figures["seconds"] = result.model.seconds
    print("\n".join(report(figures)))

    texts = [training.case_text(t, d) for t, d in
             Case.objects.order_by("-pk").values_list("title", "description")[:20000]]
    if not texts:
        print("(no cases: no prediction figures)")
        return
    from civicgrid.triage import engine

    loaded = services.current()
    model = loaded.model
    # Training cut every history text already: forget those cuts, so the figures below include
    # jieba on texts seen for the first time (recurring clauses within the sample still hit).
    engine._cut_block.cache_clear()
    gc.collect()  # the training's garbage is not the intake's cost
    # One prediction at intake (top_for_text: the fast path, no department look-ups).
    for text in texts[:200]:
        services.top_for_text(text)
    sample = texts[:3000]
    cpu = time.process_time()
    for text in sample:
        services.top_for_text(text)
    per_call_ms = (time.process_time() - cpu) / len(sample) * 1000
    print(f"intake prediction (top_for_text, one text): {per_call_ms:.3f} ms CPU per call "
          f"(model v{loaded.version}, {model.weights.shape[1]} categories, {model.weights.nnz:,} weights)")
    # The batch service against the bare linear algebra on prebuilt features.
    batch = texts[:20000]
    engine._cut_block.cache_clear()
    wall = time.perf_counter()
    services.classify_many(batch)
    many = len(batch) / (time.perf_counter() - wall)
    features = model.features(batch)
    wall = time.perf_counter()
    (features @ model.weights).toarray()
    raw = len(batch) / (time.perf_counter() - wall)
    print(f"classify_many: {many:,.0f} texts/s (tokenize + features + scores + top-3); "
          f"raw scores on prebuilt features: {raw:,.0f} texts/s")
