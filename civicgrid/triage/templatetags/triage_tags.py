"""``{% case_predictions case as predictions %}``: the classifier's best three for the console's
case view, read through the scoped selector for the user of the request."""

from django import template

from civicgrid.cases.selectors import available_actions
from civicgrid.cases.workflow import Action
from civicgrid.triage import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def case_predictions(context, case):
    user = context["request"].user
    prediction, proposals = selectors.proposals_for(user, case)
    return {
        "items": proposals,
        "version": prediction.version if prediction else None,
        "applied": prediction.applied if prediction else False,
        "threshold_percent": round(prediction.threshold * 100) if prediction else None,
        # One click files the case with that category (the console's own file action).
        "may_file": bool(proposals) and Action.FILE in available_actions(user, case),
    }
