"""Address text → region: as deep as the text allows (district, street/town, community/village).

Province, city and district come from ``cpca`` (offline, national). Streets and communities come
from the division names in the database, held in an in-memory alias index rebuilt when the region
generation changes. The official table names communities "深田社区居委会" / "XX村委会" while people
write "深田社区" / "XX村", so each name is indexed with and without those suffixes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from civicgrid.regions.generation import CachedIndex
from civicgrid.regions.locator import RegionRef, ancestor_codes
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH, Region

Level = Region.Level

# Confidence kept for a name found later in the text rather than right after the level above it.
UNANCHORED_FACTOR = 0.8
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Resolution:
    """What an address names: the deepest matched region and how sure we are.

    ``level``/``code`` are None when nothing matched (confidence 0). ``candidates`` lists the codes
    of equally good matches at the deepest level when the text is ambiguous; the lowest code is
    chosen and the confidence divided by their number.
    """

    text: str
    level: str | None
    code: str | None
    name: str | None
    path: tuple[RegionRef, ...]
    remainder: str
    confidence: float
    candidates: tuple[str, ...] = ()
    parsed: dict = field(default_factory=dict)  # province/city/district as cpca read them


def name_aliases(name: str, level: str) -> set[str]:
    """The forms a division name is written in: "深田社区居委会" → 深田社区, 深田社区居委会 …"""
    aliases = {name}
    if level == Level.COMMUNITY:
        for suffix, forms in (
            ("社区居民委员会", ("社区", "社区居委会")),
            ("社区居委会", ("社区", "居委会")),
            ("居民委员会", ("社区", "居委会", "社区居委会")),
            ("居委会", ("社区", "社区居委会")),
            ("村民委员会", ("村", "村委会")),
            ("村委会", ("村", "村民委员会")),
            ("社区", ("社区居委会", "居委会")),
        ):
            if name.endswith(suffix) and len(name) > len(suffix):
                core = name[: -len(suffix)]
                aliases.update(core + form for form in forms)
                break
    elif level == Level.STREET:
        if name.endswith("街道") and len(name) > 2:
            aliases.update({name + "办事处", name + "办"})
        elif name.endswith(("镇", "乡")) and len(name) > 1:
            aliases.add(name + "人民政府")
    return {a for a in aliases if len(a) >= 2}


class NameIndex:
    """Division names (streets, communities, districts, cities) by alias, with region details."""

    def __init__(self, rows):
        self.regions: dict[str, tuple[str, str]] = {}  # code → (level, name)
        self.aliases: dict[str, list[str]] = defaultdict(list)  # alias → codes (street/community)
        self.districts_by_name: dict[str, list[str]] = defaultdict(list)
        for code, level, name in rows:
            self.regions[code] = (level, name)
            if level in (Level.STREET, Level.COMMUNITY):
                for alias in name_aliases(name, level):
                    self.aliases[alias].append(code)
            elif level == Level.DISTRICT:
                self.districts_by_name[name].append(code)
        self.max_alias = max((len(a) for a in self.aliases), default=0)

    @classmethod
    def from_database(cls) -> NameIndex:
        return cls(Region.objects.exclude(level=Level.GRID).values_list("code", "level", "name").iterator(chunk_size=5000))

    def ref(self, code: str) -> RegionRef:
        level, name = self.regions[code]
        return RegionRef(code, level, name)

    def path(self, code: str) -> tuple[RegionRef, ...]:
        level = self.regions[code][0]
        return tuple(self.ref(c) for c in [*ancestor_codes(code, level), code] if c in self.regions)

    def find(self, text: str, scope: tuple[str, ...], level: str, *, anchored: bool) -> tuple[int, int, list[str]] | None:
        """The longest alias of ``level`` in ``text`` inside ``scope`` (code prefixes): at the start
        when ``anchored``, else at the earliest position. Returns (start, end, codes)."""
        starts = [0] if anchored else range(len(text))
        for start in starts:
            for end in range(min(len(text), start + self.max_alias), start + 1, -1):
                codes = self.aliases.get(text[start:end])
                if not codes:
                    continue
                codes = sorted(c for c in codes if c.startswith(scope) and self.regions[c][0] == level)
                if codes:
                    return start, end, codes
        return None


_index = CachedIndex(NameIndex.from_database)


def _parse_with_cpca(text: str) -> dict:
    import cpca

    frame = cpca.transform([text])
    row = frame.iloc[0].to_dict()

    def clean(value):
        return value if isinstance(value, str) and value else None

    return {
        "province": clean(row.get("省")),
        "city": clean(row.get("市")),
        "district": clean(row.get("区")),
        "adcode": clean(row.get("adcode")),
        "remainder": clean(row.get("地址")),
    }


def _named(text: str, name: str | None) -> bool:
    """Whether ``name`` (or its short form, 厦门市 → 厦门) is written in ``text``."""
    if not name:
        return False
    short = name[:-1] if len(name) > 2 and name[-1] in "省市" else name
    return short in text


def resolve_address(text: str) -> Resolution:
    """Resolve address text to the deepest region it names; see ``Resolution``."""
    original = text or ""
    text = _SPACES.sub("", original)
    index = _index.get()
    if not text:
        return Resolution(original, None, None, None, (), "", 0.0)

    parsed = _parse_with_cpca(text)
    # Candidates at the deepest level matched so far; each deeper match must lie inside one of
    # them, so a later unique match settles an earlier ambiguity.
    candidates: list[str] = []
    scope: tuple[str, ...] = ("",)
    remainder = text
    if parsed["adcode"]:
        remainder = parsed["remainder"] or ""
        adcode = parsed["adcode"]
        district = parsed["district"]
        if district:
            by_name = sorted(index.districts_by_name.get(district, []))
            if _named(text, parsed["city"]) or _named(text, parsed["province"]):
                by_name = [c for c in by_name if c.startswith(adcode[:4])]
            # Without a city, cpca picks one of the same-named districts nationwide: trust only
            # what is loaded, and let every loaded namesake count.
            candidates = by_name or ([adcode + "000000"] if adcode + "000000" in index.regions else [])
        if not candidates:
            city = adcode[:4] + "00000000"
            if not adcode.endswith("0000") and city in index.regions:
                candidates = [city]
            scope = (adcode[:2] if adcode.endswith("0000") else adcode[:4],)
    if candidates:
        scope = tuple(c[: LEVEL_PREFIX_LENGTH[Level(index.regions[c][0])]] for c in candidates)

    anchored_steps = True
    for level in (Level.STREET, Level.COMMUNITY):
        hit = index.find(remainder, scope, level, anchored=True)
        if hit is None:
            hit = index.find(remainder, scope, level, anchored=False)
            anchored_steps = anchored_steps and hit is None
        if hit is None:
            continue
        start, end, candidates = hit
        scope = tuple(c[: LEVEL_PREFIX_LENGTH[level]] for c in candidates)
        remainder = remainder[:start] + remainder[end:]
    matched = candidates[0] if candidates else None
    confidence = (1.0 / len(candidates) if candidates else 0.0) * (1.0 if anchored_steps else UNANCHORED_FACTOR)

    if matched is None:
        return Resolution(original, None, None, None, (), text, 0.0, (), _public(parsed))
    ref = index.ref(matched)
    return Resolution(
        text=original, level=ref.level, code=ref.code, name=ref.name, path=index.path(matched),
        remainder=remainder, confidence=round(min(max(confidence, 0.0), 1.0), 3),
        candidates=tuple(candidates) if len(candidates) > 1 else (), parsed=_public(parsed),
    )


def _public(parsed: dict) -> dict:
    return {k: parsed[k] for k in ("province", "city", "district")}
