"""Time limits per stage (SLA): parsing, the built-in default rule, validation and resolution.

Amounts are working hours or working days; the case spine turns them into deadlines with
``civicgrid.core.calendar.add_working_time(start, amount, unit)``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.taxonomy.models import SlaRule, SlaStage, TimeUnit

STAGES: tuple[str, ...] = tuple(SlaStage.values)


class WorkingDuration(NamedTuple):
    """An amount of working time: ``amount`` (``Decimal``) in ``unit`` ("hours" or "days")."""

    amount: Decimal
    unit: str

    def __str__(self):
        return f"{self.amount.normalize():f}{'h' if self.unit == TimeUnit.HOURS else 'd'}"


_SHORT = re.compile(r"^\s*(\d+(?:\.\d{1,2})?)\s*([hd])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> WorkingDuration | None:
    """``"4h"`` → 4 working hours, ``"15d"`` → 15 working days, ``""`` → ``None``."""
    if not (text or "").strip():
        return None
    match = _SHORT.match(text)
    if not match:
        raise ValueError(f"Not a duration like 4h or 15d: {text!r}")
    unit = TimeUnit.HOURS if match.group(2).lower() == "h" else TimeUnit.DAYS
    return WorkingDuration(Decimal(match.group(1)), unit.value)


# Local configuration, taken from common 数字城管 practice: report → filed and filed → dispatched
# together within one working hour, signing for within one working hour, handling within three
# working days unless the category says otherwise; urgent cases get a quarter of that or less.
BUILTIN_DEFAULT: dict[str, tuple[str, str]] = {
    SlaStage.FILE: ("0.5h", "0.25h"),
    SlaStage.DISPATCH: ("0.5h", "0.25h"),
    SlaStage.SIGN_FOR: ("1h", "0.5h"),
    SlaStage.HANDLE: ("3d", "4h"),
    SlaStage.VERIFY: ("4h", "1h"),
}


def hours_per_working_day() -> Decimal:
    """Office hours in one working day (``CIVICGRID_OFFICE_HOURS``, e.g. 08:30-12:00,14:30-17:30)."""
    total = Decimal(0)
    for span in str(getattr(settings, "CIVICGRID_OFFICE_HOURS", "")).split(","):
        try:
            start, end = (part.strip() for part in span.split("-"))
            sh, sm = (int(x) for x in start.split(":"))
            eh, em = (int(x) for x in end.split(":"))
        except ValueError:
            continue
        total += Decimal((eh * 60 + em) - (sh * 60 + sm)) / Decimal(60)
    return total if total > 0 else Decimal(8)


def in_hours(duration: WorkingDuration) -> Decimal:
    if duration.unit == TimeUnit.DAYS:
        return duration.amount * hours_per_working_day()
    return duration.amount


def _get(rule, stage: str, urgent: bool) -> WorkingDuration | None:
    suffix = "_urgent" if urgent else ""
    amount = getattr(rule, f"{stage}{suffix}_amount")
    unit = getattr(rule, f"{stage}{suffix}_unit")
    if amount is None:
        return None
    return WorkingDuration(Decimal(amount), unit)


def set_stage(rule: SlaRule, stage: str, normal: WorkingDuration | None,
              urgent: WorkingDuration | None = None) -> None:
    setattr(rule, f"{stage}_amount", normal.amount if normal else None)
    setattr(rule, f"{stage}_unit", normal.unit if normal else "")
    setattr(rule, f"{stage}_urgent_amount", urgent.amount if urgent else None)
    setattr(rule, f"{stage}_urgent_unit", urgent.unit if urgent else "")


def builtin_default_rule() -> SlaRule:
    """An unsaved default rule holding ``BUILTIN_DEFAULT``."""
    rule = SlaRule(is_default=True, note="GB/T 47678 practice; local configuration")
    for stage, (normal, urgent) in BUILTIN_DEFAULT.items():
        set_stage(rule, stage, parse_duration(normal), parse_duration(urgent))
    return rule


def resolve(rule: SlaRule | None, default: SlaRule, urgent: bool) -> dict[str, WorkingDuration]:
    """Limits per stage: the category rule's stage when it sets one, else the default rule's.
    An empty urgent limit means the normal limit of the same rule."""
    limits = {}
    for stage in STAGES:
        source = rule if rule is not None and _get(rule, stage, False) is not None else default
        normal = _get(source, stage, False)
        limits[stage] = (_get(source, stage, True) or normal) if urgent else normal
    return {stage: value for stage, value in limits.items() if value is not None}


def validate_sla_rule(rule: SlaRule) -> None:
    """Field-level checks: amounts positive with a unit, days whole, urgent no longer than normal;
    the default rule sets every stage."""
    errors: dict[str, list[ValidationError]] = {}

    def add(field, message, code, params=None):
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params))

    if rule.is_default and rule.category_id:
        add("category", _("The default rule applies to every category; leave the category empty."),
            "default_with_category")
    if not rule.is_default and not rule.category_id:
        add("category", _("Choose a category, or mark the rule as the default rule."), "required")
    for stage in STAGES:
        values = {}
        for suffix in ("", "_urgent"):
            amount_field, unit_field = f"{stage}{suffix}_amount", f"{stage}{suffix}_unit"
            amount, unit = getattr(rule, amount_field), getattr(rule, unit_field)
            if amount is None:
                if unit:
                    add(amount_field, _("Enter an amount for this unit, or clear the unit."), "amount_required")
                continue
            try:
                amount = Decimal(amount)
            except (InvalidOperation, TypeError):
                continue  # the field's own validation reports it
            if not unit:
                add(unit_field, _("Choose working hours or working days."), "unit_required")
                continue
            if amount <= 0:
                add(amount_field, _("A time limit must be more than zero."), "not_positive")
                continue
            if unit == TimeUnit.DAYS and amount != amount.to_integral_value():
                add(amount_field, _("Working days must be a whole number; use working hours instead."),
                    "days_not_whole")
                continue
            values[suffix] = WorkingDuration(amount, unit)
        label = SlaStage(stage).label
        if rule.is_default and "" not in values and f"{stage}_amount" not in errors:
            add(f"{stage}_amount", _("The default rule must set a limit for %(stage)s."), "required",
                {"stage": label})
        if "_urgent" in values and "" not in values and f"{stage}_amount" not in errors:
            add(f"{stage}_amount", _("Set the normal limit for %(stage)s before an urgent one."),
                "urgent_without_normal", {"stage": label})
        if "" in values and "_urgent" in values and in_hours(values["_urgent"]) > in_hours(values[""]):
            add(f"{stage}_urgent_amount",
                _("The urgent limit for %(stage)s (%(urgent)s) may not be longer than the normal one "
                  "(%(normal)s)."), "urgent_longer",
                {"stage": label, "urgent": str(values["_urgent"]), "normal": str(values[""])})
    if errors:
        raise ValidationError(errors)
