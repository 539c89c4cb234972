"""Two years of demo case history for the Xiamen demo: tens of thousands of cases across
categories, channels, districts and outcomes, each with a consistent timeline, so every page and
figure has real-looking data.

The per-case actions are far too slow for 50,000 cases, so this module plays each case's life
through in memory with the same rules (the lifecycle table, the SLA limits on the working-day
calendar, the responsibility matrix, the case number format) and writes the rows with
``bulk_create``. Every history case carries ``external_id`` ``demo-history-…``; loading again
deletes those and writes the history anew (same seed and end day: the same history).
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import shapely
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.db.models.base import ModelState
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from shapely.geometry import shape

from civicgrid.cases import routing
from civicgrid.cases.deadlines import sla_status, warn_moment
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CaseRating,
    Channel,
    Rating,
    SlaStatus,
    Supervision,
    SupervisionLevel,
    Urgency,
)
from civicgrid.cases.workflow import (
    ACTIVE_ASSIGNMENT_STATES,
    Action,
    AssignmentRole,
    AssignmentState,
    Overlay,
    State,
)
from civicgrid.core import calendar
from civicgrid.core.fields import blind_index_fields
from civicgrid.demo import catalogue, history_text
from civicgrid.demo.geometry import short_community_name
from civicgrid.org.models import DepartmentKind, User
from civicgrid.org.selectors import departments_of_kind_for, responsible_centre
from civicgrid.regions.models import LEVEL_PREFIX_LENGTH, Region
from civicgrid.taxonomy.models import Category, RequestType, ResponsibilityRule
from civicgrid.taxonomy.selectors import explain, sla_limits

HISTORY_PREFIX = "demo-history-"
DEFAULT_SEED = 12345
DEFAULT_CASES_PER_DAY = 68  # about 50,000 over two years
BATCH = 2000

Level = Region.Level


@dataclass
class HistorySummary:
    first_day: date | None = None
    last_day: date | None = None
    counts: dict[str, int] = field(default_factory=dict)  # cases, events, assignments, ratings, supervisions
    by_state: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_district: dict[str, int] = field(default_factory=dict)
    deleted: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


# --- the mix -------------------------------------------------------------------------------------

# Relative frequency per category (kind, code), roughly what a city's 12345 and 数字城管 see.
CATEGORY_WEIGHTS: dict[tuple[str, str], float] = {
    ("matter", "06010"): 60, ("matter", "09009"): 55, ("matter", "09006"): 45, ("matter", "06013"): 35,
    ("matter", "07001"): 35, ("matter", "08001"): 35, ("matter", "06028"): 28, ("matter", "06027"): 25,
    ("matter", "01037"): 25, ("matter", "06011"): 20, ("matter", "06036"): 20, ("matter", "09001"): 20,
    ("matter", "09005"): 20, ("matter", "09011"): 18, ("matter", "04002"): 18, ("matter", "06001"): 20,
    ("matter", "01023"): 14, ("matter", "01002"): 8, ("matter", "01003"): 6, ("matter", "01001"): 3,
    ("matter", "01005"): 2, ("matter", "01007"): 2, ("matter", "09010"): 14, ("matter", "06042"): 15,
    ("matter", "06030"): 14, ("matter", "08004"): 12, ("matter", "08002"): 8, ("matter", "09012"): 12,
    ("matter", "06034"): 8, ("matter", "06012"): 10, ("matter", "06014"): 6, ("matter", "06040"): 6,
    ("matter", "06029"): 8, ("matter", "06020"): 4, ("matter", "06035"): 6, ("matter", "06037"): 3,
    ("matter", "06007"): 3, ("matter", "06009"): 6, ("matter", "06026"): 5, ("matter", "07002"): 3,
    ("matter", "07003"): 5, ("matter", "07006"): 3, ("matter", "08012"): 4, ("matter", "08016"): 4,
    ("matter", "09003"): 4, ("matter", "09021"): 3, ("matter", "10002"): 8, ("matter", "01004"): 6,
    ("matter", "01013"): 5, ("matter", "01028"): 5, ("matter", "01046"): 4, ("matter", "01054"): 4,
    ("matter", "01076"): 3, ("matter", "02004"): 5, ("matter", "02010"): 5, ("matter", "02014"): 8,
    ("matter", "02017"): 4, ("matter", "02043"): 3, ("matter", "03001"): 6, ("matter", "03005"): 6,
    ("matter", "04013"): 5,
    ("governance", "91001"): 10, ("governance", "91002"): 22, ("governance", "91003"): 18,
    ("governance", "91004"): 15, ("governance", "91006"): 6, ("governance", "91008"): 10,
    ("governance", "91009"): 3, ("governance", "92001"): 20, ("governance", "92002"): 6,
    ("governance", "92003"): 8, ("governance", "92004"): 10, ("governance", "92005"): 3,
    ("governance", "92099"): 8, ("governance", "93001"): 6, ("governance", "93002"): 5,
    ("governance", "93004"): 4, ("governance", "93005"): 6, ("governance", "94001"): 15,
    ("governance", "94002"): 10, ("governance", "94004"): 18, ("governance", "94005"): 30,
    ("governance", "94007"): 4, ("governance", "94008"): 10, ("governance", "94009"): 6,
    ("governance", "94010"): 5, ("governance", "94011"): 3, ("governance", "94012"): 4,
    ("governance", "94099"): 8,
}

# Month multipliers (1 = January) for seasonal matters: rain and typhoons in summer, wage arrears
# before the Spring Festival, noise and barbecues on warm evenings.
_RAINY = {5: 1.8, 6: 2.6, 7: 2.4, 8: 2.6, 9: 2.0, 10: 1.2}
_SUMMER = {6: 1.3, 7: 1.5, 8: 1.5, 9: 1.3}
SEASONS: dict[tuple[str, str], dict[int, float]] = {
    ("governance", "92004"): _RAINY, ("matter", "01004"): _RAINY, ("matter", "01003"): _RAINY,
    ("matter", "04002"): {6: 1.5, 7: 2.2, 8: 2.4, 9: 2.2, 10: 1.3},
    ("governance", "91004"): {12: 2.0, 1: 2.6, 2: 1.4},
    ("matter", "06028"): _SUMMER, ("governance", "94005"): _SUMMER, ("matter", "06029"): _SUMMER,
    ("governance", "94001"): _SUMMER, ("governance", "94002"): {6: 1.6, 7: 2.0, 8: 2.0, 9: 1.4},
    ("matter", "06042"): {1: 1.4, 2: 1.6, 10: 1.3},
}
# After a typhoon: fallen trees, flooding, broken signs and rubbish for a few days.
TYPHOON_BOOST = {("matter", "04002"): 8.0, ("governance", "92004"): 6.0, ("matter", "07003"): 3.0,
                 ("matter", "06010"): 1.5, ("matter", "01004"): 3.0, ("matter", "10002"): 3.0,
                 ("governance", "94002"): 3.0, ("matter", "01037"): 2.0}

# Districts weighted by population and density of reports.
DISTRICT_WEIGHTS = {"350203": 1.35, "350206": 1.2, "350211": 1.0, "350205": 0.6, "350212": 0.7, "350213": 0.6}

CITIZEN_CHANNELS = [(Channel.HOTLINE_12345, 40), (Channel.WECHAT, 9), (Channel.MOBILE, 5), (Channel.WEB, 4),
                    (Channel.WALK_IN, 1.5), (Channel.OPEN311, 0.5)]
FIELD_CHANNELS = [(Channel.GRID_PATROL, 20), (Channel.DIGITAL_CITY, 18)]
REGISTER_OF = {
    Channel.HOTLINE_12345: history_text.HOTLINE, Channel.WALK_IN: history_text.HOTLINE,
    Channel.GRID_PATROL: history_text.FIELD, Channel.DIGITAL_CITY: history_text.FIELD,
    Channel.SENSOR: history_text.SENSOR,
}
URGENT_SHARE = {("governance", "92002"): 0.45, ("governance", "92004"): 0.3, ("matter", "01023"): 0.25,
                ("matter", "01002"): 0.2, ("matter", "01003"): 0.2, ("matter", "04002"): 0.2,
                ("governance", "92001"): 0.15, ("governance", "92003"): 0.2, ("matter", "01013"): 0.15,
                ("governance", "91001"): 0.1, ("matter", "01076"): 0.2}

# Demo content (not user interface): what departments and centres write on the timeline.
RESULTS = {
    "01": ["已联系权属单位到场更换，现场已恢复正常。", "经现场核实，已完成维修。", "已设置警示并更换井盖/部件，恢复正常使用。",
           "已通知产权单位处理，现已修复。"],
    "02": ["已通知交通设施养护单位修复。", "已安排人员现场维修，设施恢复正常。", "已调整并加固，现场恢复。"],
    "03": ["已安排环卫人员清洗保洁并更换设施。", "已督促保洁公司整改，加强保洁频次。"],
    "04": ["已安排园林养护人员修剪、清理断枝。", "倒伏树木已清理，道路恢复通行。", "已补植并加强养护。"],
    "06": ["已安排人员清理，现场已整洁。", "已约谈当事人并责令整改，现场已恢复。", "已依法立案查处，当事人已自行拆除。",
           "经现场核查，已督促相关单位清运完毕。", "已对商户进行教育并要求安装油烟净化设施，限期整改。"],
    "07": ["已组织人员清除小广告，并对涉及号码予以停机处理。", "已责令设置单位整改，广告牌已拆除。"],
    "08": ["已约谈施工单位，责令夜间停止施工并加强降尘措施。", "已核查施工许可，对违规作业予以处罚。", "施工单位已整改。"],
    "09": ["已劝离流动摊贩，并加强该路段巡查。", "已对违停车辆贴单告知，车辆已驶离。", "已清理占道物品，恢复通行。",
           "已通知共享单车企业清运调度。"],
    "10": ["已通知线缆权属单位整理规范。", "已清理完毕。"],
    "91": ["经社区、司法所调解，双方达成一致意见。", "已组织双方调解，签订调解协议。", "已告知当事人通过诉讼途径解决，并提供法律援助信息。",
           "已上门了解情况，双方同意各退一步。"],
    "92": ["已上门检查并责令整改，隐患已消除。", "已联合消防对楼道进行清理，劝离电动车。", "已通知燃气公司上门检测处置，无泄漏。",
           "已设置警示并通知产权单位限期整改。"],
    "93": ["已通知辖区派出所处置，并加强巡逻。", "派出所已受理并立案侦查。", "已对出租屋进行登记整改。"],
    "94": ["已联系供水/供电单位，现已恢复。", "已答复来电人，政策已解释清楚。", "已督促物业整改，问题已解决。",
           "已协调相关单位处理，并告知来电人。"],
}
REJECT_REASONS = ["不属于本平台受理范围，已告知反映人向相关渠道反映。", "反映信息不全，多次联系反映人未果，无法核实。",
                  "经现场核实，未发现所反映问题。", "属于司法程序事项，已告知通过诉讼途径解决。", "重复反映，已在处理中的工单合并跟进。"]
CANCEL_REASONS = ["反映人来电表示问题已自行解决，申请撤销。", "反映人要求撤回诉求。", "误报，现场无此问题。"]
RETURN_REASONS = ["非本单位职责范围，请重新派遣。", "该点位不属于本辖区，请核实后重新派遣。", "权属单位不明确，请指挥中心协调。"]
REWORK_NOTES = ["现场复核问题仍存在，请继续处置。", "处置结果不到位，反映人仍有意见，请返工。", "照片与现场不符，请重新处置。"]
REOPEN_NOTES = ["回访不满意，问题反复出现，重新办理。", "反映人对处理结果不满意，要求重办。"]
COMMENTS = {
    Rating.SATISFIED: ["", "", "", "处理很及时，谢谢！", "辛苦了", "效率很高，点赞", "满意"],
    Rating.BASICALLY_SATISFIED: ["", "处理了，但是有点慢", "希望以后多巡查", "基本解决了"],
    Rating.UNSATISFIED: ["根本没解决，只是拍个照就结案", "过几天又这样了", "态度不好", "没有人联系我", "问题依旧"],
}
SURNAMES = "陈林黄张李王吴刘蔡杨许郑谢洪郭邱曾廖赖徐周叶苏庄吕江何"


# --- places --------------------------------------------------------------------------------------


@dataclass
class _Grid:
    code: str
    geometry: object
    bounds: tuple
    place: history_text.Place
    address: str


def _load_grids(prefix: str) -> list[_Grid]:
    names = dict(Region.objects.filter(code__startswith=prefix).exclude(level=Level.GRID).values_list("code", "name"))
    grids = []
    for code, geometry in (
        Region.objects.filter(code__startswith=prefix, level=Level.GRID, geometry__isnull=False)
        .order_by("code").values_list("code", "geometry")
    ):
        geom = shape(geometry)
        shapely.prepare(geom)
        district = names.get(code[:6] + "000000", "")
        street = names.get(code[:9] + "000", "")
        community = short_community_name(names.get(code[:12], ""))
        grids.append(_Grid(code, geom, geom.bounds,
                           history_text.Place(district, street, community), f"{district}{street}{community}"))
    return grids


def _point_in(grid: _Grid, rng: random.Random) -> tuple[float, float]:
    minx, miny, maxx, maxy = grid.bounds
    for _attempt in range(60):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(grid.geometry, x, y):
            return round(x, 6), round(y, 6)
    point = grid.geometry.representative_point()
    return round(point.x, 6), round(point.y, 6)


# --- routing (the responsibility matrix), cached -------------------------------------------------


class _Router:
    """Lead and assisting departments per category and place, as ``routing.suggest`` finds them,
    computed once per category and the finest region level any answer depends on."""

    def __init__(self):
        prefixes = ResponsibilityRule.objects.filter(is_active=True).exclude(region_prefix="")
        self.rule_length = max((len(p) for p in prefixes.values_list("region_prefix", flat=True)), default=0)
        self.kind_length: dict[str, int] = defaultdict(int)
        from civicgrid.org.models import Department

        for kind, level in Department.objects.filter(is_active=True).values_list("kind", "region__level").distinct():
            self.kind_length[kind] = max(self.kind_length[kind], LEVEL_PREFIX_LENGTH[level])
        self.explanations: dict = {}
        self.departments: dict = {}
        self.suggestions: dict = {}

    def _explain(self, category: Category, code: str):
        key = (category.pk, code[: self.rule_length])
        if key not in self.explanations:
            with translation.override(settings.LANGUAGE_CODE):
                explanation = explain(category, code)
                self.explanations[key] = (explanation, str(explanation.summary))
        return self.explanations[key]

    def _departments(self, kind: str, code: str) -> list:
        key = (kind, code[: self.kind_length.get(kind, 12) or 12])
        if key not in self.departments:
            self.departments[key] = departments_of_kind_for(kind, code)
        return self.departments[key]

    def suggest(self, category: Category, code: str) -> dict:
        explanation, why = self._explain(category, code)
        kinds = [explanation.lead_kind, *explanation.assisting_kinds] if explanation.lead_kind else []
        length = max([self.rule_length, 9, *(self.kind_length.get(k, 12) for k in kinds)])
        key = (category.pk, code[:length])
        if key in self.suggestions:
            return self.suggestions[key]
        result = {
            "lead_department": None, "lead_candidates": [], "assisting_departments": [],
            "unresolved_assisting_kinds": [], "rule": explanation.rule.pk if explanation.rule else None,
            "lead_kind": explanation.lead_kind, "assisting_kinds": list(explanation.assisting_kinds),
            "ambiguous": explanation.ambiguous, "tied_rules": [r.pk for r in explanation.tied_rules],
            "why": why, "reason": routing.READY, "auto": False,
        }
        if explanation.ambiguous:
            result["reason"] = routing.AMBIGUOUS
        elif explanation.rule is None:
            result["reason"] = routing.NO_RULE
        else:
            leads = self._departments(explanation.lead_kind, code)
            result["lead_candidates"] = [d.pk for d in leads]
            if len(leads) != 1:
                result["reason"] = routing.NO_LEAD_DEPARTMENT if not leads else routing.SEVERAL_LEAD_DEPARTMENTS
            else:
                result["lead_department"] = leads[0].pk
                for kind in explanation.assisting_kinds:
                    found = self._departments(kind, code)
                    if len(found) == 1 and found[0].pk != leads[0].pk:
                        result["assisting_departments"].append(found[0].pk)
                    else:
                        result["unresolved_assisting_kinds"].append(kind)
                if result["unresolved_assisting_kinds"]:
                    result["reason"] = routing.ASSISTING_UNRESOLVED
                elif not category.auto_dispatch:
                    result["reason"] = routing.AUTO_DISPATCH_OFF
                else:
                    result["auto"] = True
        self.suggestions[key] = result
        return result

    def street_office(self, code: str):
        found = self._departments(DepartmentKind.STREET_OFFICE, code)
        return found[0] if found else None


# --- one case's life -------------------------------------------------------------------------------


@dataclass
class _Event:
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor_id: int | None = None
    note: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class _Life:
    """A case being played through: the row, its tasks, ratings, notices and timeline."""

    case: Case
    key: tuple[str, str]
    community: str
    events: list[_Event] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    ratings: list[CaseRating] = field(default_factory=list)
    supervisions: list[Supervision] = field(default_factory=list)
    merge_into: _Life | None = None
    open_until: datetime | None = None  # when it stopped being open (None: still open)

    def add(self, at, action, to_state, actor=None, note="", **data):
        self.events.append(_Event(at, action, self.case.state, to_state, actor, note, data))
        self.case.state = to_state


_TEMPLATES: dict = {}


def _new(model, **values):
    """A new, unsaved instance like ``model(**values)``, made from a copy of a default instance:
    the model constructor is a third of the generation time for 50,000 cases and their rows."""
    template = _TEMPLATES.get(model)
    if template is None:
        template = _TEMPLATES[model] = {k: v for k, v in model().__dict__.items() if k != "_state"}
    obj = model.__new__(model)
    obj.__dict__.update({k: copy.copy(v) if isinstance(v, dict | list) else v for k, v in template.items()})
    obj._state = ModelState()
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


def _token_hash() -> str:
    return hashlib.sha256(os.urandom(32)).hexdigest()  # nobody holds the token: only a hash is kept


class _Player:
    def __init__(self, rng: random.Random, now: datetime, router: _Router, users: dict[str, User]):
        self.rng = rng
        self.now = now
        self.router = router
        self.users = users
        self.limits: dict = {}
        self.centres: dict = {}
        with translation.override(settings.LANGUAGE_CODE):
            self.all_reported = _("All departments have reported.")
            self.auto_filed = _("Filed automatically for auto-dispatch.")

    # helpers
    def after(self, moment: datetime, low: float, high: float) -> datetime:
        """A staff step ``low``–``high`` working hours after ``moment`` (skewed to the quick end),
        at a minute past the office clock like real clicks."""
        hours = low + (high - low) * self.rng.random() ** 2
        result = calendar.add_working_time(moment, hours, calendar.HOURS)
        return result + timedelta(seconds=self.rng.randint(0, 59))

    def limit(self, category: Category, urgent: bool, stage: str):
        key = (category.pk, urgent)
        if key not in self.limits:
            self.limits[key] = sla_limits(category, urgent)
        return self.limits[key].get(stage)

    def deadline(self, category, urgent, stage, start):
        limit = self.limit(category, urgent, stage)
        return None if limit is None else calendar.add_working_time(start, limit.amount, limit.unit)

    def centre(self, community: str):
        if community not in self.centres:
            self.centres[community] = responsible_centre(community)
        return self.centres[community]

    def dispatcher(self, code: str) -> int | None:
        for username, prefix in (("qiaoying_dispatcher", "350211002"), ("jimei_dispatcher", "350211"),
                                 ("city_dispatcher", "")):
            user = self.users.get(username)
            if user is not None and code.startswith(prefix):
                return user.pk
        return None

    def handler(self, department_id: int) -> int | None:
        return self.users.get(("department", department_id))

    def result_text(self, key) -> str:
        group = key[1][:2]
        return self.rng.choice(RESULTS.get(group, RESULTS["94"]))

    # the life
    def play(self, life: _Life, category: Category, outcome: str) -> None:
        """Move the case from report through its outcome, stopping at ``now``."""
        rng, case = self.rng, life.case
        urgent = case.urgency == Urgency.URGENT
        t = case.reported_at
        reporter = self.users.get(("patrol", case.region_code)) if case.channel == Channel.GRID_PATROL else None
        life.add(t, Action.REPORT, State.REPORTED, reporter,
                 channel=case.channel, external_id=case.external_id)
        dispatcher = self.dispatcher(case.region_code)
        suggestion = self.router.suggest(category, case.region_code)
        case.routing_suggestion = {**suggestion, "computed_at": t.isoformat()}

        # Reject, merge or cancel before filing.
        if outcome in ("reject", "merge", "cancel_early"):
            at = self.after(t, 0.2, 6)
            if at > self.now:
                return self.stop(life, category, urgent)
            if outcome == "merge" and life.merge_into is not None and (
                    life.merge_into.open_until is None or life.merge_into.open_until > at):
                parent = life.merge_into
                life.add(at, Action.MERGE, State.MERGED, dispatcher, "与已受理工单反映同一问题，合并处理。",
                         into=parent.case, into_number=_NumberOf(parent.case))
            elif outcome == "cancel_early":
                life.add(at, Action.CANCEL, State.CANCELLED, dispatcher, rng.choice(CANCEL_REASONS), released=[])
            else:
                life.add(at, Action.REJECT, State.REJECTED, dispatcher, rng.choice(REJECT_REASONS))
            case.closed_at = life.open_until = at
            return self.stop(life, category, urgent)

        # File (立案) and dispatch (派遣).
        auto = suggestion["auto"]
        at = t if auto else self.after(t, 0.1, 3 if not urgent else 0.5)
        if at > self.now:
            return self.stop(life, category, urgent)
        life.add(at, Action.FILE, State.FILED, None if auto else dispatcher, self.auto_filed if auto else "",
                 category=category.pk, urgency=case.urgency)
        case.filed_at = at
        lead_id = suggestion["lead_department"]
        assisting = list(suggestion["assisting_departments"])
        if lead_id is None:
            office = self.router.street_office(case.region_code)
            lead_id, assisting = (office.pk if office else None), []
        if lead_id is None:
            return self.stop(life, category, urgent)
        returned = outcome == "return" and rng.random() < 0.9
        at = at if auto else self.after(at, 0.05, 2 if not urgent else 0.3)
        if at > self.now:
            return self.stop(life, category, urgent)
        tasks = self.dispatch(life, category, urgent, at, lead_id, assisting, dispatcher, auto, suggestion)

        if returned:
            at = self.after(at, 0.3, 6)
            if at > self.now:
                return self.stop(life, category, urgent)
            lead = tasks[0]
            lead.state, lead.return_reason, lead.returned_at = AssignmentState.RETURNED, rng.choice(RETURN_REASONS), at
            for other in tasks[1:]:
                other.state, other.released_at = AssignmentState.RELEASED, at
            life.add(at, Action.RETURN, State.FILED, self.handler(lead.department_id), lead.return_reason,
                     assignment=lead, department=lead.department_id, role=lead.role)
            case.due_at = None
            office = self.router.street_office(case.region_code)
            new_lead = office.pk if office and office.pk != lead.department_id else lead.department_id
            at = self.after(at, 0.1, 3)
            if at > self.now:
                return self.stop(life, category, urgent)
            tasks = self.dispatch(life, category, urgent, at, new_lead, [], dispatcher, False, suggestion)

        if outcome == "cancel_late":
            at = self.after(at, 1, 16)
            if at > self.now:
                return self.stop(life, category, urgent)
            active = [a for a in life.assignments if a.state in ACTIVE_ASSIGNMENT_STATES]
            for a in active:
                a.state, a.released_at = AssignmentState.RELEASED, at
            life.add(at, Action.CANCEL, State.CANCELLED, dispatcher, rng.choice(CANCEL_REASONS), released=active)
            case.closed_at = life.open_until = at
            return self.stop(life, category, urgent)

        # Sign for (签收).
        for task in tasks:
            signed = self.after(task.dispatched_at, 0.05, 3 if not urgent else 0.5)
            if signed > self.now:
                continue
            task.state, task.signed_at = AssignmentState.SIGNED, signed
        lead = tasks[0]
        order = sorted((a for a in tasks if a.signed_at), key=lambda a: a.signed_at)
        for task in order:
            to_state = State.IN_PROGRESS if task is lead else case.state
            life.add(task.signed_at, Action.SIGN_FOR, to_state, self.handler(task.department_id),
                     assignment=task, department=task.department_id, role=task.role)
        if lead.signed_at is None:
            return self.stop(life, category, urgent)

        # Handle (处置): most within the limit, some late, a few stuck for weeks.
        rounds = 0
        start = lead.dispatched_at
        while True:
            handle_by = lead.handle_deadline
            # Work starts once the last department has signed for it; most finish well within the
            # time left, some late, a few stuck for weeks.
            base = max([start, *(a.signed_at for a in tasks if a.signed_at)])
            left = float(calendar.working_hours_between(base, handle_by)) if handle_by else 24.0
            hours = max(left, 0.2) * rng.choice([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
            if outcome in ("late", "stuck") and rounds == 0:
                total = float(calendar.working_hours_between(start, handle_by)) if handle_by else 24.0
                hours = max(left, 0) + total * (rng.uniform(0.05, 1.5) if outcome == "late" else rng.uniform(3, 12))
            done_at = calendar.add_working_time(base, hours, calendar.HOURS) + timedelta(seconds=rng.randint(0, 59))
            self.overdue_marks(life, lead, handle_by, min(done_at, self.now))
            if done_at > self.now:
                return self.stop(life, category, urgent)
            reporting = [a for a in sorted(tasks, key=lambda a: a is lead) if a.state == AssignmentState.SIGNED]
            moments = [done_at]
            for _task in reporting[1:]:
                moments.append(moments[-1] + timedelta(seconds=rng.randint(5, 600)))
            moments.append(moments[-1] + timedelta(seconds=1))  # the case resolves with the last report
            if moments[-1] > self.now:
                return self.stop(life, category, urgent)
            for task, moment in zip(reporting, moments, strict=False):
                task.state, task.reported_at = AssignmentState.REPORTED, moment
                task.result = self.result_text(life.key)
                if handle_by is not None and moment > handle_by:
                    task.sla_status = SlaStatus.OVERDUE
                life.add(moment, Action.REPORT_RESULT, case.state, self.handler(task.department_id), task.result,
                         assignment=task, department=task.department_id, role=task.role)
            if any(a.state in (AssignmentState.PENDING, AssignmentState.SIGNED) for a in tasks):
                return self.stop(life, category, urgent)  # an assisting department never signed
            done_at = moments[-1]
            life.add(done_at, Action.REPORT_RESULT, State.RESOLVED, self.handler(lead.department_id),
                     self.all_reported, resolved=True)
            case.resolved_at = done_at

            # Verify (核查): pass and close, or rework (返工).
            at = self.after(done_at, 0.2, 8)
            if at > self.now:
                return self.stop(life, category, urgent)
            if outcome == "rework" and rounds == 0:
                rounds += 1
                case.rework_count += 1
                case.resolved_at = None
                self.restart_lead(lead, category, urgent, at)
                life.add(at, Action.REWORK, State.IN_PROGRESS, dispatcher, rng.choice(REWORK_NOTES),
                         rework_count=case.rework_count, assignment=lead, department=lead.department_id,
                         role=lead.role)
                start, tasks = at, [lead]
                continue
            case.closed_at = at
            life.add(at, Action.VERIFY, State.CLOSED, dispatcher, "")
            rating = _new(CaseRating, case=case, token_hash=_token_hash(), issued_at=at)
            life.ratings.append(rating)
            life.open_until = at
            # 回访: citizens who gave a number are called back; grid and sensor reports have nobody.
            if not case.reporter_phone or rng.random() > 0.85:
                return self.stop(life, category, urgent)
            rated_at = at + timedelta(hours=rng.uniform(2, 72))
            if rated_at > self.now:
                return self.stop(life, category, urgent)
            rating.rating = self.rating(life, outcome, rounds)
            rating.comment = rng.choice(COMMENTS[rating.rating])
            rating.rated_at = rated_at
            life.add(rated_at, Overlay.RATE, case.state, None, rating.comment, rating=rating.rating, rating_id=rating)
            if rating.rating != Rating.UNSATISFIED or rounds >= 2 or rng.random() > 0.35:
                return self.stop(life, category, urgent)
            # 重办: the centre reopens after an unsatisfied rating, within the window.
            at = self.after(rated_at, 0.5, 16)
            if at > self.now:
                return self.stop(life, category, urgent)
            rounds += 1
            case.closed_at = case.resolved_at = None
            life.open_until = None
            self.restart_lead(lead, category, urgent, at)
            life.add(at, Action.REOPEN, State.IN_PROGRESS, dispatcher, rng.choice(REOPEN_NOTES), rating=rating,
                     assignment=lead, department=lead.department_id, role=lead.role)
            start, tasks, outcome = at, [lead], "normal"

    def rating(self, life: _Life, outcome: str, rounds: int) -> str:
        unsatisfied = 0.05 + (0.1 if outcome in ("late", "stuck") else 0) + (0.08 if life.key[0] == "governance" else 0)
        basically = 0.12 + (0.1 if rounds else 0)
        roll = self.rng.random()
        if roll < unsatisfied:
            return Rating.UNSATISFIED
        if roll < unsatisfied + basically:
            return Rating.BASICALLY_SATISFIED
        return Rating.SATISFIED

    def dispatch(self, life, category, urgent, at, lead_id, assisting, actor, auto, suggestion, released=()):
        sign_by = self.deadline(category, urgent, "sign_for", at)
        handle_by = self.deadline(category, urgent, "handle", at)
        sign_warn, handle_warn = warn_moment(at, sign_by), warn_moment(at, handle_by)
        tasks = []
        for department_id, role in [(lead_id, AssignmentRole.LEAD)] + [(d, AssignmentRole.ASSISTING) for d in assisting]:
            task = _new(Assignment, case=life.case, department_id=department_id, role=role, dispatched_at=at,
                              clock_started_at=at, sign_deadline=sign_by, handle_deadline=handle_by,
                              sign_warn_at=sign_warn, handle_warn_at=handle_warn)
            tasks.append(task)
        life.assignments.extend(tasks)
        life.case.dispatched_at, life.case.due_at = at, handle_by
        note = ""
        extra = {}
        if auto:
            with translation.override(settings.LANGUAGE_CODE):
                note = _("Auto-dispatch: {why}").format(why=suggestion["why"])
            extra = {"auto": True, "rule": suggestion["rule"]}
        life.add(at, Action.DISPATCH, State.DISPATCHED, None if auto else actor, note, lead=lead_id,
                 assisting=list(assisting), assignments=list(tasks), released=list(released), **extra)
        return tasks

    def restart_lead(self, lead: Assignment, category, urgent, at) -> None:
        lead.state, lead.reported_at = AssignmentState.SIGNED, None
        lead.clock_started_at = at
        lead.handle_deadline = self.deadline(category, urgent, "handle", at)
        lead.sign_warn_at = warn_moment(at, lead.sign_deadline)
        lead.handle_warn_at = warn_moment(at, lead.handle_deadline)
        lead.sla_status, lead.supervision_level = SlaStatus.ON_TIME, 0
        lead.case.due_at = lead.handle_deadline

    def overdue_marks(self, life: _Life, lead: Assignment, deadline: datetime | None, until: datetime) -> None:
        """What the deadline sweep would have written for a late task: the case overdue, a yellow
        card at once and a red one past the margin."""
        if deadline is None or until <= deadline:
            return
        case = life.case
        latest = until - timedelta(seconds=2)  # the sweep ran before the result came in
        life.add(min(deadline + timedelta(minutes=self.rng.randint(1, 14)), latest), Overlay.SLA_OVERDUE,
                 case.state, deadline=deadline.isoformat())
        levels = [(SupervisionLevel.YELLOW, min(deadline + timedelta(minutes=self.rng.randint(1, 14)), latest))]
        red = calendar.add_working_time(deadline, float(_red_margin()), calendar.HOURS)
        if red < until:
            levels.append((SupervisionLevel.RED, min(red + timedelta(minutes=self.rng.randint(1, 14)), latest)))
        with translation.override(settings.LANGUAGE_CODE):
            notes = {SupervisionLevel.YELLOW: _("Overdue: the deadline passed."),
                     SupervisionLevel.RED: _("Still overdue past the margin: red card.")}
        for level, at in levels:
            notice = _new(Supervision, case=case, assignment=lead, department_id=lead.department_id, level=level,
                                 automatic=True, deadline=deadline, note=notes[level], issued_at=at)
            life.supervisions.append(notice)
            life.add(at, Overlay.SUPERVISE, case.state, None, notes[level], supervision=notice, level=int(level),
                     automatic=True, deadline=deadline.isoformat(), assignment=lead,
                     department=lead.department_id, role=lead.role)
            lead.supervision_level = max(lead.supervision_level, int(level))
            case.supervision_level = max(case.supervision_level, int(level))
        lead.sla_status = SlaStatus.OVERDUE

    def stop(self, life: _Life, category: Category, urgent: bool) -> None:
        """Set the stage clock the actions would have left for the state the case is in now."""
        case = life.case
        state = case.state
        last = life.events[-1].at
        start = deadline = None
        if state == State.REPORTED:
            start, deadline = case.reported_at, self.deadline(category, urgent, "file", case.reported_at)
        elif state == State.FILED:
            start = last
            deadline = self.deadline(category, urgent, "dispatch", start)
        elif state == State.DISPATCHED:
            start, deadline = case.dispatched_at, self.deadline(category, urgent, "sign_for", case.dispatched_at)
        elif state == State.IN_PROGRESS:
            lead = next(a for a in life.assignments if a.role == AssignmentRole.LEAD
                        and a.state in ACTIVE_ASSIGNMENT_STATES)
            start, deadline = lead.clock_started_at, case.due_at
        elif state == State.RESOLVED:
            start, deadline = case.resolved_at, self.deadline(category, urgent, "verify", case.resolved_at)
        if deadline is not None:
            case.stage_started_at, case.stage_deadline = start, deadline
            case.stage_warn_at = warn_moment(start, deadline)
            case.sla_status = sla_status(start, deadline, self.now)
        else:
            case.stage_started_at = case.stage_deadline = case.stage_warn_at = None
            case.sla_status = SlaStatus.ON_TIME
        for task in life.assignments:
            if task.state == AssignmentState.PENDING and task.sign_deadline:
                task.sla_status = sla_status(task.clock_started_at, task.sign_deadline, self.now)
            elif task.state == AssignmentState.SIGNED and task.handle_deadline and task.sla_status != SlaStatus.OVERDUE:
                task.sla_status = sla_status(task.clock_started_at, task.handle_deadline, self.now)


def _red_margin():
    from civicgrid.cases.deadlines import red_margin_hours

    return red_margin_hours()


# --- volumes and draws -------------------------------------------------------------------------------


def _typhoon_days(rng: random.Random, first: date, last: date) -> set[date]:
    days = set()
    for year in range(first.year, last.year + 1):
        for _n in range(rng.choice([1, 2, 2, 3])):
            start = date(year, rng.randint(7, 9), rng.randint(1, 28))
            days.update(start + timedelta(days=i) for i in range(3))
    return days


def _day_volume(rng: random.Random, day: date, first: date, days: int, per_day: float, typhoons: set[date]) -> int:
    trend = 0.85 + 0.3 * ((day - first).days / max(days, 1))  # the platform gets known: more reports
    weekday = [1.08, 1.05, 1.03, 1.02, 1.0, 0.82, 0.75][day.weekday()]
    holiday = 1.0 if calendar.is_working_day(day) or day.weekday() >= 5 else 0.7
    season = {1: 0.9, 2: 0.8, 3: 0.95, 4: 1.0, 5: 1.05, 6: 1.12, 7: 1.18, 8: 1.18, 9: 1.1, 10: 0.98, 11: 0.95, 12: 0.92}
    mean = per_day * trend * weekday * holiday * season[day.month] * (1.7 if day in typhoons else 1.0)
    # Poisson by normal approximation, with a little day-to-day noise.
    return max(0, round(rng.gauss(mean, math.sqrt(mean) * 1.15)))


def _moment(rng: random.Random, day: date, channel: str, tz) -> datetime:
    if channel in (Channel.GRID_PATROL, Channel.DIGITAL_CITY):
        minutes = rng.choice([rng.randint(8 * 60 + 30, 11 * 60 + 50), rng.randint(14 * 60 + 30, 17 * 60 + 40)])
    elif channel == Channel.SENSOR:
        minutes = rng.randint(0, 24 * 60 - 1)
    else:
        # Calls and app reports: morning and afternoon peaks, a long evening, a quiet night.
        hour = rng.choices(range(24), weights=[1, 0.6, 0.4, 0.3, 0.3, 0.6, 1.5, 3, 6, 9, 10, 9, 6, 6, 7, 8,
                                              8, 7, 6, 6, 6, 5, 4, 2])[0]
        minutes = hour * 60 + rng.randint(0, 59)
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, rng.randint(0, 59), tzinfo=tz)


def _outcome(rng: random.Random, key, channel) -> str:
    roll = rng.random()
    table = [("reject", 0.035), ("merge", 0.03), ("cancel_early", 0.01), ("cancel_late", 0.01), ("return", 0.05),
             ("rework", 0.045), ("late", 0.07), ("stuck", 0.004)]
    if channel in (Channel.GRID_PATROL, Channel.DIGITAL_CITY, Channel.SENSOR):
        table[0] = ("reject", 0.01)  # patrol reports are checked on the spot
    for name, share in table:
        if roll < share:
            return name
        roll -= share
    return "normal"


def _request_type(rng: random.Random, key, channel) -> str:
    if channel in (Channel.GRID_PATROL, Channel.DIGITAL_CITY, Channel.SENSOR):
        return RequestType.FIELD_REPORT
    if key[1].startswith("91") or key[1] in ("94009", "94012"):
        return rng.choices([RequestType.HELP, RequestType.COMPLAINT, RequestType.CONSULTATION], [6, 3, 1])[0]
    if key[1] in ("94099", "94010", "94011"):
        return rng.choices([RequestType.CONSULTATION, RequestType.SUGGESTION, RequestType.HELP], [5, 3, 2])[0]
    return rng.choices([RequestType.COMPLAINT, RequestType.REPORT, RequestType.HELP, RequestType.CONSULTATION,
                        RequestType.SUGGESTION], [62, 14, 12, 7, 5])[0]


def _channel(rng: random.Random, key) -> str:
    options = list(CITIZEN_CHANNELS)
    if key in history_text.HOME_CATEGORIES or key[0] == "governance":
        options.append((Channel.GRID_PATROL, 9))
    else:
        options.extend(FIELD_CHANNELS)
    if key in history_text.SENSOR_CATEGORIES:
        options.append((Channel.SENSOR, 6))
    return rng.choices([c for c, _w in options], [w for _c, w in options])[0]


def _reporter(rng: random.Random, channel) -> tuple[str, str]:
    if channel in (Channel.GRID_PATROL, Channel.DIGITAL_CITY, Channel.SENSOR) or rng.random() < 0.08:
        return "", ""
    name = rng.choice(SURNAMES) + rng.choice(["先生", "女士", "女士", "先生", "阿姨", "师傅"])
    phone = rng.choice(["13", "15", "18", "17", "19"]) + str(rng.randint(0, 9)) + f"{rng.randint(0, 99999999):08d}"
    return name, phone


# --- the whole history ----------------------------------------------------------------------------


def history_cases():
    """The cases of the demo history (live cases are never among them)."""
    return Case.objects.filter(external_id__startswith=HISTORY_PREFIX)


def delete_history() -> int:
    """Delete the demo history (cases marked ``demo-history-``) and everything hanging off them;
    history cases that a live case was merged into stay. Returns how many cases went."""
    kept = history_cases().filter(Exists(Case.objects.filter(parent=OuterRef("pk")).exclude(
        external_id__startswith=HISTORY_PREFIX)))
    doomed = history_cases().exclude(pk__in=kept.values("pk"))
    doomed.filter(parent__isnull=False).update(parent=None)
    count = doomed.count()
    _delete_tree(Case, doomed)
    return count


def _delete_tree(model, queryset) -> None:
    """Delete ``queryset`` and what depends on it, table by table with one statement each.

    Django's collector loads every row of a model with dependents into memory (tens of thousands
    of cases and tasks here); this walks the same relations, whatever app added them, and deletes
    or nulls by subquery instead."""
    ids = queryset.values("pk")
    for relation in model._meta.related_objects:
        if relation.related_model is model:
            continue  # merged-into links among the doomed rows were cleared before
        dependents = relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": ids})
        if relation.on_delete is models.CASCADE:
            _delete_tree(relation.related_model, dependents)
        elif relation.on_delete is models.SET_NULL:
            dependents.update(**{relation.field.name: None})
        elif dependents.exists():
            raise ValueError(f"{relation.related_model._meta.label} rows keep demo history from being replaced.")
    queryset._raw_delete(queryset.db)


def _number_cases(lives: list[_Life], tz) -> dict[tuple[str, date], int]:
    """Numbers in the actions' format, per district and local day in report order, skipping any
    number a live case already has. Returns the last number used per (district, day)."""
    days = {(life.case.region_code[:6], life.case.reported_at.astimezone(tz).date()) for life in lives}
    taken = set(Case.objects.exclude(external_id__startswith=HISTORY_PREFIX).filter(
        reported_at__gte=min(life.case.reported_at for life in lives) - timedelta(days=1),
    ).values_list("number", flat=True))
    counters = {(d, day): 0 for d, day in days}
    for life in lives:
        district = life.case.region_code[:6]
        day = life.case.reported_at.astimezone(tz).date()
        n = counters[(district, day)]
        while True:
            n += 1
            number = f"{district}-{day:%Y%m%d}-{n:05d}"
            if number not in taken:
                break
        counters[(district, day)] = n
        life.case.number = number
    return counters


def _advance_counters(last: dict[tuple[str, date], int]) -> None:
    """Live intake continues after the history: each counter at least at the history's last number."""
    if not last:
        return
    first_day = min(day for _d, day in last)
    existing = {
        (c.district_code, c.day): c
        for c in CaseNumberCounter.objects.select_for_update().filter(day__gte=first_day)
    }
    changed, new = [], []
    for (district, day), n in last.items():
        counter = existing.get((district, day))
        if counter is None:
            new.append(CaseNumberCounter(district_code=district, day=day, last=n))
        elif counter.last < n:
            counter.last = n
            changed.append(counter)
    CaseNumberCounter.objects.bulk_update(changed, ["last"], batch_size=BATCH)
    CaseNumberCounter.objects.bulk_create(new, batch_size=BATCH)


class _NumberOf:
    """A case's number in event data, known only once the history is numbered."""

    def __init__(self, case: Case):
        self.case = case


def _resolve(value):
    """Event data refer to rows by object until they have primary keys (and numbers)."""
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    if isinstance(value, _NumberOf):
        return value.case.number
    if hasattr(value, "_meta"):
        return value.pk
    return value


def _users() -> dict:
    users: dict = {u.username: u for u in User.objects.filter(
        username__in=[login.username for login in catalogue.DEMO_LOGINS])}
    for user in list(users.values()):
        if user.department_id:
            users[("department", user.department_id)] = user.pk
    grid_worker = users.get("grid_worker")
    if grid_worker is not None:
        for login in catalogue.DEMO_LOGINS:
            for code in login.grids:
                users[("patrol", code)] = grid_worker.pk
    return users


def load_history(
    *, years: float = 2, days: int | None = None, cases_per_day: float = DEFAULT_CASES_PER_DAY,
    seed: int = DEFAULT_SEED, end: date | None = None, prefix: str = catalogue.CITY_PREFIX,
) -> HistorySummary:
    """Replace the demo history with ``years`` (or ``days``) of cases ending on ``end`` (today by
    default), about ``cases_per_day`` a day, drawn from ``seed``. Needs the demo (``load_demo``):
    regions with grids, departments, centres, categories and the responsibility matrix."""
    started = time.perf_counter()
    laps: dict[str, float] = {}
    lap_at = [started]

    def lap(name):
        now_ = time.perf_counter()
        laps[name] = round(now_ - lap_at[0], 2)
        lap_at[0] = now_

    tz = timezone.get_current_timezone()
    now = timezone.now()
    end = end or timezone.localdate(now)
    total_days = days if days is not None else round(365 * years)
    first = end - timedelta(days=total_days - 1)
    rng = random.Random(seed)
    summary = HistorySummary(first_day=first, last_day=end)

    with transaction.atomic():
        summary.deleted = delete_history()
        lap("delete")
        grids = _load_grids(prefix)
        if not grids:
            raise ValueError(f"No grids under {prefix}: load the demo first (load_demo).")
        categories = {(c.kind, c.code): c for c in Category.objects.filter(is_active=True)}
        keys = [k for k in history_text.COVERED_CATEGORIES if k in categories and k in CATEGORY_WEIGHTS]
        if not keys:
            raise ValueError("No demo categories: load the demo first (load_demo).")
        router = _Router()
        player = _Player(rng, now, router, _users())
        # Hot spots: some grids report far more than others (markets, old quarters, building sites).
        grid_rng = random.Random(seed + 1)
        per_district = Counter(g.code[:6] for g in grids)
        grid_weights = [DISTRICT_WEIGHTS.get(g.code[:6], 0.6) / per_district[g.code[:6]]
                        * grid_rng.lognormvariate(0, 0.9) for g in grids]
        cumulative_grids = _cumulative(grid_weights)
        typhoons = _typhoon_days(rng, first, end)
        lap("prepare")

        lives: list[_Life] = []
        recent: dict[tuple, list[_Life]] = defaultdict(list)
        seq = 0
        for offset in range(total_days):
            day = first + timedelta(days=offset)
            weights = [CATEGORY_WEIGHTS[k] * SEASONS.get(k, {}).get(day.month, 1.0)
                       * (TYPHOON_BOOST.get(k, 1.0) if day in typhoons else 1.0) for k in keys]
            cumulative_keys = _cumulative(weights)
            # One stream per day and one per case: a case's life does not shift the draws of the
            # cases after it, so a later run (a later "now") repeats the same history.
            day_rng = random.Random(f"{seed}:{day.isoformat()}")
            drafts = []
            for n in range(_day_volume(day_rng, day, first, total_days, cases_per_day, typhoons)):
                key = keys[_pick(day_rng, cumulative_keys)]
                channel = _channel(day_rng, key)
                reported_at = _moment(day_rng, day, channel, tz)
                if reported_at <= now:
                    drafts.append((reported_at, n, key, channel))
            for reported_at, n, key, channel in sorted(drafts):
                seq += 1
                rng = player.rng = random.Random(f"{seed}:{day.isoformat()}:{n}")
                grid = grids[_pick(rng, cumulative_grids)]
                lon, lat = _point_in(grid, rng)
                register = REGISTER_OF.get(channel, history_text.CITIZEN)
                text = history_text.compose(key, rng, register=register, place=grid.place)
                name, phone = _reporter(rng, channel)
                urgent = rng.random() < URGENT_SHARE.get(key, 0.04) * (1.5 if channel == Channel.SENSOR else 1)
                case = _new(
                    Case,
                    channel=channel, external_id=f"{HISTORY_PREFIX}{seq:06d}",
                    request_type=_request_type(rng, key, channel), category=categories[key],
                    urgency=Urgency.URGENT if urgent else Urgency.NORMAL, title=text.title[:200],
                    description=text.description, lon=lon, lat=lat, address=grid.address, region_code=grid.code,
                    reporter_name=name, reporter_phone=phone, owner_centre=player.centre(grid.code[:12]),
                    state="", reported_at=reported_at,
                )
                life = _Life(case, key, grid.code[:12])
                outcome = _outcome(rng, key, channel)
                if outcome == "merge":
                    life.merge_into = _merge_target(recent, life, reported_at)
                    if life.merge_into is None:
                        outcome = "normal"
                player.play(life, categories[key], outcome)
                lives.append(life)
                if case.state != State.MERGED:
                    bucket = recent[(key, life.community[:9])]
                    bucket.append(life)
                    if len(bucket) > 4:
                        del bucket[0]
        lap("generate")

        _advance_counters(_number_cases(lives, tz))
        summary.counts = _write(lives)
        lap("write")

    if connection.vendor == "postgresql":
        # Tens of thousands of rows arrived at once: fresh statistics, or the planner guesses.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case, cases_caseevent, cases_assignment")
    summary.by_state = dict(Counter(life.case.state for life in lives).most_common())
    summary.by_channel = dict(Counter(life.case.channel for life in lives).most_common())
    summary.by_district = dict(Counter(life.case.region_code[:6] for life in lives).most_common())
    summary.seconds = round(time.perf_counter() - started, 2)
    summary.timings = laps
    return summary


def _merge_target(recent, life: _Life, at: datetime) -> _Life | None:
    """An earlier case about the same matter in the same street, still open a little later."""
    for other in reversed(recent.get((life.key, life.community[:9]), [])):
        if at - other.case.reported_at > timedelta(days=7):
            break
        if other.open_until is None or other.open_until > at + timedelta(days=1):
            return other
    return None


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    from bisect import bisect_right

    return min(bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


_PLAIN_TYPES = (models.CharField, models.TextField)
_PASS_TYPES = (models.BigAutoField, models.IntegerField, models.PositiveIntegerField,
               models.PositiveSmallIntegerField, models.SmallIntegerField, models.FloatField, models.BooleanField)


def _adapter(field):
    """How one field's value goes to the database: the backend's own adapter for the built-in
    field classes, the field's full preparation for anything else (a custom field may encrypt)."""
    ops = connection.ops
    kind = type(field)
    if kind in _PLAIN_TYPES:
        return lambda v: v if v is None else str(v)
    if kind is models.DateTimeField:
        return ops.adapt_datetimefield_value
    if kind is models.DateField:
        return ops.adapt_datefield_value
    if kind is models.JSONField:
        return lambda v: ops.adapt_json_value(v, field.encoder)
    if kind in _PASS_TYPES or (isinstance(field, models.ForeignKey) and type(field.target_field) in (
            models.BigAutoField, models.AutoField)):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


def _insert(model, names: list[str], rows: list[tuple], returning: bool = False) -> list:
    """Insert ``rows`` (values for the fields ``names``, in model terms) in multi-row statements;
    with ``returning`` the new primary keys in order, as ``bulk_create`` gets them.

    ``bulk_create`` spends most of its time preparing each value through the field machinery;
    for 50,000 cases and their tasks that alone took longer than the rest of the run."""
    fields = [model._meta.get_field(name) for name in names]
    adapters = [_adapter(f) for f in fields]
    if connection.vendor == "postgresql":
        return _copy(model, fields, adapters, rows, returning)
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    tail = f" RETURNING {quote(model._meta.pk.column)}" if returning else ""
    per_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, min(1000, 30000 // len(fields)))  # under SQLite's and PostgreSQL's parameter limits
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            batch = rows[start:start + size]
            params = [adapt(value) for row in batch for adapt, value in zip(adapters, row, strict=True)]
            cursor.execute(head + ", ".join([per_row] * len(batch)) + tail, params)
            if returning:
                ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _copy(model, fields, adapters, rows: list[tuple], returning: bool) -> list:
    """PostgreSQL: COPY, several times faster than multi-row INSERTs; keys reserved from the
    table's own sequence first, so live inserts meanwhile never collide with them."""
    quote = connection.ops.quote_name
    table, pk = model._meta.db_table, model._meta.pk
    ids = []
    with connection.cursor() as cursor:
        if returning and rows:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [table, pk.column, len(rows)])
            ids = [row[0] for row in cursor.fetchall()]
        columns = [f.column for f in fields] + ([pk.column] if returning else [])
        statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for index, row in enumerate(rows):
                values = [adapt(value) for adapt, value in zip(adapters, row, strict=True)]
                if returning:
                    values.append(ids[index])
                copy.write_row(values)
    return ids


def _insert_objects(model, objects: list) -> None:
    """Insert unsaved model instances (every concrete field but the key) and give them their keys."""
    names = [f.name for f in model._meta.concrete_fields if not f.primary_key]
    attnames = [model._meta.get_field(n).attname for n in names]
    for index_field in blind_index_fields(model):  # keyed hashes of personal data: save() is skipped here
        for obj in objects:
            index_field.pre_save(obj, True)
    rows = [tuple(getattr(obj, a) for a in attnames) for obj in objects]
    for obj, pk in zip(objects, _insert(model, names, rows, returning=True), strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def _write(lives: list[_Life]) -> dict[str, int]:
    cases = [life.case for life in lives]
    for life in lives:
        case = life.case
        # The rows date from their own timelines, not from today.
        case.created_at = case.reported_at
        case.updated_at = max(e.at for e in life.events)
    _insert_objects(Case, cases)
    merged = []
    for life in lives:
        if life.case.state == State.MERGED:
            life.case.parent_id = life.merge_into.case.pk
            merged.append(life.case)
    Case.objects.bulk_update(merged, ["parent"], batch_size=BATCH)
    assignments = [a for life in lives for a in life.assignments]
    for a in assignments:
        a.case_id = a.case.pk
    _insert_objects(Assignment, assignments)
    ratings = [r for life in lives for r in life.ratings]
    for r in ratings:
        r.case_id = r.case.pk
    _insert_objects(CaseRating, ratings)
    notices = [s for life in lives for s in life.supervisions]
    for s in notices:
        s.case_id, s.assignment_id = s.case.pk, s.assignment.pk
    _insert_objects(Supervision, notices)
    rows = [
        (life.case.pk, e.actor_id, e.at, e.action, e.from_state, e.to_state, e.note,
         {k: _resolve(v) for k, v in e.data.items()})
        for life in lives for e in sorted(life.events, key=lambda e: e.at)
    ]
    _insert(CaseEvent, ["case", "actor", "at", "action", "from_state", "to_state", "note", "data"], rows)
    return {"cases": len(cases), "events": len(rows), "assignments": len(assignments),
            "ratings": len(ratings), "rated": sum(1 for r in ratings if r.rated_at), "supervisions": len(notices)}
