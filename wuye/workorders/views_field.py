"""Field-staff mobile pages (/m/orders/): my tasks, the grab pool, and one order with
big buttons for what may be done next. Orders outside the technician's own and pool
answer 404; every refusal of the services comes back as a message, never a 500."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.photos import stored_photos
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.workorders import selectors, services
from wuye.workorders.forms_mobile import (
    CompleteForm,
    MaterialFormSet,
    ReasonForm,
    TransferForm,
)
from wuye.workorders.models import ASSIGNED_STATUSES, DispatchMode, WorkOrder

LIST_SIZE = 50
# The buttons of the field page, in this order (the services check again under a lock).
FIELD_ACTIONS = ("grab", "take", "arrive", "pause", "resume", "transfer", "return", "complete")


def _require_field(request):
    require(request.actor, "workorders.work")


def _order(request, pk):
    _require_field(request)
    orders = selectors.field_work(request.actor, selectors.orders())
    return get_visible_or_404(orders, request.actor, pk=pk)


def actions_for(actor, order) -> list[str]:
    """What the technician may do now: their own order's next steps, or grab."""
    allowed = selectors.actions_for(actor, order)
    mine = order.assignee_id is not None and order.assignee_id == actor.staff.pk
    return [a for a in FIELD_ACTIONS if a in allowed and (mine or a == "grab")]


@login_required
def tasks(request):
    _require_field(request)
    actor = request.actor
    mine = selectors.assigned_to(actor, selectors.orders().visible_to(actor))
    mine = selectors.by_urgency_and_age(mine.filter(status__in=ASSIGNED_STATUSES))
    orders = list(mine[: LIST_SIZE + 1])
    return render(
        request,
        "workorders/field/tasks.html",
        {"orders": orders[:LIST_SIZE], "more": len(orders) > LIST_SIZE, "tab": "tasks"},
    )


@login_required
def pool(request):
    _require_field(request)
    actor = request.actor
    waiting = selectors.in_grab_pool(actor, selectors.orders().visible_to(actor))
    orders = list(selectors.by_urgency_and_age(waiting)[: LIST_SIZE + 1])
    return render(
        request,
        "workorders/field/pool.html",
        {"orders": orders[:LIST_SIZE], "more": len(orders) > LIST_SIZE, "tab": "pool"},
    )


def _render_detail(request, order, status=200, **forms):
    actor = request.actor
    actions = actions_for(actor, order)
    context = {
        "order": order,
        "actions": actions,
        "events": selectors.events_for(actor, order),
        "pause_form": forms.get("pause_form") or ReasonForm(prefix="pause"),
        "return_form": forms.get("return_form") or ReasonForm(prefix="return"),
        "open_form": forms.get("open_form", ""),
    }
    if "transfer" in actions:
        context["transfer_form"] = forms.get("transfer_form") or TransferForm(
            prefix="transfer", colleagues=selectors.transfer_colleagues(actor, order)
        )
    return render(request, "workorders/field/order_detail.html", context, status=status)


@login_required
def order_detail(request, pk):
    order = _order(request, pk)
    return _render_detail(request, order)


def _message(request, exc) -> None:
    if isinstance(exc, PermissionDenied):
        messages.error(request, _("This order is not yours to work on."))
    else:
        messages.error(request, " ".join(exc.messages))


def _run(request, order, call, success: str, *, to_list: bool = False):
    """Call a transition; on refusal come back to the order with the reason."""
    try:
        call()
    except (ValidationError, PermissionDenied) as exc:
        _message(request, exc)
        return redirect("orders_field:order_detail", pk=order.pk)
    messages.success(request, success)
    if to_list:
        return redirect("orders_field:tasks")
    return redirect("orders_field:order_detail", pk=order.pk)


@login_required
@require_POST
def take(request, pk):
    order = _order(request, pk)
    actor = request.actor
    return _run(
        request,
        order,
        lambda: services.take_order(actor=actor, order=order),
        _("You took this order."),
    )


def _taken_from_my_pool(actor, pk) -> bool:
    """A grab-mode order of the actor's communities that has just left the pool."""
    return WorkOrder.objects.filter(
        pk=pk,
        dispatch_mode=DispatchMode.GRAB,
        community_id__in=sorted(actor.community_ids),
        assignee__isnull=False,
    ).exists()


@login_required
@require_POST
def grab(request, pk):
    actor = request.actor
    try:
        order = _order(request, pk)
    except Http404:
        if _taken_from_my_pool(actor, pk):
            messages.error(request, _("Someone else took this order first."))
            return redirect("orders_field:pool")
        raise
    try:
        services.grab_order(actor=actor, order=order)
    except services.InvalidTransition:
        messages.error(request, _("Someone else took this order first."))
        return redirect("orders_field:pool")
    except (ValidationError, PermissionDenied) as exc:
        _message(request, exc)
        return redirect("orders_field:pool")
    messages.success(request, _("The order is yours."))
    return redirect("orders_field:order_detail", pk=order.pk)


@login_required
@require_POST
def arrive(request, pk):
    order = _order(request, pk)
    actor = request.actor
    return _run(
        request,
        order,
        lambda: services.arrive(actor=actor, order=order),
        _("Arrival recorded."),
    )


@login_required
@require_POST
def pause(request, pk):
    order = _order(request, pk)
    form = ReasonForm(request.POST, prefix="pause")
    if not form.is_valid():
        return _render_detail(request, order, status=400, pause_form=form, open_form="pause")
    actor = request.actor
    return _run(
        request,
        order,
        lambda: services.pause_order(actor=actor, order=order, reason=form.cleaned_data["reason"]),
        _("The order is paused."),
    )


@login_required
@require_POST
def resume(request, pk):
    order = _order(request, pk)
    actor = request.actor
    return _run(
        request,
        order,
        lambda: services.resume_order(actor=actor, order=order),
        _("Work resumed."),
    )


@login_required
@require_POST
def transfer(request, pk):
    order = _order(request, pk)
    actor = request.actor
    form = TransferForm(
        request.POST, prefix="transfer", colleagues=selectors.transfer_colleagues(actor, order)
    )
    if not form.is_valid():
        return _render_detail(request, order, status=400, transfer_form=form, open_form="transfer")
    return _run(
        request,
        order,
        lambda: services.transfer_order(
            actor=actor,
            order=order,
            assignee=form.cleaned_data["assignee"],
            reason=form.cleaned_data["reason"],
        ),
        _("The order was handed over."),
        to_list=True,
    )


@login_required
@require_POST
def return_(request, pk):
    order = _order(request, pk)
    form = ReasonForm(request.POST, prefix="return")
    if not form.is_valid():
        return _render_detail(request, order, status=400, return_form=form, open_form="return")
    actor = request.actor
    return _run(
        request,
        order,
        lambda: services.return_order(actor=actor, order=order, reason=form.cleaned_data["reason"]),
        _("The order was returned."),
        to_list=True,
    )


@login_required
def complete(request, pk):
    order = _order(request, pk)
    actor = request.actor
    paid = order.category.is_paid
    if "complete" not in actions_for(actor, order):
        messages.error(request, _("This order cannot be completed now."))
        return redirect("orders_field:order_detail", pk=order.pk)
    if request.method == "POST":
        form = CompleteForm(request.POST, request.FILES, paid=paid)
        materials = MaterialFormSet(request.POST, prefix="materials") if paid else None
        if form.is_valid() and (materials is None or materials.is_valid()):
            rows = [
                {
                    "name": row["name"],
                    "quantity": row["quantity"],
                    "unit_price": row["unit_price"],
                }
                for row in (materials.cleaned_data if materials else [])
                if row
            ]
            try:
                with stored_photos(
                    actor=actor, images=form.cleaned_data["photos"], company=order.company
                ) as photos:
                    services.complete_order(
                        actor=actor,
                        order=order,
                        resolution=form.cleaned_data["resolution"],
                        materials=rows,
                        labour_amount=form.cleaned_data.get("labour_amount") or 0,
                        photos=photos,
                    )
            except (ValidationError, PermissionDenied) as exc:
                _message(request, exc)
            else:
                messages.success(request, _("The order is complete."))
                return redirect("orders_field:tasks")
    else:
        form = CompleteForm(paid=paid)
        materials = MaterialFormSet(prefix="materials") if paid else None
    return render(
        request,
        "workorders/field/complete.html",
        {"order": order, "form": form, "materials": materials},
        status=400 if request.method == "POST" else 200,
    )
