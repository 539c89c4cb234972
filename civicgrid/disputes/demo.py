"""A handful of disputes for the Xiamen demo, played through the real actions (open with joint
dispatch, sign-for, sessions, agreement or failure, verification, judicial confirmation, a
follow-up visit, one high-risk dispute waiting in the review queue). ``civicgrid.demo.actions.
load_demo`` calls ``load_demo_disputes``; a second run finds the disputes by their external id and
writes nothing twice.

The eight disputes in 集美区 (all in 侨英街道) are the hand-counted data of
``tests/test_figures.py``: received 8, resolved 4, mediated 5, successful 4, confirmed 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case
from civicgrid.cases.workflow import AssignmentState, State
from civicgrid.disputes import actions
from civicgrid.disputes.models import Dispute, DisputeType, JointMediationRule
from civicgrid.org.models import DepartmentKind, User
from civicgrid.regions.models import Region

PREFIX = "demo-dispute-"
SHENTIAN = "350203007010"  # 思明区莲前街道深田社区


@dataclass(frozen=True)
class Spec:
    key: str
    community: str
    type_code: str
    name: str
    place: str
    brief: str
    parties: list = field(default_factory=list)
    people: int = 2
    opener: str = "mediator"
    outcome: str = ""  # "agreement", "failed" or "" (still being mediated)
    close: bool = False
    confirmation: str = ""  # "", "applied", "confirmed"
    visit: str = ""  # "", or the performance found
    session: str = ""  # minutes of a session that continues


def _p(role, name, id_number="", phone="", org=False):
    return {"role": role, "name": name, "id_number": id_number, "phone": phone, "is_organisation": org}


SPECS = [
    Spec("1", "350211002001", "marriage_family", "浒井社区林某夫妇婚姻家庭纠纷", "集美区侨英街道浒井社区浒井路18号",
         "夫妻因子女抚养费发生争执，女方到妇联求助。",
         [_p("applicant", "林秀英", "350211199001011220", "13959200001"), _p("respondent", "林建国", "", "13959200002")],
         outcome="agreement", close=True, confirmation="confirmed", visit="performed"),
    Spec("2", "350211002002", "neighbour", "孙厝社区楼上漏水邻里纠纷", "集美区侨英街道孙厝社区孙厝里5号",
         "楼上卫生间漏水至楼下，双方就维修费用发生争执。",
         [_p("applicant", "郑丽华", phone="13959200003"), _p("respondent", "黄志明", phone="13959200004")],
         outcome="agreement", close=True),
    Spec("3", "350211002004", "property", "叶厝社区物业费纠纷", "集美区侨英街道叶厝社区叶厝新村3号楼",
         "业主以电梯长期故障为由拒交物业费。",
         [_p("applicant", "某物业服务有限公司", org=True), _p("respondent", "叶文斌", phone="13959200005")],
         outcome="agreement", close=True),
    Spec("4", "350211002005", "labour", "兑山社区装修工人欠薪纠纷", "集美区侨英街道兑山社区兑山路66号",
         "装修工人三人讨要工钱，包工头称业主未结款。",
         [_p("applicant", "吴国强", phone="13959200006"), _p("respondent", "陈包工", phone="13959200007")],
         people=4, outcome="failed", close=True),
    Spec("5", "350211002006", "contract_debt", "东安社区借款纠纷", "集美区侨英街道东安社区东安路9号",
         "邻居间借款五万元逾期未还。",
         [_p("applicant", "王美玲", phone="13959200008"), _p("respondent", "许志强", phone="13959200009")],
         session="双方对还款期限分歧较大，约定下周再调。"),
    Spec("6", "350211002007", "property", "乐海社区小区停车收费群体纠纷", "集美区侨英街道乐海社区乐海花园",
         "十余名业主反对物业上调停车费，有业主扬言组织聚集。",
         [_p("applicant", "业主代表刘先生", phone="13959200010"), _p("respondent", "某物业服务有限公司", org=True)],
         people=12),
    Spec("7", "350211002001", "neighbour", "浒井社区宠物扰邻纠纷", "集美区侨英街道浒井社区浒井路30号",
         "邻居家犬只夜间吠叫，双方多次口角。",
         [_p("applicant", "蔡阿姨", phone="13959200011"), _p("respondent", "杨先生", phone="13959200012")],
         opener="grid_worker"),
    Spec("8", "350211002008", "consumer", "滨水社区预付卡消费纠纷", "集美区侨英街道滨水社区滨水路1号",
         "健身房关门，会员要求退还预付卡余额。",
         [_p("applicant", "何小姐", phone="13959200013"), _p("respondent", "某健身服务有限公司", org=True)],
         outcome="agreement", close=True, confirmation="applied"),
    Spec("9", SHENTIAN, "property", "深田社区二次供水水费纠纷", "思明区莲前街道深田社区深田路46号",
         "居民与物业公司因二次供水水费分摊争执多年。",
         [_p("applicant", "陈大伯", phone="13959200014"), _p("respondent", "某物业服务有限公司", org=True),
          _p("other", "厦门水务集团有限公司", org=True)],
         people=4, opener="city_dispatcher", outcome="agreement", close=True, confirmation="confirmed",
         visit="performed"),
]


def _grid_of(community: str) -> str | None:
    return (Region.objects.filter(code__startswith=community, level=Region.Level.GRID)
            .order_by("code").values_list("code", flat=True).first())


def _shentian_rule() -> None:
    """By place: in 深田社区 a property dispute also involves the water company and the property
    management centre."""
    JointMediationRule.objects.get_or_create(
        dispute_type=DisputeType.objects.get(code="property"), region_prefix=SHENTIAN,
        defaults={"lead_kind": DepartmentKind.RESIDENTS_COMMITTEE, "assisting_kinds": [
            DepartmentKind.JUDICIAL_OFFICE, DepartmentKind.WATER_SUPPLY, DepartmentKind.PROPERTY_MANAGEMENT]},
    )


def _play(spec: Spec, users: dict[str, User]) -> Dispute | None:
    grid = _grid_of(spec.community)
    if grid is None:
        return None
    mediator = users["mediator"] if spec.community.startswith("350211002") else users["city_dispatcher"]
    dispatcher = users["qiaoying_dispatcher"] if spec.community.startswith("350211002") else users["city_dispatcher"]
    admin = users["admin"]
    today = timezone.localdate()
    dispute = actions.open_dispute(
        actor=users[spec.opener], region_code=grid, external_id=PREFIX + spec.key, name=spec.name,
        dispute_type=DisputeType.objects.get(code=spec.type_code), occurred_on=today - timedelta(days=3),
        place=spec.place, brief=spec.brief, people_involved=spec.people, parties=spec.parties,
    )
    case = dispute.case
    if case.state == State.DISPATCHED and (spec.outcome or spec.session):
        # Every department signs for its task (the demo's superuser stands in for their staff).
        for a in case.assignments.filter(state=AssignmentState.PENDING).order_by("pk"):
            case_actions.sign_for(a, admin)
    if spec.session:
        actions.record_session(dispute, mediator, held_at=timezone.now(), place="侨英街道矛盾纠纷调处化解中心",
                               mediators="司法所调解员", participants="双方当事人", minutes=spec.session,
                               next_step="下周再次调解")
    if spec.outcome == "agreement":
        actions.record_session(dispute, mediator, held_at=timezone.now(), place="社区人民调解室",
                               mediators="社区调解员、司法所调解员", participants="双方当事人",
                               minutes="双方在调解员主持下达成一致。", result="agreement")
        actions.record_agreement(
            dispute, mediator, committee="社区人民调解委员会", facts=spec.brief,
            terms="双方自愿达成协议，按约定时间履行，履行完毕后再无其他纠纷。",
            signed_parties=list(dispute.parties.values_list("pk", flat=True)), mediator_name="调解员",
            effective_on=today,
        )
    elif spec.outcome == "failed":
        actions.record_session(dispute, mediator, held_at=timezone.now(), place="社区人民调解室",
                               mediators="司法所调解员", participants="双方当事人", minutes="双方分歧较大，未能达成协议。",
                               result="failed")
        actions.record_failure(dispute, mediator, route="arbitration", guidance="告知可向劳动人事争议仲裁委员会申请仲裁。")
    if spec.close:
        case = Case.objects.get(pk=case.pk)
        for a in case.assignments.filter(state=AssignmentState.SIGNED).order_by("-role", "pk"):
            case_actions.report_result(a, "已参与联合调解。", admin)
        case_actions.verify_case(Case.objects.get(pk=case.pk), True, dispatcher, "调解结束，核查结案")
    if spec.confirmation:
        actions.apply_for_confirmation(dispute, mediator, applied_on=today, court="人民法院")
    if spec.confirmation == "confirmed":
        actions.record_confirmation(dispute, mediator, confirmed=True, decided_on=today, note="裁定调解协议有效")
    if spec.visit:
        visit = dispute.visits.order_by("pk").first()
        actions.record_follow_up(visit, mediator, performance=spec.visit, note="回访当事人，协议已履行。")
    return dispute


def load_demo_disputes() -> dict[str, int]:
    """Play the demo disputes that are not there yet; returns counts for the summary."""
    _shentian_rule()
    users = {u.username: u for u in User.objects.filter(
        username__in=["mediator", "grid_worker", "qiaoying_dispatcher", "city_dispatcher", "admin"])}
    existing = set(Case.objects.filter(external_id__startswith=PREFIX).values_list("external_id", flat=True))
    if len(users) == 5:
        for spec in SPECS:
            if PREFIX + spec.key not in existing:
                _play(spec, users)
    from django.utils.translation import gettext as _

    return {_("demo disputes"): Dispute.objects.filter(case__external_id__startswith=PREFIX).count()}
