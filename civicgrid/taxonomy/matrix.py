"""The responsibility matrix (权责清单): which department kind leads a category in a region, and why.

Precedence: a rule for the category beats a rule for its group (kind + major class), which beats a
rule for everything; at the same level a longer region prefix beats a shorter one. Two active rules
that are equally specific and give different answers are *ambiguous*: reported, never picked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.org.models import DepartmentKind
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH
from civicgrid.taxonomy.models import Category, CategoryKind, ResponsibilityRule

SCOPE_RANK = {"category": 3, "group": 2, "all": 1}
PREFIX_LENGTHS = tuple(sorted(set(LEVEL_PREFIX_LENGTH.values())))


def kind_label(kind: str) -> str:
    try:
        return str(DepartmentKind(kind).label)
    except ValueError:
        return kind


def _answer(rule: ResponsibilityRule) -> tuple[str, tuple[str, ...]]:
    return rule.lead_kind, tuple(sorted(rule.assisting_kinds or []))


def describe_scope(rule: ResponsibilityRule, major_names: dict | None = None) -> str:
    """The rule's scope in words; ``major_names`` ({(kind, major code): name}) saves the query for a
    group's name."""
    scope = rule.scope
    if scope == "category":
        category = rule.category
        return gettext("category %(category)s") % {"category": f"{category.get_kind_display()} {category.code} "
                                                           f"{category.name}"}
    if scope == "group":
        kind = CategoryKind(rule.category_kind).label if rule.category_kind in CategoryKind.values else "?"
        if major_names is not None:
            name = major_names.get((rule.category_kind, rule.major_code), "")
        else:
            name = (Category.objects.filter(kind=rule.category_kind, major_code=rule.major_code)
                    .values_list("major_name", flat=True).first() or "")
        return gettext("group %(group)s") % {"group": f"{kind} {rule.major_code} {name}".strip()}
    return gettext("all categories")


def describe_region(rule: ResponsibilityRule) -> str:
    if rule.region_prefix:
        return gettext("region %(prefix)s") % {"prefix": rule.region_prefix}
    return gettext("everywhere")


def describe_answer(lead_kind: str | None, assisting: list[str]) -> str:
    if lead_kind is None:
        return gettext("no lead department")
    text = gettext("lead: %(lead)s") % {"lead": kind_label(lead_kind)}
    if assisting:
        text += gettext("; assisting: %(kinds)s") % {"kinds": "、".join(kind_label(k) for k in assisting)}
    return text


def describe_rule(rule: ResponsibilityRule) -> str:
    """One readable line: ``group 事项 06 市容环境类 · everywhere → lead: 城管执法; assisting: 住建``."""
    text = f"{describe_scope(rule)} · {describe_region(rule)} → " \
           f"{describe_answer(rule.lead_kind, list(rule.assisting_kinds or []))}"
    if not rule.is_active:
        text += f" ({gettext('inactive')})"
    return text


# --- validation ------------------------------------------------------------------------------------


def validate_responsibility_rule(rule: ResponsibilityRule) -> None:
    """Field-level checks shared by the actions and the admin form."""
    errors: dict[str, list[ValidationError]] = {}

    def add(name, message, code, params=None):
        errors.setdefault(name, []).append(ValidationError(message, code=code, params=params))

    if rule.category_id and (rule.category_kind or rule.major_code):
        add("category", _("Choose either a category or a group (kind and major class), not both."),
            "category_and_group")
    elif not rule.category_id:
        if rule.category_kind and not rule.major_code:
            add("major_code", _("A group needs a major class code as well as a kind."), "required")
        elif rule.major_code and not rule.category_kind:
            add("category_kind", _("A group needs a category kind as well as a major class code."), "required")
        elif rule.category_kind and rule.major_code and not Category.objects.filter(
            kind=rule.category_kind, major_code=rule.major_code
        ).exists():
            add("major_code", _("No category of this kind has major class %(code)s."), "unknown_group",
                {"code": rule.major_code})

    prefix = rule.region_prefix or ""
    if prefix and not prefix.isdigit():
        add("region_prefix", _("A region code prefix contains digits only."), "not_digits")
    elif prefix and len(prefix) not in PREFIX_LENGTHS:
        add("region_prefix",
            _("A region code prefix has %(lengths)s digits (city, district, street, community, grid)."),
            "bad_length", {"lengths": ", ".join(str(n) for n in PREFIX_LENGTHS)})

    assisting = rule.assisting_kinds
    if not isinstance(assisting, list) or not all(isinstance(k, str) for k in assisting):
        add("assisting_kinds", _("Assisting department kinds must be a list of kinds."), "invalid")
    else:
        unknown = [k for k in assisting if k not in DepartmentKind.values]
        if unknown:
            add("assisting_kinds", _("Unknown department kind: %(kinds)s."), "unknown_kind",
                {"kinds": ", ".join(unknown)})
        if len(set(assisting)) != len(assisting):
            add("assisting_kinds", _("A department kind is listed twice."), "duplicate")
        if rule.lead_kind and rule.lead_kind in assisting:
            add("assisting_kinds", _("The lead department kind (%(kind)s) cannot also assist."),
                "lead_in_assisting", {"kind": kind_label(rule.lead_kind)})
    if errors:
        raise ValidationError(errors)


def _same_criteria(rule: ResponsibilityRule) -> Q:
    return Q(category_id=rule.category_id, category_kind=rule.category_kind, major_code=rule.major_code,
             region_prefix=rule.region_prefix)


def conflicting_rules(rule: ResponsibilityRule) -> list[ResponsibilityRule]:
    """Other active rules with exactly the same criteria and a different answer: together with
    ``rule`` they make every matching look-up ambiguous."""
    if not rule.is_active:
        return []
    others = ResponsibilityRule.objects.filter(_same_criteria(rule), is_active=True).exclude(pk=rule.pk)
    return [other for other in others.order_by("pk") if _answer(other) != _answer(rule)]


# --- explanation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Considered:
    """A rule that applies to the category, and what became of it."""

    rule: ResponsibilityRule
    outcome: str  # chosen | tied | duplicate | less_specific | shorter_prefix | region_mismatch | inactive
    reason: str


@dataclass(frozen=True)
class Explanation:
    category: Category
    region_code: str
    rule: ResponsibilityRule | None
    lead_kind: str | None
    assisting_kinds: list[str]
    ambiguous: bool
    matched: list[str] = field(default_factory=list)  # the criteria the chosen rule matched
    considered: list[Considered] = field(default_factory=list)
    tied_rules: list[ResponsibilityRule] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.ambiguous:
            return gettext("Ambiguous: %(count)d equally specific rules disagree (%(rules)s); fix the "
                      "responsibility matrix.") % {
                "count": len(self.tied_rules), "rules": ", ".join(f"#{r.pk}" for r in self.tied_rules)}
        if self.rule is None:
            return gettext("No active rule covers this category in this region.")
        return gettext("Rule #%(pk)s applies (%(matched)s): %(answer)s.") % {
            "pk": self.rule.pk, "matched": "; ".join(self.matched),
            "answer": describe_answer(self.lead_kind, self.assisting_kinds)}

    @property
    def text(self) -> str:
        lines = [self.summary]
        lines += [f"  #{c.rule.pk} {describe_rule(c.rule)}: {c.reason}" for c in self.considered]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "category": {"kind": self.category.kind, "code": self.category.code, "name": self.category.name},
            "region_code": self.region_code,
            "rule": self.rule.pk if self.rule else None,
            "lead_kind": self.lead_kind,
            "assisting_kinds": list(self.assisting_kinds),
            "ambiguous": self.ambiguous,
            "tied_rules": [r.pk for r in self.tied_rules],
            "matched": list(self.matched),
            "summary": self.summary,
            "considered": [
                {"rule": c.rule.pk, "description": describe_rule(c.rule), "outcome": c.outcome,
                 "reason": c.reason}
                for c in self.considered
            ],
        }


def _rank(rule: ResponsibilityRule) -> tuple[int, int]:
    return SCOPE_RANK[rule.scope], len(rule.region_prefix)


def rules_for(category: Category) -> list[ResponsibilityRule]:
    """The rules that may apply to ``category`` (its own, its group's, the catch-all ones), by pk."""
    return list(
        ResponsibilityRule.objects.filter(
            Q(category=category)
            | Q(category__isnull=True, category_kind=category.kind, major_code=category.major_code)
            | Q(category__isnull=True, category_kind="", major_code="")
        ).select_related("category").order_by("pk")
    )


class RuleBook:
    """Every rule read once, for many explanations (the intake's routing): ``rules_for`` and the
    groups' names without a query each."""

    def __init__(self):
        self.by_category: dict = {}
        self.by_group: dict = {}
        self.catch_all: list = []
        for rule in ResponsibilityRule.objects.select_related("category").order_by("pk"):
            if rule.category_id is not None:
                self.by_category.setdefault(rule.category_id, []).append(rule)
            elif rule.category_kind or rule.major_code:
                self.by_group.setdefault((rule.category_kind, rule.major_code), []).append(rule)
            else:
                self.catch_all.append(rule)
        self.major_names = {}
        for kind, major, name in Category.objects.exclude(major_code="").values_list("kind", "major_code", "major_name"):
            self.major_names.setdefault((kind, major), name)

    def rules_for(self, category: Category) -> list[ResponsibilityRule]:
        found = [*self.by_category.get(category.pk, ()), *self.by_group.get((category.kind, category.major_code), ()),
                 *self.catch_all]
        return sorted(found, key=lambda r: r.pk)


def explain(category: Category, region_code: str, book: RuleBook | None = None) -> Explanation:
    """Which department kinds are responsible for ``category`` at ``region_code`` (a region code,
    or "" when the place is unknown: then only rules for everywhere match), and why. ``book``:
    the rules read already."""
    region_code = (region_code or "").strip()
    rules = book.rules_for(category) if book is not None else rules_for(category)
    considered: dict[int, Considered] = {}
    matching = []
    for rule in rules:
        if not rule.is_active:
            considered[rule.pk] = Considered(rule, "inactive", gettext("inactive: ignored"))
        elif rule.region_prefix and not region_code.startswith(rule.region_prefix):
            considered[rule.pk] = Considered(
                rule, "region_mismatch",
                gettext("region %(code)s is not inside %(prefix)s") % {
                    "code": region_code or "—", "prefix": rule.region_prefix})
        else:
            matching.append(rule)

    best = max((_rank(r) for r in matching), default=None)
    top = [r for r in matching if _rank(r) == best]
    answers = {_answer(r) for r in top}
    ambiguous = len(answers) > 1
    chosen = None if ambiguous or not top else top[0]

    for rule in matching:
        if rule in top:
            if ambiguous:
                outcome, reason = "tied", gettext("as specific as another matching rule with a different answer")
            elif rule is chosen:
                outcome, reason = "chosen", gettext("the most specific matching rule")
            else:
                outcome, reason = "duplicate", gettext("same criteria and answer as rule #%(pk)s") % {"pk": chosen.pk}
        elif _rank(rule)[0] < best[0]:
            outcome = "less_specific"
            reason = gettext("a %(scope)s rule loses to a %(best)s rule") % {
                "scope": _scope_name(rule.scope), "best": _scope_name(_scope_of_rank(best[0]))}
        else:
            outcome = "shorter_prefix"
            reason = gettext("its region prefix (%(prefix)s) is shorter than the winner's") % {
                "prefix": rule.region_prefix or gettext("everywhere")}
        considered[rule.pk] = Considered(rule, outcome, reason)

    matched = []
    if chosen is not None:
        matched = [describe_scope(chosen, book.major_names if book is not None else None)]
        matched.append(
            gettext("region %(code)s is inside %(prefix)s") % {"code": region_code, "prefix": chosen.region_prefix}
            if chosen.region_prefix else gettext("everywhere")
        )
    order = {"chosen": 0, "duplicate": 1, "tied": 0, "less_specific": 2, "shorter_prefix": 2,
             "region_mismatch": 3, "inactive": 4}
    return Explanation(
        category=category,
        region_code=region_code,
        rule=chosen,
        lead_kind=chosen.lead_kind if chosen else None,
        assisting_kinds=list(chosen.assisting_kinds) if chosen else [],
        ambiguous=ambiguous,
        matched=matched,
        considered=sorted(considered.values(), key=lambda c: (order[c.outcome], -_rank(c.rule)[0],
                                                                 -_rank(c.rule)[1], c.rule.pk)),
        tied_rules=top if ambiguous else [],
    )


def _scope_of_rank(rank: int) -> str:
    return next(scope for scope, value in SCOPE_RANK.items() if value == rank)


def _scope_name(scope: str) -> str:
    return {"category": gettext("category"), "group": gettext("group"), "all": gettext("catch-all")}[scope]
