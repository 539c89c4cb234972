"""Which records the reveal API can open, and how each is found *within the caller's
jurisdiction* (so an object outside it is 404, as everywhere).

Each entry maps ``app_label.model`` to the dotted path of a selector ``(user, key) -> object`` that
raises ``Http404`` outside the user's scope. Apps with personal data add their line here.
"""

from django.http import Http404
from django.utils.module_loading import import_string

LOOKUPS: dict[str, str] = {
    "cases.case": "civicgrid.cases.selectors.case_by_number",  # key: the case number
    "registry.resident": "civicgrid.registry.selectors.resident_for",  # key: the resident id
    "registry.organisation": "civicgrid.registry.selectors.organisation_for",  # key: the organisation id
}


def find(user, object_type: str, key: str):
    path = LOOKUPS.get((object_type or "").lower())
    if path is None:
        raise Http404
    return import_string(path)(user, key)
