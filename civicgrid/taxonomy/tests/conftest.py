import pytest

from civicgrid.taxonomy import actions
from civicgrid.taxonomy.models import Category, CategoryKind, ResponsibilityRule


@pytest.fixture
def loaded(db):
    """The shipped directory, governance categories, SLA rules and responsibility matrix."""
    actions.load_standard_categories()
    actions.load_default_responsibility_matrix()


@pytest.fixture
def category(db):
    """``category(kind, code, name)`` → a saved category (major class from the code)."""

    def make(kind=CategoryKind.MATTER, code="06001", name="私搭乱建", **fields):
        return actions.save_category(Category(kind=kind, code=code, name=name, **fields))

    return make


@pytest.fixture
def rule(db):
    """``rule(lead, assisting=[], **criteria)`` → a saved responsibility rule."""

    def make(lead, assisting=(), **fields):
        return actions.save_responsibility_rule(
            ResponsibilityRule(lead_kind=lead, assisting_kinds=list(assisting), **fields))

    return make
