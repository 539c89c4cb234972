"""Reading the access log: only for the security administrator (``audit.view``)."""

from django.db.models import QuerySet

from civicgrid.audit.models import AccessLogEntry
from civicgrid.org.permissions import require_permission


def access_log(
    user, *, username: str = "", action: str = "", object_type: str = "", object_id: str = "",
    since=None, until=None,
) -> QuerySet:
    """Entries, newest first, filtered by user name, action, object and time (``since`` inclusive,
    ``until`` exclusive). Raises ``PermissionDenied`` unless ``user`` may read the log."""
    require_permission(user, "audit.view")
    entries = AccessLogEntry.objects.all()
    if username:
        entries = entries.filter(username=username)
    if action:
        entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type.lower())
    if object_id:
        entries = entries.filter(object_id=object_id)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return entries.order_by("-at", "-pk")
