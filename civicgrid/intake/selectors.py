"""Reads for the Open311 server. Open311 is a public interface: services are the categories open to
citizens and requests are the cases of those categories, without personal data. A ``jurisdiction_id``
(a region code) narrows the requests to that region, the same prefix match as staff scoping."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Assignment, Case, CaseEvent
from civicgrid.cases.workflow import ACTIVE_ASSIGNMENT_STATES, OPEN_STATES, AssignmentRole
from civicgrid.intake.models import ClientSystem, Open311Request
from civicgrid.regions.models import Region, significant_prefix
from civicgrid.taxonomy.models import Category, CategoryKind
from civicgrid.taxonomy.selectors import categories_for_public

MAX_REQUESTS = 1000


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def client_for_key(raw_key: str | None) -> ClientSystem | None:
    """The active client system owning ``raw_key``; None for a missing, unknown or disabled key."""
    if not raw_key:
        return None
    return ClientSystem.objects.filter(key_hash=hash_key(raw_key.strip()), is_active=True).first()


def service_code(category: Category) -> str:
    """``matter-06010``: the category's kind and code, unique together."""
    return f"{category.kind}-{category.code}"


def parse_service_code(code: str) -> tuple[str, str] | None:
    kind, sep, number = (code or "").strip().partition("-")
    if not sep or kind not in CategoryKind.values or not number:
        return None
    return kind, number


def public_services() -> QuerySet[Category]:
    return categories_for_public().prefetch_related("open311_attributes").order_by("kind", "code")


def service_by_code(code: str) -> Category:
    parsed = parse_service_code(code)
    category = None
    if parsed is not None:
        category = public_services().filter(kind=parsed[0], code=parsed[1]).first()
    if category is None:
        raise Http404(format_lazy(_("Unknown service code “{code}”."), code=code))
    return category


def jurisdiction_prefix(jurisdiction_id: str | None) -> str | None:
    """Code prefix for a ``jurisdiction_id`` (a region code); None when none is given."""
    if not jurisdiction_id:
        return None
    row = Region.objects.filter(code=jurisdiction_id.strip()).values_list("code", "level").first()
    if row is None:
        raise Http404(format_lazy(_("Unknown jurisdiction “{code}”."), code=jurisdiction_id))
    return significant_prefix(*row)


def public_requests(jurisdiction_id: str | None = None) -> QuerySet[Case]:
    """Cases of public categories with what a request answer shows, newest first."""
    note = CaseEvent.objects.filter(case=OuterRef("pk"), to_state=OuterRef("state")).order_by("-at", "-pk")
    qs = (
        Case.objects.filter(category__is_public=True)
        .select_related("category", "owner_centre", "open311")
        .defer("routing_suggestion")
        .annotate(state_note=Subquery(note.values("note")[:1]))
        .prefetch_related(Prefetch(
            "assignments",
            queryset=Assignment.objects.filter(role=AssignmentRole.LEAD, state__in=sorted(ACTIVE_ASSIGNMENT_STATES))
            .select_related("department").only("case_id", "department__name"),
            to_attr="lead_assignments",
        ))
        .order_by("-reported_at", "-pk")
    )
    prefix = jurisdiction_prefix(jurisdiction_id)
    if prefix is not None:
        qs = qs.filter(region_code__startswith=prefix)
    return qs


def requests_by_ids(ids: list[str], jurisdiction_id: str | None = None) -> list[Case]:
    return list(public_requests(jurisdiction_id).filter(number__in=ids)[:MAX_REQUESTS])


def requests_matching(
    *, start: datetime, end: datetime, service_codes: list[str] | None = None,
    statuses: list[str] | None = None, jurisdiction_id: str | None = None,
) -> list[Case]:
    """Requests reported in [start, end], at most ``MAX_REQUESTS`` of the newest."""
    qs = public_requests(jurisdiction_id).filter(reported_at__gte=start, reported_at__lte=end)
    if service_codes:
        pairs = [p for p in (parse_service_code(c) for c in service_codes) if p is not None]
        if not pairs:
            return []
        condition = Q()
        for kind, code in pairs:
            condition |= Q(category__kind=kind, category__code=code)
        qs = qs.filter(condition)
    if statuses and set(statuses) != {"open", "closed"}:
        qs = qs.filter(state__in=sorted(OPEN_STATES)) if "open" in statuses else qs.exclude(state__in=sorted(OPEN_STATES))
    return list(qs[:MAX_REQUESTS])


def request_detail(service_request_id: str, jurisdiction_id: str | None = None) -> Case:
    case = public_requests(jurisdiction_id).filter(number=service_request_id).first()
    if case is None:
        raise Http404(format_lazy(_("Unknown service request “{id}”."), id=service_request_id))
    return case


def request_for_token(token: str) -> Open311Request:
    found = Open311Request.objects.select_related("case").filter(token=token).first()
    if found is None:
        raise Http404(format_lazy(_("Unknown token “{token}”."), token=token))
    return found
