"""Reads of the taxonomy. Categories and rules are platform-wide reference data (权责清单 are public
documents), so they are not scoped to a jurisdiction; what differs by user is whether categories
closed to citizens are visible."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from civicgrid.taxonomy.keywords import split_keywords
from civicgrid.taxonomy.matrix import Explanation, explain  # noqa: F401  (re-exported)
from civicgrid.taxonomy.models import Category, CategoryKind, RequestType, SlaRule
from civicgrid.taxonomy.sla import STAGES, WorkingDuration, builtin_default_rule, resolve

_KIND_ORDER = {kind: n for n, kind in enumerate([CategoryKind.GOVERNANCE, CategoryKind.MATTER,
                                                   CategoryKind.COMPONENT])}


def categories_for_public() -> QuerySet[Category]:
    """Active categories citizens may pick."""
    return Category.objects.filter(is_active=True, is_public=True)


def categories_for(user) -> QuerySet[Category]:
    """Active categories ``user`` may see: staff see all of them, everyone else the public ones."""
    if user is not None and user.is_authenticated:
        return Category.objects.filter(is_active=True)
    return categories_for_public()


def category_detail(user, kind: str, code: str) -> Category:
    return get_object_or_404(categories_for(user), kind=kind, code=code)


def _score(category_name: str, keywords: list[str], major_name: str, code: str, text: str) -> int:
    name = category_name.casefold()
    score = 0
    if text.isdigit() and code.startswith(text):
        score = 90 if code == text else 75
    if name == text:
        score = max(score, 100)
    elif name.startswith(text):
        score = max(score, 80)
    elif text in name:
        score = max(score, 60)
    elif len(name) >= 2 and name in text:
        score = max(score, 45 + min(len(name), 10))
    for keyword in keywords:
        keyword = keyword.casefold()
        if keyword == text:
            score = max(score, 70)
        elif text in keyword:
            score = max(score, 40)
        elif len(keyword) >= 2 and keyword in text:
            # A citizen's sentence ("小区门口井盖坏了") containing a keyword: longer keywords say more.
            score = max(score, 25 + min(len(keyword), 10))
    if not score and major_name and text in major_name.casefold():
        score = 10
    return score


def category_search(text: str, queryset: QuerySet[Category] | None = None, limit: int | None = None
                    ) -> list[Category]:
    """Categories whose name, keywords, code or major class match ``text``, best first: exact name,
    then name prefix, exact keyword, name contains, keyword contains, keyword within the text."""
    text = (text or "").strip().casefold()
    queryset = Category.objects.filter(is_active=True) if queryset is None else queryset
    if not text:
        return list(queryset[:limit] if limit else queryset)
    scored = []
    for category in queryset:
        score = _score(category.name, split_keywords(category.keywords), category.major_name,
                       category.code, text)
        if score:
            scored.append((-score, _KIND_ORDER.get(category.kind, 9), category.code, category))
    scored.sort(key=lambda item: item[:3])
    found = [item[3] for item in scored]
    return found[:limit] if limit else found


# --- SLA ----------------------------------------------------------------------------------------


def default_sla_rule() -> SlaRule:
    """The default rule; the built-in limits (unsaved) until the categories have been loaded."""
    return SlaRule.objects.filter(is_default=True).first() or builtin_default_rule()


def sla_rule_for(category: Category) -> tuple[SlaRule | None, SlaRule]:
    """(the category's own rule or ``None``, the default rule)."""
    if not category.pk:
        return None, default_sla_rule()
    # One query for both: this runs on every intake.
    rule = default = None
    for found in SlaRule.objects.filter(Q(category_id=category.pk) | Q(is_default=True)).order_by("pk"):
        if found.category_id == category.pk and rule is None:
            rule = found
        elif found.is_default and default is None:
            default = found
    return rule, default or builtin_default_rule()


def sla_limits(category: Category, urgent: bool) -> dict[str, WorkingDuration]:
    """``{stage: WorkingDuration(amount, unit)}`` for ``category``, stricter when ``urgent``. Stages:
    file, dispatch, sign_for, handle, verify; a stage the category's rule leaves empty takes the
    default rule's limit."""
    rule, default = sla_rule_for(category)
    return resolve(rule, default, urgent)


def sla_table(category: Category) -> dict:
    """Both limit sets and where each stage's limit comes from, for screens and the API."""
    rule, default = sla_rule_for(category)
    normal, urgent = resolve(rule, default, False), resolve(rule, default, True)
    sources = {stage: "category" if rule is not None and getattr(rule, f"{stage}_amount") is not None
               else "default" for stage in STAGES}
    return {
        stage: {
            "normal": {"amount": normal[stage].amount, "unit": normal[stage].unit},
            "urgent": {"amount": urgent[stage].amount, "unit": urgent[stage].unit},
            "source": sources[stage],
        }
        for stage in STAGES if stage in normal
    }


def request_types() -> list[tuple[str, str]]:
    """12345 request types (诉求类型) as (value, label)."""
    return [(value, str(label)) for value, label in RequestType.choices]
