"""Free address text → a standard address (标准地址), saying which part did not match.

Division names (district, street, community) are resolved by ``civicgrid.regions.resolver``; what
remains is read as road (路/街/巷/大道 …), number (号), building (栋/幢/号楼/座), unit (单元) and
room (室), and each part in turn is matched against the standard addresses of that community.
The first part with no standard address is reported as ``unmatched``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import QuerySet

from civicgrid.regions.models import Region
from civicgrid.regions.resolver import resolve_address

PARTS = ("community", "road", "number", "building", "unit", "room")

_ROAD = re.compile(r"^(?P<road>.+?(?:大道|路|街|巷|弄|里|道|村|坊|埕))")
_NUMBER = re.compile(r"^(?P<number>[0-9]+(?:[-之][0-9]+)?)号(?!楼)")
_BUILDING = re.compile(r"^(?P<building>[0-9A-Za-z]+)(?:栋|幢|号楼|座)")
_UNIT = re.compile(r"^(?P<unit>[0-9A-Za-z]+)单元")
_ROOM = re.compile(r"^(?P<room>[0-9A-Za-z\-]+)(?:室|房)?$")
_NOISE = re.compile(r"[\s,，、:：]+")


@dataclass
class AddressMatch:
    """The outcome of ``parse_address``: the parts read from the text, the community and standard
    address found (``address`` None unless every given part matched), the parts that matched and
    the first that did not (``unmatched``, one of ``PARTS``; None when fully matched)."""

    text: str
    parts: dict = field(default_factory=dict)
    community: Region | None = None
    address: object | None = None
    matched: list[str] = field(default_factory=list)
    unmatched: str | None = None
    leftover: str = ""


def split_parts(remainder: str) -> tuple[dict, str]:
    """``深田路12号3栋2单元501室`` → ({road: 深田路, number: 12, building: 3, unit: 2, room: 501}, "")."""
    text = _NOISE.sub("", remainder or "")
    parts: dict[str, str] = {}
    for name, pattern in (("road", _ROAD), ("number", _NUMBER), ("building", _BUILDING), ("unit", _UNIT),
                          ("room", _ROOM)):
        found = pattern.match(text)
        if found:
            parts[name] = found.group(name).upper() if name != "road" else found.group(name)
            text = text[found.end():]
    return parts, text


def parse_address(text: str, *, addresses: QuerySet | None = None) -> AddressMatch:
    """Match ``text`` against the standard addresses in ``addresses`` (default: all of them)."""
    from civicgrid.registry.models import Address

    scope = addresses if addresses is not None else Address.objects.all()
    result = AddressMatch(text=text or "")
    resolution = resolve_address(text or "")
    remainder = resolution.remainder if resolution.code else _NOISE.sub("", text or "")
    if resolution.level in (Region.Level.COMMUNITY, Region.Level.GRID):
        community_code = resolution.code[:12]
        result.community = Region.objects.filter(level=Region.Level.COMMUNITY, code__startswith=community_code).first()
    if result.community is not None:
        scope = scope.filter(community=result.community)
        result.matched.append("community")
    elif resolution.code:
        # A district or street was named but no community: look inside it only.
        prefix = resolution.path[-1].code[: {"district": 6, "street": 9}.get(resolution.level, 4)]
        scope = scope.filter(grid_code__startswith=prefix)
    result.parts, result.leftover = split_parts(remainder)
    if not result.parts:
        result.unmatched = "road" if result.community is not None else "community"
        return result
    for part in PARTS[1:]:
        wanted = result.parts.get(part, "")
        narrowed = scope.filter(**{part: wanted})
        if not narrowed.exists():
            result.unmatched = part
            return result
        scope = narrowed
        if wanted:
            result.matched.append(part)
    if result.leftover:
        result.unmatched = "room"
        return result
    found = list(scope.select_related("community", "grid")[:2])
    if len(found) == 1:
        result.address = found[0]
        result.community = result.community or found[0].community
    else:  # the same road and number in several communities, and none named
        result.unmatched = "community"
    return result
