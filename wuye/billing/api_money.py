"""``/api/v1/billing`` — money after the bill: refunds (requested, then approved or
rejected by someone else), adjustments of a bill (proposed, then decided by someone
else), the collection rate (收缴率) by community, building or month, a payment's receipt
as PDF, and a resident cancelling their unpaid online order.

Reads are scoped with ``visible_to`` (billing staff by community; residents their own
houses' payments, refunds and bills); writes call ``wuye.billing.payments``,
``services`` and ``orders``, which check the permission in the row's community. Every
POST honours ``Idempotency-Key``.
"""

import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.billing import orders, payments, receipts, selectors, services
from wuye.billing.forms import MAX_MONTHS
from wuye.billing.models import Adjustment, Bill, Payment, ProviderOrder, Refund
from wuye.billing.money import add_months
from wuye.billing.schemas import MAX_MONEY, Money, OrderStatusValue
from wuye.core.apitools import (
    LIST_ERRORS,
    NO_NUL,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    choices_literal,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require

router = Router(tags=["billing"])

RefundStatusValue = choices_literal(Refund.Status)
AdjustmentKindValue = choices_literal(Adjustment.Kind)
AdjustmentStatusValue = choices_literal(Adjustment.Status)


def _name(user) -> str | None:
    return user.display_name if user is not None else None


# --- refunds ----------------------------------------------------------------------------
class RefundIn(InputSchema):
    amount: Decimal = Field(
        gt=0, le=MAX_MONEY, description="Yuan with at most two decimals, e.g. 30.50."
    )
    reason: str = Field(max_length=200, pattern=NO_NUL)


class RefundOut(Schema):
    id: int
    payment_id: int
    receipt_no: str = Field(description="The receipt number of the payment refunded.")
    community_id: int
    house_id: int
    amount: Decimal
    reason: str
    status: RefundStatusValue = Field(
        description="requested → approved (the money taken back from the payment's unspent "
        "prepaid deposit first, then its bills) or rejected; approved → paid out."
    )
    requested_by_name: str | None
    decided_by_name: str | None
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    paid_at: datetime.datetime | None

    @staticmethod
    def resolve_receipt_no(obj) -> str:
        return obj.payment.receipt_no

    @staticmethod
    def resolve_house_id(obj) -> int:
        return obj.payment.house_id

    @staticmethod
    def resolve_requested_by_name(obj) -> str | None:
        return _name(obj.requested_by)

    @staticmethod
    def resolve_decided_by_name(obj) -> str | None:
        return _name(obj.decided_by)


class RefundFilters(Schema):
    status: RefundStatusValue | None = None
    community: Id | None = Field(None, description="Community id.")
    payment: Id | None = Field(None, description="Payment id.")


def _refunds(who):
    """Refunds of the payments the caller sees (billing staff: their communities'; a
    resident: their houses')."""
    return Refund.objects.filter(payment__in=Payment.objects.visible_to(who)).select_related(
        "payment", "requested_by", "decided_by"
    )


@router.get(
    "/billing/refunds",
    response={200: list[RefundOut], **LIST_ERRORS},
    summary="List refunds",
    description="Newest first. Billing staff see their communities' refunds, residents "
    "the refunds of their houses' payments. Filter by status (e.g. requested: awaiting a "
    "decision), community or payment.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_refunds(request, filters: Query[RefundFilters]):
    qs = _refunds(actor(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.payment:
        qs = qs.filter(payment_id=filters.payment)
    return qs


@router.post(
    "/billing/payments/{payment_id}/refunds",
    response={201: RefundOut, **WRITE_ERRORS},
    summary="Request a refund of a payment",
    description="billing.collect in the payment's community. At most what is not refunded "
    "or requested already; someone else with billing.manage approves or rejects it.",
)
@idempotent
def request_refund(request, payment_id: Id, payload: RefundIn):
    who = actor(request)
    payment = get_visible_or_404(Payment.objects.select_related("community"), who, pk=payment_id)
    refund = payments.request_refund(
        actor=who, payment=payment, amount=payload.amount, reason=payload.reason
    )
    return Status(201, _refunds(who).get(pk=refund.pk))


def _decide_refund(request, refund_id, decide) -> Refund:
    who = actor(request)
    refund = _refunds(who).select_related("community").filter(pk=refund_id).first()
    if refund is None:
        raise Http404
    decide(actor=who, refund=refund)
    return _refunds(who).get(pk=refund.pk)


@router.post(
    "/billing/refunds/{refund_id}/approve",
    response={200: RefundOut, **WRITE_ERRORS},
    summary="Approve a refund",
    description="billing.manage in the refund's community, by someone other than the "
    "requester. The money is taken back from the payment's unspent prepaid deposit first, "
    "then from the bills it paid (newest first), which owe it again.",
)
@idempotent
def approve_refund(request, refund_id: Id):
    return _decide_refund(request, refund_id, payments.approve_refund)


@router.post(
    "/billing/refunds/{refund_id}/reject",
    response={200: RefundOut, **WRITE_ERRORS},
    summary="Reject a refund",
    description="billing.manage in the refund's community, by someone other than the "
    "requester. Nothing changes on the payment.",
)
@idempotent
def reject_refund(request, refund_id: Id):
    return _decide_refund(request, refund_id, payments.reject_refund)


# --- adjustments ------------------------------------------------------------------------
class AdjustmentIn(InputSchema):
    kind: AdjustmentKindValue = Field(description="credit: 减免/冲红; debit: 补收.")
    amount: Decimal = Field(gt=0, le=MAX_MONEY, description="Yuan with at most two decimals.")
    reason: str = Field(max_length=200, pattern=NO_NUL)


class AdjustmentDetailOut(Schema):
    id: int
    bill_id: int
    kind: AdjustmentKindValue
    amount: Decimal
    reason: str
    status: AdjustmentStatusValue = Field(
        description="pending → approved (moves the bill's adjusted amount) or rejected."
    )
    proposed_by_name: str | None
    decided_by_name: str | None
    created_at: datetime.datetime
    decided_at: datetime.datetime | None

    @staticmethod
    def resolve_proposed_by_name(obj) -> str | None:
        return _name(obj.created_by)

    @staticmethod
    def resolve_decided_by_name(obj) -> str | None:
        return _name(obj.approved_by)


def _adjustments(who):
    """Adjustments of the bills the caller sees."""
    return Adjustment.objects.filter(bill__in=Bill.objects.visible_to(who)).select_related(
        "created_by", "approved_by"
    )


@router.get(
    "/billing/bills/{bill_id}/adjustments",
    response={200: list[AdjustmentDetailOut], **READ_ERRORS},
    summary="A bill's adjustments",
    description="Oldest first; whoever sees the bill (billing staff, the house's residents).",
)
def list_adjustments(request, bill_id: Id):
    who = actor(request)
    bill = get_visible_or_404(Bill.objects.all(), who, pk=bill_id)
    return _adjustments(who).filter(bill=bill).order_by("id")


@router.post(
    "/billing/bills/{bill_id}/adjustments",
    response={201: AdjustmentDetailOut, **WRITE_ERRORS},
    summary="Propose an adjustment of a bill",
    description="billing.manage in the bill's community. A credit cannot exceed what the "
    "bill still owes; a void bill cannot be adjusted. Someone else approves or rejects it.",
)
@idempotent
def propose_adjustment(request, bill_id: Id, payload: AdjustmentIn):
    who = actor(request)
    bill = get_visible_or_404(Bill.objects.select_related("community"), who, pk=bill_id)
    adjustment = services.propose_adjustment(
        actor=who, bill=bill, kind=payload.kind, amount=payload.amount, reason=payload.reason
    )
    return Status(201, _adjustments(who).get(pk=adjustment.pk))


def _decide_adjustment(request, adjustment_id, decide) -> Adjustment:
    who = actor(request)
    adjustment = (
        _adjustments(who).select_related("bill__community").filter(pk=adjustment_id).first()
    )
    if adjustment is None:
        raise Http404
    decide(actor=who, adjustment=adjustment)
    return _adjustments(who).get(pk=adjustment.pk)


@router.post(
    "/billing/adjustments/{adjustment_id}/approve",
    response={200: AdjustmentDetailOut, **WRITE_ERRORS},
    summary="Approve an adjustment",
    description="billing.manage in the bill's community, by someone other than the "
    "proposer. The bill's amount stays as issued; its adjusted amount and status move.",
)
@idempotent
def approve_adjustment(request, adjustment_id: Id):
    return _decide_adjustment(request, adjustment_id, services.approve_adjustment)


@router.post(
    "/billing/adjustments/{adjustment_id}/reject",
    response={200: AdjustmentDetailOut, **WRITE_ERRORS},
    summary="Reject an adjustment",
    description="billing.manage in the bill's community, by someone other than the proposer.",
)
@idempotent
def reject_adjustment(request, adjustment_id: Id):
    return _decide_adjustment(request, adjustment_id, services.reject_adjustment)


# --- collection rate --------------------------------------------------------------------
class RateFigures(Schema):
    bills: int
    payable: Money = Field(description="Amount + adjustments of the bills due.")
    paid: Money = Field(description="What has been paid on them so far.")
    owed: Money
    rate: Decimal | None = Field(
        description="paid ÷ payable in percent, one decimal; null when nothing is payable."
    )


class RateRowOut(RateFigures):
    id: int | None = Field(description="The community's or building's id (null by month).")
    month: str | None = Field(description="YYYY-MM of the due dates (by month only).")
    name: str


class CollectionRateOut(Schema):
    by: Literal["community", "building", "month"]
    month_from: datetime.date
    month_to: datetime.date
    total: RateFigures
    rows: list[RateRowOut]


class RateFilters(Schema):
    by: Literal["community", "building", "month"] = "community"
    month_from: datetime.date | None = Field(
        None, description="Any day of the first month of due dates; 11 months ago if empty."
    )
    month_to: datetime.date | None = Field(
        None, description="Any day of the last month of due dates; this month if empty."
    )
    community: Id | None = Field(None, description="Community id.")


@router.get(
    "/billing/collection-rate",
    response={200: CollectionRateOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Collection rate (收缴率)",
    description="billing.view. Of the bills (not void) due in the months: paid ÷ payable, "
    f"in total and per community, building or month; at most {MAX_MONTHS} months.",
)
def collection_rate(request, filters: Query[RateFilters]):
    who = actor(request)
    require(who, "billing.view")
    today = timezone.localdate()
    last = (filters.month_to or today).replace(day=1)
    first = (filters.month_from or selectors.months_back(today, 12)).replace(day=1)
    if last < first:
        raise ValidationError({"month_to": _("The range must end on or after its first month.")})
    if add_months(first, MAX_MONTHS) <= last:
        raise ValidationError({"month_to": _("Choose at most %(n)d months.") % {"n": MAX_MONTHS}})
    bills = Bill.objects.visible_to(who).filter(community_id__in=sorted(who.community_ids))
    if filters.community:
        bills = bills.filter(community_id=filters.community)
    rows = selectors.collection_rate_by(bills, first, last, by=filters.by)
    if filters.by == "month":
        rows = [{**row, "id": None, "month": row["name"]} for row in rows]
    else:
        rows = [{**row, "month": None} for row in rows]
    return {
        "by": filters.by,
        "month_from": first,
        "month_to": last,
        "total": selectors.collection_rate(bills, first, last),
        "rows": rows,
    }


# --- receipts ---------------------------------------------------------------------------
@router.get(
    "/billing/payments/{payment_id}/receipt",
    response=READ_ERRORS,
    summary="A payment's receipt (PDF)",
    description="Billing staff of the payment's community and the house's residents (the "
    "payer). The same receipt the cashier prints: number, house, bills paid, 预存, amount "
    "in figures and 大写, refunded stamp.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The receipt, application/pdf (shown inline).",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def payment_receipt(request, payment_id: Id):
    payment = get_visible_or_404(
        Payment.objects.select_related(
            "company", "community", "house__community", "house__building", "house__unit"
        ),
        actor(request),
        pk=payment_id,
    )
    return receipts.receipt_response(payment)


# --- online orders ----------------------------------------------------------------------
class OnlineOrderOut(Schema):
    id: int
    out_trade_no: str
    provider: str
    house_id: int
    bill_ids: list[int]
    amount: Decimal
    status: OrderStatusValue = Field(
        description="created (awaiting payment), paid, or closed (cancelled or expired)."
    )
    created_at: datetime.datetime
    paid_at: datetime.datetime | None


@router.post(
    "/billing/online-payments/{order_id}/cancel",
    response={200: OnlineOrderOut, **WRITE_ERRORS},
    summary="Cancel an unpaid online order (resident)",
    description="The resident who started the order closes it at the provider and here; "
    "the bills stay payable with a new order. A closed order is returned as it is; a paid "
    "one is refused (400). Should the provider report it paid meanwhile, the payment is "
    "recorded and the order comes back paid. Unpaid orders also close by themselves "
    "after BILLING_ORDER_TTL_MINUTES (30).",
)
@idempotent
def cancel_online_payment(request, order_id: Id):
    who = actor(request)
    order = ProviderOrder.objects.filter(
        pk=order_id,
        house_id__in=sorted(who.resident_house_ids),
        created_by_id=who.user.pk,
    ).first()
    if order is None:
        raise Http404
    return orders.cancel_order(actor=who, order=order)
