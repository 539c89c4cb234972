"""Every change to departments, centres, staff and grid assignments.

Each action runs in a transaction: lock → check → change → side effects on commit. ``actor`` is
the person asking (checked against the permission table and their jurisdiction); ``None`` means
the system itself (management commands, the demo loader).
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from civicgrid.core.jurisdiction import code_in_jurisdiction, jurisdiction_prefixes
from civicgrid.org.models import CommandCentre, Department, GridAssignment, Role, User
from civicgrid.org.permissions import PermissionDenied, require_permission
from civicgrid.regions.models import Region

log = logging.getLogger(__name__)


def _inside(region: Region, container: Region) -> bool:
    return region.code.startswith(container.prefix)


class _Errors:
    """Collects field-level errors so one call reports every problem at once."""

    def __init__(self):
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message, code: str, params=None):
        self.errors.setdefault(field, []).append(ValidationError(message, code=code, params=params))

    def raise_if_any(self):
        if self.errors:
            raise ValidationError(self.errors)


# --- validation (shared by the actions and the admin) -------------------------------------------


def validate_staff(user: User, *, grids=None, check_grids: bool = True) -> None:
    """Check that a staff member's role fits their department, centre, jurisdiction and grids.

    ``grids`` is the list of grid regions to check (default: the user's current assignments);
    ``check_grids=False`` skips grid checks, for forms whose grids are validated separately.
    Raises ``ValidationError`` with a list of coded errors per field.
    """
    errors = _Errors()
    role = user.role
    department = user.department if user.department_id else None
    centre = user.centre if user.centre_id else None
    jurisdiction = user.jurisdiction if user.jurisdiction_id else None

    if role == Role.DEPARTMENT_HANDLER:
        if department is None:
            errors.add("department", _("A department handler must belong to a department."),
                       "department_required")
        if centre is not None:
            errors.add("centre", _("A department handler belongs to a department, not a command centre."),
                       "centre_not_allowed")
    if role in (Role.DISPATCHER, Role.LEADER) and centre is None:
        errors.add("centre", _("A %(role)s must belong to a command centre."), "centre_required",
                   {"role": Role(role).label})
    if role == Role.MEDIATOR and department is None and centre is None:
        errors.add("department", _("A mediator must belong to a department or a command centre."),
                   "workplace_required")
    if department is not None and not department.is_active and role == Role.DEPARTMENT_HANDLER:
        errors.add("department", _("This department is inactive."), "department_inactive")

    if jurisdiction is not None:
        if department is not None and not _inside(jurisdiction, department.region):
            errors.add("jurisdiction", _("The jurisdiction must lie inside the region the department "
                                         "serves (%(region)s)."), "outside_department",
                       {"region": str(department.region)})
        if centre is not None and not _inside(jurisdiction, centre.region):
            errors.add("jurisdiction", _("The jurisdiction must lie inside the command centre's "
                                         "region (%(region)s)."), "outside_centre",
                       {"region": str(centre.region)})

    if check_grids:
        if grids is None:
            grids = (
                [a.grid for a in user.grid_assignments.select_related("grid")] if user.pk else []
            )
        _validate_grids(user, grids, errors)
    errors.raise_if_any()


def _validate_grids(user: User, grids, errors: "_Errors") -> None:
    if grids and user.role != Role.GRID_WORKER:
        errors.add("role", _("Only grid workers can be assigned grids; remove the grid "
                             "assignments first."), "grids_need_grid_worker")
    # Where the worker's grids must lie: their jurisdiction, else their centre's or department's region.
    bound = (
        (user.jurisdiction if user.jurisdiction_id else None)
        or (user.centre.region if user.centre_id else None)
        or (user.department.region if user.department_id else None)
    )
    for grid in grids:
        if grid.level != Region.Level.GRID:
            errors.add("grids", _("%(region)s is not a grid."), "not_a_grid", {"region": str(grid)})
        elif bound is not None and not _inside(grid, bound):
            errors.add("grids", _("Grid %(grid)s lies outside the worker's jurisdiction (%(region)s)."),
                       "grid_outside_jurisdiction", {"grid": str(grid), "region": str(bound)})


def validate_department(department: Department) -> None:
    errors = _Errors()
    if department.region_id and department.region.level == Region.Level.GRID:
        errors.add("region", _("A department serves a city, district, street or community, not a grid."),
                   "grid_not_allowed")
    errors.raise_if_any()


def validate_centre(centre: CommandCentre) -> None:
    errors = _Errors()
    if centre.region_id:
        if centre.region.level == Region.Level.GRID:
            errors.add("region", _("A command centre serves a city, district, street or community, "
                                   "not a grid."), "grid_not_allowed")
        elif centre.level and centre.level != centre.region.level:
            errors.add("level", _("The centre's level must match its region's level (%(level)s)."),
                       "level_mismatch", {"level": Region.Level(centre.region.level).label})
    errors.raise_if_any()


# --- who may change what ---------------------------------------------------------------------------


def _footholds(user: User, grids=None) -> list[str]:
    codes = []
    if user.jurisdiction_id:
        codes.append(user.jurisdiction.code)
    if user.department_id:
        codes.append(user.department.region.code)
    if user.centre_id:
        codes.append(user.centre.region.code)
    if grids is None and user.pk:
        grids = [a.grid for a in user.grid_assignments.select_related("grid")]
    codes.extend(g.code for g in grids or [])
    return codes


def _check_actor_may_manage(actor, codes: list[str], field: str) -> None:
    """``actor`` may manage org data and every code lies in their jurisdiction."""
    if actor is None:
        return
    require_permission(actor, "org.manage")
    errors = _Errors()
    for code in codes:
        if not code_in_jurisdiction(actor, code):
            errors.add(field, _("%(code)s lies outside your jurisdiction."), "outside_your_jurisdiction",
                       {"code": code})
            break
    errors.raise_if_any()


def _check_actor_may_manage_staff(actor, user: User, grids=None) -> None:
    if actor is None:
        return
    require_permission(actor, "org.manage")
    if jurisdiction_prefixes(actor) is None:
        return
    errors = _Errors()
    if user.is_superuser or (
        user.role == Role.ADMINISTRATOR and not (user.jurisdiction_id or user.department_id or user.centre_id)
    ):
        errors.add("jurisdiction", _("Only a platform-wide administrator can give someone access to the "
                                     "whole platform."), "platform_wide_not_allowed")
        errors.raise_if_any()
    codes = _footholds(user, grids)
    if not codes and user.role:
        # A scoped actor must anchor the person somewhere inside their own jurisdiction.
        errors.add("jurisdiction", _("Choose a jurisdiction, department or centre."), "required")
    errors.raise_if_any()
    _check_actor_may_manage(actor, codes, "jurisdiction")


def check_staff(user: User, *, actor=None, grids=None, check_grids: bool = True) -> None:
    """Everything an action or an admin form checks before saving a staff member: the actor's
    permission and reach, then ``validate_staff``. One ``ValidationError`` lists every problem."""
    _clean_all(
        lambda: _check_security_role(actor, user),
        lambda: _check_actor_may_manage_staff(actor, user, grids),
        lambda: validate_staff(user, grids=grids, check_grids=check_grids),
    )


def _check_security_role(actor, user: User) -> None:
    """Separation of duties (三权分立): the security administrator, who reads the access log, is
    appointed and removed only by an operator on the command line (``civicgrid security_admin``),
    never by another account through the application — a system administrator cannot make
    themselves one."""
    if actor is None:
        return
    before = User.objects.filter(pk=user.pk).values_list("role", flat=True).first() if user.pk else None
    if Role.SECURITY_ADMIN in (user.role, before) and user.role != before:
        errors = _Errors()
        errors.add("role", _("The security administrator role is given and removed only on the command "
                             "line (civicgrid security_admin)."), "security_admin_by_operator")
        errors.raise_if_any()


def check_staff_grids(user: User, grids, *, actor=None) -> None:
    """The grid part of ``check_staff``: ``grids`` as the worker's complete list of grids."""
    errors = _Errors()
    _validate_grids(user, grids, errors)
    _clean_all(
        errors.raise_if_any, lambda: _check_actor_may_manage(actor, [g.code for g in grids], "grids")
    )


def check_department(department: Department, *, actor=None) -> None:
    codes = [department.region.code] if department.region_id else []
    _clean_all(lambda: _check_actor_may_manage(actor, codes, "region"), lambda: validate_department(department))


def check_centre(centre: CommandCentre, *, actor=None) -> None:
    codes = [centre.region.code] if centre.region_id else []
    _clean_all(lambda: _check_actor_may_manage(actor, codes, "region"), lambda: validate_centre(centre))


def check_grid_assignment(grid: Region, worker: User, *, actor=None) -> None:
    """A grid may be given to ``worker``: it is a grid, they are a grid worker, it lies in their
    jurisdiction and in the actor's."""
    errors = _Errors()
    if grid.level != Region.Level.GRID:
        errors.add("grid", _("%(region)s is not a grid."), "not_a_grid", {"region": str(grid)})
    if worker.role != Role.GRID_WORKER:
        errors.add("worker", _("%(user)s is not a grid worker."), "not_grid_worker",
                   {"user": worker.get_username()})
    errors.raise_if_any()
    _check_actor_may_manage(actor, [grid.code], "grid")
    existing = [a.grid for a in worker.grid_assignments.select_related("grid") if a.grid_id != grid.pk]
    try:
        validate_staff(worker, grids=[*existing, grid])
    except ValidationError as exc:
        raise ValidationError({"grid" if f == "grids" else f: e for f, e in exc.error_dict.items()}) from exc


def _visible_or_404(actor, user: User) -> None:
    from civicgrid.org.selectors import staff_for

    if actor is not None and not staff_for(actor).filter(pk=user.pk).exists():
        raise Http404


def _clean_all(*checks) -> None:
    """Run every check and raise one ``ValidationError`` with all their field errors."""
    errors: dict = {}
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            for field, errs in exc.error_dict.items():
                errors.setdefault(field, []).extend(errs)
    if errors:
        raise ValidationError(errors)


# --- staff ---------------------------------------------------------------------------------------


@transaction.atomic
def create_staff(
    *, username: str, role: str, password: str | None = None, department: Department | None = None,
    centre: CommandCentre | None = None, jurisdiction: Region | None = None, phone: str = "",
    first_name: str = "", last_name: str = "", email: str = "", is_staff: bool | None = None,
    actor=None,
) -> User:
    """Create a staff member with a role; administrators get access to the admin site."""
    user = User(
        username=username, role=role, department=department, centre=centre, jurisdiction=jurisdiction,
        phone=phone, first_name=first_name, last_name=last_name, email=email,
        is_staff=(role in (Role.ADMINISTRATOR, Role.SECURITY_ADMIN)) if is_staff is None else is_staff,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _clean_all(lambda: user.full_clean(exclude=["password"]), lambda: check_staff(user, actor=actor))
    user.save()
    transaction.on_commit(lambda: log.info("staff %s created as %s", user.username, user.role))
    return user


@transaction.atomic
def set_role(
    user: User, role: str, *, department: Department | None = None, centre: CommandCentre | None = None,
    jurisdiction: Region | None = None, actor=None,
) -> User:
    """Give ``user`` a role and its placement; ``None`` clears department, centre or jurisdiction."""
    _visible_or_404(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.role, user.department, user.centre, user.jurisdiction = role, department, centre, jurisdiction
    check_staff(user, actor=actor)
    user.save(update_fields=["role", "department", "centre", "jurisdiction"])
    transaction.on_commit(lambda: log.info("staff %s now %s", user.username, user.role))
    return user


@transaction.atomic
def save_staff(user: User, *, grids=None, actor=None) -> User:
    """Save every field of an edited staff member (the admin's path). With ``grids``, the grid
    assignments become exactly that list."""
    if user.pk:
        _visible_or_404(actor, User.objects.get(pk=user.pk))
        current = User.objects.select_for_update().get(pk=user.pk)
        if actor is not None and not actor.is_superuser and current.is_superuser != user.is_superuser:
            raise ValidationError(
                {"is_superuser": ValidationError(_("Only a superuser can change superuser status."),
                                                 code="superuser_only")}
            )
    _clean_all(
        lambda: user.full_clean(exclude=["password"]), lambda: check_staff(user, actor=actor, grids=grids)
    )
    user.save()
    if grids is not None:
        wanted = {g.pk for g in grids}
        user.grid_assignments.exclude(grid_id__in=wanted).delete()
        have = set(user.grid_assignments.values_list("grid_id", flat=True))
        GridAssignment.objects.bulk_create(
            [GridAssignment(grid_id=pk, worker=user) for pk in sorted(wanted - have)]
        )
    return user


@transaction.atomic
def delete_staff(user: User, *, actor=None) -> None:
    """Delete a staff account (their grid assignments go with it)."""
    _visible_or_404(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if actor is not None:
        require_permission(actor, "org.manage")
        if user.is_superuser and not actor.is_superuser:
            raise PermissionDenied(_("Only a superuser can delete a superuser."), code="superuser_only")
    user.delete()


@transaction.atomic
def assign_grid_worker(grid: Region, worker: User, *, actor=None) -> GridAssignment:
    """Make ``worker`` (a grid worker) responsible for ``grid``. Idempotent."""
    _visible_or_404(actor, worker)
    worker = User.objects.select_for_update().get(pk=worker.pk)
    existing = worker.grid_assignments.filter(grid=grid).first()
    if existing is not None:
        return existing
    check_grid_assignment(grid, worker, actor=actor)
    assignment = GridAssignment.objects.create(grid=grid, worker=worker)
    transaction.on_commit(lambda: log.info("grid %s assigned to %s", grid.code, worker.username))
    return assignment


@transaction.atomic
def unassign_grid_worker(grid: Region, worker: User, *, actor=None) -> bool:
    """Remove ``worker`` from ``grid``; ``False`` when they were not assigned."""
    worker = User.objects.select_for_update().get(pk=worker.pk)
    _check_actor_may_manage(actor, [grid.code], "grid")
    deleted, _n = GridAssignment.objects.filter(grid=grid, worker=worker).delete()
    return bool(deleted)


# --- departments and centres --------------------------------------------------------------------


@transaction.atomic
def save_department(department: Department, *, actor=None) -> Department:
    """Create or update a department after checking it and the actor's reach."""
    if department.pk:
        old = Department.objects.select_for_update().select_related("region").filter(pk=department.pk).first()
        if old is not None and actor is not None and not code_in_jurisdiction(actor, old.region.code):
            raise Http404
    _clean_all(department.full_clean, lambda: check_department(department, actor=actor))
    department.save()
    return department


def create_department(
    *, code: str, name: str, kind: str, region: Region, phone: str = "", is_active: bool = True, actor=None,
) -> Department:
    return save_department(
        Department(code=code, name=name, kind=kind, region=region, phone=phone, is_active=is_active),
        actor=actor,
    )


@transaction.atomic
def delete_department(department: Department, *, actor=None) -> None:
    """Delete a department no one works in (``ProtectedError`` while staff belong to it)."""
    department = Department.objects.select_for_update().select_related("region").get(pk=department.pk)
    if actor is not None and not code_in_jurisdiction(actor, department.region.code):
        raise Http404
    _check_actor_may_manage(actor, [department.region.code], "region")
    department.delete()


def take_level_from_region(centre: CommandCentre) -> None:
    """A centre sits at its region's level (a street's 综治中心 is a street-level centre). Grids
    have no centre; ``validate_centre`` refuses them."""
    if centre.region_id and centre.region.level != Region.Level.GRID:
        centre.level = centre.region.level


@transaction.atomic
def save_centre(centre: CommandCentre, *, actor=None) -> CommandCentre:
    """Create or update a command centre; its level defaults to its region's."""
    if not centre.level:
        take_level_from_region(centre)
    if centre.pk:
        old = CommandCentre.objects.select_for_update().select_related("region").filter(pk=centre.pk).first()
        if old is not None and actor is not None and not code_in_jurisdiction(actor, old.region.code):
            raise Http404
    _clean_all(centre.full_clean, lambda: check_centre(centre, actor=actor))
    centre.save()
    return centre


def create_centre(*, name: str, region: Region, actor=None) -> CommandCentre:
    return save_centre(CommandCentre(name=name, region=region), actor=actor)


@transaction.atomic
def delete_centre(centre: CommandCentre, *, actor=None) -> None:
    centre = CommandCentre.objects.select_for_update().select_related("region").get(pk=centre.pk)
    if actor is not None and not code_in_jurisdiction(actor, centre.region.code):
        raise Http404
    _check_actor_may_manage(actor, [centre.region.code], "region")
    centre.delete()
