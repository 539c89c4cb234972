"""Every change to categories, SLA rules and the responsibility matrix.

Each action runs in a transaction: lock → check → change → side effects on commit. ``actor`` is the
person asking (needs ``taxonomy.manage``); ``None`` means the system (management commands, loaders).
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from civicgrid.org.models import DepartmentKind
from civicgrid.org.permissions import require_permission
from civicgrid.taxonomy.keywords import join_keywords, merge_keywords
from civicgrid.taxonomy.matrix import validate_responsibility_rule
from civicgrid.taxonomy.models import Category, CategoryKind, ResponsibilityRule, SlaRule
from civicgrid.taxonomy.sla import STAGES, builtin_default_rule, parse_duration, set_stage, validate_sla_rule

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
DIRECTORY_CSV = DATA_DIR / "gbt47678.5-2026-directory.csv"
GOVERNANCE_CSV = DATA_DIR / "governance-categories.csv"
KEYWORDS_CSV = DATA_DIR / "gbt47678.5-keywords.csv"
SLA_CSV = DATA_DIR / "sla-defaults.csv"
MATRIX_CSV = DATA_DIR / "responsibility-defaults.csv"

# Kind names as written in the data files (Chinese) or as stored.
KIND_NAMES = {"部件": CategoryKind.COMPONENT, "事项": CategoryKind.MATTER, "治理": CategoryKind.GOVERNANCE,
              **{k: CategoryKind(k) for k in CategoryKind.values}}
_TRUE = {"1", "true", "yes", "y", "是"}


def _check_actor(actor) -> None:
    if actor is not None:
        require_permission(actor, "taxonomy.manage")


def _read_csv(path: Path) -> list[tuple[int, dict]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [(number, {k.strip(): (v or "").strip() for k, v in row.items() if k})
                for number, row in enumerate(csv.DictReader(handle), start=2)]


def _kind(value: str, path: Path, line: int) -> str:
    try:
        return KIND_NAMES[value]
    except KeyError:
        raise ValidationError(
            _("%(file)s line %(line)s: unknown category kind %(kind)r."), code="unknown_kind",
            params={"file": path.name, "line": line, "kind": value},
        ) from None


def read_category_csv(path: Path) -> list[dict]:
    """Rows of a category file: ``kind,code,name`` and optionally ``major_code,major_name,keywords,
    is_public,auto_dispatch,description``. Raises ``ValidationError`` naming the bad line."""
    path = Path(path)
    rows, seen = [], set()
    for line, row in _read_csv(path):
        def bad(message, error_code, line=line, **params):
            raise ValidationError(message, code=error_code, params={"file": path.name, "line": line, **params})

        kind = _kind(row.get("kind", ""), path, line)
        code = row.get("code", "")
        if len(code) != 5 or not code.isdigit():
            bad(_("%(file)s line %(line)s: a category code has five digits, not %(code)r."), "bad_code",
                code=code)
        major = row.get("major_code") or code[:2]
        if major != code[:2]:
            bad(_("%(file)s line %(line)s: major class %(major)s does not match code %(code)s."),
                "major_mismatch", major=major, code=code)
        if not row.get("name"):
            bad(_("%(file)s line %(line)s: the name is empty."), "name_required")
        if (kind, code) in seen:
            bad(_("%(file)s line %(line)s: %(code)s appears twice."), "duplicate", code=code)
        seen.add((kind, code))
        rows.append({
            "kind": kind, "code": code, "major_code": major, "major_name": row.get("major_name", ""),
            "name": row["name"], "keywords": row.get("keywords", ""),
            "is_public": None if row.get("is_public", "") == "" else row["is_public"].lower() in _TRUE,
            "auto_dispatch": None if row.get("auto_dispatch", "") == "" else row["auto_dispatch"].lower() in _TRUE,
            "description": row.get("description"),
        })
    return rows


@transaction.atomic
def load_categories_from(paths, *, keywords_path: Path | None = KEYWORDS_CSV) -> int:
    """Create or update the categories of the given files; returns how many rows were created or
    changed. The standard's fields (name, major class) follow the file; keywords are merged so an
    administrator's additions stay; ``is_public`` and ``auto_dispatch`` are set only on creation."""
    rows = [row for path in paths for row in read_category_csv(path)]
    extra_keywords = {}
    if keywords_path is not None:
        for line, row in _read_csv(Path(keywords_path)):
            extra_keywords[(_kind(row["kind"], Path(keywords_path), line), row["code"])] = row["keywords"]

    existing = {(c.kind, c.code): c for c in Category.objects.select_for_update().order_by("pk")}
    created, changed = [], []
    for row in rows:
        key = (row["kind"], row["code"])
        keywords = merge_keywords(row["keywords"], extra_keywords.get(key, ""))
        category = existing.get(key)
        if category is None:
            created.append(Category(
                kind=row["kind"], code=row["code"], major_code=row["major_code"], major_name=row["major_name"],
                name=row["name"], keywords=keywords, description=row["description"] or "",
                is_public=True if row["is_public"] is None else row["is_public"],
                auto_dispatch=bool(row["auto_dispatch"]),
            ))
            continue
        wanted = {"major_code": row["major_code"], "name": row["name"],
                  "keywords": merge_keywords(category.keywords, keywords)}
        if row["major_name"]:
            wanted["major_name"] = row["major_name"]
        if row["description"] is not None:
            wanted["description"] = row["description"]
        if any(getattr(category, f) != v for f, v in wanted.items()):
            for f, v in wanted.items():
                setattr(category, f, v)
            category.save(update_fields=[*wanted, "updated_at"])
            changed.append(category)
    Category.objects.bulk_create(created)
    count = len(created) + len(changed)
    transaction.on_commit(lambda: log.info("categories: %d created, %d changed", len(created), len(changed)))
    return count


@transaction.atomic
def load_default_sla_rules(path: Path = SLA_CSV) -> int:
    """Create the default SLA rule and the shipped per-category rules where none exists yet (rules an
    administrator has edited stay as they are). Returns how many rules were created."""
    path = Path(path)
    list(SlaRule.objects.select_for_update().order_by("pk"))
    count = 0
    if not SlaRule.objects.filter(is_default=True).exists():
        rule = builtin_default_rule()
        validate_sla_rule(rule)
        rule.save()
        count += 1
    categories = {(c.kind, c.code): c for c in Category.objects.filter(sla_rule__isnull=True)}
    new_rules = []
    for line, row in _read_csv(path):
        category = categories.get((_kind(row["kind"], path, line), row["code"]))
        if category is None:
            continue  # already has a rule, or not loaded (a city's own directory)
        rule = SlaRule(category=category, note=str(_("shipped default")))
        for stage in STAGES:
            try:
                normal, urgent = parse_duration(row.get(stage, "")), parse_duration(row.get(f"{stage}_urgent", ""))
            except ValueError as exc:
                raise ValidationError(f"{path.name} line {line}: {exc}", code="bad_duration") from exc
            set_stage(rule, stage, normal, urgent)
        validate_sla_rule(rule)
        new_rules.append(rule)
    SlaRule.objects.bulk_create(new_rules)
    return count + len(new_rules)


def load_standard_categories(paths=None) -> int:
    """Load or update the GB/T 47678.5-2026 directory (153 部件 + 250 事项), the governance
    categories and the default SLA rules. Idempotent: a second run returns 0.

    ``paths``: category CSV files to load instead of the shipped directory and governance files."""
    with transaction.atomic():
        count = load_categories_from(paths or [DIRECTORY_CSV, GOVERNANCE_CSV])
        count += load_default_sla_rules()
    return count


# --- responsibility matrix -----------------------------------------------------------------------


def _matrix_rows(path: Path) -> list[dict]:
    rows = []
    for line, row in _read_csv(path):
        kind = _kind(row["kind"], path, line) if row.get("kind") else ""
        kinds = [k for k in row.get("assisting", "").split("|") if k]
        for value in [row.get("lead", ""), *kinds]:
            if value not in DepartmentKind.values:
                raise ValidationError(f"{path.name} line {line}: unknown department kind {value!r}",
                                      code="unknown_kind")
        rows.append({"line": line, "kind": kind, "major_code": row.get("major_code", ""),
                     "code": row.get("code", ""), "lead": row["lead"], "assisting": kinds,
                     "note": row.get("note", "")})
    return rows


@transaction.atomic
def load_default_responsibility_matrix(path: Path = MATRIX_CSV) -> int:
    """Add the shipped responsibility matrix (one rule per group, refinements per category, one
    catch-all): each line whose criteria no rule has yet is created, so an administrator's edits
    stay. Lines for categories that are not loaded are skipped. Returns how many rules were created."""
    path = Path(path)
    existing = list(ResponsibilityRule.objects.select_for_update().order_by("pk"))
    have = {(r.category_id, r.category_kind, r.major_code, r.region_prefix) for r in existing}
    categories = {(c.kind, c.code): c for c in Category.objects.all()}
    groups = {(c.kind, c.major_code) for c in categories.values()}
    new_rules = []
    for row in _matrix_rows(path):
        rule = ResponsibilityRule(lead_kind=row["lead"], assisting_kinds=row["assisting"], note=row["note"])
        if row["code"]:
            category = categories.get((row["kind"], row["code"]))
            if category is None:
                continue
            rule.category = category
        elif row["kind"]:
            rule.category_kind, rule.major_code = row["kind"], row["major_code"]
            if (row["kind"], row["major_code"]) not in groups:
                continue
        key = (rule.category_id, rule.category_kind, rule.major_code, rule.region_prefix)
        if key in have:
            continue
        validate_responsibility_rule(rule)  # department kinds were checked when reading the file
        new_rules.append(rule)
        have.add(key)
    ResponsibilityRule.objects.bulk_create(new_rules)
    created = len(new_rules)
    transaction.on_commit(lambda: log.info("responsibility matrix: %d rules created", created))
    return created


# --- single edits (admin, API) -------------------------------------------------------------------


def _full_clean(instance, extra=None) -> None:
    errors: dict = {}
    for check in (instance.full_clean, extra):
        if check is None:
            continue
        try:
            check()
        except ValidationError as exc:
            for name, errs in exc.error_dict.items():
                errors.setdefault(name, []).extend(errs)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_category(category: Category, *, actor=None) -> Category:
    """Create or update a category; its major class follows its code and keywords are normalised."""
    _check_actor(actor)
    if category.pk:
        Category.objects.select_for_update().filter(pk=category.pk).first()
    if category.code and not category.major_code:
        category.major_code = category.code[:2]
    category.keywords = join_keywords([category.keywords])

    def check():
        errors = {}
        if category.code and (len(category.code) != 5 or not category.code.isdigit()):
            errors["code"] = ValidationError(_("A category code has five digits."), code="bad_code")
        elif category.code and category.major_code != category.code[:2]:
            errors["major_code"] = ValidationError(
                _("The major class code is the first two digits of the code (%(major)s)."),
                code="major_mismatch", params={"major": category.code[:2]})
        if errors:
            raise ValidationError(errors)

    _full_clean(category, check)
    category.save()
    return category


@transaction.atomic
def delete_category(category: Category, *, actor=None) -> None:
    """Delete a category (``ProtectedError`` while cases use it: deactivate it instead)."""
    _check_actor(actor)
    Category.objects.select_for_update().get(pk=category.pk).delete()


@transaction.atomic
def save_sla_rule(rule: SlaRule, *, actor=None) -> SlaRule:
    _check_actor(actor)
    if rule.category_id:
        Category.objects.select_for_update().filter(pk=rule.category_id).first()
    _full_clean(rule, lambda: validate_sla_rule(rule))
    rule.save()
    return rule


@transaction.atomic
def delete_sla_rule(rule: SlaRule, *, actor=None) -> None:
    """Delete a category's rule (the default rule then applies). The default rule itself stays."""
    _check_actor(actor)
    rule = SlaRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_default:
        raise ValidationError({"is_default": ValidationError(
            _("The default rule cannot be deleted; change its limits instead."), code="default_required")})
    rule.delete()


@transaction.atomic
def save_responsibility_rule(rule: ResponsibilityRule, *, actor=None) -> ResponsibilityRule:
    _check_actor(actor)
    if rule.pk:
        ResponsibilityRule.objects.select_for_update().filter(pk=rule.pk).order_by("pk").first()
    rule.region_prefix = (rule.region_prefix or "").strip()
    _full_clean(rule, lambda: validate_responsibility_rule(rule))
    rule.save()
    transaction.on_commit(lambda: log.info("responsibility rule #%s saved", rule.pk))
    return rule


@transaction.atomic
def delete_responsibility_rule(rule: ResponsibilityRule, *, actor=None) -> None:
    _check_actor(actor)
    ResponsibilityRule.objects.select_for_update().get(pk=rule.pk).delete()
