"""Every change to a dispute goes through one function here, the way the case spine does it:
``transaction.atomic`` → lock the case row, then the dispute's rows → check who may act (the case
visible to them: else ``Http404``; the role's permission: else 403) and the rule → change →
append a ``CaseEvent`` to the case's timeline → side effects with ``transaction.on_commit``.

The case's lifecycle (filing, dispatch to departments, signing for, results, verification,
escalation, reopening) is the spine's: these functions call ``civicgrid.cases.actions`` for it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import actions as case_actions
from civicgrid.cases.models import Case, CaseEvent, Channel
from civicgrid.cases.workflow import OPEN_STATES, Overlay, State
from civicgrid.core import calendar
from civicgrid.core.api import DomainError
from civicgrid.core.jurisdiction import code_in_jurisdiction
from civicgrid.disputes import risk
from civicgrid.disputes.models import (
    Agreement,
    ConfirmationState,
    Dispute,
    DisputeType,
    FailureRoute,
    FollowUpVisit,
    JointMediationRule,
    MediationMethod,
    MediationSession,
    Outcome,
    Party,
    PartyRole,
    Performance,
    ReviewDecision,
    RiskLevel,
    RiskReview,
    SessionResult,
)
from civicgrid.disputes.selectors import can_see
from civicgrid.org.models import Department, DepartmentKind, User
from civicgrid.org.permissions import require_permission
from civicgrid.org.selectors import departments_of_kind_for

# --- locking and checks -------------------------------------------------------------------------


def _lock(dispute_or_pk) -> tuple[Case, Dispute]:
    """The case row, then the dispute row (the order every action uses)."""
    pk = getattr(dispute_or_pk, "pk", dispute_or_pk)
    case_id = Dispute.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise Http404
    case = Case.objects.select_for_update().get(pk=case_id)
    return case, Dispute.objects.select_for_update().select_related("dispute_type", "case").get(pk=pk)


def _authorize(actor: User | None, permission: str, case: Case) -> None:
    if actor is None:
        raise DomainError(_("A member of staff must perform this action."), code="actor_required")
    if not can_see(actor, case):
        raise Http404
    require_permission(actor, permission)


def _required(field: str, value) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else value
    if not value:
        raise ValidationError({field: ValidationError(_("This field is required."), code="required")})
    return value


def _choice(field: str, value: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError({field: ValidationError(
            format_lazy(_("“{value}” is not a valid choice."), value=value), code="invalid_choice",
        )})
    return value


def _event(case: Case, action: str, actor: User | None, note: str = "", **data) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, actor=actor, action=action, from_state=case.state, to_state=case.state,
        note=note, data=data, at=timezone.now(),
    )


def _require_pending(dispute: Dispute) -> None:
    if dispute.outcome != Outcome.PENDING:
        raise DomainError(
            format_lazy(_("The mediation already has an outcome ({outcome})."),
                        outcome=Outcome(dispute.outcome).label),
            code="outcome_recorded",
        )


def _require_open(case: Case) -> None:
    if case.state not in OPEN_STATES:
        raise DomainError(
            format_lazy(_("Case {number} is {state}; record mediation only on an open case."),
                        number=case.number, state=State(case.state).label),
            code="case_not_open",
        )


def resolution_deadline(start: datetime) -> datetime:
    """化解时限: the configured working days from ``start`` on the working-day calendar."""
    return calendar.add_working_time(start, risk.current_settings().resolution_working_days, calendar.DAYS)


# --- the dispute record -------------------------------------------------------------------------


def _parties(dispute: Dispute, parties: list[dict]) -> list[Party]:
    if not parties:
        raise ValidationError({"parties": ValidationError(_("Name at least one party."), code="required")})
    made = []
    for i, p in enumerate(parties):
        name = (p.get("name") or "").strip()
        if not name:
            raise ValidationError({f"parties.{i}.name": ValidationError(_("This field is required."), code="required")})
        role = _choice(f"parties.{i}.role", p.get("role") or PartyRole.OTHER, PartyRole)
        id_number, phone = (p.get("id_number") or "").strip(), (p.get("phone") or "").strip()
        made.append(Party.objects.create(
            dispute=dispute, role=role, name=name, id_number=id_number, phone=phone,
            is_organisation=bool(p.get("is_organisation")),
        ))
    return made


def _profile(case: Case, actor: User, *, name: str, dispute_type: DisputeType, occurred_on: date, place: str,
             brief: str, parties: list[dict], people_involved: int = 2, organisations_involved: str = "",
             method: str = MediationMethod.PEOPLE, responsible_department: Department | None = None,
             responsible_person: User | None = None, now: datetime) -> Dispute:
    _choice("method", method, MediationMethod)
    if not dispute_type.is_active:
        raise ValidationError({"dispute_type": ValidationError(_("This dispute type is not in use."), code="inactive")})
    if people_involved < 1:
        raise ValidationError({"people_involved": ValidationError(_("At least one person."), code="min_value")})
    dispute = Dispute.objects.create(
        case=case, name=_required("name", name), occurred_on=occurred_on, place=_required("place", place),
        dispute_type=dispute_type, people_involved=people_involved, brief=_required("brief", brief),
        organisations_involved=(organisations_involved or "").strip(), resolution_deadline=resolution_deadline(now),
        method=method, responsible_department=responsible_department or actor.department,
        responsible_person=responsible_person, opened_by=actor, opened_at=now,
    )
    made = _parties(dispute, parties)
    _event(case, Overlay.DISPUTE_PROFILE, actor, dispute.name, dispute=dispute.pk, type=dispute_type.code,
           people=people_involved, parties=len(made), deadline=dispute.resolution_deadline.isoformat())
    _assess(case, dispute, now)
    return dispute


def open_dispute(*, actor: User, region_code: str, channel: str = "", share: bool = True, lon=None, lat=None,
                 external_id: str = "", **fields) -> Dispute:
    """A department, grid worker or mediator opens a dispute directly: a new case (reported on
    ``channel``: walk-in unless a grid worker reports on patrol) with its mediation profile. With
    ``share`` the joint-mediation matrix hands it at once to every department it names (联调), as
    the auto-dispatch rule does; without a matching rule it waits, filed, for a dispatcher."""
    require_permission(actor, "dispute.open")
    if not code_in_jurisdiction(actor, region_code or ""):
        raise ValidationError({"region_code": ValidationError(
            _("This place lies outside your jurisdiction."), code="outside_jurisdiction",
        )})
    channel = channel or (Channel.GRID_PATROL if actor.role == "grid_worker" else Channel.WALK_IN)
    with transaction.atomic():
        # The opener's role may not report cases in general: the channel reports, the profile
        # event names the person.
        case = case_actions.report_case(
            channel=channel, title=_required("name", fields.get("name")), region_code=region_code, lon=lon, lat=lat,
            description=fields.get("brief") or "", address=fields.get("place") or "", external_id=external_id,
        )
        if Dispute.objects.filter(case=case).exists():  # the channel's retry of the same external id
            return Dispute.objects.get(case=case)
        case = Case.objects.select_for_update().get(pk=case.pk)
        dispute = _profile(case, actor, now=timezone.now(), **fields)
        if share:
            _share(case, dispute)
    dispute.refresh_from_db()
    return dispute


def add_dispute_profile(case: Case, actor: User, **fields) -> Dispute:
    """A case from any channel (12345, the portal, a grid worker …) becomes a dispute."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().filter(pk=case.pk).first()
        if locked is None:
            raise Http404
        _authorize(actor, "dispute.open", locked)
        _require_open(locked)
        if Dispute.objects.filter(case=locked).exists():
            raise DomainError(_("This case already has a dispute record."), code="already_dispute")
        return _profile(locked, actor, now=timezone.now(), **fields)


def add_party(dispute: Dispute, actor: User, *, role: str, name: str, id_number: str = "", phone: str = "") -> Party:
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "mediation.record", case)
        _require_open(case)
        party = _parties(locked, [{"role": role, "name": name, "id_number": id_number, "phone": phone}])[0]
        _event(case, Overlay.DISPUTE_PROFILE, actor, "", dispute=locked.pk, party_added=party.pk, role=role)
        _assess(case, locked, timezone.now())
    return party


def evaluate(dispute: Dispute, actor: User, evaluation: str) -> Dispute:
    """评价: how the dispute's handling is judged once mediation has an outcome."""
    evaluation = _required("evaluation", evaluation)
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "mediation.record", case)
        if locked.outcome == Outcome.PENDING:
            raise DomainError(_("Evaluate once the mediation has an outcome."), code="outcome_pending")
        locked.evaluation = evaluation
        locked.save(update_fields=["evaluation"])
        _event(case, Overlay.DISPUTE_PROFILE, actor, evaluation, dispute=locked.pk, evaluated=True)
    return locked


# --- joint mediation (联调) ------------------------------------------------------------------------


def joint_rule_for(dispute_type: DisputeType, region_code: str) -> JointMediationRule | None:
    """The matrix row for the type whose region prefix is the longest one matching the place."""
    rules = [r for r in JointMediationRule.objects.filter(dispute_type=dispute_type)
             if region_code.startswith(r.region_prefix)]
    return max(rules, key=lambda r: len(r.region_prefix), default=None)


def joint_plan(dispute_type: DisputeType, region_code: str) -> dict:
    """The departments the matrix names for a dispute of ``dispute_type`` at ``region_code``:
    ``rule``, ``lead`` (a department or None), ``assisting`` (departments), ``unresolved``
    (kinds with no single department serving the place), ``why``."""
    rule = joint_rule_for(dispute_type, region_code)
    plan = {"rule": rule, "lead": None, "assisting": [], "unresolved": [], "why": ""}
    if rule is None:
        plan["why"] = str(format_lazy(_("No joint mediation rule for {type} here."), type=dispute_type.name))
        return plan
    leads = departments_of_kind_for(rule.lead_kind, region_code)
    if len(leads) == 1:
        plan["lead"] = leads[0]
    else:
        plan["unresolved"].append(rule.lead_kind)
    for kind in rule.assisting_kinds:
        found = departments_of_kind_for(kind, region_code)
        if len(found) == 1 and found[0] != plan["lead"] and found[0] not in plan["assisting"]:
            plan["assisting"].append(found[0])
        elif len(found) != 1:
            plan["unresolved"].append(kind)
    lead_label = plan["lead"].name if plan["lead"] else DepartmentKind(rule.lead_kind).label
    plan["why"] = str(format_lazy(
        _("Joint mediation matrix: {type} ({place}) → lead {lead}; assisting {assisting}."),
        type=dispute_type.name, place=rule.region_prefix or _("everywhere"), lead=lead_label,
        assisting="、".join(d.name for d in plan["assisting"]) or "—",
    ))
    return plan


def _suggestion(plan: dict, case: Case) -> dict:
    """The plan in the shape of ``Case.routing_suggestion`` (what the console's queue shows)."""
    return {
        "lead_department": plan["lead"].pk if plan["lead"] else None,
        "lead_candidates": [plan["lead"].pk] if plan["lead"] else [],
        "assisting_departments": [d.pk for d in plan["assisting"]],
        "unresolved_assisting_kinds": plan["unresolved"], "rule": None,
        "lead_kind": plan["rule"].lead_kind if plan["rule"] else None,
        "assisting_kinds": list(plan["rule"].assisting_kinds) if plan["rule"] else [],
        "ambiguous": False, "tied_rules": [], "why": plan["why"],
        "reason": "ready" if plan["lead"] and not plan["unresolved"] else "joint_unresolved",
        "auto": bool(plan["lead"]) and not plan["unresolved"],
        "joint_rule": plan["rule"].pk if plan["rule"] else None,
        "computed_at": timezone.now().isoformat(),
    }


def _share(case: Case, dispute: Dispute) -> None:
    """Hand a just-opened dispute to every department of its joint-mediation plan at once, the
    way the spine's auto-dispatch does (filed and dispatched by the rule, no person)."""
    plan = joint_plan(dispute.dispute_type, case.region_code)
    suggestion = _suggestion(plan, case)
    case.routing_suggestion = suggestion
    case.save(update_fields=["routing_suggestion", "updated_at"])
    dispute.joint_rule = plan["rule"]
    dispute.save(update_fields=["joint_rule"])
    category = dispute.dispute_type.category
    if not suggestion["auto"] or category is None:
        return  # the dispatcher sees the plan (and what is missing) in the queue
    _event(case, Overlay.JOINT_MEDIATION, None, plan["why"], dispute=dispute.pk, rule=plan["rule"].pk,
           lead=plan["lead"].pk, assisting=[d.pk for d in plan["assisting"]], automatic=True)
    # The spine files and dispatches by the recorded suggestion (its auto-dispatch path).
    case_actions._file(case, None, category, None,
                       str(_("Filed automatically for joint mediation.")), auto=True)


def start_joint_mediation(dispute: Dispute, actor: User, note: str = "", lead: Department | None = None,
                          assisting: list[Department] | None = None) -> Case:
    """联调派单 by a dispatcher: file the case if it is still a report, then dispatch it to the
    matrix's lead and assisting departments (or the ones the dispatcher names instead) at once."""
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "case.dispatch", case)
        plan = joint_plan(locked.dispute_type, case.region_code)
        lead = lead or plan["lead"]
        assisting = list(plan["assisting"] if assisting is None else assisting)
        if lead is None:
            raise ValidationError({"lead_department": ValidationError(
                format_lazy(_("Name the lead department: {why}"), why=plan["why"]), code="required",
            )})
        locked.joint_rule = plan["rule"]
        locked.save(update_fields=["joint_rule"])
        _event(case, Overlay.JOINT_MEDIATION, actor, note, dispute=locked.pk,
               rule=plan["rule"].pk if plan["rule"] else None, lead=lead.pk, assisting=[d.pk for d in assisting],
               automatic=False)
        if case.state == State.REPORTED:
            case = case_actions.file_case(case, actor, category=locked.dispute_type.category, note=note)
        return case_actions.dispatch_case(case, lead, [d for d in assisting if d.pk != lead.pk], actor, note,
                                          joint_rule=plan["rule"].pk if plan["rule"] else None)


# --- sessions and outcome ------------------------------------------------------------------------


def record_session(dispute: Dispute, actor: User, *, held_at: datetime, mediators: str, participants: str,
                   minutes: str, place: str = "", online: bool = False, next_step: str = "",
                   result: str = SessionResult.CONTINUING, centre=None) -> MediationSession:
    """调解记录: one session, in a place (or online), with its mediators, participants, minutes
    and next step."""
    _choice("result", result, SessionResult)
    if not online and not (place or "").strip():
        raise ValidationError({"place": ValidationError(_("Give the place, or mark the session online."),
                                                        code="required")})
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "mediation.record", case)
        _require_open(case)
        _require_pending(locked)
        session = MediationSession.objects.create(
            dispute=locked, held_at=held_at, place=(place or "").strip(), online=online,
            centre=centre or case.owner_centre, mediators=_required("mediators", mediators),
            participants=_required("participants", participants), minutes=_required("minutes", minutes),
            next_step=(next_step or "").strip(), result=result, recorded_by=actor,
        )
        _event(case, Overlay.MEDIATION_SESSION, actor, session.next_step, dispute=locked.pk, session=session.pk,
               result=result, online=online, held_at=held_at.isoformat())
        _assess(case, locked, timezone.now())
    return session


def _agreement_number(case: Case, effective_on: date) -> str:
    return f"（{effective_on.year}）调字第{case.number}号"


def record_agreement(dispute: Dispute, actor: User, *, committee: str, facts: str, terms: str,
                     signed_parties: list[int], mediator_name: str, effective_on: date, sealed: bool = True,
                     performance: str = "") -> Agreement:
    """调解协议: the written agreement, effective once every party and the mediator signed and the
    committee sealed it (人民调解法 Art. 29). It opens the window for the parties' joint application
    for judicial confirmation (Art. 33) and schedules a follow-up visit on performance (回访)."""
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "mediation.record", case)
        _require_open(case)
        _require_pending(locked)
        parties = list(locked.parties.all())
        signed = {int(pk) for pk in signed_parties or []}
        unknown = signed - {p.pk for p in parties}
        missing = [p for p in parties if p.pk not in signed]
        errors = {}
        if unknown:
            errors["signed_parties"] = ValidationError(_("Only parties of this dispute can sign."), code="invalid")
        elif missing:
            errors["signed_parties"] = ValidationError(
                format_lazy(_("{n} party/parties have not signed: an agreement takes effect once every party "
                              "signed."), n=len(missing)), code="unsigned_parties")
        if not sealed:
            errors["sealed"] = ValidationError(_("An agreement takes effect once the committee sealed it."),
                                               code="not_sealed")
        if errors:
            raise ValidationError(errors)
        settings = risk.current_settings()
        agreement = Agreement.objects.create(
            dispute=locked, number=_agreement_number(case, effective_on), committee=_required("committee", committee),
            facts=_required("facts", facts), terms=_required("terms", terms),
            performance=(performance or "").strip(), mediator_name=_required("mediator_name", mediator_name),
            mediator=actor, sealed=sealed, effective_on=effective_on,
            confirmation_deadline=effective_on + timedelta(days=settings.confirmation_window_days),
        )
        agreement.signed_parties.set(parties)
        now = timezone.now()
        locked.outcome, locked.outcome_at = Outcome.AGREEMENT, now
        locked.save(update_fields=["outcome", "outcome_at"])
        visit = FollowUpVisit.objects.create(
            dispute=locked, due_on=effective_on + timedelta(days=settings.follow_up_days),
        )
        _event(case, Overlay.MEDIATION_AGREEMENT, actor, agreement.terms, dispute=locked.pk,
               agreement=agreement.pk, number=agreement.number, effective_on=effective_on.isoformat(),
               confirmation_deadline=agreement.confirmation_deadline.isoformat(), follow_up_due=visit.due_on.isoformat())
        _assess(case, locked, now)
    return agreement


def record_failure(dispute: Dispute, actor: User, *, route: str, guidance: str) -> Dispute:
    """调解不成: mediation ended without agreement; the parties were told which route remains
    (litigation, arbitration, an administrative route …)."""
    _choice("route", route, FailureRoute)
    guidance = _required("guidance", guidance)
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "mediation.record", case)
        _require_open(case)
        _require_pending(locked)
        now = timezone.now()
        locked.outcome, locked.outcome_at = Outcome.FAILED, now
        locked.failure_route, locked.failure_guidance = route, guidance
        locked.save(update_fields=["outcome", "outcome_at", "failure_route", "failure_guidance"])
        _event(case, Overlay.MEDIATION_FAILED, actor, guidance, dispute=locked.pk, route=route)
        _assess(case, locked, now)
    return locked


# --- judicial confirmation (司法确认, 人民调解法 Art. 33) ---------------------------------------------


def _lock_agreement(dispute: Dispute) -> tuple[Case, Dispute, Agreement]:
    case, locked = _lock(dispute)
    agreement = Agreement.objects.select_for_update().filter(dispute=locked).first()
    if agreement is None:
        raise DomainError(_("There is no mediation agreement to confirm."), code="no_agreement")
    return case, locked, agreement


def apply_for_confirmation(dispute: Dispute, actor: User, *, applied_on: date, court: str) -> Agreement:
    """The parties' joint application to the court, within the 30 days after the agreement took
    effect; later than that, the window is closed."""
    court = _required("court", court)
    with transaction.atomic():
        case, locked, agreement = _lock_agreement(dispute)
        _authorize(actor, "mediation.record", case)
        if agreement.confirmation_state != ConfirmationState.NOT_APPLIED:
            raise DomainError(
                format_lazy(_("Judicial confirmation is already {state}."),
                            state=ConfirmationState(agreement.confirmation_state).label),
                code="confirmation_state",
            )
        if applied_on < agreement.effective_on or applied_on > agreement.confirmation_deadline:
            raise DomainError(
                format_lazy(_("The joint application must be made between {start} and {end} (30 days after the "
                              "agreement took effect)."), start=agreement.effective_on,
                            end=agreement.confirmation_deadline),
                code="confirmation_window_passed",
            )
        agreement.confirmation_state = ConfirmationState.APPLIED
        agreement.confirmation_applied_on, agreement.confirmation_court = applied_on, court
        agreement.save(update_fields=["confirmation_state", "confirmation_applied_on", "confirmation_court"])
        _event(case, Overlay.JUDICIAL_CONFIRMATION, actor, court, dispute=locked.pk, step="applied",
               applied_on=applied_on.isoformat())
    return agreement


def record_confirmation(dispute: Dispute, actor: User, *, confirmed: bool, decided_on: date, note: str = "") -> Agreement:
    """The court's ruling on the application: confirmed (the agreement is enforceable) or not."""
    with transaction.atomic():
        case, locked, agreement = _lock_agreement(dispute)
        _authorize(actor, "mediation.record", case)
        if agreement.confirmation_state != ConfirmationState.APPLIED:
            raise DomainError(_("Record the court's ruling after the parties applied."), code="confirmation_state")
        agreement.confirmation_state = ConfirmationState.CONFIRMED if confirmed else ConfirmationState.REJECTED
        agreement.confirmation_decided_on, agreement.confirmation_note = decided_on, (note or "").strip()
        agreement.save(update_fields=["confirmation_state", "confirmation_decided_on", "confirmation_note"])
        _event(case, Overlay.JUDICIAL_CONFIRMATION, actor, agreement.confirmation_note, dispute=locked.pk,
               step=agreement.confirmation_state, decided_on=decided_on.isoformat())
    return agreement


def expire_confirmation_window(agreement_pk: int, today: date) -> bool:
    """Close one agreement's window once its last day has passed without an application
    (idempotent; the sweep calls it)."""
    with transaction.atomic():
        dispute_id = Agreement.objects.filter(pk=agreement_pk).values_list("dispute_id", flat=True).first()
        if dispute_id is None:
            return False
        case, locked = _lock(dispute_id)
        agreement = Agreement.objects.select_for_update().get(pk=agreement_pk)
        if agreement.confirmation_state != ConfirmationState.NOT_APPLIED or agreement.confirmation_deadline >= today:
            return False
        agreement.confirmation_state = ConfirmationState.EXPIRED
        agreement.save(update_fields=["confirmation_state"])
        _event(case, Overlay.JUDICIAL_CONFIRMATION, None, str(_("The 30-day window passed without an application.")),
               dispute=locked.pk, step="expired", deadline=agreement.confirmation_deadline.isoformat())
    return True


# --- follow-up visits (回访) -------------------------------------------------------------------------


def schedule_follow_up(dispute: Dispute, actor: User, due_on: date) -> FollowUpVisit:
    with transaction.atomic():
        case, locked = _lock(dispute)
        _authorize(actor, "mediation.record", case)
        if locked.outcome != Outcome.AGREEMENT:
            raise DomainError(_("Follow-up visits check the performance of an agreement."), code="no_agreement")
        visit = FollowUpVisit.objects.create(dispute=locked, due_on=due_on)
        _event(case, Overlay.FOLLOW_UP, actor, "", dispute=locked.pk, visit=visit.pk, step="scheduled",
               due_on=due_on.isoformat())
    return visit


def record_follow_up(visit: FollowUpVisit, actor: User, *, performance: str, note: str = "",
                     reopen: bool = False, reason: str = "") -> FollowUpVisit:
    """回访 on performance. When the agreement was not (or only partly) performed, the visitor may
    reopen the closed case (重办): it goes back to its lead department."""
    _choice("performance", performance, Performance)
    if reopen and performance == Performance.PERFORMED:
        raise ValidationError({"reopen": ValidationError(
            _("Reopen only when the agreement was not fully performed."), code="performed")})
    with transaction.atomic():
        case, locked = _lock(visit.dispute_id)
        row = FollowUpVisit.objects.select_for_update().filter(pk=visit.pk, dispute=locked).first()
        if row is None:
            raise Http404
        _authorize(actor, "mediation.record", case)
        if row.visited_at is not None:
            raise DomainError(_("This follow-up visit is already recorded."), code="already_recorded")
        row.visited_at, row.visitor, row.performance = timezone.now(), actor, performance
        row.note, row.reopened_case = (note or "").strip(), reopen
        row.save(update_fields=["visited_at", "visitor", "performance", "note", "reopened_case"])
        _event(case, Overlay.FOLLOW_UP, actor, row.note, dispute=locked.pk, visit=row.pk, step="recorded",
               performance=performance)
        if reopen:
            case_actions.reopen_case(case, _required("reason", reason), actor, follow_up_visit=row.pk)
    return row


# --- early warning and its review (研判) ------------------------------------------------------------


def _assess(case: Case, dispute: Dispute, now: datetime) -> risk.Assessment:
    """Store the assessment; a high one whose signals the queue has not seen goes to review."""
    result = risk.assess(dispute, now)
    dispute.risk_score, dispute.risk_level, dispute.risk_signals = result.score, result.level, result.signals
    dispute.risk_assessed_at = now
    dispute.save(update_fields=["risk_score", "risk_level", "risk_signals", "risk_assessed_at"])
    if result.level != RiskLevel.HIGH:
        return result
    last = RiskReview.objects.filter(dispute=dispute).order_by("-created_at", "-pk").first()
    if last is not None and (last.decision == "" or sorted(s["signal"] for s in last.signals) == result.codes):
        return result  # waiting for a decision, or already decided on these same signals
    review = RiskReview.objects.create(dispute=dispute, level=result.level, score=result.score,
                                       signals=result.signals, created_at=now)
    _event(case, Overlay.RISK_WARNING, None, "、".join(str(s["label"]) for s in result.signals),
           dispute=dispute.pk, review=review.pk, score=result.score, signals=result.codes)
    return result


def reassess(dispute: Dispute, now: datetime | None = None) -> risk.Assessment:
    """Recompute a dispute's risk now (the sweep does this for passing deadlines)."""
    with transaction.atomic():
        case, locked = _lock(dispute)
        return _assess(case, locked, now or timezone.now())


def decide_review(review: RiskReview, actor: User, *, decision: str, reason: str, level: str = "") -> RiskReview:
    """研判: a person confirms the high risk, downgrades it (to medium or low), or escalates the case
    to the next one-stop centre up — always with a reason, on the timeline."""
    _choice("decision", decision, ReviewDecision)
    reason = _required("reason", reason)
    if decision == ReviewDecision.DOWNGRADE:
        if level not in (RiskLevel.LOW, RiskLevel.MEDIUM):
            raise ValidationError({"level": ValidationError(_("Downgrade to medium or low."), code="invalid_choice")})
    else:
        level = RiskLevel.HIGH
    with transaction.atomic():
        case, locked = _lock(review.dispute_id)
        row = RiskReview.objects.select_for_update().filter(pk=review.pk, dispute=locked).first()
        if row is None:
            raise Http404
        _authorize(actor, "dispute.review", case)
        if row.decision:
            raise DomainError(_("This review is already decided."), code="already_decided",
                              status_code=409)
        row.decision, row.decided_level, row.reason = decision, level, reason
        row.decided_by, row.decided_at = actor, timezone.now()
        row.save(update_fields=["decision", "decided_level", "reason", "decided_by", "decided_at"])
        locked.reviewed_level = level
        locked.save(update_fields=["reviewed_level"])
        _event(case, Overlay.RISK_REVIEW, actor, reason, dispute=locked.pk, review=row.pk, decision=decision,
               level=level, computed_level=row.level)
        if decision == ReviewDecision.ESCALATE:
            case_actions.escalate_case(case, reason, actor)
    return row


# --- the periodic sweep ------------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Close judicial-confirmation windows that passed, and reassess open disputes whose
    resolution deadline passed since they were last assessed. Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done = {"windows_closed": 0, "reassessed": 0}
    for pk in Agreement.objects.filter(confirmation_state=ConfirmationState.NOT_APPLIED,
                                       confirmation_deadline__lt=today).values_list("pk", flat=True):
        done["windows_closed"] += expire_confirmation_window(pk, today)
    late = (Dispute.objects.filter(resolution_deadline__lt=now, case__state__in=sorted(OPEN_STATES - {State.RESOLVED}))
            .filter(Q(risk_assessed_at__isnull=True) | Q(risk_assessed_at__lt=F("resolution_deadline")))
            .values_list("pk", flat=True))
    for pk in late:
        reassess(pk, now)
        done["reassessed"] += 1
    return done
