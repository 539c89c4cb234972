"""Template tags of the core app."""

from django import template

from civicgrid.core import selectors

register = template.Library()


@register.simple_tag
def calendar_warnings() -> list[str]:
    """``{% calendar_warnings as warnings %}``: the unconfirmed-calendar warnings."""
    return selectors.calendar_warnings()
