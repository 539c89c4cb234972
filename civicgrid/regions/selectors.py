"""Reads of the region tree for views and APIs, scoped to the user's jurisdiction."""

from __future__ import annotations

import numpy as np
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from civicgrid.core.geo import to_wgs84
from civicgrid.core.jurisdiction import jurisdiction_prefixes, scope_to_jurisdiction
from civicgrid.regions import locator, resolver
from civicgrid.regions.models import Region, significant_prefix

Level = Region.Level


def region_counts() -> list[dict]:
    """How many regions of each level this installation holds (home page; public figures)."""
    counts = dict(Region.objects.values_list("level").annotate(n=Count("id")).values_list("level", "n"))
    return [{"level": level.value, "label": str(level.label), "count": counts.get(level.value, 0)} for level in Level]


def regions_for_user(user, *, level: str | None = None, parent: str | None = None) -> QuerySet[Region]:
    """Regions the user may see, optionally of one level and/or children of one parent code."""
    queryset = scope_to_jurisdiction(Region.objects.select_related("parent"), user, "code")
    if level:
        queryset = queryset.filter(level=level)
    if parent:
        queryset = queryset.filter(parent__code=parent)
    return queryset.order_by("code")


def region_for_user(user, code: str) -> Region:
    """One region by code; 404 when it does not exist or lies outside the user's jurisdiction."""
    region = regions_for_user(user).filter(code=code).first()
    if region is None:
        raise Http404(_("No region %(code)s.") % {"code": code})
    return region


def ancestors_of(region: Region) -> list[Region]:
    """The region's ancestors from the top down (public division names, shown as a breadcrumb)."""
    chain: list[Region] = []
    parent_id = region.parent_id
    while parent_id is not None:
        parent = Region.objects.only("id", "code", "level", "name", "parent_id").get(pk=parent_id)
        chain.append(parent)
        parent_id = parent.parent_id
    return chain[::-1]


def children_for_user(user, code: str) -> QuerySet[Region]:
    """The direct children of a visible region (404 if the region is not visible)."""
    region = region_for_user(user, code)
    return regions_for_user(user).filter(parent=region)


def children_geojson_for_user(user, code: str) -> dict:
    """A FeatureCollection of the region's children for maps; children without a boundary have
    ``geometry: null`` so a map can still list them."""
    region = region_for_user(user, code)
    features = [
        {
            "type": "Feature",
            "id": child.code,
            "geometry": child.geometry,
            "properties": {
                "code": child.code, "name": child.name, "level": child.level,
                "is_demo": child.geometry_is_demo,
            },
        }
        for child in regions_for_user(user).filter(parent=region).only(
            "code", "name", "level", "geometry", "geometry_is_demo", "parent_id")
    ]
    return {"type": "FeatureCollection", "parent": {"code": region.code, "name": region.name,
                                                     "level": region.level}, "features": features}


def _visible(user, code: str, level: str) -> bool:
    """Inside the jurisdiction, or one of its ancestors (a breadcrumb above it)."""
    prefixes = jurisdiction_prefixes(user)
    if prefixes is None:
        return True
    significant = significant_prefix(code, level)
    return any(code.startswith(p) or p.startswith(significant) for p in prefixes)


def locate_for_user(user, lon: float, lat: float, crs: str = "wgs84") -> locator.Location | None:
    """The region containing the point, if the user may see it (else None, like no region)."""
    location = locator.locate(lon, lat, crs)
    if location is None or not _visible(user, location.code, location.level):
        return None
    return location


def locate_many_for_user(user, lons, lats, crs: str = "wgs84") -> list[str | None]:
    index = locator.current_index()
    found = index.locate_indices(*to_wgs84(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), crs))
    visible = {}
    out: list[str | None] = []
    for i in found.tolist():
        if i < 0:
            out.append(None)
            continue
        if i not in visible:
            visible[i] = _visible(user, index.codes[i], index.levels[i])
        out.append(index.codes[i] if visible[i] else None)
    return out


def resolve_for_user(user, text: str) -> resolver.Resolution | None:
    """Address resolution; None when what it found lies outside the user's jurisdiction."""
    resolution = resolver.resolve_address(text)
    if resolution.code is not None and not _visible(user, resolution.code, resolution.level):
        return None
    return resolution


def level_geojson_for_user(user, level: str, parent_prefix: str = "") -> dict:
    """A FeatureCollection of every visible region of ``level`` (optionally only those whose code
    starts with ``parent_prefix``) that has a boundary — one map layer (console map, issue 5)."""
    queryset = regions_for_user(user, level=level).exclude(geometry__isnull=True)
    if parent_prefix:
        queryset = queryset.filter(code__startswith=parent_prefix)
    features = [
        {"type": "Feature", "id": r.code, "geometry": r.geometry,
         "properties": {"code": r.code, "name": r.name, "level": r.level}}
        for r in queryset.select_related(None).only("code", "name", "level", "geometry")
    ]
    return {"type": "FeatureCollection", "features": features}


# --- pages (issue 5) --------------------------------------------------------------------------


def public_outlines(level: str = Level.DISTRICT) -> dict:
    """A FeatureCollection of the boundaries of one level for public maps (official division
    boundaries are public; grids are not offered here)."""
    if level not in (Level.CITY, Level.DISTRICT, Level.STREET):
        raise ValueError(level)
    features = [
        {"type": "Feature", "id": r.code, "geometry": r.geometry, "properties": {"code": r.code, "name": r.name}}
        for r in Region.objects.filter(level=level, geometry__isnull=False).only("code", "name", "geometry")
    ]
    return {"type": "FeatureCollection", "features": features}
