"""Reads of organisations, scoped to the caller's jurisdiction, and the routing look-ups
(which centre owns a region, which department of a kind serves it) that cases build on."""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.core.jurisdiction import jurisdiction_prefixes, scope_to_jurisdiction
from civicgrid.org.models import CommandCentre, Department, GridAssignment, Role, User
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH, Region, significant_prefix

# --- scoped reads -----------------------------------------------------------------------------


def departments_for(user) -> QuerySet[Department]:
    """Departments serving a region inside ``user``'s jurisdiction."""
    qs = Department.objects.select_related("region")
    return scope_to_jurisdiction(qs, user, "region__code")


def department_detail(user, pk) -> Department:
    """One department, or ``Http404`` when it lies outside ``user``'s jurisdiction."""
    return get_object_or_404(departments_for(user), pk=pk)


def centres_for(user) -> QuerySet[CommandCentre]:
    """Command centres whose region lies inside ``user``'s jurisdiction."""
    qs = CommandCentre.objects.select_related("region")
    return scope_to_jurisdiction(qs, user, "region__code")


def centre_detail(user, pk) -> CommandCentre:
    return get_object_or_404(centres_for(user), pk=pk)


def staff_for(user) -> QuerySet[User]:
    """Staff with a foothold inside ``user``'s jurisdiction: their jurisdiction, department's
    region, centre's region or one of their grids lies inside it. People with none of these
    (platform-wide administrators) are visible only to platform-wide users."""
    base = User.objects.select_related("department", "centre", "jurisdiction").order_by("username")
    if jurisdiction_prefixes(user) is None:
        return base
    visible = Q()
    for field in (
        "jurisdiction__code", "department__region__code", "centre__region__code",
        "grid_assignments__grid__code",
    ):
        visible |= Q(pk__in=scope_to_jurisdiction(User.objects.all(), user, field).values("pk"))
    return base.filter(visible)


def staff_detail(user, pk) -> User:
    return get_object_or_404(staff_for(user), pk=pk)


def grid_codes_of(user) -> list[str]:
    """The codes of the grids a grid worker is assigned to."""
    return sorted(user.grid_assignments.values_list("grid__code", flat=True))


# --- routing look-ups (not user-scoped: they answer "who is responsible", not "who may see") ----


def enclosing_codes(region_code: str) -> list[str]:
    """Codes of the region ``region_code`` and of every region above it, finest first.

    Built from the code itself (codes are prefixes of their children, stored padded to 12 digits,
    grids 15), so a look-up costs one query instead of a walk up the tree.
    """
    codes: list[str] = []
    for length in sorted(set(LEVEL_PREFIX_LENGTH.values()), reverse=True):
        if length > len(region_code):
            continue
        prefix = region_code[:length]
        code = prefix if length > 12 else prefix.ljust(12, "0")
        if code not in codes:
            codes.append(code)
    return codes


# The look-ups below need only a region's code and level; its boundary (kilobytes of GeoJSON) is
# deferred because they run on every intake.


def _prefix_length(region: Region) -> int:
    return len(significant_prefix(region.code, region.level))


def responsible_centre(region_code: str) -> CommandCentre | None:
    """The finest command centre whose region contains ``region_code``
    (community → street → district → city), or ``None`` when no centre covers it."""
    candidates = [
        c for c in CommandCentre.objects.select_related("region").defer("region__geometry").filter(
            region__code__in=enclosing_codes(region_code)
        )
        if region_code.startswith(c.region.prefix)
    ]
    return max(candidates, key=lambda c: _prefix_length(c.region), default=None)


def centre_chain(centre: CommandCentre) -> list[CommandCentre]:
    """The escalation order: ``centre`` itself, then each enclosing centre up to the city's."""
    chain = [
        c for c in CommandCentre.objects.select_related("region").defer("region__geometry").filter(
            region__code__in=enclosing_codes(centre.region.code)
        )
        if centre.region.code.startswith(c.region.prefix)
    ]
    return sorted(chain, key=lambda c: _prefix_length(c.region), reverse=True)


def departments_of_kind_for(kind: str, region_code: str) -> list[Department]:
    """The active departments of ``kind`` serving the nearest region that encloses
    ``region_code`` — e.g. the police station of the street a grid lies in, or the city-wide
    water company for any code in the city. Several at the same level are all returned."""
    return departments_of_kinds_for([kind], region_code)[kind]


def departments_of_kinds_for(kinds, region_code: str) -> dict[str, list[Department]]:
    """``departments_of_kind_for`` for several kinds in one query (routing asks for the lead kind
    and every assisting kind of a case at once)."""
    kinds = list(dict.fromkeys(kinds))
    by_kind: dict[str, list[Department]] = {kind: [] for kind in kinds}
    if not kinds:
        return by_kind
    for d in Department.objects.select_related("region").defer("region__geometry").filter(
        kind__in=kinds, is_active=True, region__code__in=enclosing_codes(region_code)
    ):
        if region_code.startswith(d.region.prefix):
            by_kind[d.kind].append(d)
    for kind, found in by_kind.items():
        if found:
            finest = max(_prefix_length(d.region) for d in found)
            by_kind[kind] = sorted((d for d in found if _prefix_length(d.region) == finest),
                                   key=lambda d: (d.name, d.pk))
    return by_kind


# --- the current user ---------------------------------------------------------------------------


def effective_jurisdiction(user) -> Region | None:
    """The region ``user``'s data is scoped to, as ``jurisdiction_prefixes`` derives it: their own
    jurisdiction, else their department's region, else their centre's (``None`` for grid
    workers, who see their grids, and for platform-wide users)."""
    if user.role == Role.GRID_WORKER and not user.is_superuser:
        return None
    if user.jurisdiction_id:
        return user.jurisdiction
    if user.department_id:
        return user.department.region
    if user.centre_id:
        return user.centre.region
    return None


def profile_of(user) -> dict:
    """What the client needs to know about the person logged in."""
    from civicgrid.org.permissions import allowed_actions

    return {
        "user": user,
        "jurisdiction": effective_jurisdiction(user),
        "platform_wide": jurisdiction_prefixes(user) is None,
        "grid_codes": grid_codes_of(user),
        "allowed_actions": sorted(allowed_actions(user)),
    }


def region_filter_prefix(value: str) -> str:
    """A region code → the prefix of its subtree; anything else is taken as a prefix already."""
    region = Region.objects.filter(code=value).only("code", "level").first()
    return region.prefix if region else value


def grid_assignments_for(user) -> QuerySet[GridAssignment]:
    """Grid assignments whose grid lies inside ``user``'s jurisdiction."""
    qs = GridAssignment.objects.select_related("grid", "worker").order_by("grid__code", "worker__username")
    return scope_to_jurisdiction(qs, user, "grid__code")


def department_names(pks) -> dict[int, str]:
    """Names of the given departments by pk (for labelling ids a routing suggestion carries)."""
    return dict(Department.objects.filter(pk__in=[p for p in pks if p]).values_list("pk", "name"))
