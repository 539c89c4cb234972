"""Reads of the registry, each scoped to the caller.

* A grid worker sees the registry of their own grids; community, street and district staff (and
  leaders, mediators, administrators) that of their jurisdiction — a prefix match on ``grid_code``.
* A department handler sees no registry, except the residents who are parties of their
  department's cases: the members of a household whose list item became a case their department
  has (or had) a task on.

Anything else does not exist for the caller (404).
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from civicgrid.core.identifiers import normalize_id_number, normalize_mobile
from civicgrid.core.jurisdiction import scope_to_jurisdiction
from civicgrid.org.models import GridAssignment, Role, User
from civicgrid.registry import protection
from civicgrid.registry.addresses import AddressMatch, parse_address
from civicgrid.registry.models import (
    Address,
    CareTag,
    ChangeRecord,
    House,
    Household,
    Organisation,
    Resident,
    Visit,
    VisitItem,
)

# Xiamen's 近邻 norm: a grid worker visits households at least two hours a day.
DAILY_VISIT_NORM_MINUTES = 120
# Names are encrypted, so a name search decrypts in memory: only within this many rows.
NAME_SEARCH_LIMIT = 5000


def _is_department(user) -> bool:
    return bool(user.is_authenticated and user.role == Role.DEPARTMENT_HANDLER and not user.is_superuser)


def _scoped(qs: QuerySet, user) -> QuerySet:
    if _is_department(user):
        return qs.none()
    return scope_to_jurisdiction(qs, user, "grid_code")


def addresses_for(user) -> QuerySet[Address]:
    return _scoped(Address.objects.select_related("community", "grid"), user)


def address_for(user, pk) -> Address:
    return get_object_or_404(addresses_for(user), pk=pk)


def houses_for(user) -> QuerySet[House]:
    return _scoped(House.objects.select_related("address__community", "address__grid"), user)


def house_for(user, pk) -> House:
    return get_object_or_404(houses_for(user), pk=pk)


def households_for(user) -> QuerySet[Household]:
    return _scoped(Household.objects.select_related("house__address__community"), user)


def household_for(user, pk) -> Household:
    return get_object_or_404(households_for(user), pk=pk)


def residents_for(user) -> QuerySet[Resident]:
    qs = Resident.objects.select_related("house__address__community", "household").prefetch_related("care_tags")
    if _is_department(user):
        if user.department_id is None:
            return qs.none()
        from civicgrid.cases.models import Assignment

        cases = Assignment.objects.filter(department_id=user.department_id).values("case_id")
        households = VisitItem.objects.filter(case_id__in=cases).values("household_id")
        return qs.filter(household_id__in=households)
    return scope_to_jurisdiction(qs, user, "grid_code")


def _key(pk) -> int:
    if not str(pk).isdigit():
        raise Http404
    return int(pk)


def resident_for(user, pk) -> Resident:
    return get_object_or_404(residents_for(user), pk=_key(pk))


def organisations_for(user) -> QuerySet[Organisation]:
    return _scoped(Organisation.objects.select_related("address__community"), user)


def organisation_for(user, pk) -> Organisation:
    return get_object_or_404(organisations_for(user), pk=_key(pk))


def care_tags(active_only: bool = True) -> QuerySet[CareTag]:
    qs = CareTag.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def search_residents(user, q: str) -> list[Resident] | QuerySet[Resident]:
    """Residents matching ``q``: an ID number or mobile number exactly (through the blind
    index, never plaintext), a household number, an address (road/number), or a name (decrypted
    in memory, within the first ``NAME_SEARCH_LIMIT`` rows the caller may see)."""
    qs = residents_for(user)
    q = (q or "").strip()
    if not q:
        return qs
    for normalize, field, kind in ((normalize_id_number, "id_number_index", protection.ID_NUMBER),
                                   (normalize_mobile, "phone_index", protection.PHONE)):
        try:
            value = normalize(q)
        except ValidationError:
            continue
        return qs.filter(**{field: protection.blind_index(value, kind)})
    by_place = qs.filter(
        Q(household__number=q) | Q(house__address__road__contains=q)
        | Q(house__address__community__name__contains=q)
    )
    found = {r.pk: r for r in by_place[:200]}
    for resident in qs.order_by("pk")[:NAME_SEARCH_LIMIT]:
        if q in (resident.name or ""):
            found.setdefault(resident.pk, resident)
    return sorted(found.values(), key=lambda r: r.pk)


def find_address(user, text: str) -> AddressMatch:
    """``parse_address`` within the addresses the caller may see."""
    return parse_address(text, addresses=addresses_for(user))


def history_of(user, entity: str, obj) -> QuerySet[ChangeRecord]:
    """The change history of one record the caller obtained through a scoped selector."""
    return ChangeRecord.objects.filter(entity=entity, object_id=obj.pk).select_related("actor")


def changes_for(user) -> QuerySet[ChangeRecord]:
    return _scoped(ChangeRecord.objects.select_related("actor"), user)


def visits_for(user) -> QuerySet[Visit]:
    return _scoped(Visit.objects.select_related("household", "worker"), user)


def visit_for(user, pk) -> Visit:
    return get_object_or_404(visits_for(user), pk=pk)


def items_for(user, *, household=None, kind: str = "", state: str = "") -> QuerySet[VisitItem]:
    qs = _scoped(VisitItem.objects.select_related("household", "visit", "case"), user)
    if household is not None:
        qs = qs.filter(household=household)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs


def item_for(user, pk) -> VisitItem:
    return get_object_or_404(items_for(user), pk=pk)


def workers_for(user) -> QuerySet[User]:
    """Grid workers whose visits the caller may see: themselves (a grid worker), or every grid
    worker assigned to a grid in the caller's jurisdiction."""
    if _is_department(user) or not user.is_authenticated:
        return User.objects.none()
    if user.role == Role.GRID_WORKER and not user.is_superuser:
        return User.objects.filter(pk=user.pk)
    grids = scope_to_jurisdiction(GridAssignment.objects.all(), user, "grid__code").values("worker_id")
    return User.objects.filter(pk__in=grids, role=Role.GRID_WORKER).order_by("username")


def visit_hours(user, *, worker: User | None = None, days: int = 7, until: datetime.date | None = None) -> list[dict]:
    """Per grid worker and day (local dates, the last ``days`` up to ``until``): visit minutes,
    hours and whether the two-hour norm was met. ``worker`` narrows to one worker (who must be in
    ``workers_for(user)``, else nobody)."""
    until = until or timezone.localdate()
    first = until - datetime.timedelta(days=days - 1)
    workers = workers_for(user)
    if worker is not None:
        workers = workers.filter(pk=worker.pk)
    workers = list(workers)
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    minutes: dict[tuple[int, datetime.date], int] = defaultdict(int)
    rows = (Visit.objects.filter(worker__in=workers, started_at__gte=start, started_at__lt=end)
            .values_list("worker_id", "started_at", "duration_minutes"))
    for worker_id, started_at, duration in rows:
        minutes[(worker_id, timezone.localtime(started_at, tz).date())] += duration
    out = []
    for w in workers:
        for offset in range(days):
            day = first + datetime.timedelta(days=offset)
            total = minutes[(w.pk, day)]
            out.append({
                "worker": w, "worker_id": w.pk, "username": w.username, "date": day, "minutes": total,
                "hours": round(total / 60, 2), "norm_minutes": DAILY_VISIT_NORM_MINUTES,
                "meets_norm": total >= DAILY_VISIT_NORM_MINUTES,
            })
    return out


def households_due_for_visit(user, *, today: datetime.date | None = None, limit: int = 50) -> list[dict]:
    """Households in scope with a member whose care tag asks for visits every N days, not
    visited within the shortest such N (never visited first, then the longest overdue)."""
    today = today or timezone.localdate()
    rows = (households_for(user)
            .filter(members__care_tags__visit_every_days__isnull=False, members__care_tags__is_active=True)
            .annotate(every=Min("members__care_tags__visit_every_days"), last=Max("visits__started_at")))
    due = []
    for household in rows:
        last = timezone.localtime(household.last).date() if household.last else None
        if last is None or (today - last).days >= household.every:
            due.append({"household": household, "every": household.every, "last": last,
                        "days": (today - last).days if last else None})
    due.sort(key=lambda d: (d["last"] is not None, -(d["days"] or 0), d["household"].number))
    return due[:limit]
