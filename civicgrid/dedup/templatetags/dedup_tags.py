"""``{% duplicates_of case as dup %}``: what the console's duplicates panel shows, read through
the scoped selectors for the user of the request."""

from django import template

from civicgrid.cases.workflow import State
from civicgrid.dedup import selectors
from civicgrid.org.permissions import has_permission

register = template.Library()


@register.simple_tag(takes_context=True)
def duplicates_of(context, case):
    user = context["request"].user
    may_merge = has_permission(user, "case.merge")
    return {
        "pending": selectors.pending_for(user, case),
        "decided": selectors.decided_for(user, case),
        "reports": selectors.reports_of(user, case),
        "may_merge": may_merge,
        "may_unmerge": may_merge and case.state == State.MERGED and case.parent_id is not None,
    }
