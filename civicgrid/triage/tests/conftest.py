"""Fixtures for the classifier tests: the case tests' small city, a handful of categories with
everyday keywords, and a matrix sending everything to the district's city management."""

import pytest

from civicgrid.cases.tests.conftest import GRID, city, report  # noqa: F401  (fixtures re-used)
from civicgrid.triage import services

TAXONOMY = [
    # kind, code, major code, major name, name, keywords
    ("component", "01001", "01", "市政公用设施", "上水井盖", "井盖、井盖缺失、井盖破损、窨井盖、下水道盖子"),
    ("matter", "06010", "06", "市容环境类", "暴露垃圾", "垃圾、垃圾堆、垃圾没人清、乱扔垃圾、垃圾发臭"),
    ("matter", "09009", "09", "街面秩序类", "违章停车", "乱停车、违停、占道停车、车停在人行道、堵门口"),
    ("governance", "94005", "94", "民生服务", "噪声扰民", "噪音、太吵、装修噪音、广场舞、扰民、睡不着"),
    ("matter", "01023", "01", "市政公用设施类", "路灯不亮", "路灯坏了、路灯不亮、灯不亮、没有路灯、黑漆漆"),
]


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    """The active model is cached per process; a rolled-back test must not leak into the next."""
    services.forget()
    yield
    services.forget()


@pytest.fixture
def taxonomy(city):  # noqa: F811
    from civicgrid.org.models import DepartmentKind
    from civicgrid.taxonomy.models import Category, ResponsibilityRule

    made = {}
    for kind, code, major, major_name, name, keywords in TAXONOMY:
        made[(kind, code)], _created = Category.objects.update_or_create(
            kind=kind, code=code, defaults={"major_code": major, "major_name": major_name, "name": name,
                                            "keywords": keywords})
    ResponsibilityRule.objects.create(lead_kind=DepartmentKind.CITY_MANAGEMENT, note="everything (test)")
    return made


@pytest.fixture
def at_intake(settings):
    """Classification at intake on (the suite keeps it off for other apps' tests)."""
    settings.CIVICGRID_CLASSIFY_AT_INTAKE = True
    settings.CIVICGRID_CLASSIFIER_THRESHOLD = 0.5
    # Similar reports here are separate cases (the dedup app's own tests cover merging).
    settings.CIVICGRID_DEDUP_AUTO_MERGE_SCORE = 2.0
    return settings
