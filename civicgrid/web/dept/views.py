"""Department inbox (/dept/): the department's tasks with their deadlines, and every step a
department takes on one — sign for, return, report the result with photos, ask for more time or a
suspension. Views call actions and selectors only."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from civicgrid.cases import actions, selectors
from civicgrid.cases.models import SlaStatus
from civicgrid.cases.workflow import AssignmentState, State
from civicgrid.core.identifiers import mask_name, mask_phone
from civicgrid.org.models import Role
from civicgrid.taxonomy.models import TimeUnit

from .access import REFUSED, errors_of, staff_room

room = staff_room(Role.DEPARTMENT_HANDLER)

# 退单 reasons departments choose from; "other" needs words.
RETURN_REASONS = [
    ("not_ours", _("Not this department's responsibility")),  # 不属于本部门职责
    ("outside_area", _("The address is outside our area")),  # 地址不在辖区
    ("incomplete", _("Information incomplete, cannot be handled")),  # 信息不全无法处置
    ("duplicate", _("Dispatched twice")),  # 重复派单
    ("other", _("Other")),  # 其他
]
_SHOW = {
    "all": _("All"),
    "pending": _("Awaiting sign-for"),
    "signed": _("In hand"),
    "overdue": _("Overdue"),
}


def _running_deadline(task):
    if task.state == AssignmentState.PENDING:
        return task.sign_deadline
    if task.state == AssignmentState.SIGNED:
        return task.handle_deadline
    return None


def _row(task, now) -> dict:
    status = selectors.assignment_sla_status(task, now)
    return {
        "task": task, "case": task.case, "deadline": _running_deadline(task), "status": status,
        "overdue": status == SlaStatus.OVERDUE, "warning": status == SlaStatus.WARNING,
        "supervised": task.supervision_level > 0, "suspended": task.case.state == State.SUSPENDED,
    }


def _inbox_context(request) -> dict:
    now = timezone.now()
    rows = [_row(t, now) for t in selectors.tasks_for(request.user)]
    # Overdue, then supervised, then due soon; within each, the nearest deadline first.
    rows.sort(key=lambda r: (not r["overdue"], not r["supervised"], not r["warning"],
                             r["deadline"] is None, r["deadline"] or now, r["task"].pk))
    counts = {
        "all": len(rows),
        "pending": sum(r["task"].state == AssignmentState.PENDING for r in rows),
        "signed": sum(r["task"].state == AssignmentState.SIGNED for r in rows),
        "overdue": sum(r["overdue"] for r in rows),
    }
    show = request.GET.get("show", "all")
    if show not in _SHOW:
        show = "all"
    if show == "overdue":
        rows = [r for r in rows if r["overdue"]]
    elif show != "all":
        rows = [r for r in rows if r["task"].state == show]
    tabs = [{"key": k, "label": v, "count": counts[k], "current": k == show} for k, v in _SHOW.items()]
    return {"rows": rows, "tabs": tabs, "show": show, "now": now}


@require_GET
@room
def inbox(request):
    context = _inbox_context(request)
    if request.headers.get("HX-Request"):
        return render(request, "web/dept/_tasks.html", context)
    context["notices"] = list(selectors.supervisions_for(request.user)[:20])
    return render(request, "web/dept/inbox.html", context)


def _detail_context(request, task) -> dict:
    case = task.case
    is_signed = task.state == AssignmentState.SIGNED
    working = case.state in (State.DISPATCHED, State.IN_PROGRESS)
    return {
        "row": _row(task, timezone.now()), "task": task, "case": case,
        "reporter_name": mask_name(case.reporter_name), "reporter_phone": mask_phone(case.reporter_phone),
        "photos": list(selectors.attachments_of(case)),
        "events": list(selectors.timeline(case)),
        "requests": list(selectors.requests_of(case).filter(assignment=task)),
        "notices": list(selectors.supervisions_of(case).filter(department_id=task.department_id)),
        "can_sign": working and task.state == AssignmentState.PENDING,
        "can_return": working and task.state in (AssignmentState.PENDING, AssignmentState.SIGNED),
        "can_report": working and is_signed,
        "can_extend": working and task.state in (AssignmentState.PENDING, AssignmentState.SIGNED),
        "can_suspend": case.state == State.IN_PROGRESS and is_signed and task.is_lead,
        "return_reasons": RETURN_REASONS, "units": TimeUnit.choices,
        "errors": {}, "form": "", "values": {},
    }


def _refused(request, task, form: str, exc) -> object:
    context = _detail_context(request, task)
    context.update(errors=errors_of(exc), form=form, values=request.POST)
    return render(request, "web/dept/task.html", context, status=422)


@require_GET
@room
def task_detail(request, pk):
    task = selectors.task_for(request.user, pk)
    return render(request, "web/dept/task.html", _detail_context(request, task))


def _step(form: str, done_message):
    """A POST on one task: run ``work(request, task)``; on success back to the task with a
    message, on refusal the same page with the errors next to the fields."""

    def decorator(work):
        @room
        def view(request, pk):
            task = selectors.task_for(request.user, pk)
            try:
                work(request, task)
            except REFUSED as exc:
                return _refused(request, task, form, exc)
            messages.success(request, done_message)
            return redirect("web:dept:task", pk=task.pk)

        view.__name__ = work.__name__
        return require_POST(view)

    return decorator


@_step("sign", _("Signed for. The handling deadline is running."))
def sign(request, task):
    actions.sign_for(task, request.user)


@_step("return", _("Task returned to the command centre."))
def return_task(request, task):
    from django.core.exceptions import ValidationError

    code = request.POST.get("reason_code", "")
    labels = dict(RETURN_REASONS)
    text = request.POST.get("reason_text", "").strip()
    if code not in labels:
        raise ValidationError({"reason_code": ValidationError(_("Choose a reason."), code="required")})
    if code == "other" and not text:
        raise ValidationError({"reason_text": ValidationError(_("Say why."), code="required")})
    reason = f"{labels[code]}：{text}" if text else str(labels[code])
    actions.return_assignment(task, reason, request.user)


@_step("result", _("Result reported."))
def report(request, task):
    actions.report_result_with_photos(task, request.POST.get("text", ""), request.user,
                                      photos=request.FILES.getlist("photos"))


@_step("extension", _("Extension requested; the command centre decides."))
def extension(request, task):
    actions.request_extension(task, request.POST.get("amount", ""), request.POST.get("unit", ""),
                              request.POST.get("reason", ""), request.user)


@_step("suspension", _("Suspension requested; the command centre decides."))
def suspension(request, task):
    actions.request_suspension(task, request.POST.get("reason", ""), request.user)
