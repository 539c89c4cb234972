"""Jurisdiction: which region codes a user may see. Every selector scopes its queryset here.

Region codes are prefixes of their children, so "inside my jurisdiction" is a prefix match.
"""

from django.db.models import Q, QuerySet


def jurisdiction_prefixes(user) -> list[str] | None:
    """Code prefixes the user may see; ``None`` means everything (superusers and platform-wide
    administrators); an empty list means nothing."""
    from civicgrid.org.models import Role

    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    # A request asks this several times (scope, checks, the answer); the user object lives for
    # one request (or, for a cached token, one auth generation: civicgrid.org.authentication), so
    # it keeps the answer, keyed by what the answer depends on.
    key = (user.role, user.jurisdiction_id, user.department_id, user.centre_id)
    memo = getattr(user, "_jurisdiction_prefixes", None)
    if memo is not None and memo[0] == key:
        return list(memo[1]) if memo[1] is not None else None
    if user.role == Role.GRID_WORKER:
        prefixes = sorted(user.grid_assignments.values_list("grid__code", flat=True))
    else:
        prefixes = _staff_prefixes(user)
    user._jurisdiction_prefixes = (key, tuple(prefixes) if prefixes is not None else None)
    return prefixes


def _staff_prefixes(user) -> list[str] | None:
    # Code and level only: this runs on every request, and a region row carries its boundary.
    from civicgrid.org.models import CommandCentre, Department, Role
    from civicgrid.regions.models import Region, significant_prefix

    region_id = user.jurisdiction_id
    if region_id is None and user.department_id:
        region_id = Department.objects.filter(pk=user.department_id).values_list("region_id", flat=True).first()
    if region_id is None and user.centre_id:
        region_id = CommandCentre.objects.filter(pk=user.centre_id).values_list("region_id", flat=True).first()
    row = Region.objects.filter(pk=region_id).values_list("code", "level").first() if region_id else None
    if row is None:
        return None if user.role == Role.ADMINISTRATOR else []
    return [significant_prefix(*row)]


def scope_to_jurisdiction(queryset: QuerySet, user, code_field: str) -> QuerySet:
    """Filter ``queryset`` to rows whose ``code_field`` (a region code) lies in the user's
    jurisdiction."""
    prefixes = jurisdiction_prefixes(user)
    if prefixes is None:
        return queryset
    if not prefixes:
        return queryset.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(**{f"{code_field}__startswith": prefix})
    return queryset.filter(condition)


def code_in_jurisdiction(user, code: str) -> bool:
    prefixes = jurisdiction_prefixes(user)
    return prefixes is None or any(code.startswith(p) for p in prefixes)
