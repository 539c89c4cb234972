"""Status back to the 12345 hotline (回传): 签收, 阶段答复, 办结答复 and 退回 for the cases that came
from its work orders.

The case actions call :func:`case_changed` after they commit (``transaction.on_commit``, an explicit
call, no signal). For every 12345 work order the case stands for — its own, or that of a report
merged into it — whose client system has a callback URL, one :class:`Callback` is recorded and
sent: a JSON body signed with HMAC-SHA256 exactly like department webhooks
(``X-Civicgrid-Timestamp`` + ``X-Civicgrid-Signature``, see ``civicgrid.webhooks.signing``), over the
same transport, with the same back-off settings (``CIVICGRID_WEBHOOK_*``). Like webhooks, an attempt
is claimed in one short transaction, sent outside any transaction and recorded in a second one;
failures wait for the retry sweep (``retry_due_callbacks``, on the beat schedule). Every attempt is
kept (``CallbackAttempt``) and shown in the admin.
"""

from __future__ import annotations

import json
import logging

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from civicgrid.cases.models import Assignment, Case
from civicgrid.cases.workflow import Action, AssignmentRole, AssignmentState, Overlay
from civicgrid.intake.models import Callback, CallbackAttempt, CallbackKind, ExternalRecord
from civicgrid.org.models import Department
from civicgrid.webhooks.models import DeliveryState
from civicgrid.webhooks.outbox import Outbox

log = logging.getLogger(__name__)

CHANNEL = "hotline_12345"
# Case action → what the hotline is told.
KINDS = {
    Action.SIGN_FOR: CallbackKind.SIGN_FOR,
    Overlay.STAGE_REPLY: CallbackKind.STAGE_REPLY,
    Action.REPORT_RESULT: CallbackKind.FINAL_REPLY,
    Action.REJECT: CallbackKind.RETURN,
    Action.CANCEL: CallbackKind.RETURN,
}
# The status words of the 12345 systems.
STATUS_WORDS = {
    CallbackKind.SIGN_FOR: "签收", CallbackKind.STAGE_REPLY: "阶段答复", CallbackKind.FINAL_REPLY: "办结答复",
    CallbackKind.RETURN: "退回",
}


def _lead_result(case: Case) -> str:
    lead = (Assignment.objects.filter(case=case, role=AssignmentRole.LEAD, state=AssignmentState.REPORTED)
            .order_by("-reported_at", "-pk").values_list("result", flat=True).first())
    return lead or ""


def _department_name(case: Case, data: dict) -> str:
    pk = data.get("department")
    if pk is None:
        pk = (Assignment.objects.filter(case=case, role=AssignmentRole.LEAD).order_by("-dispatched_at", "-pk")
              .values_list("department_id", flat=True).first())
    return Department.objects.filter(pk=pk).values_list("name", flat=True).first() or "" if pk else ""


def _payload(record: ExternalRecord, case: Case, kind: str, data: dict) -> dict:
    text = str(data.get("text") or data.get("reason") or "")
    if kind == CallbackKind.FINAL_REPLY and not text:
        text = _lead_result(case)
    payload = {
        "order_no": record.external_id, "kind": kind, "status": STATUS_WORDS[kind],
        "case_number": case.number, "case_state": case.state, "text": text,
        "department": _department_name(case, data), "at": timezone.now(),
    }
    # Round-trip now, so every attempt sends the same body.
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def case_changed(case_pk: int, action: str, data: dict | None = None) -> list[Callback]:
    """Record (and send) the callbacks that ``action`` on case ``case_pk`` calls for; nothing for
    actions the hotline is not told about or cases that came from no 12345 work order."""
    kind = KINDS.get(action)
    if kind is None:
        return []
    if action == Action.REPORT_RESULT and not (data or {}).get("resolved"):
        return []  # one department's result; the hotline hears when the case is resolved
    case = Case.objects.filter(pk=case_pk).first()
    if case is None:
        return []
    with transaction.atomic():
        records = list(
            ExternalRecord.objects.select_related("client")
            .filter(Q(case_id=case_pk) | Q(case__parent_id=case_pk), channel=CHANNEL, client__isnull=False)
            .exclude(client__callback_url="").order_by("pk")
        )
        callbacks = [
            Callback.objects.create(
                record=record, client=record.client, kind=kind, payload=_payload(record, case, kind, data or {}),
                state=DeliveryState.PENDING, next_attempt_at=timezone.now(),
            )
            for record in records if record.client.is_active
        ]
        OUTBOX.dispatch_on_commit([c.pk for c in callbacks])
    return callbacks


def body_of(callback: Callback) -> bytes:
    """The signed JSON body of ``callback`` (the same bytes on every attempt)."""
    envelope = {
        "id": str(callback.event_id), "type": f"hotline.{callback.kind}",
        "created_at": callback.created_at.isoformat(), "data": callback.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _target(callback: Callback) -> tuple[str, str, str, bytes]:
    client = callback.client
    return client.callback_url, client.callback_secret, f"hotline.{callback.kind}", body_of(callback)


def _enqueue(callback_id: int) -> None:
    from civicgrid.intake import tasks

    tasks.deliver_callback.delay(callback_id)


# The department webhooks' sending mechanism: claimed, sent outside a transaction, logged, retried.
OUTBOX = Outbox(
    message_model=Callback, attempt_model=CallbackAttempt, attempt_field="callback",
    active_filter={"client__is_active": True}, target=_target, enqueue=_enqueue, label="callback",
)


def deliver(callback_id: int, *, now=None) -> Callback | None:
    """Send ``callback_id`` if it is due and no one else sends it; None when nothing was sent."""
    return OUTBOX.deliver(callback_id, now=now)


def retry_due_callbacks(now=None, *, limit: int = 100) -> int:
    """Send every callback due at ``now`` (at most ``limit``); returns the attempts made."""
    return OUTBOX.retry_due(now, limit=limit)


def retry_now(callbacks) -> int:
    """"Retry now" (admin): make undelivered callbacks due at once, a given-up one gets one more try."""
    with transaction.atomic():
        rows = list(Callback.objects.select_for_update().filter(pk__in=[c.pk for c in callbacks])
                    .exclude(state=DeliveryState.SUCCEEDED).order_by("pk"))
        OUTBOX.make_due(rows)
    return len(rows)
