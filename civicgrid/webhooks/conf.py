"""Webhook settings, read when used so tests and operators can change them at run time."""

from django.conf import settings


def max_attempts() -> int:
    """Attempts before a delivery is given up (dead)."""
    return max(1, int(getattr(settings, "CIVICGRID_WEBHOOK_MAX_ATTEMPTS", 6)))


def backoff_seconds(attempts: int) -> int:
    """Wait after the ``attempts``-th failed attempt: 1 min, 5 min, 25 min, 125 min … by default."""
    base = int(getattr(settings, "CIVICGRID_WEBHOOK_BACKOFF_SECONDS", 60))
    factor = int(getattr(settings, "CIVICGRID_WEBHOOK_BACKOFF_FACTOR", 5))
    return base * factor ** max(0, attempts - 1)


def timeout_seconds() -> float:
    return float(getattr(settings, "CIVICGRID_WEBHOOK_TIMEOUT_SECONDS", 5))


def lease_seconds() -> int:
    """How long a claimed attempt is reserved for its sender; past it (a crashed worker) another
    sweep may try again. Far longer than one request can take."""
    return max(60, int(timeout_seconds() * 6))


def proxy() -> str:
    """An HTTP proxy for outbound calls; empty means connect directly (environment proxies are
    ignored on purpose: department systems sit on the government intranet)."""
    return getattr(settings, "CIVICGRID_WEBHOOK_PROXY", "") or ""


def ca_bundle() -> str:
    """A CA file for https endpoints with certificates from a private (intranet) authority."""
    return getattr(settings, "CIVICGRID_WEBHOOK_CA_BUNDLE", "") or ""


def send_inline() -> bool:
    """Send synchronously in the committing process: eager Celery (tests, scripts)."""
    return bool(getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False))


def embedded() -> bool:
    """The embedded mode: no Celery workers; this process sends on its own threads."""
    return bool(getattr(settings, "CIVICGRID_INPROCESS_SCHEDULER", False))
