"""Every write to the access log, and the services that must write it: unmasking (查看明文) and
exporting (导出) personal data.

``reveal`` and ``record_export`` check the permission and the reason, write the entry, and only
then hand out the value; if the entry cannot be written, nothing is revealed.
"""

import datetime
import ipaddress

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from civicgrid.audit.models import MIN_RETENTION_DAYS, AccessAction, AccessLogEntry
from civicgrid.core.api import DomainError
from civicgrid.core.fields import is_encrypted_field
from civicgrid.org.permissions import require_permission

MAX_REASON = 500


def _error(message, code: str, field: str = "reason") -> DomainError:
    return DomainError(message, code=code, fields={field: [serializers.ErrorDetail(str(message), code=code)]})


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request) -> tuple[str | None, str]:
    """(client IP, the raw X-Forwarded-For). With ``CIVICGRID_PROXY_COUNT`` = N > 0 the client is
    the N-th address from the right of X-Forwarded-For (the one our own proxies saw); otherwise
    REMOTE_ADDR."""
    if request is None:
        return None, ""
    meta = getattr(request, "META", {})
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    count = getattr(settings, "CIVICGRID_PROXY_COUNT", 0)
    if count > 0 and forwarded:
        chain = [part for part in forwarded.split(",") if part.strip()]
        if len(chain) >= count:
            ip = _valid_ip(chain[-count])
            if ip:
                return ip, forwarded[:300]
    return _valid_ip(meta.get("REMOTE_ADDR", "") or ""), forwarded[:300]


def _object_ref(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    if isinstance(obj, type):  # a model class (an export of many rows)
        return obj._meta.label_lower, "", ""
    # A model may name itself for the log with ``access_log_label`` (never personal data); a
    # record with a public number (cases, disputes) is named by it.
    label = getattr(obj, "access_log_label", None)
    label = label() if callable(label) else (label or getattr(obj, "number", "") or "")
    return obj._meta.label_lower, str(obj.pk or ""), str(label)[:200]


def record_access(
    actor, action: str, obj=None, *, fields=(), reason: str = "", request=None, detail=None,
) -> AccessLogEntry:
    """Append one entry. ``obj`` is a model instance (or, for exports, a model class); ``detail``
    extra JSON (counts, scope). Objects label themselves with ``access_log_label`` (e.g. the case
    number) — never with personal data."""
    if action not in AccessAction.values:
        raise ValueError(f"Unknown access-log action {action!r}.")
    object_type, object_id, object_label = _object_ref(obj)
    ip, forwarded = client_address(request)
    meta = getattr(request, "META", {}) if request is not None else {}
    detail = dict(detail or {})
    if forwarded:
        detail["forwarded_for"] = forwarded
    return AccessLogEntry.objects.create(
        user=actor if getattr(actor, "pk", None) else None,
        username=getattr(actor, "username", "") or "",
        role=getattr(actor, "role", "") or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        fields=",".join(fields)[:300],
        reason=reason,
        ip=ip,
        user_agent=(meta.get("HTTP_USER_AGENT", "") or "")[:300],
        path=(getattr(request, "path", "") or "")[:300] if request is not None else "",
        detail=detail,
    )


def _clean_reason(reason) -> str:
    text = " ".join(str(reason or "").split())
    if not text:
        raise _error(_("Give a reason for seeing this personal data."), "reason_required")
    if len(text) > MAX_REASON:
        raise _error(_("The reason is too long (at most %(max)s characters).") % {"max": MAX_REASON},
                     "reason_too_long")
    return text


def reveal(actor, obj, field: str, reason, request=None) -> str:
    """The clear value of ``obj.<field>`` (an encrypted field), for this answer only, logged.

    Needs ``pii.unmask`` and a reason. ``obj`` must come from a selector scoped to ``actor``'s
    jurisdiction: this function does not check where the object lies."""
    require_permission(actor, "pii.unmask")
    text = _clean_reason(reason)
    if not is_encrypted_field(type(obj), field):
        raise _error(_("This field holds no protected personal data."), "field_not_sensitive", "field")
    with transaction.atomic():
        record_access(actor, AccessAction.UNMASK, obj, fields=[field], reason=text, request=request)
    return getattr(obj, field) or ""


def record_export(
    actor, model, fields, *, count: int, reason, request=None, scope: str = "",
) -> AccessLogEntry:
    """Log an export of ``count`` rows of ``model`` with personal ``fields``; call it before the
    file is produced. Needs ``pii.export`` and a reason."""
    require_permission(actor, "pii.export")
    text = _clean_reason(reason)
    with transaction.atomic():
        return record_access(
            actor, AccessAction.EXPORT, model, fields=list(fields), reason=text, request=request,
            detail={"count": int(count), "scope": scope},
        )


def record_view(actor, obj, fields, request=None, reason: str = "") -> AccessLogEntry:
    """Log a page or answer that shows clear personal data because of the viewer's role."""
    with transaction.atomic():
        return record_access(actor, AccessAction.VIEW_SENSITIVE, obj, fields=list(fields),
                             reason=reason, request=request)


def retention_cutoff(days: int | None = None, now=None) -> datetime.datetime:
    """Entries older than this may be purged: the configured retention, never under six months."""
    days = settings.CIVICGRID_ACCESS_LOG_RETENTION_DAYS if days is None else days
    days = max(int(days), MIN_RETENTION_DAYS)
    return (now or timezone.now()) - datetime.timedelta(days=days)


def purge_expired(days: int | None = None, now=None) -> int:
    """Delete entries older than the retention period; returns how many."""
    cutoff = retention_cutoff(days, now)
    with transaction.atomic():
        return AccessLogEntry.objects.all()._purge_before(cutoff)
