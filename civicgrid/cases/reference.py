"""Reference data every intake reads — categories, SLA limits, the owner centre of a place, the
responsibility matrix's answer and the departments it names — held in memory.

A ``Reference`` loads each kind of row once (all categories, all command centres, all departments,
the region-prefixed matrix rules) and remembers its answers by what they depend on, so routing a
report is dictionary work instead of half a dozen queries. The bulk importer builds one per import.
Single reports share one per process through ``current()``, valid for one *reference generation*:
a token that database triggers replace on every write to the tables these answers come from
(``WATCHED``), whichever path writes — actions, the admin, imports, a data migration, plain SQL.
``current()`` reads the token (one primary-key read) and builds a new ``Reference`` when it
changed, so every process sees a committed change at its next report. The triggers are (re)installed
after every ``migrate`` (``install_triggers``); ``test_reference`` checks them on both databases.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from django.conf import settings
from django.utils import timezone, translation

# The generation row (in the regions app's generation table, beside the regions' own).
GENERATION_KEY = "reference"
# A process's reference is dropped and rebuilt past this many remembered answers (places × categories
# grow without bound in a long-running process otherwise).
MAX_MEMO = 200_000


class Reference:
    """Reference data read again and again, each kind loaded once: categories, SLA limits by
    (category, urgency), the owner centre of a region, departments, the matrix's routing answer
    (``routing``). Safe to share between threads: answers are only ever added, and two threads
    computing the same one store equal values."""

    def __init__(self):
        self.categories: dict = {}
        self.codes: dict | None = None
        self.limits: dict = {}
        self.sla_rules: tuple | None = None
        self.centres: dict = {}
        self.all_centres: dict | None = None
        self.region_codes: frozenset | None = None
        self.departments: dict | None = None
        self._routing: Routing | None = None

    def category(self, pk):
        """A category by pk (active or not), or ``None``."""
        return self._categories()[0].get(pk)

    def category_by_code(self, kind: str, code: str):
        """The category of ``kind`` with ``code`` (GB/T 47678.5), or ``None``."""
        return self._categories()[1].get((kind, code))

    def _categories(self) -> tuple[dict, dict]:
        if self.codes is None:
            from civicgrid.taxonomy.models import Category

            self.categories = Category.objects.in_bulk()
            self.codes = {(c.kind, c.code): c for c in self.categories.values()}
        return self.categories, self.codes

    def has_region(self, region_code: str) -> bool:
        """Whether a region with this code exists (all codes read once)."""
        if self.region_codes is None:
            from civicgrid.regions.models import Region

            self.region_codes = frozenset(Region.objects.values_list("code", flat=True))
        return region_code in self.region_codes

    def centre(self, region_code: str):
        """``civicgrid.org.selectors.responsible_centre`` (the finest centre whose region contains
        the place), from all centres loaded once (with their regions, boundaries left out)."""
        from civicgrid.org.models import CommandCentre
        from civicgrid.org.selectors import enclosing_codes

        if self.all_centres is None:
            self.all_centres = {c.region.code: c for c in
                                CommandCentre.objects.select_related("region").defer("region__geometry")}
        if region_code not in self.centres:
            found = [self.all_centres[c] for c in enclosing_codes(region_code) if c in self.all_centres]
            found = [(len(c.region.prefix), c.pk, c) for c in found if region_code.startswith(c.region.prefix)]
            self.centres[region_code] = max(found, key=lambda f: f[:2])[2] if found else None
        return self.centres[region_code]

    def centre_id(self, region_code: str):
        centre = self.centre(region_code)
        return centre.pk if centre is not None else None

    def department(self, pk):
        """A department by pk (with its region, boundary left out), or ``None``."""
        from civicgrid.org.models import Department

        if self.departments is None:
            self.departments = Department.objects.select_related("region").defer("region__geometry").in_bulk()
        return self.departments.get(pk)

    @property
    def routing(self) -> Routing:
        """The matrix's answers, built on first use (two threads may both build one; either serves)."""
        if self._routing is None:
            self._routing = Routing()
        return self._routing

    def size(self) -> int:
        """How many answers are remembered (see ``MAX_MEMO``)."""
        r = self._routing
        return len(self.centres) + (len(r.serving_memo) + len(r.explain_memo) + len(r.suggestions)
                                    + len(r.rules_memo) + len(r.departments_by_place) if r else 0)

    def stage_limits(self, case) -> None:
        """Set the case's stage limits (as ``deadlines.stage_limits`` computes them) from the SLA
        rules, all read at the first case."""
        from civicgrid.cases import deadlines
        from civicgrid.taxonomy.sla import resolve

        key = (case.category_id, case.urgency)
        if case.category_id is None:
            self.limits[key] = (key, {})
        elif key not in self.limits:
            rules, default = self._sla_rules()
            self.limits[key] = (key, deadlines.clock_limits(
                resolve(rules.get(case.category_id), default, case.urgency == "urgent")))
        case._stage_limits = self.limits[key]

    def _sla_rules(self) -> tuple[dict, object]:
        """({category pk: its rule}, the default rule), as ``taxonomy.selectors.sla_rule_for``
        chooses them (the first by pk), from one read of every rule."""
        if self.sla_rules is None:
            from civicgrid.taxonomy.models import SlaRule
            from civicgrid.taxonomy.sla import builtin_default_rule

            rules, default = {}, None
            for rule in SlaRule.objects.order_by("pk"):
                if rule.category_id is not None:
                    rules.setdefault(rule.category_id, rule)
                if rule.is_default and default is None:
                    default = rule
            self.sla_rules = (rules, default or builtin_default_rule())
        return self.sla_rules


class Routing:
    """``civicgrid.cases.routing.suggest`` for many cases, with its two look-ups remembered for the
    life of its ``Reference`` (one import, or one generation in a process) by what they depend on: the matrix's explanation by (category, the region-prefixed
    rules the place matches) — by the place itself when the chosen rule has a region prefix, as the
    explanation then names the place — and the departments of the kinds asked for by the set of
    active departments of those kinds that serve the place. The decision itself follows
    ``routing.suggest`` step by step; ``test_bulk_routing`` checks they agree in every outcome."""

    def __init__(self):
        from civicgrid.org.models import Department
        from civicgrid.regions.models import significant_prefix
        from civicgrid.taxonomy.matrix import RuleBook

        self.book = RuleBook()
        self.prefix_rules = [(rule.pk, rule.region_prefix) for rules in (
            *self.book.by_category.values(), *self.book.by_group.values(), self.book.catch_all)
            for rule in rules if rule.region_prefix]
        self.departments_by_region = defaultdict(list)
        for pk, kind, name, code, level in Department.objects.filter(is_active=True).values_list(
                "pk", "kind", "name", "region__code", "region__level"):
            self.departments_by_region[code].append((pk, kind, significant_prefix(code, level), name))
        self.serving_memo: dict = {}
        self.explain_memo: dict = {}
        self.departments_memo: dict = {}
        self.rules_memo: dict = {}  # region code → the region-prefixed rules it matches
        self.departments_by_place: dict = {}  # (kinds, region code) → ``departments``' answer
        self.suggestions: dict = {}
        self.keep_alive: list = []  # the explanations whose id() keys ``suggestions``
        self.computed_at = timezone.now().isoformat()

    def _serving(self, region_code: str) -> list[tuple]:
        """(pk, kind, prefix, name) of the active departments whose region encloses the place."""
        from civicgrid.org.selectors import enclosing_codes

        found = self.serving_memo.get(region_code)
        if found is None:
            found = self.serving_memo[region_code] = [
                d for code in enclosing_codes(region_code) for d in self.departments_by_region.get(code, ())
                if region_code.startswith(d[2])]
        return found

    def explanation(self, category, region_code: str):
        from civicgrid.taxonomy.selectors import explain

        rules = self.rules_memo.get(region_code)
        if rules is None:
            rules = self.rules_memo[region_code] = frozenset(
                pk for pk, prefix in self.prefix_rules if region_code.startswith(prefix))
        shared = (category.pk, rules)
        found = self.explain_memo.get(shared)
        if found == "by place":
            found = self.explain_memo.get((category.pk, region_code))
        if found is None:
            with translation.override(settings.LANGUAGE_CODE):
                explanation = explain(category, region_code, self.book)
                found = (explanation, str(explanation.summary))
            if explanation.rule is not None and explanation.rule.region_prefix:
                self.explain_memo[shared] = "by place"
                self.explain_memo[(category.pk, region_code)] = found
            else:
                self.explain_memo[shared] = found
        return found

    def departments(self, kinds: list[str], region_code: str) -> tuple[tuple, dict[str, list[int]]]:
        """``civicgrid.org.selectors.departments_of_kinds_for`` as pks: per kind, the departments
        serving the place at the finest level any of them sits, by name; with the key the answer is
        remembered by."""
        wanted = tuple(dict.fromkeys(kinds))
        by_place = self.departments_by_place.get((wanted, region_code))
        if by_place is not None:
            return by_place
        serving = [d for d in self._serving(region_code) if d[1] in wanted]
        key = (wanted, frozenset(d[0] for d in serving))
        found = self.departments_memo.get(key)
        if found is None:
            found = {kind: [] for kind in wanted}
            for kind in wanted:
                of_kind = [d for d in serving if d[1] == kind]
                if of_kind:
                    finest = max(len(d[2]) for d in of_kind)
                    found[kind] = [d[0] for d in sorted((d for d in of_kind if len(d[2]) == finest),
                                                        key=lambda d: (d[3], d[0]))]
            self.departments_memo[key] = found
        self.departments_by_place[(wanted, region_code)] = (key, found)
        return key, found

    def suggest(self, case) -> dict:
        """The suggestion for ``case``; cases with the same category, explanation and departments
        share one (read-only) dict."""
        if case.category_id is None or not case.region_code:
            return self._suggest(case)
        found = self.explanation(case.category, case.region_code)
        explanation = found[0]
        departments_key = None
        if not explanation.ambiguous and explanation.rule is not None:
            departments_key = self.departments(
                [explanation.lead_kind, *explanation.assisting_kinds], case.region_code)[0]
        key = (case.category_id, id(found), departments_key)
        result = self.suggestions.get(key)
        if result is None:
            result = self.suggestions[key] = self._suggest(case)
            self.keep_alive.append(found)
        return result

    def _suggest(self, case) -> dict:
        from civicgrid.cases import routing

        result = {
            "lead_department": None, "lead_candidates": [], "assisting_departments": [],
            "unresolved_assisting_kinds": [], "rule": None, "lead_kind": None, "assisting_kinds": [],
            "ambiguous": False, "tied_rules": [], "why": "", "reason": routing.NO_CATEGORY, "auto": False,
            "computed_at": self.computed_at,
        }
        if case.category_id is None or not case.region_code:
            return result
        explanation, result["why"] = self.explanation(case.category, case.region_code)
        result.update(
            rule=explanation.rule.pk if explanation.rule else None, lead_kind=explanation.lead_kind,
            assisting_kinds=list(explanation.assisting_kinds), ambiguous=explanation.ambiguous,
            tied_rules=[r.pk for r in explanation.tied_rules],
        )
        if explanation.ambiguous:
            result["reason"] = routing.AMBIGUOUS
            return result
        if explanation.rule is None:
            result["reason"] = routing.NO_RULE
            return result
        found_by_kind = self.departments([explanation.lead_kind, *explanation.assisting_kinds], case.region_code)[1]
        leads = found_by_kind[explanation.lead_kind]
        result["lead_candidates"] = list(leads)
        if not leads:
            result["reason"] = routing.NO_LEAD_DEPARTMENT
            return result
        if len(leads) > 1:
            result["reason"] = routing.SEVERAL_LEAD_DEPARTMENTS
            return result
        result["lead_department"] = leads[0]
        for kind in explanation.assisting_kinds:
            found = found_by_kind[kind]
            if len(found) == 1 and found[0] != leads[0]:
                result["assisting_departments"].append(found[0])
            else:
                result["unresolved_assisting_kinds"].append(kind)
        if result["unresolved_assisting_kinds"]:
            result["reason"] = routing.ASSISTING_UNRESOLVED
        elif not case.category.auto_dispatch:
            result["reason"] = routing.AUTO_DISPATCH_OFF
        else:
            result["reason"], result["auto"] = routing.READY, True
        return result


# --- one reference per process, per generation -------------------------------------------------

_lock = threading.Lock()
_current: tuple[str, Reference] | None = None


def generation_token() -> str:
    """The committed reference generation ("" before the first write since the tables were made)."""
    from civicgrid.regions.generation import current_token

    return current_token(GENERATION_KEY)


def pinned():
    """A block (one request's intake) in which the region, reference and auth generations are read
    once: the token's user, the locator and the reference data all answer from that one read."""
    from civicgrid.org.authentication import AUTH_KEY
    from civicgrid.regions.generation import KEY, pinned

    return pinned(KEY, GENERATION_KEY, AUTH_KEY)


def current() -> Reference:
    """This process's ``Reference`` for the current generation (one primary-key read)."""
    global _current
    token = generation_token()
    held = _current
    if held is not None and held[0] == token and held[1].size() < MAX_MEMO:
        return held[1]
    with _lock:
        if _current is None or _current[0] != token or _current[1].size() >= MAX_MEMO:
            _current = (token, Reference())
        return _current[1]


def forget() -> None:
    """Drop this process's reference (between tests: a rolled-back test's rows must not linger)."""
    global _current
    with _lock:
        _current = None


def suggestion(ref: Reference, case) -> dict:
    """``civicgrid.cases.routing.suggest`` for one case from ``ref``: the case's own copy, computed now."""
    return {**ref.routing.suggest(case), "computed_at": timezone.now().isoformat()}


# --- the triggers that replace the token --------------------------------------------------------


def watched_tables() -> list[str]:
    """The tables the answers above are read from."""
    from civicgrid.org.models import CommandCentre, Department
    from civicgrid.regions.models import Region
    from civicgrid.taxonomy.models import Category, ResponsibilityRule, SlaRule

    return [m._meta.db_table for m in (Category, SlaRule, ResponsibilityRule, Department, CommandCentre, Region)]


TRIGGER_PREFIX = "civicgrid_refgen"


def install_triggers(using: str = "default") -> None:
    """Create (or replace) the triggers that give the reference a new token on every write to a
    watched table (see ``civicgrid.regions.generation.install_triggers``)."""
    from civicgrid.regions.generation import install_triggers as install

    install(GENERATION_KEY, watched_tables(), TRIGGER_PREFIX, using)


def installed_triggers(using: str = "default") -> set[str]:
    """Names of the reference triggers present (for the checks and tests)."""
    from civicgrid.regions.generation import installed_triggers as installed

    return installed(TRIGGER_PREFIX, using)


def expected_triggers(using: str = "default") -> set[str]:
    from civicgrid.regions.generation import expected_triggers as expected

    return expected(watched_tables(), TRIGGER_PREFIX, using)
