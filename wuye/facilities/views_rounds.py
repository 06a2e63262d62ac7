"""Office console of routine rounds: checklists and their items, checkpoints with their
QR labels, plans (recurrence, ordered stops, a preview of the next dates and who can do
them) and the task board with each task's visits, answers, photos and work orders.

Views are thin: filters and inputs are forms (``forms_rounds``), reads go through
``visible_to(actor)``, every change is one call to ``wuye.facilities.checklists`` or
``wuye.facilities.plans`` (acceptance: ``wuye.facilities.rounds``); a service's
ValidationError is shown on the form it came from and nothing is written.
"""

import copy
import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import KeysetPage, add_service_errors, console_view, keyset_page
from wuye.core.scoping import get_visible_or_404
from wuye.facilities import checklists, labels, plans, rounds
from wuye.facilities.forms_ledger import layout_choices
from wuye.facilities.forms_rounds import (
    CheckpointFilterForm,
    CheckpointForm,
    ItemForm,
    PlanFilterForm,
    PlanForm,
    StopsForm,
    TaskFilterForm,
    TemplateFilterForm,
    TemplateForm,
    plan_form_initial,
)
from wuye.facilities.models import (
    Answer,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    Plan,
    PlanStop,
    Task,
    Visit,
)
from wuye.staff.models import StaffMember

VIEW = "facilities.view"
MANAGE = "facilities.manage"
BOARD_PAGE_SIZE = 50
RECENT_TASKS = 10
TASK_BADGE = {
    Task.Status.PENDING: "",
    Task.Status.IN_PROGRESS: "warning",
    Task.Status.AWAITING_ACCEPTANCE: "warning",
    Task.Status.DONE: "success",
    Task.Status.MISSED: "danger",
}
TIMING_BADGE = {Visit.Timing.EARLY: "warning", Visit.Timing.ON_TIME: "success", "late": "danger"}
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


def _crumbs(section: str, url_name: str, *items):
    return [
        (_("Routine rounds"), reverse("rounds:task_board")),
        (section, reverse(url_name)),
        *items,
    ]


def _form_page(request, form, heading, breadcrumbs, *, cascade=False):
    return render(
        request,
        "facilities/rounds/form.html",
        {"form": form, "heading": heading, "breadcrumbs": breadcrumbs, "cascade": cascade},
    )


def _can_manage_community(actor, community_id) -> bool:
    return actor.has_perm(MANAGE) and community_id in actor.community_ids


# --- checklist templates ------------------------------------------------------------------
def _templates_crumbs(*items):
    return _crumbs(_("Checklists"), "rounds:template_list", *items)


@require_GET
@console_view(VIEW)
def template_list(request):
    form = TemplateFilterForm(request.GET)
    page = None
    if form.is_valid():
        templates = form.filter(ChecklistTemplate.objects.visible_to(request.actor))
        templates = templates.select_related("asset_category").annotate(
            item_count=Count("items", distinct=True),
            plan_count=Count("plans", distinct=True),
        )
        page = keyset_page(templates, after=form.cleaned_data.get("after"), query=request.GET)
    return render(
        request,
        "facilities/rounds/template_list.html",
        {"form": form, "page": page, "can_manage": request.actor.has_perm(MANAGE)},
    )


@console_view(MANAGE)
def template_create(request):
    actor = request.actor
    form = TemplateForm(request.POST if request.method == "POST" else None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            template = checklists.create_template(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Checklist %s created; now add its items.") % template)
            return redirect("rounds:template_detail", pk=template.pk)
    heading = _("New checklist")
    return _form_page(request, form, heading, _templates_crumbs((heading, None)))


def _template(actor, pk):
    return get_visible_or_404(
        ChecklistTemplate.objects.select_related("asset_category"), actor, pk=pk
    )


@require_GET
@console_view(VIEW)
def template_detail(request, pk):
    template = _template(request.actor, pk)
    items = template.items.select_related("order_category__parent")
    return render(
        request,
        "facilities/rounds/template_detail.html",
        {
            "template": template,
            "items": items,
            "plans": Plan.objects.visible_to(request.actor).filter(template=template)[
                :RECENT_TASKS
            ],
            "can_manage": request.actor.has_perm(MANAGE),
            "breadcrumbs": _templates_crumbs((template.name, None)),
        },
    )


@console_view(MANAGE)
def template_edit(request, pk):
    actor = request.actor
    template = _template(actor, pk)
    form = TemplateForm(
        request.POST if request.method == "POST" else None,
        instance=copy.copy(template),
        actor=actor,
    )
    if request.method == "POST" and form.is_valid():
        try:
            checklists.update_template(actor=actor, template=template, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Checklist %s saved.") % template.name)
            return redirect("rounds:template_detail", pk=template.pk)
    crumbs = _templates_crumbs(
        (template.name, reverse("rounds:template_detail", args=[template.pk])), (_("Edit"), None)
    )
    return _form_page(request, form, _("Edit checklist %s") % template.name, crumbs)


# --- checklist items ------------------------------------------------------------------
def _item_form(request, *, actor, instance):
    if request.method == "POST":
        return ItemForm(request.POST, instance=instance, actor=actor)
    if request.GET:  # the form re-renders when the type changes
        return ItemForm(initial=request.GET.dict(), instance=instance, actor=actor)
    return ItemForm(instance=instance, actor=actor)


@console_view(MANAGE)
def item_create(request, pk):
    actor = request.actor
    template = _template(actor, pk)
    form = _item_form(request, actor=actor, instance=ChecklistItem(template=template))
    if request.method == "POST" and form.is_valid():
        try:
            item = checklists.add_item(actor=actor, template=template, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Item “%s” added.") % item.label)
            return redirect("rounds:template_detail", pk=template.pk)
    crumbs = _templates_crumbs(
        (template.name, reverse("rounds:template_detail", args=[template.pk])),
        (_("New item"), None),
    )
    return _form_page(request, form, _("New item of %s") % template.name, crumbs, cascade=True)


def _item(actor, pk) -> ChecklistItem:
    template_ids = ChecklistTemplate.objects.visible_to(actor).values("id")
    item = ChecklistItem.objects.filter(pk=pk, template_id__in=template_ids).first()
    if item is None:  # the same 404 for missing and another company's item
        raise Http404
    return item


@console_view(MANAGE)
def item_edit(request, pk):
    actor = request.actor
    item = _item(actor, pk)
    template = item.template
    form = _item_form(request, actor=actor, instance=copy.copy(item))
    if request.method == "POST" and form.is_valid():
        try:
            checklists.update_item(actor=actor, item=item, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Item “%s” saved.") % form.cleaned_data["label"])
            return redirect("rounds:template_detail", pk=template.pk)
    crumbs = _templates_crumbs(
        (template.name, reverse("rounds:template_detail", args=[template.pk])),
        (item.label, None),
    )
    return _form_page(request, form, _("Edit item “%s”") % item.label, crumbs, cascade=True)


@require_POST
@console_view(MANAGE)
def item_remove(request, pk):
    item = _item(request.actor, pk)
    try:
        checklists.remove_item(actor=request.actor, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Item “%s” removed.") % item.label)
    return redirect("rounds:template_detail", pk=item.template_id)


@require_POST
@console_view(MANAGE)
def item_move(request, pk, direction):
    if direction not in ("up", "down"):
        raise Http404
    item = _item(request.actor, pk)
    checklists.move_item(actor=request.actor, item=item, step=-1 if direction == "up" else 1)
    return redirect(reverse("rounds:template_detail", args=[item.template_id]) + "#items")


# --- checkpoints ------------------------------------------------------------------
def _checkpoint_crumbs(*items):
    return _crumbs(_("Checkpoints"), "rounds:checkpoint_list", *items)


def _list_query(request) -> str:
    query = request.GET.copy()
    for key in ("after", "ids", "all", "layout"):
        query.pop(key, None)
    return query.urlencode()


@require_GET
@console_view(VIEW)
def checkpoint_list(request):
    actor = request.actor
    form = CheckpointFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        checkpoints = form.filter(Checkpoint.objects.visible_to(actor))
        checkpoints = checkpoints.select_related("community", "common_area")
        page = keyset_page(checkpoints, after=form.cleaned_data.get("after"), query=request.GET)
    return render(
        request,
        "facilities/rounds/checkpoint_list.html",
        {
            "form": form,
            "page": page,
            "can_manage": actor.has_perm(MANAGE),
            "layouts": layout_choices(),
            "label_cap": labels.LABEL_CAP,
            "hidden_filters": [
                (k, v) for k, v in request.GET.items() if k in ("q", "community") and v
            ],
        },
    )


@console_view(MANAGE)
def checkpoint_create(request):
    actor = request.actor
    if request.method == "POST":
        form = CheckpointForm(request.POST, actor=actor)
    else:  # GET parameters preselect the community (and re-render when it changes)
        form = CheckpointForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            checkpoint = checklists.create_checkpoint(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Checkpoint %s created.") % checkpoint.name)
            return redirect(
                reverse("rounds:checkpoint_list") + f"?community={checkpoint.community_id}"
            )
    heading = _("New checkpoint")
    return _form_page(request, form, heading, _checkpoint_crumbs((heading, None)), cascade=True)


@console_view(MANAGE)
def checkpoint_edit(request, pk):
    actor = request.actor
    checkpoint = get_visible_or_404(Checkpoint.objects, actor, pk=pk)
    if checkpoint.community_id not in actor.community_ids:
        raise PermissionDenied
    form = CheckpointForm(
        request.POST if request.method == "POST" else None,
        instance=copy.copy(checkpoint),
        actor=actor,
    )
    if request.method == "POST" and form.is_valid():
        try:
            checklists.update_checkpoint(actor=actor, checkpoint=checkpoint, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Checkpoint %s saved.") % form.cleaned_data["name"])
            return redirect(
                reverse("rounds:checkpoint_list") + f"?community={checkpoint.community_id}"
            )
    crumbs = _checkpoint_crumbs((checkpoint.name, None))
    return _form_page(request, form, _("Edit checkpoint %s") % checkpoint.name, crumbs)


@require_GET
@console_view(VIEW)
def checkpoint_labels(request):
    """QR labels of the ticked checkpoints, or of all that match the list's filters."""
    actor = request.actor
    return labels.label_sheet(
        request,
        places=Checkpoint.objects.visible_to(actor).select_related("community", "common_area"),
        filters=CheckpointFilterForm(request.GET, actor=actor),
        back=f"{reverse('rounds:checkpoint_list')}?{_list_query(request)}",
        order_by=("community_id", "name"),
        name="checkpoint-labels",
    )


# --- plans ------------------------------------------------------------------
def _plan_crumbs(*items):
    return _crumbs(_("Plans"), "rounds:plan_list", *items)


def _plans():
    return Plan.objects.select_related("community", "template", "assignee", "trade")


def _describe_days(plans_):
    """``days_display``: weekdays by name (Mon, Wed), days of the month by number."""
    for plan in plans_:
        if plan.recurrence == Plan.Recurrence.WEEKLY:
            plan.days_display = ", ".join(str(WEEKDAYS_ABBR[d - 1]) for d in plan.days)
        else:
            plan.days_display = ", ".join(str(d) for d in plan.days)
    return plans_


@require_GET
@console_view(VIEW)
def plan_list(request):
    actor = request.actor
    form = PlanFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        found = form.filter(_plans().visible_to(actor)).annotate(stop_count=Count("stops"))
        page = keyset_page(found, after=form.cleaned_data.get("after"), query=request.GET)
        _describe_days(page.items)
    return render(
        request,
        "facilities/rounds/plan_list.html",
        {"form": form, "page": page, "can_manage": actor.has_perm(MANAGE)},
    )


def _plan_form(request, *, actor, instance):
    if request.method == "POST":
        return PlanForm(request.POST, instance=instance, actor=actor)
    if request.GET:  # the form re-renders when the community or recurrence changes
        return PlanForm(initial=plan_form_initial(request.GET), instance=instance, actor=actor)
    return PlanForm(instance=instance, actor=actor)


@console_view(MANAGE)
def plan_create(request):
    actor = request.actor
    form = _plan_form(request, actor=actor, instance=Plan(starts_on=timezone.localdate()))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            plan = plans.create_plan(
                actor=actor,
                community=data.pop("community"),
                template=data.pop("template"),
                name=data.pop("name"),
                **data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan %s created; now give it its stops.") % plan.name)
            return redirect("rounds:plan_stops", pk=plan.pk)
    heading = _("New plan")
    return _form_page(request, form, heading, _plan_crumbs((heading, None)), cascade=True)


def _managed_plan(actor, pk) -> Plan:
    plan = get_visible_or_404(_plans(), actor, pk=pk)
    if plan.community_id not in actor.community_ids:
        raise PermissionDenied
    return plan


@console_view(MANAGE)
def plan_edit(request, pk):
    actor = request.actor
    plan = _managed_plan(actor, pk)
    form = _plan_form(request, actor=actor, instance=copy.copy(plan))
    if request.method == "POST" and form.is_valid():
        try:
            plans.update_plan(actor=actor, plan=plan, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Plan %s saved.") % form.cleaned_data["name"])
            return redirect("rounds:plan_detail", pk=plan.pk)
    crumbs = _plan_crumbs(
        (plan.name, reverse("rounds:plan_detail", args=[plan.pk])), (_("Edit"), None)
    )
    return _form_page(request, form, _("Edit plan %s") % plan.name, crumbs, cascade=True)


def _stops(plan):
    return list(plan.stops.select_related("asset", "checkpoint"))


@require_GET
@console_view(VIEW)
def plan_detail(request, pk):
    actor = request.actor
    plan = get_visible_or_404(_plans(), actor, pk=pk)
    _describe_days([plan])
    today = timezone.localdate()
    return render(
        request,
        "facilities/rounds/plan_detail.html",
        {
            "plan": plan,
            "stops": _stops(plan),
            "upcoming": plans.next_dates(plan, start=today) if plan.is_active else [],
            "staffing": plans.staffing(plan, start=today) if plan.is_active else None,
            "roster_days": plans.ROSTER_DAYS,
            "tasks": _decorate_tasks(
                list(_tasks().filter(plan=plan).order_by("-date", "-id")[:RECENT_TASKS])
            ),
            "can_manage": _can_manage_community(actor, plan.community_id),
            "breadcrumbs": _plan_crumbs((plan.name, None)),
        },
    )


@console_view(MANAGE)
def plan_stops(request, pk):
    actor = request.actor
    plan = _managed_plan(actor, pk)
    stops = _stops(plan)
    form = StopsForm(request.POST if request.method == "POST" else None, plan=plan, stops=stops)
    if request.method == "POST" and form.is_valid():
        try:
            plans.set_stops(actor=actor, plan=plan, targets=form.ordered_targets())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Stops of %s saved.") % plan.name)
            if request.POST.get("done"):
                return redirect("rounds:plan_detail", pk=plan.pk)
            return redirect("rounds:plan_stops", pk=plan.pk)
    return render(
        request,
        "facilities/rounds/plan_stops.html",
        {
            "plan": plan,
            "form": form,
            "breadcrumbs": _plan_crumbs(
                (plan.name, reverse("rounds:plan_detail", args=[plan.pk])), (_("Stops"), None)
            ),
        },
    )


@require_POST
@console_view(MANAGE)
def plan_toggle(request, pk):
    actor = request.actor
    plan = _managed_plan(actor, pk)
    plan = plans.set_plan_active(actor=actor, plan=plan, active=not plan.is_active)
    messages.success(
        request,
        (_("Plan %s activated.") if plan.is_active else _("Plan %s deactivated.")) % plan.name,
    )
    return redirect("rounds:plan_detail", pk=plan.pk)


# --- the task board ------------------------------------------------------------------
def _tasks():
    return Task.objects.select_related("plan", "community", "assignee")


def _decorate_tasks(tasks):
    """Badges, check-in counts (late ones too) and stop counts for a page of tasks:
    two grouped queries, whatever the page size."""
    ids = [t.pk for t in tasks]
    visits = {
        row["task"]: row
        for row in Visit.objects.filter(task__in=ids)
        .values("task")
        .annotate(total=Count("id"), late=Count("id", filter=Q(timing=Visit.Timing.LATE)))
    }
    stops = dict(
        PlanStop.objects.filter(plan__in={t.plan_id for t in tasks})
        .values("plan")
        .annotate(n=Count("id"))
        .values_list("plan", "n")
    )
    for task in tasks:
        row = visits.get(task.pk, {})
        task.visit_count, task.late_count = row.get("total", 0), row.get("late", 0)
        task.stop_count = stops.get(task.plan_id, 0)
        task.status_badge = TASK_BADGE.get(task.status, "")
    return tasks


def _micros(moment: datetime.datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _board_page(queryset, *, after: str, query) -> KeysetPage:
    """Keyset pages in window order: the cursor is ``<opens_at in µs>-<id>`` of the last
    row, so a page costs the same anywhere in the (date-bounded) list."""
    queryset = queryset.order_by("opens_at", "id")
    if after:
        micros, last_id = (int(part) for part in after.split("-"))
        opens = EPOCH + micros * MICROSECOND
        queryset = queryset.filter(Q(opens_at__gt=opens) | Q(opens_at=opens, id__gt=last_id))
    rows = list(queryset[: BOARD_PAGE_SIZE + 1])
    next_after = None
    if len(rows) > BOARD_PAGE_SIZE:
        last = rows[BOARD_PAGE_SIZE - 1]
        next_after = f"{_micros(last.opens_at)}-{last.pk}"
    return KeysetPage(
        items=rows[:BOARD_PAGE_SIZE], after=after or None, next_after=next_after, query=query
    )


def _query_with(query, **changes) -> str:
    """The board's query with some filters changed (``None`` drops one), from page 1."""
    query = query.copy()
    query.pop("after", None)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def _status_counts(query, queryset) -> list:
    """(status, label, count, query) of the filtered tasks, one grouped query."""
    counts = dict(
        queryset.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return [
        (value, label, counts.get(value, 0), _query_with(query, status=value))
        for value, label in Task.Status.choices
    ]


@require_GET
@console_view(VIEW)
def task_board(request):
    actor = request.actor
    query = request.GET.copy()  # the dates shown are the dates used: today by default
    if not query.get("date_from") and not query.get("date_to"):
        query["date_from"] = query["date_to"] = timezone.localdate().isoformat()
    form = TaskFilterForm(query, actor=actor)
    page = counts = plan = person = None
    if form.is_valid():
        visible = _tasks().visible_to(actor)
        page = _board_page(form.filter(visible), after=form.cleaned_data["after"], query=query)
        _decorate_tasks(page.items)
        for task in page.items:
            task.plan_query = _query_with(query, plan=str(task.plan_id))
            task.person_query = _query_with(query, assignee=str(task.assignee_id))
            task.can_accept = task.status == Task.Status.AWAITING_ACCEPTANCE and (
                _can_manage_community(actor, task.community_id)
            )
        counts = _status_counts(query, form.filter(visible, with_status=False))
        if form.cleaned_data["plan"]:
            plan = Plan.objects.visible_to(actor).filter(pk=form.cleaned_data["plan"]).first()
        if form.cleaned_data["assignee"]:
            person = StaffMember.objects.filter(
                pk=form.cleaned_data["assignee"], company_id=actor.staff.company_id
            ).first()
    return render(
        request,
        "facilities/rounds/task_board.html",
        {
            "form": form,
            "page": page,
            "counts": counts,
            "all_statuses": _query_with(query, status=None),
            "plan": plan,
            "person": person,
            "without_plan": _query_with(query, plan=None),
            "without_person": _query_with(query, assignee=None),
            "can_manage": actor.has_perm(MANAGE),
            "here": request.get_full_path(),
        },
    )


def _answers():
    return Answer.objects.select_related("item", "work_order").prefetch_related("photos")


@require_GET
@console_view(VIEW)
def task_detail(request, pk):
    actor = request.actor
    task = get_visible_or_404(_tasks().select_related("plan__template"), actor, pk=pk)
    _decorate_tasks([task])
    visits = {
        visit.stop_id: visit
        for visit in task.visits.prefetch_related(Prefetch("answers", queryset=_answers()))
    }
    stops = [(stop, visits.get(stop.pk)) for stop in _stops(task.plan)]
    return render(
        request,
        "facilities/rounds/task_detail.html",
        {
            "task": task,
            "stops": stops,
            "timing_badge": TIMING_BADGE,
            "can_accept": task.status == Task.Status.AWAITING_ACCEPTANCE
            and _can_manage_community(actor, task.community_id),
            "can_see_orders": actor.has_perm("workorders.view"),
            "breadcrumbs": [
                (_("Routine rounds"), reverse("rounds:task_board")),
                (task.plan.name, reverse("rounds:plan_detail", args=[task.plan_id])),
                (task.date.isoformat(), None),
            ],
        },
    )


@require_POST
@console_view(MANAGE)
def task_accept(request, pk):
    """The supervisor accepts finished maintenance; back to where the button was."""
    actor = request.actor
    task = get_visible_or_404(Task.objects, actor, pk=pk)
    try:
        rounds.accept(actor=actor, task=task)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Task accepted."))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("rounds:task_detail", pk=task.pk)
