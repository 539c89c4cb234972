"""The console's duplicate decisions (one click each): merge a report into a candidate case,
keep them apart, undo a merge. Each answers with a redirect to the case and a message."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.cases import selectors as case_selectors
from civicgrid.core.api import DomainError
from civicgrid.dedup import actions, selectors
from civicgrid.org.permissions import PermissionDenied
from civicgrid.web.console.views import centre_staff

REFUSED = (ValidationError, DomainError, PermissionDenied)


def _message(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(getattr(error, "detail", error))


@require_POST
@centre_staff
def merge(request, pk):
    candidate = selectors.candidate_for(request.user, pk)
    try:
        actions.merge_candidate(candidate, request.user)
    except REFUSED as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Merged into %(number)s.") % {"number": candidate.candidate.number})
    return redirect("web:console:case", number=candidate.case.number)


@require_POST
@centre_staff
def keep_apart(request, pk):
    candidate = selectors.candidate_for(request.user, pk)
    try:
        actions.keep_apart(candidate, request.user)
    except REFUSED as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("Kept apart from %(number)s.") % {"number": candidate.candidate.number})
    return redirect("web:console:case", number=candidate.case.number)


@require_POST
@centre_staff
def unmerge(request, number):
    case = case_selectors.case_by_number(request.user, number)
    try:
        actions.undo_merge(case, request.user, request.POST.get("reason", ""))
    except REFUSED as error:
        messages.error(request, _message(error))
    else:
        messages.success(request, _("The merge was undone; the report is a case of its own again."))
    return redirect("web:console:case", number=case.number)
