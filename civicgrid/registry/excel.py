"""Excel (.xlsx) import and export of residents (实有人口) in the columns districts keep.

The sheet's first row holds the headers (any order; ``公民身份号码`` is accepted for ``证件号码``).
Every row is validated — identifiers to their check character, community and grid against the
region tree and the importer's jurisdiction, the address against the standard addresses, care
tags against the configured ones, the person against the registry and the other rows (blind
index: the same ID number twice is one person twice) — and every problem is reported with its
row, column and reason. A batch with any problem writes nothing; a clean batch is written in one
transaction with bulk inserts (missing standard addresses, houses and households are created)
and one change record.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.org.permissions import require_permission
from civicgrid.regions.models import Region
from civicgrid.regions.resolver import name_aliases
from civicgrid.registry import protection
from civicgrid.registry.actions import clean_address_parts, clean_person
from civicgrid.registry.models import (
    Address,
    CareTag,
    ChangeKind,
    ChangeRecord,
    House,
    Household,
    HouseUse,
    IdType,
    ResidenceType,
    Resident,
)

# (key, header, required). The order is the export's column order.
COLUMNS = [
    ("name", "姓名", True),
    ("id_type", "证件类型", False),
    ("id_number", "证件号码", True),
    ("phone", "联系电话", False),
    ("residence_type", "人口类型", False),
    ("community", "所属社区", True),
    ("grid", "所属网格", True),
    ("road", "街路巷", True),
    ("number", "门牌号", True),
    ("building", "楼栋", False),
    ("unit", "单元", False),
    ("room", "房号", False),
    ("house_use", "房屋用途", False),
    ("household", "户号", False),
    ("relation", "与户主关系", False),
    ("care_tags", "关爱标签", False),
]
HEADER_ALIASES = {"公民身份号码": "id_number", "身份证号": "id_number", "身份证号码": "id_number",
                  "手机号码": "phone", "电话": "phone", "社区": "community", "网格": "grid",
                  "道路": "road", "门牌": "number", "楼号": "building", "室": "room"}
HEADERS = {header: key for key, header, _req in COLUMNS} | HEADER_ALIASES
LABELS = {key: header for key, header, _req in COLUMNS}

RESIDENCE_TYPES = {"户籍人口": ResidenceType.REGISTERED, "户籍": ResidenceType.REGISTERED,
                   "流动人口": ResidenceType.MIGRANT, "流动": ResidenceType.MIGRANT,
                   "境外人员": ResidenceType.FOREIGN, "境外": ResidenceType.FOREIGN}
RESIDENCE_LABELS = {ResidenceType.REGISTERED: "户籍人口", ResidenceType.MIGRANT: "流动人口",
                    ResidenceType.FOREIGN: "境外人员"}
ID_TYPES = {"居民身份证": IdType.ID_CARD, "身份证": IdType.ID_CARD, "护照": IdType.PASSPORT,
            "其他证件": IdType.PASSPORT}
ID_TYPE_LABELS = {IdType.ID_CARD: "居民身份证", IdType.PASSPORT: "护照"}
HOUSE_USES = {"住宅": HouseUse.RESIDENTIAL, "商铺": HouseUse.SHOP, "厂房": HouseUse.FACTORY,
              "出租屋": HouseUse.RENTAL, "办公": HouseUse.OFFICE, "仓库": HouseUse.WAREHOUSE, "其他": HouseUse.OTHER}
HOUSE_USE_LABELS = {v: k for k, v in HOUSE_USES.items()}
TAG_SEPARATORS = str.maketrans({"，": ",", "、": ",", ";": ",", "；": ",", " ": ","})
BATCH = 2000
LOOKUP_CHUNK = 900  # parameters per IN (…) lookup; SQLite allows 999 per statement


@dataclass
class RowError:
    """One problem: the Excel row number (1 = headers), the column (letter and header) and why."""

    row: int
    column: str
    header: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "header": self.header, "code": self.code,
                "message": self.message}


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def as_dict(self) -> dict:
        return {"ok": self.ok, "rows": self.rows, "bad_rows": self.bad_rows, "created": self.created,
                "errors": [e.as_dict() for e in self.errors]}


class ImportRejected(Exception):
    """The batch had problems; nothing was written. ``report`` names them."""

    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.bad_rows)} bad rows")
        self.report = report


def _cell(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _Regions:
    """Communities by code and by every written form of their name; grids by community."""

    def __init__(self):
        self.communities: dict[str, Region] = {}
        self.by_alias: dict[str, list[str]] = defaultdict(list)
        self.grids: dict[str, dict[str, Region]] = defaultdict(dict)
        for region in Region.objects.filter(level__in=[Region.Level.COMMUNITY, Region.Level.GRID]).only(
                "id", "code", "name", "level"):
            if region.level == Region.Level.COMMUNITY:
                self.communities[region.code] = region
                for alias in name_aliases(region.name, region.level):
                    self.by_alias[alias].append(region.code)
            else:
                by_name = self.grids[region.code[:12]]
                by_name[region.code] = region
                by_name.setdefault(region.name, region)

    def community(self, text: str) -> tuple[Region | None, str]:
        if text in self.communities:
            return self.communities[text], ""
        codes = self.by_alias.get(text, [])
        if len(codes) == 1:
            return self.communities[codes[0]], ""
        return None, "ambiguous_community" if codes else "unknown_community"


def read_sheet(source) -> tuple[list[str], list[list]]:
    """The header and the rows of the first sheet; row ``i`` of the body is Excel row ``i + 2``.
    Read with calamine (Rust; about ten times faster than openpyxl on large sheets, see
    docs/decisions); empty cells are ""."""
    data = source.read() if hasattr(source, "read") else source
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # not a zip, not a workbook, no sheet …
        raise ValidationError({"file": ValidationError(_("This is not an Excel (.xlsx) file."),
                                                       code="invalid_file")}) from exc
    if not rows:
        return [], []
    return [_cell(v) for v in rows[0]], rows[1:]


def import_residents(actor, source, *, file_name: str = "") -> ImportReport:
    """Validate every row of ``source`` (bytes or a file) and load the batch whole, or raise
    ``ImportRejected`` with the report naming every bad row (nothing written)."""
    require_permission(actor, "registry.import")
    header, body = read_sheet(source)
    report = ImportReport()
    errors = report.errors
    positions: dict[str, int] = {}
    for index, text in enumerate(header):
        key = HEADERS.get(text)
        if key and key not in positions:
            positions[key] = index
    for key, label, required in COLUMNS:
        if required and key not in positions:
            errors.append(RowError(1, "", label, "missing_column", _("The column %(header)s is missing.")
                                   % {"header": label}))
    if errors:
        raise ImportRejected(report)

    def col(key):
        return get_column_letter(positions[key] + 1) if key in positions else ""

    regions = _Regions()
    tags = {}
    for tag in CareTag.objects.filter(is_active=True):
        tags[tag.name], tags[tag.code] = tag, tag
    rows = []
    seen: dict[str, int] = {}
    for offset, raw in enumerate(body):
        number = offset + 2
        values = {key: _cell(raw[i]) if i < len(raw) else "" for key, i in positions.items()}
        if not any(values.values()):
            continue
        report.rows += 1
        row_errors: list[RowError] = []

        def bad(key, code, message, number=number, row_errors=row_errors):
            row_errors.append(RowError(number, col(key), LABELS[key], code, str(message)))

        residence = RESIDENCE_TYPES.get(values.get("residence_type") or "户籍人口")
        id_type = ID_TYPES.get(values.get("id_type") or "居民身份证")
        use = HOUSE_USES.get(values.get("house_use") or "住宅")
        for key, ok, choices in (("residence_type", residence, RESIDENCE_TYPES), ("id_type", id_type, ID_TYPES),
                                 ("house_use", use, HOUSE_USES)):
            if ok is None:
                bad(key, "invalid_choice", _("Write one of: %(values)s.") % {"values": "、".join(choices)})
        person = None
        if residence and id_type:
            try:
                person = clean_person(name=values.get("name"), id_number=values.get("id_number"),
                                      phone=values.get("phone", ""), residence_type=residence, id_type=id_type)
            except ValidationError as exc:
                for key, messages in exc.error_dict.items():
                    for error in messages:
                        bad(key if key in LABELS else "id_number", error.code or "invalid", error.messages[0])
        community, problem = regions.community(values.get("community", ""))
        grid = None
        if community is None:
            bad("community", problem, _("No community is named %(name)s.") % {"name": values.get("community")}
                if problem == "unknown_community" else
                _("Several communities are named %(name)s: write the 12-digit code.") % {"name": values.get("community")})
        else:
            grid = regions.grids[community.code[:12]].get(values.get("grid", ""))
            if grid is None:
                bad("grid", "unknown_grid", _("The community %(community)s has no grid %(grid)s.")
                    % {"community": community.name, "grid": values.get("grid")})
            elif not code_in_jurisdiction(actor, grid.code):
                bad("grid", "outside_jurisdiction", _("This place lies outside your jurisdiction."))
        parts = None
        try:
            parts = clean_address_parts(road=values.get("road"), number=values.get("number"),
                                        building=values.get("building", ""), unit=values.get("unit", ""),
                                        room=values.get("room", ""))
        except ValidationError as exc:
            for key, messages in exc.error_dict.items():
                bad(key, messages[0].code, messages[0].messages[0])
        chosen_tags = []
        for name in filter(None, values.get("care_tags", "").translate(TAG_SEPARATORS).split(",")):
            if name in tags:
                chosen_tags.append(tags[name])
            else:
                bad("care_tags", "unknown_tag", _("Unknown care tag: %(tags)s.") % {"tags": name})
        index = ""
        if person is not None:
            index = protection.blind_index(person["id_number"], protection.ID_NUMBER)
            if index in seen:
                bad("id_number", "duplicate_person", _("The same person is in row %(row)s.") % {"row": seen[index]})
            else:
                seen[index] = number
        errors.extend(row_errors)
        if not row_errors:
            rows.append({"row": number, "person": person, "index": index, "community": community, "grid": grid,
                         "parts": parts, "use": use, "household": values.get("household", ""),
                         "relation": values.get("relation", "")[:20], "tags": chosen_tags})

    _check_registered(rows, seen, errors, col("id_number"))
    places = _check_places(rows, errors, col)
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        raise ImportRejected(report)
    report.created = _write(actor, rows, places, file_name, report.rows)
    return report


def _check_registered(rows, seen: dict[str, int], errors: list[RowError], column: str) -> None:
    """Rows whose person is registered already (by blind index)."""
    indexes = list(seen)
    for start in range(0, len(indexes), LOOKUP_CHUNK):
        chunk = indexes[start:start + LOOKUP_CHUNK]
        for index in Resident.objects.filter(id_number_index__in=chunk).values_list("id_number_index", flat=True):
            errors.append(RowError(seen[index], column, LABELS["id_number"], "duplicate_person",
                                   _("A resident with this ID number is registered already.")))
    registered = {e.row for e in errors if e.code == "duplicate_person"}
    rows[:] = [r for r in rows if r["row"] not in registered]


def _address_key(community_id, parts) -> tuple:
    return (community_id, parts["road"], parts["number"], parts["building"], parts["unit"], parts["room"])


def _check_places(rows, errors: list[RowError], col) -> dict:
    """Existing standard addresses, houses and households of the rows; a row that names an
    existing address in another grid, or a household living elsewhere, is an error."""
    community_ids = {r["community"].pk for r in rows}
    addresses = {}
    for a in Address.objects.filter(community_id__in=community_ids).values_list(
            "id", "community_id", "road", "number", "building", "unit", "room", "grid_id"):
        addresses[a[1:7]] = (a[0], a[7])
    houses = dict(House.objects.filter(address__community_id__in=community_ids).values_list("address_id", "id"))
    numbers = {r["household"] for r in rows if r["household"]}
    households = {}
    number_list = list(numbers)
    for start in range(0, len(number_list), LOOKUP_CHUNK):
        households.update({n: (pk, house) for pk, n, house in Household.objects.filter(
            number__in=number_list[start:start + LOOKUP_CHUNK]).values_list("id", "number", "house_id")})
    household_address: dict[str, tuple] = {}
    grid_of_new: dict[tuple, int] = {}
    for r in rows:
        key = _address_key(r["community"].pk, r["parts"])
        found = addresses.get(key)
        if found is None:
            # The same new address written with two grids in one file.
            found = (None, grid_of_new.setdefault(key, r["grid"].pk))
        if found[1] != r["grid"].pk:
            errors.append(RowError(r["row"], col("grid"), LABELS["grid"], "grid_mismatch",
                                   _("This standard address lies in another grid.")))
        if r["household"]:
            first = household_address.setdefault(r["household"], key)
            existing = households.get(r["household"])
            row_house = houses.get(found[0]) if found[0] else None
            if first != key or (existing is not None and existing[1] != row_house):
                errors.append(RowError(r["row"], col("household"), LABELS["household"], "household_elsewhere",
                                       _("The household lives at another address.")))
    return {"addresses": addresses, "houses": houses, "households": households}


@transaction.atomic
def _write(actor, rows, places, file_name: str, count: int) -> dict:
    addresses, houses, households = places["addresses"], places["houses"], places["households"]
    now = timezone.now()
    new_addresses = {}
    for r in rows:
        key = _address_key(r["community"].pk, r["parts"])
        if key not in addresses and key not in new_addresses:
            new_addresses[key] = Address(community=r["community"], grid=r["grid"], grid_code=r["grid"].code,
                                         created_at=now, **r["parts"])
    Address.objects.bulk_create(new_addresses.values(), batch_size=BATCH)
    for key, address in new_addresses.items():
        addresses[key] = (address.pk, address.grid_id)
    new_houses = {}
    for r in rows:
        address_id = addresses[_address_key(r["community"].pk, r["parts"])][0]
        if address_id not in houses and address_id not in new_houses:
            new_houses[address_id] = House(address_id=address_id, grid_code=r["grid"].code, use=r["use"],
                                           is_rented=r["use"] == HouseUse.RENTAL)
    House.objects.bulk_create(new_houses.values(), batch_size=BATCH)
    houses.update({address_id: house.pk for address_id, house in new_houses.items()})
    new_households = {}
    for r in rows:
        house_id = houses[addresses[_address_key(r["community"].pk, r["parts"])][0]]
        r["house_id"] = house_id
        if r["household"] and r["household"] not in households and r["household"] not in new_households:
            new_households[r["household"]] = Household(number=r["household"], house_id=house_id,
                                                       grid_code=r["grid"].code, created_at=now)
    Household.objects.bulk_create(new_households.values(), batch_size=BATCH)
    households.update({n: (h.pk, h.house_id) for n, h in new_households.items()})
    residents = [
        Resident(house_id=r["house_id"], household_id=households[r["household"]][0] if r["household"] else None,
                 grid_code=r["grid"].code, relation=r["relation"], **r["person"])
        for r in rows
    ]
    Resident.objects.bulk_create(residents, batch_size=BATCH)
    through = Resident.care_tags.through
    links = [through(resident_id=resident.pk, caretag_id=tag.pk)
             for resident, r in zip(residents, rows, strict=True) for tag in r["tags"]]
    through.objects.bulk_create(links, batch_size=BATCH)
    created = {"residents": len(residents), "addresses": len(new_addresses), "houses": len(new_houses),
               "households": len(new_households), "care_tags": len(links)}
    grids = sorted({r["grid"].code for r in rows})
    ChangeRecord.objects.create(entity="import", kind=ChangeKind.IMPORT, actor=actor,
                                grid_code=grids[0] if len(grids) == 1 else "",
                                changes={"file": [None, file_name[:200]], "rows": [None, count], **{
                                    k: [None, v] for k, v in created.items()}})
    return created


# --- export ---------------------------------------------------------------------------------------


def export_residents(actor, residents, *, reason: str, request=None, scope: str = "") -> bytes:
    """The residents (a scoped queryset) as an .xlsx in the import's columns, with clear personal
    data: needs ``pii.export`` and a reason, and is logged in the access log before the file is
    made."""
    from civicgrid.audit.actions import record_export

    residents = residents.select_related("house__address__community", "house__address__grid", "household") \
        .prefetch_related("care_tags").order_by("pk")
    record_export(actor, Resident, ["name", "id_number", "phone"], count=residents.count(), reason=reason,
                  request=request, scope=scope)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("实有人口")
    sheet.append([header for _key, header, _req in COLUMNS])
    for r in residents.iterator(chunk_size=2000):
        a = r.house.address
        sheet.append([
            r.name, ID_TYPE_LABELS.get(r.id_type, ""), r.id_number, r.phone, RESIDENCE_LABELS.get(r.residence_type, ""),
            a.community.code, a.grid.code, a.road, a.number, a.building, a.unit, a.room,
            HOUSE_USE_LABELS.get(r.house.use, ""), r.household.number if r.household else "", r.relation,
            "、".join(t.name for t in r.care_tags.all()),
        ])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
