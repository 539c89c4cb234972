"""智能派单: which departments the responsibility matrix names for a case, and whether that answer is
clear enough to dispatch without a person.

A case is dispatched automatically only when every link holds: a category and a place, one
unambiguous matrix rule, exactly one active department of the lead kind serving the place, exactly
one for each assisting kind, and a category marked ``auto_dispatch``. Otherwise the suggestion (and
why it stopped short) waits with the case in its centre's queue.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation

from civicgrid.org.selectors import departments_of_kinds_for

# Why a suggestion was not dispatched automatically (``ready``: it was, or would be).
READY = "ready"
NO_CATEGORY = "no_category"
NO_RULE = "no_rule"
AMBIGUOUS = "ambiguous"
NO_LEAD_DEPARTMENT = "no_lead_department"
SEVERAL_LEAD_DEPARTMENTS = "several_lead_departments"
ASSISTING_UNRESOLVED = "assisting_unresolved"
AUTO_DISPATCH_OFF = "auto_dispatch_off"


def suggest(case) -> dict:
    """The matrix's answer for ``case`` as stored in ``Case.routing_suggestion`` (JSON):
    ``lead_department`` (pk or None), ``lead_candidates``, ``assisting_departments`` (pks),
    ``unresolved_assisting_kinds``, ``rule`` (pk or None), ``lead_kind``, ``assisting_kinds``,
    ``ambiguous``, ``tied_rules``, ``why`` (readable), ``reason`` (a code above), ``auto`` (bool)."""
    result = {
        "lead_department": None, "lead_candidates": [], "assisting_departments": [],
        "unresolved_assisting_kinds": [], "rule": None, "lead_kind": None, "assisting_kinds": [],
        "ambiguous": False, "tied_rules": [], "why": "", "reason": NO_CATEGORY, "auto": False,
        "computed_at": timezone.now().isoformat(),
    }
    if case.category_id is None or not case.region_code:
        return result
    from civicgrid.taxonomy.selectors import explain

    with translation.override(settings.LANGUAGE_CODE):
        explanation = explain(case.category, case.region_code)
        result["why"] = str(explanation.summary)
    result.update(
        rule=explanation.rule.pk if explanation.rule else None, lead_kind=explanation.lead_kind,
        assisting_kinds=list(explanation.assisting_kinds), ambiguous=explanation.ambiguous,
        tied_rules=[r.pk for r in explanation.tied_rules],
    )
    if explanation.ambiguous:
        result["reason"] = AMBIGUOUS
        return result
    if explanation.rule is None:
        result["reason"] = NO_RULE
        return result
    found_by_kind = departments_of_kinds_for([explanation.lead_kind, *explanation.assisting_kinds], case.region_code)
    leads = found_by_kind[explanation.lead_kind]
    result["lead_candidates"] = [d.pk for d in leads]
    if not leads:
        result["reason"] = NO_LEAD_DEPARTMENT
        return result
    if len(leads) > 1:
        result["reason"] = SEVERAL_LEAD_DEPARTMENTS
        return result
    result["lead_department"] = leads[0].pk
    for kind in explanation.assisting_kinds:
        found = found_by_kind[kind]
        if len(found) == 1 and found[0].pk != leads[0].pk:
            result["assisting_departments"].append(found[0].pk)
        else:
            result["unresolved_assisting_kinds"].append(kind)
    if result["unresolved_assisting_kinds"]:
        result["reason"] = ASSISTING_UNRESOLVED
    elif not case.category.auto_dispatch:
        result["reason"] = AUTO_DISPATCH_OFF
    else:
        result["reason"], result["auto"] = READY, True
    return result
