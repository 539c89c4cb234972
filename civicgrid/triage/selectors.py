"""Reads of the dispatch classifier. Model versions are platform data (no jurisdiction); a case's
prediction is read only for a case the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.triage.models import CasePrediction, ClassifierModel


def model_versions() -> QuerySet[ClassifierModel]:
    return ClassifierModel.objects.defer("payload").order_by("-version")


def active_model() -> ClassifierModel | None:
    return ClassifierModel.objects.defer("payload").filter(is_active=True).first()


def prediction_for(user, case) -> CasePrediction | None:
    """The classifier's proposal for ``case`` (already obtained through a scoped selector), or
    ``None``; checked against ``user``'s visible cases again so a caller cannot widen the scope."""
    from civicgrid.cases.selectors import cases_for

    if not cases_for(user).filter(pk=case.pk).exists():
        return None
    return CasePrediction.objects.filter(case_id=case.pk).first()


def proposals_for(user, case) -> tuple[CasePrediction | None, list[dict]]:
    """The prediction stored for ``case`` and its best three with where each would go at the
    case's place: ``{"category", "kind", "code", "name", "confidence", "percent", "department",
    "lead_kind", "is_current"}``."""
    from civicgrid.org.models import DepartmentKind
    from civicgrid.triage.services import _department

    prediction = prediction_for(user, case)
    if prediction is None:
        return None, []
    kinds = dict(DepartmentKind.choices)
    out = []
    for item in prediction.top:
        lead_kind, _department_id, department_name = _department(item["category"], case.region_code)
        out.append({**item, "percent": round(item["confidence"] * 100), "department": department_name,
                    "lead_kind": str(kinds.get(lead_kind, lead_kind)), "is_current": item["category"] == case.category_id})
    return prediction, out
