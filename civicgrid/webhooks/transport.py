"""The HTTP side of a delivery: URL checks and one signed POST (standard library only)."""

import http.client
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.webhooks import conf
from civicgrid.webhooks.signing import sign

USER_AGENT = "civicgrid-webhooks/1"
RESPONSE_EXCERPT_BYTES = 1024


def validate_webhook_url(url: str) -> str:
    """The URL stripped, or ``ValidationError`` (field ``url``) unless it is an absolute http(s)
    URL with a host and without credentials."""

    def refuse(message, code):
        raise ValidationError({"url": [ValidationError(message, code=code)]})

    url = (url or "").strip()
    if not url:
        refuse(_("Enter the endpoint's URL."), "required")
    if len(url) > 500:
        refuse(_("The URL is longer than 500 characters."), "too_long")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        refuse(_("The URL must not contain spaces or control characters."), "invalid")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        refuse(_("Only http:// and https:// URLs are allowed."), "invalid_scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        refuse(_("The URL must not contain a user name or password; the signature authenticates "
                 "civicgrid."), "credentials_not_allowed")
    try:
        port = parts.port
    except ValueError:
        refuse(_("The URL's port is not a valid number."), "invalid_port")
    if not parts.hostname or port == 0:
        refuse(_("The URL has no host."), "invalid")
    if parts.fragment:
        refuse(_("The URL must not contain a fragment (#…)."), "invalid")
    return url


@dataclass
class Response:
    """What one attempt produced: a status code, or an error when no answer came."""

    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer (logged as a failure), never followed: the signed body must go only
    # to the address the department registered.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    proxy = conf.proxy()
    context = ssl.create_default_context(cafile=conf.ca_bundle() or None)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {}),
        urllib.request.HTTPSHandler(context=context),
        _NoRedirect,
    )


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(exc, urllib.error.URLError) and isinstance(reason, BaseException):
        exc = reason
    return f"{type(exc).__name__}: {exc}"[:1000]


def post(url: str, secret: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` to ``url`` signed with ``secret``; never raises for network trouble."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        **headers,
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Civicgrid-Timestamp": timestamp,
        "X-Civicgrid-Signature": sign(secret, timestamp, body),
    })
    started = time.monotonic()
    status, error, excerpt = None, "", b""
    try:
        validate_webhook_url(url)  # again at send time: the row may have been changed outside the admin
        with _opener().open(request, timeout=conf.timeout_seconds()) as answer:
            status = answer.status
            excerpt = answer.read(RESPONSE_EXCERPT_BYTES)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            excerpt = exc.read(RESPONSE_EXCERPT_BYTES)
        except (OSError, http.client.HTTPException):
            excerpt = b""
        finally:
            exc.close()
    except ValidationError as exc:
        error = "; ".join(str(m) for m in exc.messages)
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        error = _describe(exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    return Response(status, error, excerpt.decode("utf-8", "replace"), duration_ms)
