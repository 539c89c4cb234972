"""Shared plumbing of the staff rooms (department inbox, grid worker page): who may enter a room,
and how a refused action becomes messages next to the fields it concerns."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError

from civicgrid.core.api import DomainError


def staff_room(*roles):
    """Logged-in staff of one of ``roles`` (or superusers); others are sent to log in (anonymous)
    or refused (403: a logged-in person of another role has no business in this room)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user.is_superuser or user.role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def errors_of(exc: Exception) -> dict[str, list[str]]:
    """``{field: [message, …]}`` of a refused action; rule refusals (and non-field errors) land under ``general``."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {"general" if field == "__all__" else field: [str(m) for e in errors for m in e.messages]
                    for field, errors in exc.error_dict.items()}
        return {"general": [str(m) for m in exc.messages]}
    if isinstance(exc, DomainError):
        return {"general": [str(exc.detail)]}
    raise exc


REFUSED = (ValidationError, DomainError)
