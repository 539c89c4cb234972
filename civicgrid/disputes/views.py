"""Pages of dispute mediation in the console (``/console/disputes/``): the list, opening a dispute,
the dispute with every step its reader may take, the review queue (研判), the figures with their
definitions, and the printable agreement and mediation record. Views parse input, call selectors
and actions, and render; they hold no rule."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from civicgrid.audit.actions import record_view
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.workflow import OPEN_STATES, State
from civicgrid.core.api import DomainError
from civicgrid.core.fields import masked_value
from civicgrid.disputes import actions, figures, forms, risk, selectors
from civicgrid.disputes.models import (
    ConfirmationState,
    FailureRoute,
    Outcome,
    PartyRole,
    RiskLevel,
    RiskReview,
    RiskSignal,
)
from civicgrid.org.permissions import has_permission


def staff(view):
    """Logged-in members of staff with a role (their jurisdiction scopes what they see)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_superuser or request.user.role):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _errors(error) -> list[str]:
    if isinstance(error, ValidationError):
        return [f"{m}" for m in error.messages]
    return [str(getattr(error, "detail", error))]


def _run(request, fn, *args, **kwargs):
    """Call an action; a refusal becomes a message on the page (True when it went through)."""
    try:
        fn(*args, **kwargs)
        return True
    except (ValidationError, DomainError) as error:
        for text in _errors(error):
            messages.error(request, text)
        return False


# --- list and opening -------------------------------------------------------------------------------


@require_GET
@staff
def dispute_list(request):
    qs = selectors.disputes_for(request.user).order_by("-opened_at", "-pk")
    level = request.GET.get("risk_level", "")
    if level in RiskLevel.values:
        qs = qs.filter(risk_level=level)
    return render(request, "disputes/list.html", {
        "nav": "disputes", "disputes": qs[:200], "levels": RiskLevel.choices, "level": level,
        "review_count": selectors.review_queue(request.user).count(),
        "can_open": has_permission(request.user, "dispute.open"),
    })


@staff
def dispute_new(request):
    if not has_permission(request.user, "dispute.open"):
        raise PermissionDenied
    form = forms.OpenForm(request.POST or None, types=selectors.dispute_types())
    if request.method == "POST" and form.is_valid():
        try:
            dispute = actions.open_dispute(actor=request.user, **form.fields_for_action())
        except (ValidationError, DomainError) as error:
            for text in _errors(error):
                form.add_error(None, text)
        else:
            messages.success(request, _("Dispute %(number)s opened.") % {"number": dispute.case.number})
            return redirect("web:disputes:detail", dispute.case.number)
    return render(request, "disputes/new.html", {"nav": "disputes", "form": form})


# --- one dispute ------------------------------------------------------------------------------------


def _party_rows(dispute):
    return [{"party": p, "role": p.get_role_display(),
             "name": p.name if p.is_organisation else masked_value(p, "name"),
             "id_number": masked_value(p, "id_number"), "phone": masked_value(p, "phone")}
            for p in dispute.parties.all()]


def _signals(rows):
    return [{"label": RiskSignal(s["signal"]).label if s["signal"] in RiskSignal.values else s["signal"],
             "weight": s["weight"], "detail": s.get("detail") or {}} for s in rows]


def _context(request, dispute) -> dict:
    user, case = request.user, dispute.case
    agreement = selectors.agreement_of(dispute)
    can_record = has_permission(user, "mediation.record")
    is_open = case.state in OPEN_STATES
    pending = dispute.outcome == Outcome.PENDING
    today = timezone.localdate()
    parties = _party_rows(dispute)
    now_local = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    panels = []
    if can_record and is_open and pending:
        panels += [
            ("session", _("Record a mediation session"), forms.SessionForm(initial={"held_at": now_local},
                                                                         prefix="session")),
            ("agreement", _("Record the agreement"), forms.AgreementForm(
                parties=[(r["party"], f'{r["role"]} {r["name"]}') for r in parties], prefix="agreement",
                initial={"effective_on": today, "sealed": True, "facts": dispute.brief,
                         "signed_parties": [str(r["party"].pk) for r in parties]})),
            ("failure", _("Record that mediation failed"), forms.FailureForm(prefix="failure")),
        ]
    if has_permission(user, "case.dispatch") and case.state in (State.REPORTED, State.FILED):
        panels.append(("joint", _("Start joint mediation"), forms.JointForm(prefix="joint")))
    if agreement and can_record and agreement.confirmation_state == ConfirmationState.NOT_APPLIED:
        panels.append(("apply", _("Joint application for judicial confirmation"),
                       forms.ApplyForm(prefix="apply", initial={"applied_on": today})))
    if agreement and can_record and agreement.confirmation_state == ConfirmationState.APPLIED:
        panels.append(("confirmation", _("Record the court's ruling"),
                       forms.ConfirmationForm(prefix="confirmation", initial={"decided_on": today})))
    visits = list(selectors.visits_of(dispute))
    if can_record:
        for v in visits:
            if v.visited_at is None:
                panels.append(("visit", _("Record the follow-up visit due %(day)s") % {"day": v.due_on},
                               forms.VisitForm(prefix="visit", initial={"visit": v.pk})))
    if can_record and not pending:
        panels.append(("evaluation", _("Evaluate"), forms.EvaluationForm(prefix="evaluation",
                                                                       initial={"evaluation": dispute.evaluation})))
    pending_review = dispute.reviews.filter(decision="").first()
    return {
        "nav": "disputes", "dispute": dispute, "case": case, "parties": parties, "agreement": agreement,
        "centre_staff": user.is_superuser or user.role in ("dispatcher", "leader", "administrator"),
        "sessions": selectors.sessions_of(dispute), "visits": visits,
        "reviews": selectors.reviews_of(dispute), "pending_review": pending_review,
        "review_form": forms.ReviewForm(prefix="review") if pending_review and has_permission(
            user, "dispute.review") else None,
        "signals": _signals(dispute.risk_signals), "assignments": case_selectors.assignments_of(case),
        "events": case_selectors.timeline(case),
        "is_group": dispute.people_involved >= risk.current_settings().group_threshold,
        "panels": [{"key": k, "label": label, "form": f} for k, label, f in panels],
        "window_open": agreement and agreement.confirmation_state == ConfirmationState.NOT_APPLIED
        and agreement.confirmation_deadline >= today,
    }


@require_GET
@staff
def dispute_detail(request, number):
    dispute = selectors.dispute_by_number(request.user, number)
    return render(request, "disputes/detail.html", _context(request, dispute))


def _bound(form_class, request, key, **kwargs):
    form = form_class(request.POST, prefix=key, **kwargs)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for e in errors:
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''} {e}".strip())
        return None
    return form.cleaned_data


@require_POST
@staff
def dispute_action(request, number, key):
    dispute = selectors.dispute_by_number(request.user, number)
    user = request.user
    if key == "session":
        d = _bound(forms.SessionForm, request, key)
        if d:
            d["held_at"] = timezone.make_aware(d["held_at"]) if timezone.is_naive(d["held_at"]) else d["held_at"]
            _run(request, actions.record_session, dispute, user, **d)
    elif key == "agreement":
        d = _bound(forms.AgreementForm, request, key, parties=[(p, "") for p in dispute.parties.all()])
        if d:
            d["signed_parties"] = [int(pk) for pk in d["signed_parties"]]
            _run(request, actions.record_agreement, dispute, user, **d)
    elif key == "failure":
        d = _bound(forms.FailureForm, request, key)
        if d:
            _run(request, actions.record_failure, dispute, user, **d)
    elif key == "joint":
        d = _bound(forms.JointForm, request, key)
        if d is not None:
            _run(request, actions.start_joint_mediation, dispute, user, d["note"])
    elif key == "apply":
        d = _bound(forms.ApplyForm, request, key)
        if d:
            _run(request, actions.apply_for_confirmation, dispute, user, **d)
    elif key == "confirmation":
        d = _bound(forms.ConfirmationForm, request, key)
        if d:
            _run(request, actions.record_confirmation, dispute, user, **d)
    elif key == "visit":
        d = _bound(forms.VisitForm, request, key)
        if d:
            visit = selectors.visits_of(dispute).filter(pk=d.pop("visit")).first()
            if visit is None:
                raise Http404
            _run(request, actions.record_follow_up, visit, user, **d)
    elif key == "evaluation":
        d = _bound(forms.EvaluationForm, request, key)
        if d:
            _run(request, actions.evaluate, dispute, user, d["evaluation"])
    elif key == "review":
        review = dispute.reviews.filter(decision="").first()
        d = _bound(forms.ReviewForm, request, key)
        if review is None:
            raise Http404
        if d:
            _run(request, actions.decide_review, review, user, **d)
    else:
        raise Http404
    return redirect("web:disputes:detail", number)


# --- review queue and figures ---------------------------------------------------------------------


@staff
def review_queue(request):
    if request.method == "POST":
        review = RiskReview.objects.filter(pk=request.POST.get("review"),
                                           dispute__in=selectors.disputes_for(request.user)).first()
        if review is None:
            raise Http404
        d = _bound(forms.ReviewForm, request, "review")
        if d and _run(request, actions.decide_review, review, request.user, **d):
            messages.success(request, _("Decision recorded for %(number)s.") % {"number": review.dispute.case.number})
        return redirect("web:disputes:reviews")
    rows = [{"review": r, "signals": _signals(r.signals)} for r in selectors.review_queue(request.user)]
    return render(request, "disputes/reviews.html", {
        "nav": "disputes", "rows": rows, "form": forms.ReviewForm(prefix="review"),
        "can_review": has_permission(request.user, "dispute.review"),
    })


def _aware(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@require_GET
@staff
def figures_view(request):
    today = timezone.localdate()
    form = forms.FiguresForm(request.GET or None, initial={"start": today.replace(day=1), "end": today,
                                                           "group_by": "type"})
    start, end, group_by = today.replace(day=1), today, "type"
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        group_by = form.cleaned_data["group_by"] or "type"
    result = figures.dispute_figures(request.user, start=_aware(start), end=_aware(end) + timedelta(days=1),
                                     group_by=group_by)
    return render(request, "disputes/figures.html", {
        "nav": "disputes", "form": form, "total": result["total"], "rows": result["rows"],
        "definitions": figures.DEFINITIONS, "start": start, "end": end,
    })


# --- printable documents ------------------------------------------------------------------------


def _print_parties(request, dispute):
    """Clear names for those allowed to unmask (the view is logged), masked for everyone else."""
    clear = has_permission(request.user, "pii.unmask")
    rows = []
    for p in dispute.parties.all():
        if clear:
            record_view(request.user, p, ["name", "id_number", "phone"], request=request,
                        reason=str(_("printed mediation document")))
        rows.append({"role": p.get_role_display(), "is_applicant": p.role == PartyRole.APPLICANT,
                     "name": p.name if clear or p.is_organisation else masked_value(p, "name"),
                     "id_number": p.id_number if clear else masked_value(p, "id_number"),
                     "phone": p.phone if clear else masked_value(p, "phone"), "is_organisation": p.is_organisation})
    return rows


@require_GET
@staff
def print_agreement(request, number):
    dispute = selectors.dispute_by_number(request.user, number)
    agreement = selectors.agreement_of(dispute)
    if agreement is None:
        raise Http404
    return render(request, "disputes/print_agreement.html", {
        "dispute": dispute, "agreement": agreement, "parties": _print_parties(request, dispute),
    })


@require_GET
@staff
def print_record(request, number):
    dispute = selectors.dispute_by_number(request.user, number)
    return render(request, "disputes/print_record.html", {
        "dispute": dispute, "sessions": selectors.sessions_of(dispute), "parties": _print_parties(request, dispute),
        "routes": dict(FailureRoute.choices),
    })

