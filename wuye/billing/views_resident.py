"""Resident H5 pages (/h5/bills/): what my houses owe, how each bill came about, paying
online through the provider's cashier (the sandbox cashier in the demo) and the result.

Only the bills of the houses the resident lives in are reachable (``visible_to`` narrowed
to the resident's own houses, so a staff member who also lives somewhere sees only their
home here); anything else answers 404. Staff without a house get 403; a signed-in user
with no house sees the "account not linked" page. Money moves only through
``payments.start_online_payment`` and the provider notification
(``providers.handle_notification``), exactly as with a real provider.
"""

import datetime
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from wuye.billing import orders, payments, receipts
from wuye.billing.forms_resident import PayForm
from wuye.billing.models import (
    Adjustment,
    Bill,
    Payment,
    PrepaidAccount,
    PrepaidEntry,
    ProviderOrder,
)
from wuye.billing.money import ZERO
from wuye.billing.providers import SandboxProvider, get_provider, handle_notification
from wuye.billing.selectors import explain
from wuye.core.console import add_service_errors
from wuye.core.scoping import get_visible_or_404

HISTORY_DAYS = 365
HISTORY_LIMIT = 50


def resident_view(*, unlinked_page: bool = False):
    """Signed-in residents only: staff without a house get 403; anyone else the
    "account not linked" page (``unlinked_page``) or 404."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            actor = request.actor
            if actor.is_resident:
                return view(request, *args, **kwargs)
            if actor.staff:
                raise PermissionDenied
            if unlinked_page:
                return render(request, "web/unlinked.html")
            raise Http404

        return wrapper

    return decorate


def _my_bills(actor):
    return Bill.objects.visible_to(actor).filter(actor.resident_q("house_id"))


def _my_houses(actor):
    return actor.resident_houses().select_related("community", "building", "unit").order_by("id")


def _mark_overdue(bills, today):
    for bill in bills:
        bill.overdue = bill.due_date < today
    return bills


# --- what I owe -----------------------------------------------------------------------
@require_http_methods(["GET"])
@resident_view(unlinked_page=True)
def bill_list(request):
    actor = request.actor
    today = timezone.localdate()
    unsettled = _mark_overdue(
        list(_my_bills(actor).unsettled().select_related("fee_item").order_by("due_date", "id")),
        today,
    )
    prepaid = dict(
        PrepaidAccount.objects.visible_to(actor)
        .filter(actor.resident_q("house_id"))
        .values_list("house_id")
        .annotate(total=Sum("balance"))
    )
    houses = []
    for house in _my_houses(actor):
        bills = [bill for bill in unsettled if bill.house_id == house.id]
        houses.append(
            {
                "house": house,
                "bills": bills,
                "due": sum((bill.balance for bill in bills), ZERO),
                "overdue": sum(bill.overdue for bill in bills),
                "prepaid": prepaid.get(house.id, ZERO),
            }
        )
    since = timezone.now() - datetime.timedelta(days=HISTORY_DAYS)
    history = (
        Payment.objects.visible_to(actor)
        .filter(actor.resident_q("house_id"), received_at__gte=since)
        .select_related("house__community", "house__building", "house__unit")
        .order_by("-received_at", "-id")
    )
    return render(
        request,
        "billing/h5/bill_list.html",
        {
            "houses": houses,
            "total_due": sum((item["due"] for item in houses), ZERO),
            "history": history[:HISTORY_LIMIT],
        },
    )


@require_http_methods(["GET"])
@resident_view()
def bill_detail(request, pk):
    actor = request.actor
    bills = Bill.objects.filter(actor.resident_q("house_id")).select_related(
        "fee_item", "house__community", "house__building", "house__unit"
    )
    bill = get_visible_or_404(bills, actor, pk=pk)
    _mark_overdue([bill], timezone.localdate())
    return render(
        request,
        "billing/h5/bill_detail.html",
        {
            "bill": bill,
            "how": explain(bill),
            "shared": bill.detail if bill.detail.get("kind") == "shared" else None,
            "adjustments": bill.adjustments.exclude(status=Adjustment.Status.REJECTED).order_by(
                "id"
            ),
            "allocations": bill.allocations.select_related("payment").order_by("payment_id"),
            "deductions": [
                {"at": entry.at, "amount": -entry.amount}
                for entry in bill.prepaid_entries.filter(kind=PrepaidEntry.Kind.DEDUCTION)
            ],
            # A waiver granted after payment gave part of it back (wuye.billing.waivers).
            "returned": [
                {"at": entry.at, "amount": entry.amount}
                for entry in bill.prepaid_entries.filter(kind=PrepaidEntry.Kind.DEPOSIT)
            ],
            "payable": bill.status in Bill.UNSETTLED and bill.balance > 0,
        },
    )


# --- paying ---------------------------------------------------------------------------
def _house(actor, value):
    """One of the resident's houses by id (404 for any other); without an id, the first
    house that owes something (else the first house)."""
    houses = _my_houses(actor)
    if value:
        try:
            return houses.get(pk=int(value))
        except (ValueError, TypeError, houses.model.DoesNotExist) as exc:
            raise Http404 from exc
    owing = _my_bills(actor).unsettled().order_by("house_id").values("house_id")[:1]
    return houses.filter(pk__in=owing).first() or houses.first()


def _payable_bills(actor, house):
    bills = _my_bills(actor).unsettled().filter(house=house).select_related("fee_item")
    bills = [bill for bill in bills.order_by("due_date", "id") if bill.balance > 0]
    return _mark_overdue(bills, timezone.localdate())


@require_http_methods(["GET", "POST"])
@resident_view()
def pay(request):
    """Choose the bills of one house (all unsettled ones ticked), then start the online
    payment and go to the provider's cashier."""
    actor = request.actor
    source = request.POST if request.method == "POST" else request.GET
    house = _house(actor, source.get("house"))
    status = 200
    if request.method == "POST":
        form = PayForm(request.POST)
        if form.is_valid():
            try:
                order, _params = payments.start_online_payment(
                    actor=actor, bill_ids=form.cleaned_data["bills"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("billing_resident:cashier", out_trade_no=order.out_trade_no)
        status = 400
        chosen = set(form.cleaned_data.get("bills") or [])
    else:
        form = PayForm()
        chosen = {int(b) for b in request.GET.getlist("bill") if b.isdigit()}
    bills = _payable_bills(actor, house)
    for bill in bills:
        bill.chosen = bill.id in chosen if chosen else True
    return render(
        request,
        "billing/h5/pay.html",
        {
            "form": form,
            "house": house,
            "houses": _my_houses(actor),
            "bills": bills,
            "total": sum((bill.balance for bill in bills if bill.chosen), ZERO),
        },
        status=status,
    )


def _order(actor, out_trade_no) -> ProviderOrder:
    """An online order for one of the resident's houses; 404 for anyone else's."""
    order = (
        ProviderOrder.objects.filter(
            house_id__in=sorted(actor.resident_house_ids), out_trade_no=out_trade_no
        )
        .select_related("house__community", "house__building", "house__unit", "payment")
        .first()
    )
    if order is None:
        raise Http404
    return order


def _order_bills(actor, order):
    return _my_bills(actor).filter(pk__in=order.bill_ids).select_related("fee_item")


@require_http_methods(["GET"])
@resident_view()
def cashier(request, out_trade_no):
    """The sandbox provider's cashier page (a real provider shows its own)."""
    order = _order(request.actor, out_trade_no)
    if order.provider != SandboxProvider.code:
        raise Http404
    if order.status != ProviderOrder.Status.CREATED:  # paid, or closed: nothing to pay
        return redirect("billing_resident:result", out_trade_no=order.out_trade_no)
    return render(
        request,
        "billing/sandbox/cashier.html",
        {"order": order, "bills": _order_bills(request.actor, order)},
    )


@require_POST
@resident_view()
def cashier_pay(request, out_trade_no):
    """The resident paid in the sandbox cashier: the sandbox sends its signed payment
    notification to us, the same body and signature the notify endpoint receives."""
    order = _order(request.actor, out_trade_no)
    if order.provider != SandboxProvider.code:
        raise Http404
    if order.status == ProviderOrder.Status.CLOSED:  # a provider refuses a closed trade
        messages.error(request, _("This order was closed; start a new payment."))
        return redirect("billing_resident:result", out_trade_no=order.out_trade_no)
    provider = get_provider(order.provider)
    body, headers = provider.pay(order)
    try:
        handle_notification(provider, body, headers)
    except ValidationError as exc:  # e.g. a bill voided since the order was made
        messages.error(request, " ".join(exc.messages))
    return redirect("billing_resident:result", out_trade_no=order.out_trade_no)


@require_POST
@resident_view()
def cashier_cancel(request, out_trade_no):
    """The resident closed the sandbox cashier: the sandbox reports the trade closed,
    as providers do; the order stays payable from the bills page."""
    order = _order(request.actor, out_trade_no)
    if order.provider != SandboxProvider.code:
        raise Http404
    if order.status == ProviderOrder.Status.PAID:
        return redirect("billing_resident:result", out_trade_no=order.out_trade_no)
    provider = get_provider(order.provider)
    handle_notification(provider, *provider.build_notification(order, paid=False))
    messages.info(request, _("Payment cancelled. Nothing was charged."))
    return redirect("billing_resident:bill_list")


@require_POST
@resident_view()
def order_cancel(request, out_trade_no):
    """The resident gives up an unpaid order: it is closed and can no longer be paid."""
    order = _order(request.actor, out_trade_no)
    try:
        order = orders.cancel_order(actor=request.actor, order=order)
    except PermissionDenied as exc:
        raise Http404 from exc  # a housemate's order: not theirs to cancel
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if order.status == ProviderOrder.Status.CLOSED:
            messages.info(request, _("Order cancelled. Nothing was charged."))
        else:
            messages.info(request, _("The payment had already gone through."))
    return redirect("billing_resident:result", out_trade_no=order.out_trade_no)


@require_http_methods(["GET"])
@resident_view()
def result(request, out_trade_no):
    order = _order(request.actor, out_trade_no)
    payment = order.payment
    return render(
        request,
        "billing/h5/result.html",
        {
            "order": order,
            "can_cancel": order.status == ProviderOrder.Status.CREATED
            and order.created_by_id == request.user.pk,
            "payment": payment,
            "allocations": (
                payment.allocations.select_related("bill__fee_item").order_by("id")
                if payment
                else []
            ),
            "prepaid": (
                # Not what a later waiver gave back from a bill (those name the bill).
                payment.prepaid_entries.filter(bill=None).aggregate(s=Sum("amount"))["s"]
                if payment
                else None
            ),
            "bills": _order_bills(request.actor, order),
        },
    )


@require_http_methods(["GET"])
@resident_view()
def receipt(request, pk):
    """A receipt of a payment for one of the resident's houses, as PDF (to save or print)."""
    payment = get_visible_or_404(
        Payment.objects.filter(request.actor.resident_q("house_id")).select_related(
            "company", "community", "house__community", "house__building", "house__unit"
        ),
        request.actor,
        pk=pk,
    )
    return receipts.receipt_response(payment)
