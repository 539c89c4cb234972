"""The dispute figures (矛盾纠纷统计) by region, type and period, with their definitions.

The population is the disputes **received** in the period (``opened_at`` in ``[start, end)``) in
the caller's jurisdiction, optionally inside one region and of one type. Every other figure counts
within that population, as it stands now:

| figure | 中文 | definition |
|---|---|---|
| received | 排查数 | disputes received (opened) in the period |
| resolved | 化解数 | of those, disputes whose case is closed (结案) and whose mediation did not fail |
| resolution_rate | 化解率 | resolved / received |
| mediated | 调解数 | disputes whose mediation has an outcome (agreement or failure) |
| mediation_success | 调解成功数 | disputes with a written agreement |
| mediation_success_rate | 调解成功率 | mediation_success / mediated (人民调解法 usage) |
| confirmed | 司法确认数 | agreements the court confirmed (司法确认) |
| on_time_rate | 按时化解率 | resolved disputes whose case closed by the resolution deadline (化解时限) / resolved |
| average_days | 平均化解天数 | mean calendar days from intake to closure over resolved disputes |

A rate with an empty denominator is ``None`` (shown as "—"), never 0 or 100 %.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.workflow import State
from civicgrid.disputes.models import ConfirmationState, Outcome
from civicgrid.disputes.selectors import disputes_for
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH, Region

DEFINITIONS = [
    ("received", _("received (排查数)"), _("Disputes received (opened) in the period.")),
    ("resolved", _("resolved (化解数)"), _("Of those, disputes whose case is closed and whose mediation did not fail.")),
    ("resolution_rate", _("resolution rate (化解率)"), _("Resolved ÷ received.")),
    ("mediated", _("mediated (调解数)"), _("Disputes whose mediation has an outcome: an agreement or a failure.")),
    ("mediation_success", _("successful mediations (调解成功数)"), _("Disputes with a written mediation agreement.")),
    ("mediation_success_rate", _("mediation success rate (调解成功率)"), _("Successful mediations ÷ mediated.")),
    ("confirmed", _("judicially confirmed (司法确认数)"), _("Agreements the court confirmed.")),
    ("on_time_rate", _("on-time rate (按时化解率)"),
     _("Resolved disputes whose case closed by the resolution deadline ÷ resolved.")),
    ("average_days", _("average days to resolution (平均化解天数)"),
     _("Mean calendar days from intake to closure, over resolved disputes.")),
]


@dataclass
class Figures:
    key: str = ""
    label: str = ""
    received: int = 0
    resolved: int = 0
    mediated: int = 0
    mediation_success: int = 0
    confirmed: int = 0
    on_time: int = 0
    _days: list[float] = field(default_factory=list)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def resolution_rate(self):
        return self._rate(self.resolved, self.received)

    @property
    def mediation_success_rate(self):
        return self._rate(self.mediation_success, self.mediated)

    @property
    def on_time_rate(self):
        return self._rate(self.on_time, self.resolved)

    @property
    def average_days(self):
        return round(sum(self._days) / len(self._days), 1) if self._days else None

    def add(self, row: dict) -> None:
        self.received += 1
        is_resolved = row["case__state"] == State.CLOSED and row["outcome"] != Outcome.FAILED
        if is_resolved:
            self.resolved += 1
            closed = row["case__closed_at"]
            self.on_time += closed <= row["resolution_deadline"]
            self._days.append((closed - row["opened_at"]).total_seconds() / 86400)
        if row["outcome"] in (Outcome.AGREEMENT, Outcome.FAILED):
            self.mediated += 1
        if row["outcome"] == Outcome.AGREEMENT:
            self.mediation_success += 1
        if row["agreement__confirmation_state"] == ConfirmationState.CONFIRMED:
            self.confirmed += 1

    def cells(self) -> list[str]:
        """The figures formatted for a table, in the order of ``DEFINITIONS``: rates as percentages
        with two decimals (99.38%), days with one, "—" for an empty denominator."""
        out = []
        for key, _label, _text in DEFINITIONS:
            value = getattr(self, key)
            if value is None:
                out.append("—")
            elif key.endswith("_rate"):
                out.append(f"{value * 100:.2f}%")
            elif key == "average_days":
                out.append(f"{value:.1f}")
            else:
                out.append(str(value))
        return out

    def as_dict(self) -> dict:
        return {
            "key": self.key, "label": self.label, "received": self.received, "resolved": self.resolved,
            "resolution_rate": self.resolution_rate, "mediated": self.mediated,
            "mediation_success": self.mediation_success, "mediation_success_rate": self.mediation_success_rate,
            "confirmed": self.confirmed, "on_time_rate": self.on_time_rate, "average_days": self.average_days,
        }


GROUPS = ("region", "type", "month")


def dispute_figures(user, *, start: datetime, end: datetime, region: Region | None = None,
                    dispute_type=None, group_by: str = "") -> dict:
    """``{"total": Figures, "rows": [Figures …]}`` for the disputes received in ``[start, end)``;
    ``group_by`` "region" (the regions one level below ``region``), "type" or "month"."""
    qs = disputes_for(user).filter(opened_at__gte=start, opened_at__lt=end)
    child_len = None
    names: dict[str, str] = {}
    if region is not None:
        qs = qs.filter(case__region_code__startswith=region.prefix)
    if group_by == "region":
        parent_len = LEVEL_PREFIX_LENGTH[region.level] if region is not None else 0
        child_len = min((n for n in LEVEL_PREFIX_LENGTH.values() if n > parent_len), default=15)
        children = Region.objects.filter(code__startswith=region.prefix if region else "")
        for code, level, name in children.values_list("code", "level", "name"):
            if LEVEL_PREFIX_LENGTH[level] == child_len:
                names[code[:child_len]] = name
    if dispute_type is not None:
        qs = qs.filter(dispute_type=dispute_type)
    rows = qs.values(
        "opened_at", "resolution_deadline", "outcome", "case__state", "case__closed_at", "case__region_code",
        "dispute_type__code", "dispute_type__name", "agreement__confirmation_state",
    )
    total = Figures(key="total", label=str(_("total")))
    groups: dict[str, Figures] = defaultdict(Figures)
    for row in rows:
        total.add(row)
        if group_by == "region":
            key = row["case__region_code"][:child_len]
            label = names.get(key, key)
        elif group_by == "type":
            key, label = row["dispute_type__code"], row["dispute_type__name"]
        elif group_by == "month":
            key = label = timezone.localtime(row["opened_at"]).strftime("%Y-%m")
        else:
            continue
        figures = groups[key]
        figures.key, figures.label = key, label
        figures.add(row)
    return {"total": total, "rows": [groups[k] for k in sorted(groups)]}
