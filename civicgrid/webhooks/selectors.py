"""Reads of webhooks and deliveries, scoped to the caller's jurisdiction through the department's
region, plus the system's own look-up of who receives an event."""

import json

from django.db import connection
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.core import sql
from civicgrid.core.jurisdiction import scope_to_jurisdiction
from civicgrid.webhooks.models import DepartmentWebhook, WebhookDelivery


def webhooks_for(user) -> QuerySet[DepartmentWebhook]:
    """Webhooks of departments serving a region inside ``user``'s jurisdiction."""
    qs = DepartmentWebhook.objects.select_related("department__region")
    return scope_to_jurisdiction(qs, user, "department__region__code")


def webhook_detail(user, pk) -> DepartmentWebhook:
    """One webhook, or ``Http404`` when its department lies outside ``user``'s jurisdiction."""
    return get_object_or_404(webhooks_for(user), pk=pk)


def deliveries_for(user) -> QuerySet[WebhookDelivery]:
    """The delivery log of the webhooks ``user`` may see."""
    qs = WebhookDelivery.objects.select_related("webhook__department__region")
    return scope_to_jurisdiction(qs, user, "webhook__department__region__code")


def delivery_detail(user, pk) -> WebhookDelivery:
    return get_object_or_404(deliveries_for(user), pk=pk)


def subscribed_webhooks(department, event_type: str) -> list[DepartmentWebhook]:
    """Active webhooks of ``department`` that receive ``event_type`` (the system's read, not scoped
    to a person)."""
    return subscribed_webhooks_of([department.pk], event_type)


def subscribed_webhooks_of(department_ids, event_type: str) -> list[DepartmentWebhook]:
    """Active webhooks of any of ``department_ids`` that receive ``event_type``, by department
    and creation. Filtered in Python: a department has a handful of webhooks, and JSON containment
    queries differ between SQLite and PostgreSQL. Every dispatch asks, and most departments have
    none: the subscriptions are read in one plain statement, whole webhooks only for those that
    receive the event."""
    ids = sorted({int(pk) for pk in department_ids})
    if not ids:
        return []
    table = connection.ops.quote_name(DepartmentWebhook._meta.db_table)
    among, params = sql.any_of("department_id", ids)
    with sql.cursor() as cursor:
        cursor.execute(f"SELECT id, event_types FROM {table} WHERE is_active = %s AND {among}", [True, *params])
        rows = cursor.fetchall()
    probe = DepartmentWebhook()
    wanted = []
    for pk, event_types in rows:
        probe.event_types = json.loads(event_types) if isinstance(event_types, str) else event_types
        if probe.subscribes_to(event_type):
            wanted.append(pk)
    if not wanted:
        return []
    return list(DepartmentWebhook.objects.filter(pk__in=wanted).order_by("department_id", "pk"))
