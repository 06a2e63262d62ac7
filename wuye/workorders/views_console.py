"""Office console for service requests: the dispatch board, one order with the
actions this actor may take on it, phone/front-desk intake, return visits (回访) and
the Excel export of the service record.

Views are thin: filters and inputs are forms, reads go through
``wuye.workorders.selectors``, every change is one call to ``wuye.workorders.services``.
A service's ValidationError (a forbidden transition, a lost race, a missing reason)
is shown next to the form it came from; nothing is changed in that case.
"""

import dataclasses
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import KeysetPage, add_service_errors, after_param, console_view, keyset_page
from wuye.core.masking import mask_mobile
from wuye.core.photos import stored_photos
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.estates.models import House
from wuye.people.selectors import search_residents
from wuye.workorders import exports, selectors, services, sla
from wuye.workorders.forms import (
    DispatchForm,
    EmptyForm,
    IntakeForm,
    MobileLookupForm,
    OrderFilterForm,
    ReasonForm,
    RejectForm,
    ReplyForm,
    ResolveForm,
    ReturnVisitForm,
    RootCauseForm,
    TransferForm,
)
from wuye.workorders.models import Complaint, Feedback, RequestType, Status, Urgency, WorkOrder

BOARD_PAGE_SIZE = 50
LOOKUP_LIMIT = 10

URGENCY_BADGE = {Urgency.NORMAL: "muted", Urgency.URGENT: "warning", Urgency.EMERGENCY: "danger"}
STATUS_BADGE = {
    Status.SUBMITTED: "warning",
    Status.ACCEPTED: "",
    Status.DISPATCHED: "",
    Status.TAKEN: "success",
    Status.IN_PROGRESS: "success",
    Status.PAUSED: "muted",
    Status.COMPLETED: "success",
    Status.RATED: "success",
    Status.CLOSED: "muted",
    Status.CANCELLED: "muted",
    Status.REJECTED: "muted",
}


# --- the actions the console offers ---------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Action:
    name: str
    label: str
    form: type
    run: object  # (actor, order, cleaned_data) -> WorkOrder
    done: str  # success message
    danger: bool = False


ACTIONS = {
    a.name: a
    for a in (
        Action(
            "accept",
            gettext_lazy("Accept"),
            EmptyForm,
            lambda actor, order, d: services.accept_order(actor=actor, order=order),
            gettext_lazy("Order %(number)s accepted."),
        ),
        Action(
            "dispatch",
            gettext_lazy("Dispatch"),
            DispatchForm,
            lambda actor, order, d: services.dispatch_order(
                actor=actor, order=order, assignee=d["assignee"], note=d["note"]
            ),
            gettext_lazy("Order %(number)s dispatched."),
        ),
        Action(
            "transfer",
            gettext_lazy("Transfer"),
            TransferForm,
            lambda actor, order, d: services.transfer_order(
                actor=actor, order=order, assignee=d["assignee"], reason=d["reason"]
            ),
            gettext_lazy("Order %(number)s transferred."),
        ),
        Action(
            "return",
            gettext_lazy("Return to dispatch"),
            ReasonForm,
            lambda actor, order, d: services.return_order(
                actor=actor, order=order, reason=d["reason"]
            ),
            gettext_lazy("Order %(number)s returned to dispatch."),
        ),
        Action(
            "pause",
            gettext_lazy("Pause"),
            ReasonForm,
            lambda actor, order, d: services.pause_order(
                actor=actor, order=order, reason=d["reason"]
            ),
            gettext_lazy("Order %(number)s paused."),
        ),
        Action(
            "resume",
            gettext_lazy("Resume"),
            EmptyForm,
            lambda actor, order, d: services.resume_order(actor=actor, order=order),
            gettext_lazy("Order %(number)s resumed."),
        ),
        Action(
            "resolve",
            gettext_lazy("Resolve at the desk"),
            ResolveForm,
            lambda actor, order, d: services.resolve_order(
                actor=actor,
                order=order,
                resolution=d["resolution"],
                root_cause=d.get("root_cause", ""),
                root_cause_note=d.get("root_cause_note", ""),
            ),
            gettext_lazy("Order %(number)s resolved."),
        ),
        Action(
            "return_visit",
            gettext_lazy("Return visit"),
            ReturnVisitForm,
            lambda actor, order, d: services.return_visit(
                actor=actor,
                order=order,
                satisfied=d["satisfied"],
                note=d["note"],
                root_cause=d.get("root_cause", ""),
                root_cause_note=d.get("root_cause_note", ""),
            ),
            gettext_lazy("Return visit of order %(number)s recorded."),
        ),
        Action(
            "cause",
            gettext_lazy("Record the root cause"),
            RootCauseForm,
            lambda actor, order, d: (
                services.record_root_cause(
                    actor=actor, order=order, root_cause=d["root_cause"], note=d["root_cause_note"]
                ).order
            ),
            gettext_lazy("Root cause of order %(number)s recorded."),
        ),
        Action(
            "reply",
            gettext_lazy("Reply to the rating"),
            ReplyForm,
            lambda actor, order, d: (
                services.reply_to_feedback(actor=actor, order=order, reply=d["reply"]).order
            ),
            gettext_lazy("Reply on order %(number)s saved."),
        ),
        Action(
            "reopen",
            gettext_lazy("Reopen"),
            ReasonForm,
            lambda actor, order, d: services.reopen_order(
                actor=actor, order=order, reason=d["reason"]
            ),
            gettext_lazy("Order %(number)s reopened."),
        ),
        Action(
            "reject",
            gettext_lazy("Reject or mark as duplicate"),
            RejectForm,
            lambda actor, order, d: services.reject_order(
                actor=actor, order=order, reason=d["reason"], duplicate_of=d["duplicate_of"]
            ),
            gettext_lazy("Order %(number)s rejected."),
            danger=True,
        ),
        Action(
            "cancel",
            gettext_lazy("Cancel"),
            ReasonForm,
            lambda actor, order, d: services.cancel_order(
                actor=actor, order=order, reason=d["reason"]
            ),
            gettext_lazy("Order %(number)s cancelled."),
            danger=True,
        ),
    )
}


def _may(actor, order, action: str) -> bool:
    """Whether the actor's role and scope allow ``action`` on this order at all
    (the status is the service's business: a stale page gets a friendly error)."""
    desk = services.is_desk(actor, order, action)
    assignee = bool(actor.staff) and order.assignee_id == actor.staff.pk
    if action in ("transfer", "return", "resume"):
        return desk or assignee
    if action == "pause":
        return assignee
    return desk


def _record_actions(actor, order, feedback) -> list[str]:
    """The actions on an order's record rather than its status: a complaint's root
    cause (until it closes) and the reply to a rating."""
    names = []
    if (
        order.request_type == RequestType.COMPLAINT
        and order.status not in services.FINAL_STATUSES
        and services.is_desk(actor, order, "cause")
    ):
        names.append("cause")
    if feedback is not None and services.is_desk(actor, order, "reply"):
        names.append("reply")
    return names


def _members(order):
    members, _links = selectors.assignable_staff(
        company_id=order.company_id,
        community_ids=[order.community_id],
        trade_id=order.category.trade_id,
    )
    return members


def _form_for(action: Action, actor, order, data=None, members=None):
    if action.form in (DispatchForm, TransferForm):
        exclude = order.assignee_id if action.form is TransferForm else None
        return action.form(data, members=members or (), exclude_id=exclude, prefix=action.name)
    if action.form is RejectForm:
        return RejectForm(data, actor=actor, order=order, prefix=action.name)
    if action.form in (ResolveForm, ReturnVisitForm):
        return action.form(data, order=order, prefix=action.name)
    if action.form is RootCauseForm and data is None:
        current = Complaint.objects.filter(order_id=order.pk).values(
            "root_cause", "root_cause_note"
        )
        return RootCauseForm(initial=current.first(), prefix=action.name)
    return action.form(data, prefix=action.name)


def _age(order, now) -> str:
    minutes = max(0, int((now - order.submitted_at).total_seconds() // 60))
    if minutes < 60:
        return _("%(n)d min") % {"n": minutes}
    if minutes < 48 * 60:
        return _("%(n)d h") % {"n": minutes // 60}
    return _("%(n)d d") % {"n": minutes // (24 * 60)}


def _decorate(orders, actor, *, members_by_community=None, members=None):
    """Badges, age and the quick actions (accept, dispatch) of board rows."""
    now = timezone.now()
    by_id = {m.id: m for m in members or ()}
    for order in orders:
        order.age = _age(order, now)
        order.urgency_badge = URGENCY_BADGE.get(order.urgency, "")
        order.status_badge = STATUS_BADGE.get(order.status, "")
        actions = selectors.actions_for(actor, order)
        order.can_accept = "accept" in actions
        order.dispatch_form = None
        if "dispatch" in actions and order.assignee_id is None:
            ids = (members_by_community or {}).get(order.community_id, ())
            order.dispatch_form = DispatchForm(
                members=[by_id[i] for i in ids if i in by_id], prefix=f"o{order.pk}"
            )
    return orders


def _board_members(actor, orders):
    community_ids = {o.community_id for o in orders if o.assignee_id is None}
    if not community_ids or not actor.has_perm("workorders.dispatch"):
        return [], {}
    return selectors.assignable_staff(
        company_id=actor.staff.company_id, community_ids=community_ids
    )


def _board_page(queryset, *, after: str, query):
    """Keyset pages in board order: urgency (and priority) first, then oldest first.
    The cursor is ``rank-id`` of the last row, so a page costs the same anywhere."""
    queryset = queryset.annotate(rank=selectors.urgency_rank()).order_by("-rank", "id")
    if after:
        rank, last_id = (int(part) for part in after.split("-"))
        queryset = queryset.filter(Q(rank__lt=rank) | Q(rank=rank, id__gt=last_id))
    rows = list(queryset[: BOARD_PAGE_SIZE + 1])
    next_after = None
    if len(rows) > BOARD_PAGE_SIZE:
        last = rows[BOARD_PAGE_SIZE - 1]
        next_after = f"{last.rank}-{last.id}"
    return KeysetPage(
        items=rows[:BOARD_PAGE_SIZE], after=after or None, next_after=next_after, query=query
    )


# --- board ----------------------------------------------------------------------------
@require_GET
@console_view("workorders.view")
def board(request):
    actor = request.actor
    form = OrderFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        orders = form.filter(selectors.orders().visible_to(actor))
        page = _board_page(orders, after=form.cleaned_data["after"], query=request.GET)
        members, links = _board_members(actor, page.items)
        _decorate(page.items, actor, members_by_community=links, members=members)
    export_query = request.GET.copy()
    export_query.pop("after", None)
    return render(
        request,
        "workorders/console/board.html",
        {
            "form": form,
            "page": page,
            "export_query": export_query.urlencode(),
            "can_intake": actor.has_perm("workorders.create"),
            "can_visit": actor.has_perm("workorders.dispatch"),
        },
    )


# --- one order --------------------------------------------------------------------------
def _load(actor, pk):
    order = get_visible_or_404(WorkOrder.objects, actor, pk=pk)
    return selectors.order_detail(order.pk)


def _detail_context(request, order, *, failed=None):
    actor = request.actor
    try:
        feedback = order.feedback
    except Feedback.DoesNotExist:
        feedback = None
    allowed = [name for name in selectors.actions_for(actor, order) if name in ACTIONS]
    allowed += _record_actions(actor, order, feedback)
    if order.assignee_id and {"dispatch", "transfer"} <= set(allowed):  # re-dispatch = transfer
        allowed.remove("dispatch")
    members = _members(order) if {"dispatch", "transfer"} & set(allowed) else []
    forms = []
    for name in ACTIONS:  # in the order the console lists them
        if name not in allowed:
            continue
        action = ACTIONS[name]
        if failed is not None and failed.prefix == name:
            form = failed
        else:
            form = _form_for(action, actor, order, members=members)
        forms.append((action, form))
    dimensions = []
    if feedback is not None:
        for field in Feedback.DIMENSIONS:
            value = getattr(feedback, field)
            if value is not None:
                dimensions.append((Feedback._meta.get_field(field).verbose_name, value))
    materials = list(order.materials.all())
    return {
        "order": order,
        "urgency_badge": URGENCY_BADGE.get(order.urgency, ""),
        "status_badge": STATUS_BADGE.get(order.status, ""),
        "contact_mobile": order.contact_mobile
        if actor.has_perm("people.view")
        else mask_mobile(order.contact_mobile),
        "events": selectors.events_for(actor, order),
        "materials": materials,
        "materials_amount": sum((m.amount for m in materials), Decimal("0.00")),
        "feedback": feedback,
        "complaint": Complaint.objects.filter(order_id=order.pk)
        .select_related("party_staff")
        .first()
        if order.request_type == RequestType.COMPLAINT
        else None,
        "dimensions": dimensions,
        "recovery_due": sla.recovery_due(order),
        "forms": forms,
        "breadcrumbs": [(_("Service requests"), reverse("orders_console:board"))],
    }


@require_GET
@console_view("workorders.view")
def order_detail(request, pk):
    order = _load(request.actor, pk)
    return render(request, "workorders/console/order_detail.html", _detail_context(request, order))


@require_POST
@console_view("workorders.view")
def order_action(request, pk, action):
    actor = request.actor
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    order = _load(actor, pk)
    if not _may(actor, order, action):
        raise PermissionDenied
    source = request.POST.get("source", "")
    members = _members(order) if spec.form in (DispatchForm, TransferForm) else None
    if source == "board" and action == "dispatch":  # a board row's select has its own prefix
        form = DispatchForm(request.POST, members=members, prefix=f"o{order.pk}")
    elif source == "board" and action == "accept":
        form = EmptyForm(request.POST)
    elif source == "visits" and action == "return_visit":
        form = _visit_form(order, request.POST)
    else:
        form = _form_for(spec, actor, order, data=request.POST, members=members)
    error = None
    if form.is_valid():
        try:
            order = spec.run(actor, order, form.cleaned_data)
        except services.InvalidTransition as exc:
            error = _("This order changed meanwhile: %(reason)s") % {"reason": exc.messages[0]}
        except ValidationError as exc:
            add_service_errors(form, exc)
            error = " ".join(form.non_field_errors()) or None
        else:
            return _after_action(request, order, spec, source)
    if source in ("board", "visits"):
        return _row(request, order.pk, source, error=error or _errors_text(form))
    if error:
        messages.error(request, error)
    order = selectors.order_detail(order.pk)
    context = _detail_context(request, order, failed=form if form.prefix == action else None)
    return render(request, "workorders/console/order_detail.html", context)


def _errors_text(form) -> str:
    """All of a form's errors in one line, for a table row with no room for the form."""
    labels = {name: field.label for name, field in form.fields.items()}
    return " ".join(
        f"{labels[name]}: {' '.join(errors)}" if name in labels else " ".join(errors)
        for name, errors in form.errors.items()
    )


def _after_action(request, order, spec, source):
    done = spec.done % {"number": order.number}
    if source in ("board", "visits"):
        return _row(request, order.pk, source, done=done)
    messages.success(request, done)
    return redirect("orders_console:order_detail", pk=order.pk)


def _row(request, pk, source, *, done=None, error=None):
    """One board or return-visit row, re-read after a quick action."""
    actor = request.actor
    order = selectors.orders().get(pk=pk)
    if source == "board":
        members, links = _board_members(actor, [order])
        _decorate([order], actor, members_by_community=links, members=members)
        template = "workorders/console/board.html#row"
    else:
        _decorate([order], actor)
        order.visit_form = _visit_form(order)
        order.recovery_due = sla.recovery_due(order)
        template = "workorders/console/return_visits.html#row"
    return render(request, template, {"order": order, "done": done, "error": error})


# --- intake ------------------------------------------------------------------------------
def _intake_initial(request) -> dict:
    """Values for an unbound intake form: the GET parameters (an HTMX re-render after
    a select changed) and, given ``house``, that house's picker values."""
    initial = request.GET.dict()
    house_id = initial.pop("house", "")
    if house_id.isdigit():
        house = (
            House.objects.visible_to(request.actor)
            .filter(pk=int(house_id), community_id__in=sorted(request.actor.community_ids))
            .first()
        )
        if house is not None:
            initial.update(
                place=IntakeForm.PLACE_HOUSE,
                community=house.community_id,
                building=house.building_id,
                unit=house.unit_id or "",
                number=house.number,
            )
    return initial


@console_view("workorders.create")
def intake(request):
    actor = request.actor
    require(actor, "workorders.view")
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, actor=actor)
    else:
        form = IntakeForm(initial=_intake_initial(request), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            with stored_photos(
                actor=actor, images=form.cleaned_data["photos"], company=actor.staff.company
            ) as photos:
                order = services.submit_order(actor=actor, photos=photos, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Order %(number)s recorded (%(status)s).")
                % {"number": order.number, "status": order.get_status_display()},
            )
            return redirect("orders_console:order_detail", pk=order.pk)
    return render(
        request,
        "workorders/console/intake.html",
        {
            "form": form,
            "can_lookup": actor.has_perm("people.view"),
            "breadcrumbs": [(_("Service requests"), reverse("orders_console:board"))],
        },
    )


@require_GET
@console_view("workorders.create")
def intake_lookup(request):
    """The houses (in the actor's communities) of residents with exactly this mobile."""
    actor = request.actor
    require(actor, "workorders.view")
    require(actor, "people.view")
    form = MobileLookupForm(request.GET)
    results = []
    if form.is_valid():
        mobile = form.cleaned_data["mobile"]
        residents = search_residents(actor, q=mobile).filter(mobile=mobile)[:LOOKUP_LIMIT]
        for resident in residents:
            for tie in resident.current_residencies:
                if tie.house.community_id in actor.community_ids:
                    results.append((resident, tie))
    return render(
        request,
        "workorders/console/intake.html#lookup",
        {"lookup": form, "results": results, "searched": form.is_bound},
    )


# --- return visits -------------------------------------------------------------------------
def _visit_form(order, data=None):
    """A return-visit form for one row of the list (ids unique per row)."""
    form = ReturnVisitForm(data, order=order, prefix=f"v{order.pk}")
    form.fields["note"].widget.attrs["placeholder"] = form.fields["note"].label
    return form


@require_GET
@console_view("workorders.dispatch")
def return_visits(request):
    actor = request.actor
    orders = selectors.awaiting_return_visit(selectors.orders().visible_to(actor)).filter(
        community_id__in=sorted(actor.community_ids)
    )
    if not actor.has_perm("workorders.complaints"):  # their outcome is 客服主管's
        orders = orders.exclude(request_type=RequestType.COMPLAINT)
    page = keyset_page(
        orders.select_related("feedback"),
        after=after_param(request),
        query=request.GET,
    )
    _decorate(page.items, actor)
    for order in page.items:
        order.visit_form = _visit_form(order)
        order.recovery_due = sla.recovery_due(order)
    return render(request, "workorders/console/return_visits.html", {"page": page})


# --- export ------------------------------------------------------------------------------
@require_GET
@console_view("workorders.view")
def export(request):
    form = OrderFilterForm(request.GET, actor=request.actor, record=True)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}"
            for f, e in form.errors.items()
        )
        return HttpResponseBadRequest(_("Correct the filters: %s") % problems)
    orders = form.filter(WorkOrder.objects.visible_to(request.actor))
    out = spooled_file()
    exports.export_orders(actor=request.actor, orders=orders, out=out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-service-record-{stamp}.xlsx",
        content_type=XLSX_TYPE,
    )
