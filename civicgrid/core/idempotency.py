"""``Idempotency-Key`` for unsafe API requests: a retry gets the first answer, never a second effect.

How a request with the header runs (``run`` / the ``@idempotent`` decorator on a DRF view method):

1. **Claim.** An ``IdempotencyRecord`` (scope = caller + method + path, key, sha256 of the
   canonical body) is INSERTed in its own transaction, so concurrent requests see it at once. The
   unique constraint on (scope, key) makes exactly one of any number of concurrent claims win.
2. **Losers** look the record up: a different body → 422 ``idempotency_key_reused``; the first
   request finished → its stored answer is replayed (same status and body, header
   ``Idempotent-Replayed: true``); still running → 409 ``idempotency_in_progress`` (retry later).
3. **Work and answer together.** The view runs inside one transaction with the update that stores
   its answer, so there is never an effect without a stored answer (nor the reverse).
4. **Failures release the claim.** Only 2xx answers are stored. Any other answer (a validation
   error, a refused rule, 404, a conflict) and any exception deletes the record: the actions are
   atomic, so such a request changed nothing, and the client may correct the body and retry with
   the same key. Consequence: a retry after a failure runs again rather than replaying the error.
5. **Expiry.** Records older than ``TTL`` (24 h) count as absent and are removed by
   ``purge_expired()`` (run it daily). A claim left incomplete longer than ``LEASE`` (its process
   died; a finished request always completes its record in the same transaction) is taken over
   by the next retry.

The claim needs its own committed transaction to be seen by concurrent requests: do not run views
that use this inside an outer transaction (``ATOMIC_REQUESTS`` must stay off).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from civicgrid.core import sql
from civicgrid.core.api import DomainError
from civicgrid.core.models import IdempotencyRecord
from civicgrid.core.rendering import answer_json

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
LEASE = timedelta(minutes=10)
MAX_KEY_LENGTH = 255

OPENAPI_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False,
    description=(
        "A unique key (up to 255 visible ASCII characters, e.g. a UUID) that makes this request "
        "safe to retry for 24 hours: a retry with the same body returns the first answer "
        "(header Idempotent-Replayed: true); the same key with another body is refused with 422 "
        "idempotency_key_reused; a retry while the first request still runs gets 409 "
        "idempotency_in_progress. Only successful answers are kept: after an error the same key "
        "may be used again."
    ),
)


def canonical_hash(data) -> str:
    """sha256 of the body as canonical JSON (sorted keys, no spaces), so key order and
    whitespace do not count as a different body."""
    if hasattr(data, "lists"):  # QueryDict (form posts): every value list
        data = {k: v if len(v) != 1 else v[0] for k, v in data.lists()}
    text = json.dumps(data, cls=JSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def scope_of(request) -> str:
    """Whose key it is and what for: the authenticated user (or token's user), method and path."""
    user = getattr(request, "user", None)
    who = f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
    return f"{who} {request.method} {request.path}"[:300]


def _validated_key(raw: str) -> str:
    key = raw.strip()
    problem = None
    if not key or len(key) > MAX_KEY_LENGTH:
        problem = ErrorDetail(
            str(_("An idempotency key has 1 to 255 characters.")), code="invalid_length",
        )
    elif not all(33 <= ord(ch) <= 126 for ch in key):
        problem = ErrorDetail(
            str(_("An idempotency key consists of visible ASCII characters only.")), code="invalid_format",
        )
    if problem is not None:
        raise ValidationError({HEADER: [problem]})
    return key


def _replay(record: IdempotencyRecord) -> Response:
    return Response(record.response_body, status=record.response_status, headers={REPLAYED_HEADER: "true"})


def _reused() -> DomainError:
    return DomainError(
        _("This idempotency key was already used with a different request body; use a new key."),
        code="idempotency_key_reused", status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _in_progress() -> DomainError:
    return DomainError(
        _("A request with this idempotency key is still being processed; retry in a moment."),
        code="idempotency_in_progress", status_code=status.HTTP_409_CONFLICT,
    )


def _insert(scope: str, key: str, digest: str) -> IdempotencyRecord | None:
    """The new record, or None when (scope, key) is taken. One statement (its own transaction
    outside one; no savepoint inside one: a taken key is not an error here)."""
    connection = transaction.get_connection()
    now = timezone.now()
    with sql.cursor(connection) as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(IdempotencyRecord._meta.db_table)} "
            "(scope, key, request_hash, completed, created_at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [scope, key, digest, False, connection.ops.adapt_datetimefield_value(now)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return IdempotencyRecord(pk=row[0], scope=scope, key=key, request_hash=digest, completed=False, created_at=now)


def _kept_body(response: Response) -> str:
    """The answer's JSON as kept with its key. Rendered once: the response is later sent as these
    very bytes (``civicgrid.core.rendering.AnswerJSONRenderer``). No data is sent as an empty body
    and kept as JSON null."""
    response.rendered_json = (response.data, answer_json(response.data))
    return response.rendered_json[1].decode() or "null"


def _complete(record: IdempotencyRecord, response: Response) -> None:
    """Store the answer to replay, in the work's own transaction."""
    connection = transaction.get_connection()
    body = _kept_body(response)
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with sql.cursor(connection) as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(IdempotencyRecord._meta.db_table)} "
            f"SET completed = %s, response_status = %s, response_body = %s{cast} WHERE id = %s",
            [True, response.status_code, body, record.pk],
        )


def _claim(scope: str, key: str, digest: str) -> IdempotencyRecord | Response:
    """The new record this request owns, or the stored answer to replay; raises when refused."""
    for _attempt in range(3):
        claimed = _insert(scope, key, digest)
        if claimed is not None:
            return claimed
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:  # released or purged since our INSERT failed: claim again
            continue
        now = timezone.now()
        if existing.created_at < now - TTL:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.request_hash != digest:
            raise _reused()
        if existing.completed:
            return _replay(existing)
        if existing.created_at < now - LEASE:
            # Abandoned by a process that died; the conditional update lets one retry take it over.
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, completed=False, created_at=existing.created_at,
            ).update(created_at=now)
            if taken:
                existing.created_at = now
                return existing
            continue
        raise _in_progress()
    raise _in_progress()


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False).delete()


def release(record: IdempotencyRecord) -> None:
    """Free a claimed key whose request failed (its retry runs again)."""
    _release(record)


def _kept(response) -> bool:
    return 200 <= response.status_code < 300


def claim_of(request) -> tuple[str, str, str] | None:
    """(scope, key, request hash) of the request's ``Idempotency-Key``, or None without one; a
    malformed key is refused (400)."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    return scope_of(request), _validated_key(raw), canonical_hash(request.data)


def claim(scope: str, key: str, digest: str) -> IdempotencyRecord | Response:
    """Claim a key inside the caller's transaction (group commit): the record this request now
    owns, or the first answer to replay; raises when refused (reused with another body, in
    progress). A concurrent claim of the same key waits for this transaction."""
    return _claim(scope, key, digest)


def claim_many(claims: list[tuple[str, str, str]]) -> list[IdempotencyRecord | None]:
    """Claim many (scope, key, request hash) at once inside the caller's transaction (group commit,
    PostgreSQL: one statement, in key order so that two batches cannot deadlock): for each, the
    record it now owns, or None when the key is taken already (even by an earlier claim of the
    same list) — ``claim`` then tells why. Elsewhere one ``claim`` insert each."""
    if not sql.postgres():
        return [_insert(*c) for c in claims]
    now = timezone.now()
    ordered = sorted(set(claims))
    connection = transaction.get_connection()
    with sql.cursor(connection) as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(IdempotencyRecord._meta.db_table)} "
            "(scope, key, request_hash, completed, created_at) "
            "SELECT s, k, h, false, %s FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[]) AS c(s, k, h) "
            "ON CONFLICT DO NOTHING RETURNING id, scope, key",
            [now, [c[0] for c in ordered], [c[1] for c in ordered], [c[2] for c in ordered]],
        )
        made = {(scope, key): pk for pk, scope, key in cursor.fetchall()}
    out, given = [], set()
    for scope, key, digest in claims:
        pk = made.get((scope, key))
        if pk is None or (scope, key) in given:  # taken before, or by an earlier item of the list
            out.append(None)
            continue
        given.add((scope, key))
        out.append(IdempotencyRecord(pk=pk, scope=scope, key=key, request_hash=digest, completed=False,
                                     created_at=now))
    return out


def keep_many(kept: list[tuple[IdempotencyRecord, Response]]) -> None:
    """``keep`` for many records in the caller's transaction (PostgreSQL: the successful answers
    stored in one statement)."""
    stored = [(r, a) for r, a in kept if _kept(a)]
    for record, answer in kept:
        if not _kept(answer):
            keep(record, answer)
    if not stored:
        return
    if not sql.postgres():
        for record, answer in stored:
            _complete(record, answer)
        return
    connection = transaction.get_connection()
    # The answers as one JSON array (a text array would escape every character of each answer).
    bodies = "[" + ",".join(_kept_body(a) for _r, a in stored) + "]"
    with sql.cursor(connection) as cursor:
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(IdempotencyRecord._meta.db_table)} AS r "
            "SET completed = true, response_status = v.status, response_body = v.body "
            "FROM (SELECT a.id, a.status, b.body FROM unnest(%s::bigint[], %s::smallint[]) WITH ORDINALITY "
            "AS a(id, status, n) JOIN jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS b(body, n) USING (n)) AS v "
            "WHERE r.id = v.id",
            [[r.pk for r, _a in stored], [a.status_code for _r, a in stored], bodies],
        )


def is_answer(claimed) -> bool:
    """Whether ``claim`` gave the stored answer of a finished request (to replay) rather than a record."""
    return isinstance(claimed, Response)


def keep(record: IdempotencyRecord, response: Response) -> None:
    """In the work's transaction: store a successful answer with its record; any other answer
    frees the key (as ``run`` does)."""
    if _kept(response):
        _complete(record, response)
    else:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()


def run(request, work: Callable[[], Response]) -> Response:
    """Answer ``request`` with ``work()``, honouring its ``Idempotency-Key`` header if any."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return work()
    key = _validated_key(raw)
    claimed = _claim(scope_of(request), key, canonical_hash(request.data))
    if isinstance(claimed, Response):
        return claimed
    try:
        with transaction.atomic():
            response = work()
            if _kept(response):
                _complete(claimed, response)
    except Exception:
        _release(claimed)
        raise
    if not _kept(response):
        _release(claimed)
    return response


def idempotent(view_method):
    """Decorate a DRF view method (``def post(self, request, ...)``) to honour the header."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        return run(request, lambda: view_method(self, request, *args, **kwargs))

    return wrapper


def purge_expired(now: datetime | None = None) -> int:
    """Delete records older than ``TTL``; returns how many. Idempotent; run it daily."""
    cutoff = (now or timezone.now()) - TTL
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
