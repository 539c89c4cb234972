"""Shared set-up of the page tests (department inbox, grid worker, portal, attachments): the case
tests' small city with grid boundaries, a routing rule, and photos made on the fly."""

import io

import pytest
from PIL import Image

from civicgrid.cases.models import Channel
from civicgrid.cases.tests.conftest import GRID, OTHER_GRID, SIMING_GRID, city, report, sla_rules  # noqa: F401
from civicgrid.org.models import DepartmentKind
from civicgrid.regions import generation
from civicgrid.regions.models import Region
from civicgrid.taxonomy.models import ResponsibilityRule

# Squares (lon, lat) for the three grids; the point inside 岑西一网格 is where reports go.
SQUARES = {
    GRID: (118.09, 24.58, 118.10, 24.59),
    OTHER_GRID: (118.10, 24.58, 118.11, 24.59),
    SIMING_GRID: (118.08, 24.45, 118.09, 24.46),
}
POINT = (118.095, 24.585)


def _square(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def town(city):  # noqa: F811
    """The case tests' city with grid polygons, a 城管-leads rule for its category (so the case
    carries a routing suggestion) and everyday words for the category search."""
    for code, box in SQUARES.items():
        Region.objects.filter(code=code).update(geometry=_square(*box))
    generation.bump()
    city.category.keywords = "井盖 窨井盖 下水道盖"
    city.category.save()
    ResponsibilityRule.objects.create(category=city.category, lead_kind=DepartmentKind.CITY_MANAGEMENT)
    return city


def new_case(town, **kwargs):
    from civicgrid.cases import actions

    kwargs.setdefault("channel", Channel.WEB)
    kwargs.setdefault("title", "井盖缺失")
    kwargs.setdefault("region_code", GRID)
    kwargs.setdefault("category", town.category)
    return actions.report_case(**kwargs)


def image_bytes(fmt="JPEG", size=(64, 48), exif=True) -> bytes:
    """A small photo; a JPEG carries EXIF with a camera make and a GPS position, like a phone's."""
    image = Image.new("RGB", size, (200, 120, 40))
    out = io.BytesIO()
    if fmt == "JPEG" and exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMakerX"  # Make
        data[0x8825] = {1: "N", 2: (24.0, 35.0, 6.0), 3: "E", 4: (118.0, 5.0, 42.0)}  # GPSInfo
        image.save(out, fmt, exif=data.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


def upload(name="photo.jpg", data=None, content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=content_type)
