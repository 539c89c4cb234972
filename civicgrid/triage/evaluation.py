"""``evaluate_classifier``: top-1 and top-3 on the held-out split of history, per 大类, and the most
confused pairs — shared by the command, ``make bench`` and the tests."""

from __future__ import annotations

from civicgrid.taxonomy.models import Category
from civicgrid.triage import engine, training
from civicgrid.triage.models import ClassifierModel


def evaluate(*, active: bool = False, confusions: int = 10) -> dict:
    """Fit a model on the training split (as ``train_classifier`` would) and measure it on the
    held-out split; with ``active``, measure the active stored model on the same held-out cases
    instead. Returns the figures and the counts behind them (nothing is stored)."""
    categories = training.active_categories()
    names = {c.pk: f"{c.kind}:{c.code} {c.name}" for c in categories}
    if active:
        row = ClassifierModel.objects.filter(is_active=True).first()
        if row is None:
            raise ValueError("No active classifier model.")
        model = engine.TextModel.loads(row.payload)
        heldout = [e for e in training.confirmed_examples({c.pk for c in categories}) if training.is_heldout(e.case_id)]
        result = engine.evaluate(model, [e.text for e in heldout], [e.category_id for e in heldout],
                                 training.group_names(categories), confusions)
        info = {"model": f"v{row.version}", "training_examples": row.examples, "training_cases": row.cases,
                "seconds": 0.0}
    else:
        run = training.train(categories=categories)
        if run.evaluation is None:
            raise ValueError("No held-out cases: no case has a category set or confirmed by a person yet.")
        result = engine.evaluate(run.model, [e.text for e in run.heldout], [e.category_id for e in run.heldout],
                                 training.group_names(categories), confusions)
        info = {"model": "fresh fit", "training_examples": run.examples, "training_cases": run.cases,
                "seconds": run.seconds}
    figures = result.as_dict()
    figures["confusions"] = [{**c, "true_name": names.get(c["true"], "?"), "predicted_name": names.get(c["predicted"], "?")}
                             for c in figures["confusions"]]
    figures["categories_seen"] = len({e for e in Category.objects.filter(is_active=True).values_list("pk", flat=True)})
    return {**info, **figures}


def report(figures: dict) -> list[str]:
    """The figures as lines of text."""
    lines = [
        f"model: {figures['model']} · trained on {figures['training_examples']:,} examples "
        f"({figures['training_cases']:,} confirmed cases) · {figures['seconds']:.1f} s",
        f"held-out cases: {figures['examples']:,}",
        f"top-1: {figures['top1']:.4f}   top-3: {figures['top3']:.4f}   (targets 0.90 / 0.97)",
        "",
        "per major class (大类)                        cases   top-1   top-3",
    ]
    for group, stats in figures["per_group"].items():
        lines.append(f"  {group:<40}{stats['examples']:>7}  {stats['top1']:.4f}  {stats['top3']:.4f}")
    lines += ["", "most confused pairs (true → predicted: count)"]
    for c in figures["confusions"]:
        lines.append(f"  {c['true_name']} → {c['predicted_name']}: {c['count']}")
    return lines
