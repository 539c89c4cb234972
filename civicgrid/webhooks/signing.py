"""Signing of webhook bodies, and the check a receiver runs (standard library only, so a
department's system can copy this file as it is).

The signature is ``sha256=`` followed by the hex HMAC-SHA256 of ``"{timestamp}.{body}"`` keyed
with the webhook's secret, where ``timestamp`` is the ``X-Civicgrid-Timestamp`` header (Unix
seconds) and ``body`` the raw request body bytes.
"""

import hashlib
import hmac
import time

SIGNATURE_PREFIX = "sha256="


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def sign(secret: str, timestamp, body) -> str:
    """The ``X-Civicgrid-Signature`` header value for ``body`` sent at ``timestamp``."""
    message = _as_bytes(timestamp) + b"." + _as_bytes(body)
    return SIGNATURE_PREFIX + hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, timestamp, body, signature_header: str | None, tolerance_seconds: int = 300,
    *, now: float | None = None,
) -> bool:
    """True when ``signature_header`` is the signature of ``body`` at ``timestamp`` and the
    timestamp lies within ``tolerance_seconds`` of now (which stops replays of old requests).

    Pass the raw body bytes as received, before any JSON parsing; ``timestamp`` is the
    ``X-Civicgrid-Timestamp`` header.
    """
    if not signature_header or not timestamp:
        return False
    try:
        sent_at = int(_as_bytes(timestamp).decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    expected = sign(secret, sent_at, body)
    return hmac.compare_digest(expected.encode("ascii"), signature_header.strip().encode("utf-8"))
