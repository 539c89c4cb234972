"""Writes of the registry. Each action: check the permission and the jurisdiction → lock →
validate → change → one change record (who, when, which fields; personal values masked) → side
effects on commit.

The caller obtains existing records through the scoped selectors (so another grid's record is a
404 before any action runs); actions check again that every place they write to lies in the
actor's jurisdiction.
"""

from __future__ import annotations

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.api import DomainError
from civicgrid.core.identifiers import normalize_id_number, normalize_mobile, normalize_uscc
from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.org.permissions import require_permission
from civicgrid.regions.models import Region
from civicgrid.registry import protection
from civicgrid.registry.models import (
    Address,
    CareTag,
    ChangeKind,
    ChangeRecord,
    House,
    Household,
    HouseUse,
    IdType,
    ItemKind,
    ItemState,
    Organisation,
    OrganisationKind,
    ResidenceType,
    Resident,
    Visit,
    VisitItem,
)

_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")
MAX_VISIT_MINUTES = 600


def _error(field: str, message, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _text(field: str, value, *, max_length: int, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not value:
        raise _error(field, _("This field is required."), "required")
    if len(value) > max_length:
        raise _error(field, _("At most %(n)s characters.") % {"n": max_length}, "max_length")
    return value


@functools.cache
def _values(choices) -> frozenset:
    return frozenset(choices.values)


def _choice(field: str, value, choices) -> str:
    if value not in _values(choices):
        raise _error(field, _("Choose one of the offered values."), "invalid_choice")
    return value


def _require_place(actor, grid_code: str, field: str = "grid") -> None:
    if not code_in_jurisdiction(actor, grid_code):
        raise _error(field, _("This place lies outside your jurisdiction."), "outside_jurisdiction")


def _record(entity: str, obj, kind: str, actor, changes: dict, grid_code: str = "") -> ChangeRecord:
    return ChangeRecord.objects.create(
        entity=entity, object_id=getattr(obj, "pk", None), kind=kind, actor=actor,
        grid_code=grid_code or getattr(obj, "grid_code", ""), changes=changes,
    )


def _shown(model, field: str, value):
    """A value as the history keeps it: personal data masked, objects by their id."""
    if isinstance(value, (list, tuple, set)):
        return sorted(str(v) for v in value)
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return protection.mask(model, field, str(value))


def _apply(obj, values: dict) -> dict:
    """Set ``values`` on ``obj``; the changed fields as {field: [before, after]} (masked)."""
    changes = {}
    for field, new in values.items():
        old = getattr(obj, field)
        if old != new:
            changes[field] = [_shown(type(obj), field, old), _shown(type(obj), field, new)]
            setattr(obj, field, new)
    return changes


# --- standard addresses ------------------------------------------------------------------------------


def clean_address_parts(*, road, number, building="", unit="", room="") -> dict:
    return {
        "road": _text("road", road, max_length=60),
        "number": _text("number", number, max_length=20),
        "building": _text("building", building, max_length=20, required=False).upper(),
        "unit": _text("unit", unit, max_length=20, required=False).upper(),
        "room": _text("room", room, max_length=20, required=False).upper(),
    }


def _check_point(lon, lat) -> tuple[float | None, float | None]:
    if lon in (None, "") and lat in (None, ""):
        return None, None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise _error("lon", _("Give the point as two numbers."), "invalid") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _error("lon", _("The point lies outside the globe."), "invalid")
    return lon, lat


def _grid_of(grid: Region, community: Region | None) -> Region:
    if grid is None or grid.level != Region.Level.GRID:
        raise _error("grid", _("Choose a grid."), "required")
    if community is not None and not grid.code.startswith(community.code[:12]):
        raise _error("grid", _("The grid does not lie in this community."), "grid_outside_community")
    return grid


@transaction.atomic
def create_address(actor, *, grid: Region, road, number, building="", unit="", room="", lon=None, lat=None) -> Address:
    """A new standard address in ``grid`` (its community is the grid's parent)."""
    require_permission(actor, "registry.edit")
    grid = _grid_of(grid, None)
    _require_place(actor, grid.code)
    parts = clean_address_parts(road=road, number=number, building=building, unit=unit, room=room)
    lon, lat = _check_point(lon, lat)
    community = Region.objects.get(code=grid.code[:12], level=Region.Level.COMMUNITY)
    if Address.objects.filter(community=community, **parts).exists():
        raise _error("road", _("This standard address exists already."), "duplicate_address")
    address = Address.objects.create(community=community, grid=grid, grid_code=grid.code, lon=lon, lat=lat, **parts)
    _record("address", address, ChangeKind.CREATE, actor, {k: [None, v] for k, v in parts.items() if v})
    return address


@transaction.atomic
def update_address(actor, address: Address, **values) -> Address:
    """Change parts or the point of a standard address (not its community or grid)."""
    require_permission(actor, "registry.edit")
    address = Address.objects.select_for_update().get(pk=address.pk)
    _require_place(actor, address.grid_code)
    current = {p: getattr(address, p) for p in ("road", "number", "building", "unit", "room")}
    parts = clean_address_parts(**{**current, **{k: v for k, v in values.items() if k in current}})
    clean = dict(parts)
    if "lon" in values or "lat" in values:
        clean["lon"], clean["lat"] = _check_point(values.get("lon", address.lon), values.get("lat", address.lat))
    if Address.objects.filter(community_id=address.community_id, **parts).exclude(pk=address.pk).exists():
        raise _error("road", _("This standard address exists already."), "duplicate_address")
    changes = _apply(address, clean)
    if changes:
        address.save()
        _record("address", address, ChangeKind.UPDATE, actor, changes)
    return address


# --- houses ---------------------------------------------------------------------------------------


@transaction.atomic
def create_house(actor, *, address: Address, use: str = HouseUse.RESIDENTIAL, is_rented: bool = False,
                 owner: Resident | None = None) -> House:
    require_permission(actor, "registry.edit")
    _require_place(actor, address.grid_code, "address")
    _choice("use", use, HouseUse)
    if House.objects.filter(address=address).exists():
        raise _error("address", _("This address has a house already."), "duplicate_house")
    if owner is not None:
        _require_place(actor, owner.grid_code, "owner")
    house = House.objects.create(address=address, grid_code=address.grid_code, use=use, is_rented=bool(is_rented),
                                 owner=owner)
    _record("house", house, ChangeKind.CREATE, actor,
            {"address": [None, address.pk], "use": [None, use], "is_rented": [None, bool(is_rented)]})
    return house


@transaction.atomic
def update_house(actor, house: House, **values) -> House:
    require_permission(actor, "registry.edit")
    house = House.objects.select_for_update().get(pk=house.pk)
    _require_place(actor, house.grid_code)
    clean = {}
    if "use" in values:
        clean["use"] = _choice("use", values["use"], HouseUse)
    if "is_rented" in values:
        clean["is_rented"] = bool(values["is_rented"])
    if "owner" in values:
        if values["owner"] is not None:
            _require_place(actor, values["owner"].grid_code, "owner")
        clean["owner"] = values["owner"]
    changes = _apply(house, clean)
    if changes:
        house.save()
        _record("house", house, ChangeKind.UPDATE, actor, changes)
    return house


# --- households -----------------------------------------------------------------------------------


@transaction.atomic
def create_household(actor, *, house: House, number: str) -> Household:
    require_permission(actor, "registry.edit")
    _require_place(actor, house.grid_code, "house")
    number = _text("number", number, max_length=32)
    if Household.objects.filter(number=number).exists():
        raise _error("number", _("A household with this number exists already."), "duplicate_household")
    household = Household.objects.create(house=house, number=number, grid_code=house.grid_code)
    _record("household", household, ChangeKind.CREATE, actor, {"number": [None, number], "house": [None, house.pk]})
    return household


# --- residents ------------------------------------------------------------------------------------


def clean_person(*, name, id_number, phone="", residence_type=ResidenceType.REGISTERED,
                 id_type=IdType.ID_CARD) -> dict:
    """Validated and normalised personal fields; ``ValidationError`` by field otherwise. Mainland
    residents (户籍/流动) carry a resident identity card number, checked to its check character;
    foreign residents may carry a passport or other travel document number instead."""
    errors: dict[str, ValidationError] = {}
    out = {}
    for field, run in (
        ("name", lambda: _text("name", name, max_length=60)),
        ("residence_type", lambda: _choice("residence_type", residence_type, ResidenceType)),
        ("id_type", lambda: _choice("id_type", id_type, IdType)),
        ("phone", lambda: normalize_mobile(phone) if str(phone or "").strip() else ""),
    ):
        try:
            out[field] = run()
        except ValidationError as exc:
            errors[field] = exc.error_dict[field] if hasattr(exc, "error_dict") else exc
    if "id_type" in out and "residence_type" in out:
        try:
            if out["id_type"] == IdType.ID_CARD:
                out["id_number"] = normalize_id_number(id_number)
            elif out["residence_type"] != ResidenceType.FOREIGN:
                raise ValidationError(_("Mainland residents are registered with their identity card number."),
                                      code="id_card_required")
            else:
                number = re.sub(r"[\s\-]", "", str(id_number or "")).upper()
                if not _PASSPORT.fullmatch(number):
                    raise ValidationError(_("A travel document number is 5 to 20 letters and digits."),
                                          code="invalid_format")
                out["id_number"] = number
        except ValidationError as exc:
            errors["id_number"] = exc
    if errors:
        raise ValidationError(errors)
    return out


def _check_duplicate(index: str, exclude_pk=None) -> None:
    qs = Resident.objects.filter(id_number_index=index)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise _error("id_number", _("A resident with this ID number is registered already."), "duplicate_person")


def _tags(codes_or_tags) -> list[CareTag]:
    if not codes_or_tags:
        return []
    items = list(codes_or_tags)
    codes = [t.code if isinstance(t, CareTag) else str(t) for t in items]
    tags = list(CareTag.objects.filter(code__in=codes, is_active=True))
    unknown = sorted(set(codes) - {t.code for t in tags})
    if unknown:
        raise _error("care_tags", _("Unknown care tag: %(tags)s.") % {"tags": ", ".join(unknown)}, "unknown_tag")
    return tags


def _household_in_house(household: Household | None, house: House) -> None:
    if household is not None and household.house_id != house.pk:
        raise _error("household", _("The household lives in another house."), "household_elsewhere")


@transaction.atomic
def create_resident(actor, *, house: House, name, id_number, phone="", residence_type=ResidenceType.REGISTERED,
                    id_type=IdType.ID_CARD, household: Household | None = None, relation: str = "",
                    care_tags=()) -> Resident:
    """Register a resident (实有人口) living in ``house``."""
    require_permission(actor, "registry.edit")
    _require_place(actor, house.grid_code, "house")
    person = clean_person(name=name, id_number=id_number, phone=phone, residence_type=residence_type, id_type=id_type)
    _household_in_house(household, house)
    tags = _tags(care_tags)
    _check_duplicate(protection.blind_index(person["id_number"], protection.ID_NUMBER))
    resident = Resident(
        house=house, household=household, grid_code=house.grid_code,
        relation=_text("relation", relation, max_length=20, required=False), **person,
    )
    try:
        with transaction.atomic():
            resident.save(force_insert=True)
    except IntegrityError:  # registered by someone else at the same moment
        raise _error("id_number", _("A resident with this ID number is registered already."),
                     "duplicate_person") from None
    resident.care_tags.set(tags)
    changes = {f: [None, _shown(Resident, f, v)] for f, v in person.items() if v}
    changes.update({"house": [None, house.pk], "care_tags": [None, sorted(t.code for t in tags)]})
    if household is not None:
        changes["household"] = [None, household.pk]
    _record("resident", resident, ChangeKind.CREATE, actor, changes)
    return resident


@transaction.atomic
def update_resident(actor, resident: Resident, **values) -> Resident:
    """Change any of name, ID number, phone, residence type, ID type, house, household,
    relation and care tags; the history names the changed fields with masked values."""
    require_permission(actor, "registry.edit")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_place(actor, resident.grid_code)
    personal = ("name", "id_number", "phone", "residence_type", "id_type")
    person = clean_person(**{f: values.get(f, getattr(resident, f)) for f in personal})
    clean: dict = dict(person)
    house = values.get("house", resident.house)
    if house.pk != resident.house_id:
        _require_place(actor, house.grid_code, "house")
        clean["house"] = house
        clean["grid_code"] = house.grid_code
    household = values.get("household", resident.household)
    _household_in_house(household, house)
    clean["household"] = household
    if "relation" in values:
        clean["relation"] = _text("relation", values["relation"], max_length=20, required=False)
    if person["id_number"] != resident.id_number:
        _check_duplicate(protection.blind_index(person["id_number"], protection.ID_NUMBER), exclude_pk=resident.pk)
    changes = _apply(resident, clean)
    changes.pop("grid_code", None)
    if "care_tags" in values:
        tags = _tags(values["care_tags"])
        before = sorted(resident.care_tags.values_list("code", flat=True))
        after = sorted(t.code for t in tags)
        if before != after:
            resident.care_tags.set(tags)
            changes["care_tags"] = [before, after]
    if changes:
        resident.save()
        _record("resident", resident, ChangeKind.UPDATE, actor, changes)
    return resident


@transaction.atomic
def remove_resident(actor, resident: Resident, reason: str) -> None:
    """Remove a resident who moved away or died (the history keeps that it happened, masked)."""
    require_permission(actor, "registry.edit")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_place(actor, resident.grid_code)
    reason = _text("reason", reason, max_length=200)
    record = {"name": [_shown(Resident, "name", resident.name), None], "reason": [None, reason]}
    grid_code, pk = resident.grid_code, resident.pk
    House.objects.filter(owner=resident).update(owner=None)
    resident.delete()
    ChangeRecord.objects.create(entity="resident", object_id=pk, kind=ChangeKind.DELETE, actor=actor,
                                grid_code=grid_code, changes=record)


# --- organisations --------------------------------------------------------------------------------


def clean_organisation(*, name, uscc, kind=OrganisationKind.COMPANY, contact_name="", contact_phone="",
                       safety_contact_name="", safety_contact_phone="") -> dict:
    errors: dict[str, ValidationError] = {}
    out = {}
    checks = (
        ("name", lambda: _text("name", name, max_length=120)),
        ("uscc", lambda: normalize_uscc(uscc)),
        ("kind", lambda: _choice("kind", kind, OrganisationKind)),
        ("contact_name", lambda: _text("contact_name", contact_name, max_length=60, required=False)),
        ("contact_phone", lambda: normalize_mobile(contact_phone) if str(contact_phone or "").strip() else ""),
        ("safety_contact_name", lambda: _text("safety_contact_name", safety_contact_name, max_length=60,
                                              required=False)),
        ("safety_contact_phone", lambda: normalize_mobile(safety_contact_phone)
         if str(safety_contact_phone or "").strip() else ""),
    )
    for field, run in checks:
        try:
            out[field] = run()
        except ValidationError as exc:
            errors[field] = exc.error_dict[field] if hasattr(exc, "error_dict") else exc
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_organisation(actor, *, address: Address, **values) -> Organisation:
    """Register an organisation (实有单位); its 统一社会信用代码 is checked to its check character."""
    require_permission(actor, "registry.edit")
    _require_place(actor, address.grid_code, "address")
    clean = clean_organisation(**values)
    if Organisation.objects.filter(uscc=clean["uscc"]).exists():
        raise _error("uscc", _("An organisation with this code is registered already."), "duplicate_organisation")
    org = Organisation.objects.create(address=address, grid_code=address.grid_code, **clean)
    _record("organisation", org, ChangeKind.CREATE, actor,
            {f: [None, _shown(Organisation, f, v)] for f, v in clean.items() if v})
    return org


@transaction.atomic
def update_organisation(actor, org: Organisation, **values) -> Organisation:
    require_permission(actor, "registry.edit")
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    _require_place(actor, org.grid_code)
    fields = ("name", "uscc", "kind", "contact_name", "contact_phone", "safety_contact_name", "safety_contact_phone")
    clean = clean_organisation(**{f: values.get(f, getattr(org, f)) for f in fields})
    if "address" in values and values["address"].pk != org.address_id:
        _require_place(actor, values["address"].grid_code, "address")
        clean["address"], clean["grid_code"] = values["address"], values["address"].grid_code
    if Organisation.objects.filter(uscc=clean["uscc"]).exclude(pk=org.pk).exists():
        raise _error("uscc", _("An organisation with this code is registered already."), "duplicate_organisation")
    changes = _apply(org, clean)
    changes.pop("grid_code", None)
    if changes:
        org.save()
        _record("organisation", org, ChangeKind.UPDATE, actor, changes)
    return org


# --- household visits (近邻串门) ------------------------------------------------------------------------


def _clean_items(items) -> list[tuple[str, str]]:
    out = []
    for kind, text in items or ():
        text = (text or "").strip()
        if not text:
            continue
        _choice("items", kind, ItemKind)
        out.append((kind, _text("items", text, max_length=2000)))
    return out


@transaction.atomic
def record_visit(actor, *, household: Household, started_at: datetime.datetime, duration_minutes, notes: str = "",
                 items=()) -> Visit:
    """A grid worker's visit to a household (time, duration, notes) and the items noted on its
    needs, public-sentiment and resource lists."""
    require_permission(actor, "registry.visit")
    _require_place(actor, household.grid_code, "household")
    if not isinstance(started_at, datetime.datetime):
        raise _error("started_at", _("Enter a valid date and time."), "invalid")
    if timezone.is_naive(started_at):
        started_at = timezone.make_aware(started_at)
    if started_at > timezone.now() + datetime.timedelta(minutes=5):
        raise _error("started_at", _("A visit cannot be recorded before it happens."), "in_future")
    try:
        minutes = int(duration_minutes)
    except (TypeError, ValueError):
        raise _error("duration_minutes", _("Give the duration in minutes."), "invalid") from None
    if not 1 <= minutes <= MAX_VISIT_MINUTES:
        raise _error("duration_minutes", _("A visit lasts between 1 and %(max)s minutes.") % {"max": MAX_VISIT_MINUTES},
                     "out_of_range")
    notes = _text("notes", notes, max_length=4000, required=False)
    clean_items = _clean_items(items)
    visit = Visit.objects.create(household=household, worker=actor, grid_code=household.grid_code,
                                 started_at=started_at, duration_minutes=minutes, notes=notes)
    for kind, text in clean_items:
        VisitItem.objects.create(household=household, visit=visit, grid_code=household.grid_code, kind=kind,
                                 text=text, created_by=actor)
    _record("visit", visit, ChangeKind.CREATE, actor, {
        "household": [None, household.pk], "started_at": [None, started_at.isoformat()],
        "duration_minutes": [None, minutes], "items": [None, len(clean_items)],
    })
    return visit


@transaction.atomic
def add_item(actor, visit: Visit, *, kind: str, text: str) -> VisitItem:
    """Add an entry to the household's needs, public-sentiment or resource list, from a visit."""
    require_permission(actor, "registry.visit")
    _require_place(actor, visit.grid_code, "visit")
    _choice("kind", kind, ItemKind)
    text = _text("text", text, max_length=2000)
    item = VisitItem.objects.create(household=visit.household, visit=visit, grid_code=visit.grid_code, kind=kind,
                                    text=text, created_by=actor)
    _record("item", item, ChangeKind.CREATE, actor, {"kind": [None, kind], "visit": [None, visit.pk]})
    return item


@transaction.atomic
def item_to_case(actor, item: VisitItem, *, category=None, title: str = "") -> VisitItem:
    """Turn a need or a problem (民意) into a case in one step: reported on the grid-patrol
    channel in the household's grid, with the visit's address, and linked back to the item."""
    from civicgrid.cases.actions import report_case
    from civicgrid.cases.models import Channel

    item = VisitItem.objects.select_for_update().select_related("household__house__address", "visit").get(pk=item.pk)
    _require_place(actor, item.grid_code, "item")
    if item.kind == ItemKind.RESOURCE:
        raise DomainError(_("A resource is not a problem: only needs and public sentiment become cases."),
                          code="not_a_problem")
    if item.case_id is not None or item.state != ItemState.OPEN:
        raise DomainError(_("This item has been dealt with already."), code="item_not_open")
    address = item.household.house.address
    case = report_case(
        channel=Channel.GRID_PATROL, actor=actor, region_code=item.grid_code,
        title=_text("title", title or item.text.splitlines()[0], max_length=60, required=True)[:60],
        description=item.text, category=category, lon=address.lon, lat=address.lat,
        address=f"{address.community.name}{address.text}",
    )
    item.case, item.state = case, ItemState.CASE
    item.save(update_fields=["case", "state"])
    _record("item", item, ChangeKind.UPDATE, actor, {"state": [ItemState.OPEN, ItemState.CASE],
                                                     "case": [None, case.number]})
    return item


@transaction.atomic
def close_item(actor, item: VisitItem) -> VisitItem:
    """Mark an item done (a need met on the spot, a resource noted)."""
    require_permission(actor, "registry.visit")
    item = VisitItem.objects.select_for_update().get(pk=item.pk)
    _require_place(actor, item.grid_code, "item")
    if item.state != ItemState.OPEN:
        raise DomainError(_("This item has been dealt with already."), code="item_not_open")
    item.state = ItemState.DONE
    item.save(update_fields=["state"])
    _record("item", item, ChangeKind.UPDATE, actor, {"state": [ItemState.OPEN, ItemState.DONE]})
    return item


# --- care tags (configuration) ----------------------------------------------------------------------


DEFAULT_CARE_TAGS = [
    # code, name, services, provider kind, visit every (days)
    ("elderly_alone", "独居老人", "每周电话问候\n每月上门探访\n助餐、助医、紧急呼叫", "civil_affairs", 7),
    ("disabled", "残疾人", "残疾人补贴申领\n无障碍改造\n康复服务", "civil_affairs", 30),
    ("low_income", "困难家庭", "最低生活保障\n临时救助\n就业援助", "civil_affairs", 30),
    ("left_behind_child", "留守儿童", "学业辅导\n心理关爱\n监护情况核查", "womens_federation", 14),
    ("veteran", "退役军人", "优抚政策\n走访慰问", "civil_affairs", 90),
    ("serious_illness", "重病患者", "医疗救助\n家庭医生签约", "health", 30),
]


@transaction.atomic
def load_default_care_tags() -> int:
    """The common care tags (idempotent: existing tags keep their edited texts)."""
    created = 0
    for order, (code, name, services, provider, every) in enumerate(DEFAULT_CARE_TAGS):
        _tag, made = CareTag.objects.get_or_create(code=code, defaults={
            "name": name, "services": services, "provider_kind": provider, "visit_every_days": every,
            "order": order,
        })
        created += made
    return created
