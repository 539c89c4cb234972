"""The reporter's contact on the console case view: masked by default; a dispatcher with the
``pii.unmask`` permission may show it for one answer, giving a reason that goes to the access log
(docs/personal-data.md)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from civicgrid.audit.actions import reveal
from civicgrid.cases import selectors
from civicgrid.core.api import DomainError
from civicgrid.core.fields import masked_value
from civicgrid.org.permissions import has_permission

REPORTER_FIELDS = ("reporter_name", "reporter_phone")


def reporter_context(user, case) -> dict:
    """What the case view shows of the reporter: masked values, and whether a *Show* button is
    offered."""
    return {
        "name": masked_value(case, "reporter_name"),
        "phone": masked_value(case, "reporter_phone"),
        "any": bool(case.reporter_name or case.reporter_phone),
        "can_reveal": has_permission(user, "pii.unmask"),
        "revealed": False,
    }


@never_cache
@require_POST
def reveal_reporter(request, number):
    """POST with ``reason``: the case page with the reporter's clear name and phone in this answer
    only (never stored in the session), after the access log has recorded who, why and from where."""
    from civicgrid.web.console.views import _case_context, centre_staff

    @centre_staff
    def run(request, number):
        case = selectors.case_by_number(request.user, number)  # outside the jurisdiction: 404
        if not has_permission(request.user, "pii.unmask"):
            raise PermissionDenied
        context = _case_context(request, case)
        reporter = reporter_context(request.user, case)
        reason = request.POST.get("reason", "")
        try:
            clear = {f: reveal(request.user, case, f, reason, request) for f in REPORTER_FIELDS if getattr(case, f)}
        except DomainError as error:
            reporter["error"] = str(error.detail)
            context["reporter"] = reporter
            return render(request, "web/console/case.html", context, status=400)
        reporter.update(name=clear.get("reporter_name", ""), phone=clear.get("reporter_phone", ""), revealed=True)
        context["reporter"] = reporter
        return render(request, "web/console/case.html", context)

    return run(request, number)
