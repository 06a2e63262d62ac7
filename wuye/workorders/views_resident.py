"""Resident H5 pages (/h5/orders/): report a problem in three taps, follow it, urge,
cancel, rate and reopen it. Only the resident's own orders are reachable; anything
else answers 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.core.photos import stored_photos
from wuye.core.scoping import get_visible_or_404
from wuye.web.views import HOMES
from wuye.workorders import selectors, services
from wuye.workorders.forms_mobile import (
    REASON_CHIPS,
    VISIT_TIME_SUGGESTIONS,
    RateForm,
    ReasonForm,
    ReportForm,
    UrgeForm,
    leaf_categories,
    resident_categories,
)
from wuye.workorders.models import Channel, Feedback, RequestType

PAGE_SIZE = 30


def _gate(request):
    """Residents only: staff without a house are sent back to their surface (a form
    posted by them is refused), anyone else sees the "account not linked" page."""
    actor = request.actor
    if actor.is_resident:
        return None
    if actor.staff:
        if request.method == "POST":
            raise PermissionDenied
        return redirect(HOMES[actor.home])
    return render(request, "web/unlinked.html")


def _request_type(value) -> RequestType:
    try:
        return RequestType(value)
    except ValueError as exc:
        raise Http404 from exc


def _order(request, pk):
    actor = request.actor
    orders = selectors.reported_or_household(actor, selectors.orders())
    return get_visible_or_404(orders.select_related("feedback"), actor, pk=pk)


def _friendly(request, exc: Exception) -> None:
    if isinstance(exc, PermissionDenied):
        messages.error(request, _("You cannot do that with this request."))
    else:
        messages.error(request, " ".join(exc.messages))


# --- reporting: type → category → details ---------------------------------------------
@login_required
def report(request):
    if (gate := _gate(request)) is not None:
        return gate
    return render(request, "workorders/h5/report_type.html", {"types": RequestType.choices})


@login_required
def report_category(request, request_type):
    if (gate := _gate(request)) is not None:
        return gate
    kind = _request_type(request_type)
    categories = list(
        resident_categories(request.actor, kind)
        .select_related("parent")
        .order_by("sort_order", "id")
    )
    children: dict[int, list] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category)
    leaf_ids = set(leaf_categories(request.actor, kind).values_list("id", flat=True))
    groups = [
        (c, children.get(c.id, []))
        for c in categories
        if c.parent_id is None and (c.id in leaf_ids or children.get(c.id))
    ]
    return render(
        request,
        "workorders/h5/report_category.html",
        {"kind": kind, "groups": groups},
    )


@login_required
def report_form(request, request_type):
    if (gate := _gate(request)) is not None:
        return gate
    actor = request.actor
    kind = _request_type(request_type)
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, actor=actor, request_type=kind)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with stored_photos(
                    actor=actor, images=data["photos"], company=data["category"].company
                ) as photos:
                    order = services.submit_order(
                        actor=actor,
                        category=data["category"],
                        house=data["house"],
                        common_area=data["common_area"],
                        channel=Channel.RESIDENT_H5,
                        description=data["description"],
                        preferred_time=data["preferred_time"],
                        may_enter=data["may_enter"],
                        contact_name=data["contact_name"],
                        contact_mobile=data["contact_mobile"],
                        photos=photos,
                        complaint=form.complaint(),
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            except PermissionDenied:
                form.add_error("place", _("You cannot report for this place."))
            else:
                return redirect("orders_resident:submitted", pk=order.pk)
    else:
        category = leaf_categories(actor, kind).filter(pk=_int(request.GET.get("category"))).first()
        if category is None:
            messages.warning(request, _("Choose a category first."))
            return redirect("orders_resident:report_category", request_type=kind.value)
        form = ReportForm(
            actor=actor,
            request_type=kind,
            initial={
                "category": category.pk,
                "contact_name": actor.user.display_name,
                "contact_mobile": actor.user.mobile or "",
            },
        )
    category = (
        form.fields["category"]
        .queryset.filter(pk=_int(form["category"].value()))
        .select_related("parent")
        .first()
    )
    return render(
        request,
        "workorders/h5/report_form.html",
        {
            "kind": kind,
            "form": form,
            "category": category,
            "visit_times": VISIT_TIME_SUGGESTIONS,
        },
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def submitted(request, pk):
    order = _order(request, pk)
    return render(request, "workorders/h5/submitted.html", {"order": order})


# --- following an order ---------------------------------------------------------------
@login_required
def my_orders(request):
    actor = request.actor
    if not actor.is_resident and actor.staff:
        return redirect(HOMES[actor.home])
    mine = selectors.reported_or_household(actor, selectors.orders().visible_to(actor))
    orders = list(mine.order_by("-id")[: PAGE_SIZE + 1])
    return render(
        request,
        "workorders/h5/my_orders.html",
        {
            "orders": orders[:PAGE_SIZE],
            "more": len(orders) > PAGE_SIZE,
        },
    )


def _detail_context(actor, order):
    actions = selectors.actions_for(actor, order)
    feedback = getattr(order, "feedback", None)
    labels = dict(REASON_CHIPS)
    return {
        "order": order,
        "events": selectors.events_for(actor, order).filter(is_public=True),
        "can_urge": "urge" in actions,
        "can_cancel": "cancel" in actions,
        "can_rate": "rate" in actions,
        "can_reopen": "reopen" in actions,
        "feedback": feedback,
        "feedback_reasons": [labels.get(code, code) for code in feedback.reasons]
        if feedback
        else [],
    }


@login_required
def order_detail(request, pk):
    order = _order(request, pk)
    return render(request, "workorders/h5/order_detail.html", _detail_context(request.actor, order))


@login_required
@require_POST
def urge(request, pk):
    order = _order(request, pk)
    form = UrgeForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.urge_order(actor=request.actor, order=order, note=note)
    except (ValidationError, PermissionDenied) as exc:
        _friendly(request, exc)
    else:
        messages.success(request, _("We have reminded the staff handling your request."))
    return redirect("orders_resident:order_detail", pk=order.pk)


@login_required
@require_POST
def cancel(request, pk):
    order = _order(request, pk)
    try:
        services.cancel_order(
            actor=request.actor, order=order, reason=request.POST.get("reason", "")[:200]
        )
    except (ValidationError, PermissionDenied) as exc:
        _friendly(request, exc)
    else:
        messages.success(request, _("Your request was cancelled."))
    return redirect("orders_resident:order_detail", pk=order.pk)


@login_required
def rate(request, pk):
    order = _order(request, pk)
    if request.method == "POST":
        form = RateForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            dimensions = {
                name: data[name] for name in Feedback.DIMENSIONS if data[name] is not None
            }
            try:
                with stored_photos(
                    actor=request.actor, images=data["photos"], company=order.company
                ) as photos:
                    services.rate_order(
                        actor=request.actor,
                        order=order,
                        overall=data["overall"],
                        comment=data["comment"],
                        reasons=data["reasons"],
                        photos=photos,
                        **dimensions,
                    )
            except (ValidationError, PermissionDenied) as exc:
                _friendly(request, exc)
                return redirect("orders_resident:order_detail", pk=order.pk)
            messages.success(request, _("Thank you for your rating."))
            return redirect("orders_resident:order_detail", pk=order.pk)
    else:
        if "rate" not in selectors.actions_for(request.actor, order):
            messages.info(request, _("This request cannot be rated now."))
            return redirect("orders_resident:order_detail", pk=order.pk)
        form = RateForm()
    return render(request, "workorders/h5/rate.html", {"order": order, "form": form})


@login_required
def reopen(request, pk):
    order = _order(request, pk)
    if request.method == "POST":
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                services.reopen_order(
                    actor=request.actor, order=order, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, PermissionDenied) as exc:
                _friendly(request, exc)
                return redirect("orders_resident:order_detail", pk=order.pk)
            messages.success(request, _("Your request was reopened; we will come back to it."))
            return redirect("orders_resident:order_detail", pk=order.pk)
    else:
        if "reopen" not in selectors.actions_for(request.actor, order):
            messages.info(request, _("This request cannot be reopened."))
            return redirect("orders_resident:order_detail", pk=order.pk)
        form = ReasonForm()
    return render(request, "workorders/h5/reopen.html", {"order": order, "form": form})
