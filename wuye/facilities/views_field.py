"""Field staff's rounds on the phone (/m/rounds/): today's tasks with their ordered
stops, the check-in (a scanned label or a typed code), the checklist of a visited stop,
the one-tap repair of an abnormal answer, and finishing a task. Only the worker's own
tasks and visits are reachable (404 otherwise); the services decide and write, and
their refusals come back as form errors or messages, never a 500."""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, OuterRef, Q, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.console import add_service_errors
from wuye.core.photos import stored_photos
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.facilities import rounds
from wuye.facilities.forms_field import ChecklistForm, RepairForm, ScanForm
from wuye.facilities.models import Answer, Asset, PlanStop, Task, Visit
from wuye.workorders import selectors
from wuye.workorders.models import WorkOrder

TASKS_SHOWN = 30


def _require_work(request) -> None:
    require(request.actor, rounds.WORK)


def _my_tasks(actor):
    return Task.objects.visible_to(actor).filter(assignee_id=actor.staff.pk)


def _my_visits(actor):
    return Visit.objects.filter(task__in=_my_tasks(actor))


def todays_tasks(actor):
    """Today's tasks and the ones still open from before (a night round, a late one)."""
    today = timezone.localdate()
    return (
        _my_tasks(actor)
        .filter(Q(date=today) | Q(date__lt=today, status__in=rounds.OPEN))
        .select_related("plan", "community")
        .annotate(done=Case(When(status__in=rounds.OPEN, then=False), default=True))
        .order_by("done", "opens_at", "id")  # what is still to do comes first
    )


def with_stops(tasks: list) -> list:
    """Give each task its ordered stops with their visits (``stop_rows``) and counts:
    two queries for the whole page."""
    stops = defaultdict(list)
    for stop in (
        PlanStop.objects.filter(plan_id__in={t.plan_id for t in tasks})
        .select_related("asset", "checkpoint")
        .order_by("plan_id", "position", "id")
    ):
        stops[stop.plan_id].append(stop)
    answered = Answer.objects.filter(visit=OuterRef("pk"))
    visits = {
        (v.task_id, v.stop_id): v
        for v in Visit.objects.filter(task__in=[t.pk for t in tasks]).annotate(
            answered=Exists(answered)
        )
    }
    for task in tasks:
        task.stop_rows = [(stop, visits.get((task.pk, stop.pk))) for stop in stops[task.plan_id]]
        task.visited = sum(1 for _stop, visit in task.stop_rows if visit)
        task.is_open = task.status in rounds.OPEN
    return tasks


def _render_today(request, scan_form, status=200):
    tasks = list(todays_tasks(request.actor)[:TASKS_SHOWN])
    return render(
        request,
        "facilities/field/today.html",
        {"tasks": with_stops(tasks), "scan_form": scan_form, "today": timezone.localdate()},
        status=status,
    )


@login_required
def today(request):
    _require_work(request)
    return _render_today(request, ScanForm())


def _token_for(actor, code: str) -> str:
    """A typed asset code stands for its label (codes are unique in a company);
    anything else is taken as the token printed under the QR image."""
    code = code.strip()
    token = (
        Asset.objects.visible_to(actor)
        .filter(code__iexact=code)
        .values_list("qr_token", flat=True)
        .first()
    )
    return token or code


@login_required
@require_POST
def scan(request):
    """Check in: from the QR landing page's button or the typed code on the today page."""
    _require_work(request)
    actor = request.actor
    form = ScanForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit = rounds.scan(
                actor=actor,
                token=_token_for(actor, data["code"]),
                latitude=data["latitude"],
                longitude=data["longitude"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Checked in at %(place)s.") % {"place": visit.stop})
            return redirect("rounds_field:visit", pk=visit.pk)
    return _render_today(request, form, status=400)


def _visit(request, pk) -> Visit:
    _require_work(request)
    visit = (
        _my_visits(request.actor)
        .select_related("task__plan__template", "task__company", "stop__asset", "stop__checkpoint")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    return visit


@login_required
def visit(request, pk):
    """The checklist of a visited stop; once answered, what was recorded."""
    visit = _visit(request, pk)
    answers = list(visit.answers.select_related("item", "work_order").prefetch_related("photos"))
    if answers:
        return _render_answers(request, visit, answers)
    items = visit.task.plan.template.items.order_by("position", "id")
    if request.method == "POST":
        form = ChecklistForm(request.POST, request.FILES, items=items)
        if form.is_valid() and _record(request, visit, form):
            return redirect("rounds_field:visit", pk=visit.pk)
        status = 400
    else:
        form = ChecklistForm(items=items)
        status = 200
    return render(
        request,
        "facilities/field/checklist.html",
        {"visit": visit, "task": visit.task, "form": form},
        status=status,
    )


def _record(request, visit, form) -> bool:
    """Store the photos and the answers together: a refusal keeps neither."""
    images = form.images()
    try:
        with stored_photos(
            actor=request.actor,
            images=[image for _item, image in images],
            company=visit.task.company,
        ) as photos:
            by_item = defaultdict(list)
            for (item_id, _image), photo in zip(images, photos, strict=True):
                by_item[item_id].append(photo)
            saved = rounds.record_answers(
                actor=request.actor, visit=visit, answers=form.answers(), photos=by_item
            )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    opened = [a.work_order.number for a in saved if a.work_order_id]
    abnormal = sum(1 for a in saved if a.is_abnormal)
    if opened:
        messages.warning(
            request,
            _("Recorded. Work order %(numbers)s was opened for the abnormal readings.")
            % {"numbers": "、".join(opened)},
        )
    elif abnormal:
        messages.warning(request, _("Recorded with abnormal answers: report a repair if needed."))
    else:
        messages.success(request, _("Recorded: all normal."))
    return True


def _render_answers(request, visit, answers):
    actor = request.actor
    order_ids = [a.work_order_id for a in answers if a.work_order_id]
    reachable = set(
        selectors.field_work(actor, WorkOrder.objects.visible_to(actor))
        .filter(pk__in=order_ids)
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "answer": a,
            "shown": rounds.shown_value(a.item, a.value),
            "order_link": a.work_order_id in reachable,
            "repair_form": RepairForm(company_id=visit.task.company_id, auto_id=f"repair{a.pk}_%s")
            if a.is_abnormal and not a.work_order_id
            else None,
        }
        for a in answers
    ]
    return render(
        request,
        "facilities/field/answers.html",
        {"visit": visit, "task": visit.task, "rows": rows},
    )


@login_required
@require_POST
def report_answer(request, pk):
    """One tap: file a repair order for an abnormal answer that opened none."""
    _require_work(request)
    actor = request.actor
    answer = (
        Answer.objects.filter(visit__in=_my_visits(actor))
        .select_related("visit__task")
        .filter(pk=pk)
        .first()
    )
    if answer is None:
        raise Http404
    form = RepairForm(request.POST, company_id=answer.visit.task.company_id)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["category"]))
    else:
        try:
            order = rounds.report_from_answer(
                actor=actor, answer=answer, category=form.cleaned_data["category"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Work order %(number)s was opened; the desk will dispatch it.")
                % {"number": order.number},
            )
    return redirect("rounds_field:visit", pk=answer.visit_id)


@login_required
@require_POST
def finish(request, pk):
    _require_work(request)
    actor = request.actor
    task = get_visible_or_404(Task.objects.filter(assignee_id=actor.staff.pk), actor, pk=pk)
    try:
        task = rounds.finish(actor=actor, task=task)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if task.status == Task.Status.AWAITING_ACCEPTANCE:
            messages.success(
                request, _("Round finished; it waits for the supervisor's acceptance.")
            )
        else:
            messages.success(request, _("Round finished."))
    return redirect("rounds_field:today")
