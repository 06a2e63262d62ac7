"""Cashier console (收银台, ``billing.collect``): find a house, see what it owes and its
prepaid balance, collect a payment (``payments.collect``), print the receipt; the payments
list with an Excel export and receipt reprints; refunds requested here and approved or
rejected by a second person (``billing.manage``); a house's monthly statement as PDF.

Reads go through ``visible_to(actor)`` and the actor's billing communities; a house, payment
or refund elsewhere is the same 404 as a missing one. Writes are one service call each, whose
ValidationErrors land on the form (never a 500).
"""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.billing import exports_cashier, late_fees, payments, receipts
from wuye.billing.forms_cashier import (
    MAX_HOUSES,
    CollectForm,
    HouseSearchForm,
    PaymentFilterForm,
    RefundRequestForm,
    StatementForm,
    billing_houses,
)
from wuye.billing.models import Bill, Payment, PrepaidAccount, Refund
from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.labels import pdf_response
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.estates.models import House

COLLECT = "billing.collect"
MANAGE = "billing.manage"
PAYMENT_BADGE = {
    Payment.Status.COMPLETED: "success",
    Payment.Status.PARTIALLY_REFUNDED: "warning",
    Payment.Status.REFUNDED: "muted",
}
REFUND_BADGE = {
    Refund.Status.REQUESTED: "warning",
    Refund.Status.APPROVED: "info",
    Refund.Status.REJECTED: "muted",
    Refund.Status.PAID: "success",
}


def _crumbs(*items):
    return [(_("Cashier"), reverse("cashier:search")), *items]


def _house(actor, pk) -> House:
    """A house of the actor's billing communities (cashiers need not hold estates.view),
    else the same 404 for missing and elsewhere."""
    houses = billing_houses(actor).select_related("company", "community", "building", "unit")
    return get_object_or_404(houses, pk=pk)


def _payment(actor, pk) -> Payment:
    payment = get_visible_or_404(
        Payment.objects.select_related(
            "company",
            "community",
            "house__community",
            "house__building",
            "house__unit",
            "received_by",
        ),
        actor,
        pk=pk,
    )
    if payment.community_id not in actor.community_ids:
        raise Http404
    return payment


# --- finding a house and collecting -------------------------------------------------------
@require_GET
@console_view(COLLECT)
def search(request):
    form = HouseSearchForm(request.GET or None, actor=request.actor)
    houses = None
    if form.is_bound and form.is_valid() and form.searched:
        houses = form.houses()
    return render(
        request,
        "billing/cashier/search.html",
        {
            "form": form,
            "houses": houses[:MAX_HOUSES] if houses else houses,
            "more": houses is not None and len(houses) > MAX_HOUSES,
            "max_houses": MAX_HOUSES,
            "tab": "counter",
        },
    )


def _unsettled(actor, house):
    return list(
        Bill.objects.visible_to(actor)
        .filter(house=house)
        .unsettled()
        .select_related("fee_item")
        .order_by("due_date", "id")
    )


@console_view(COLLECT)
def collect(request, pk):
    actor = request.actor
    house = _house(actor, pk)
    bills = _unsettled(actor, house)
    form = CollectForm(request.POST or None, bills=bills)
    if request.method == "POST" and form.is_valid():
        try:
            payment = payments.collect(actor=actor, house=house, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if payment.house_id != house.id:  # a key reused from another house's form
                form.add_error(None, _("This form was already used; reload the page."))
            else:
                messages.success(request, _("Payment received, receipt %s.") % payment.receipt_no)
                return redirect("cashier:payment", pk=payment.pk)
    today = timezone.localdate()
    # The late fee run up since the last posting (posted as a bill on the next 1st).
    accrued = late_fees.accrued_unposted(late_fees.policy_of(house.company_id), bills, today)
    for bill in bills:
        bill.overdue = bill.due_date < today
        bill.late_fee_accrued = accrued.get(bill.pk)
    accounts = PrepaidAccount.objects.filter(house=house, balance__gt=0).select_related("fee_item")
    recent = Payment.objects.visible_to(actor).filter(house=house).order_by("-received_at", "-id")
    return render(
        request,
        "billing/cashier/collect.html",
        {
            "house": house,
            "bills": bills,
            "owed": sum((bill.balance for bill in bills), 0),
            "late_fee_accrued": sum(accrued.values(), 0),
            "accounts": accounts,
            "prepaid": sum((account.balance for account in accounts), 0),
            "recent": recent[:5],
            "form": form,
            "statement_form": StatementForm(initial={"month": today}),
            "breadcrumbs": _crumbs((house.address, None)),
            "tab": "counter",
        },
    )


# --- payments -------------------------------------------------------------------------------
def _payments(actor):
    return Payment.objects.visible_to(actor).filter(community_id__in=sorted(actor.community_ids))


def _bad_filters(form) -> HttpResponseBadRequest:
    problems = "; ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}"
        for f, e in form.errors.items()
    )
    return HttpResponseBadRequest(_("Correct the filters: %s") % problems)


@require_GET
@console_view(COLLECT)
def payment_list(request):
    actor = request.actor
    form = PaymentFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        page = newest_first_page(
            form.filter(_payments(actor)).select_related(
                "house__community", "house__building", "house__unit", "received_by"
            ),
            before=form.cleaned_data["after"],
            query=request.GET,
        )
        for payment in page.items:
            payment.badge = PAYMENT_BADGE.get(payment.status, "")
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "billing/cashier/payment_list.html",
        {"form": form, "page": page, "list_query": query.urlencode(), "tab": "payments"},
    )


@require_GET
@console_view(COLLECT)
def payment_export(request):
    actor = request.actor
    form = PaymentFilterForm(request.GET, actor=actor)
    if not form.is_valid():
        return _bad_filters(form)
    out = spooled_file()
    exports_cashier.export_payments(actor=actor, payments=form.filter(_payments(actor)), out=out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out, as_attachment=True, filename=f"wuye-payments-{stamp}.xlsx", content_type=XLSX_TYPE
    )


def _payment_page(request, payment, refund_form=None, decide_error=None, status=200):
    actor = request.actor
    refunds = list(payment.refunds.select_related("requested_by", "decided_by").order_by("id"))
    for refund in refunds:
        refund.badge = REFUND_BADGE.get(refund.status, "")
    refundable = payment.amount - payment.refunded_amount
    if refund_form is None and refundable > 0:
        refund_form = RefundRequestForm(prefix="refund")
    return render(
        request,
        "billing/cashier/payment_detail.html",
        {
            "payment": payment,
            "badge": PAYMENT_BADGE.get(payment.status, ""),
            "lines": receipts.receipt_lines(payment),
            "in_words": receipts.amount_in_words(payment.amount),
            "refunds": refunds,
            "refund_form": refund_form if refundable > 0 else None,
            "can_decide": actor.has_perm(MANAGE),
            "decide_error": decide_error,
            "user_id": actor.user.pk,
            "breadcrumbs": _crumbs(
                (_("Payments"), reverse("cashier:payments")), (payment.receipt_no, None)
            ),
            "tab": "payments",
        },
        status=status,
    )


@require_GET
@console_view(COLLECT)
def payment_detail(request, pk):
    return _payment_page(request, _payment(request.actor, pk))


@require_GET
@console_view(COLLECT)
def receipt_pdf(request, pk):
    """The receipt as PDF, shown in the browser (to print or save)."""
    payment = _payment(request.actor, pk)
    return receipts.receipt_response(payment)


@require_POST
@console_view(COLLECT)
def refund_request(request, pk):
    actor = request.actor
    payment = _payment(actor, pk)
    form = RefundRequestForm(request.POST, prefix="refund")
    if form.is_valid():
        try:
            payments.request_refund(actor=actor, payment=payment, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Refund requested; someone else must approve it."))
            return redirect("cashier:payment", pk=payment.pk)
    return _payment_page(request, payment, refund_form=form, status=400)


@require_POST
@console_view(MANAGE)
def refund_decide(request, pk, refund_pk, decision):
    actor = request.actor
    payment = _payment(actor, pk)
    refund = get_object_or_404(payment.refunds.all(), pk=refund_pk)
    decide = {"approve": payments.approve_refund, "reject": payments.reject_refund}
    if decision not in decide:
        raise Http404
    try:
        decide[decision](actor=actor, refund=refund)
    except ValidationError as exc:
        return _payment_page(request, payment, decide_error=exc.messages, status=400)
    messages.success(
        request, _("Refund approved.") if decision == "approve" else _("Refund rejected.")
    )
    return redirect("cashier:payment", pk=payment.pk)


@require_GET
@console_view(COLLECT)
def refund_list(request):
    """Refunds awaiting a decision, newest first."""
    actor = request.actor
    refunds = Refund.objects.filter(
        status=Refund.Status.REQUESTED, payment__in=_payments(actor)
    ).select_related("payment", "requested_by", "community")
    page = newest_first_page(refunds, before=after_param(request), query=request.GET)
    return render(
        request,
        "billing/cashier/refund_list.html",
        {"page": page, "user_id": actor.user.pk, "tab": "refunds"},
    )


# --- statement ----------------------------------------------------------------------------
@require_GET
@console_view(COLLECT)
def statement_pdf(request, pk):
    house = _house(request.actor, pk)
    form = StatementForm(request.GET)
    if not form.is_valid():
        return _bad_filters(form)
    month: datetime.date = form.cleaned_data["month"]
    name = f"statement-{house.pk}-{month:%Y%m}.pdf"
    return pdf_response(receipts.render_statement(house, month), name)
