"""API shapes of billing: fee items, bills with how their amount came about, arrears per
community, payments with their allocations, online payment orders, meter readings and
bill runs.

Money is a decimal string in yuan with two places (``"120.50"``); an amount with more
places is refused (400), never rounded. Dates are local (Asia/Shanghai).
"""

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator

from wuye.billing.models import Bill, BillRun, FeeItem, Payment, ProviderOrder
from wuye.billing.selectors import BUCKETS
from wuye.core.apitools import NO_NUL, Id, InputSchema, choices_literal

FeeKindValue = choices_literal(FeeItem.Kind)
AreaBasisValue = choices_literal(FeeItem.AreaBasis)
CycleValue = choices_literal(FeeItem.Cycle)
OriginValue = choices_literal(Bill.Origin)
BillStatusValue = choices_literal(Bill.Status)
MethodValue = choices_literal(Payment.Method)
PaymentStatusValue = choices_literal(Payment.Status)
OrderStatusValue = choices_literal(ProviderOrder.Status)
RunStateValue = choices_literal(BillRun.State)
# Online payments come from the provider's notification, not from the counter.
CounterMethod = Literal[Payment.Method.CASH, Payment.Method.TRANSFER, Payment.Method.POS]

# Large enough for any bill, small enough for the database's 12 digits.
MAX_MONEY = Decimal("9999999999.99")
BillIds = Annotated[list[Id], Field(max_length=200)]
# Sums and subqueries come back from SQLite without their scale: show the column's places.
Money = Annotated[Decimal, AfterValidator(lambda value: value.quantize(Decimal("0.01")))]
Price = Annotated[Decimal, AfterValidator(lambda value: value.quantize(Decimal("0.0001")))]


def _house_label(house) -> str:
    return house.address


# --- fee items --------------------------------------------------------------------------
class FeeItemOut(Schema):
    id: int
    community_id: int
    community_name: str
    code: str
    name: str
    kind: FeeKindValue
    area_basis: AreaBasisValue = Field(description="Area items: built-up or indoor area.")
    cycle: CycleValue
    due_days: int = Field(description="A bill falls due this many days after its period starts.")
    is_active: bool
    current_price: Price | None = Field(
        description="The unit price effective today (yuan per m² per month, per month, per "
        "unit of usage, or the amount); null before the first price takes effect."
    )
    current_multiplier: Price | None = Field(description="Metered items: 倍率.")

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name


class FeeItemFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    kind: FeeKindValue | None = None
    is_active: bool | None = None


# --- bills ------------------------------------------------------------------------------
class BillListOut(Schema):
    id: int
    community_id: int
    community_name: str
    house_id: int
    house: str = Field(description="The house's address.")
    fee_item_id: int
    fee_item_name: str
    origin: OriginValue
    period_start: datetime.date
    period_end: datetime.date
    amount: Decimal = Field(description="As issued; never edited afterwards.")
    adjusted_amount: Decimal = Field(description="Approved adjustments (credit notes negative).")
    paid_amount: Decimal
    balance: Decimal = Field(description="amount + adjusted_amount − paid_amount.")
    due_date: datetime.date
    status: BillStatusValue
    overdue: bool = Field(description="Still owed and the due date has passed.")

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name

    @staticmethod
    def resolve_house(obj) -> str:
        return _house_label(obj.house)

    @staticmethod
    def resolve_fee_item_name(obj) -> str:
        return obj.fee_item.name

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return obj.status in Bill.UNSETTLED and obj.due_date < timezone.localdate()


class AdjustmentOut(Schema):
    id: int
    kind: Literal["credit", "debit"]
    amount: Decimal
    reason: str
    status: Literal["pending", "approved", "rejected"]
    created_at: datetime.datetime
    decided_at: datetime.datetime | None


class BillAllocationOut(Schema):
    payment_id: int
    receipt_no: str
    received_at: datetime.datetime
    amount: Decimal
    refunded_amount: Decimal

    @staticmethod
    def resolve_receipt_no(obj) -> str:
        return obj.payment.receipt_no

    @staticmethod
    def resolve_received_at(obj) -> datetime.datetime:
        return obj.payment.received_at


class BillOut(BillListOut):
    run_id: int | None
    reference: str = Field(description="One-off charges: what they are for, e.g. workorder:42.")
    detail: dict[str, Any] = Field(
        description="How the amount came about: area or usage, the unit price and days "
        "charged of each month, tiers, the exact amount before rounding and the rounding "
        "mode (keys depend on the fee item's kind)."
    )
    adjustments: list[AdjustmentOut] = Field(description="Oldest first.")
    allocations: list[BillAllocationOut] = Field(description="Payments applied to this bill.")
    created_at: datetime.datetime

    @staticmethod
    def resolve_adjustments(obj) -> list:
        return list(obj.adjustments.all())

    @staticmethod
    def resolve_allocations(obj) -> list:
        return list(obj.allocations.all())


class BillFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    house: Id | None = Field(None, description="House id.")
    fee_item: Id | None = Field(None, description="Fee item id.")
    status: BillStatusValue | None = None
    overdue: bool = Field(False, description="Only bills still owed past their due date.")
    period: datetime.date | None = Field(
        None, description="Any day of a month: bills whose period includes that month."
    )


# --- arrears ----------------------------------------------------------------------------
class ArrearsOut(Schema):
    id: int = Field(description="The community's id.")
    name: str
    total: Money = Field(description="Overdue balance.")
    houses: int = Field(description="Houses owing.")
    bills: int
    buckets: dict[str, Money] = Field(
        description="Overdue balance by days overdue: "
        # From the day bounds, not the labels: those are translated, the schema is not.
        + ", ".join(
            f"{key} ({low}–{high} days)" if high else f"{key} (over {low - 1} days)"
            for key, _label, low, high in BUCKETS
        )
        + "."
    )

    @staticmethod
    def resolve_buckets(obj) -> dict:
        return {key: amount for (key, *_rest), amount in zip(BUCKETS, obj["buckets"], strict=True)}


class ArrearsFilters(Schema):
    as_of: datetime.date | None = Field(None, description="The day looked at; today if empty.")
    community: Id | None = Field(None, description="Community id.")


# --- payments ---------------------------------------------------------------------------
class PaymentIn(InputSchema):
    house_id: Id
    amount: Decimal = Field(
        gt=0, le=MAX_MONEY, description="Yuan with at most two decimals, e.g. 120.50."
    )
    method: CounterMethod
    bill_ids: BillIds | None = Field(
        None,
        description="The bills to pay; empty: all the house's unsettled bills. Oldest due "
        "date first either way; what is left goes to the house's prepaid balance (预存).",
    )
    payer: str = Field("", max_length=50, pattern=NO_NUL)
    reference: str = Field("", max_length=64, pattern=NO_NUL, description="Bank or POS slip.")
    use_prepaid: bool = Field(False, description="Pay from the prepaid balance first.")


class AllocationOut(Schema):
    bill_id: int
    fee_item_name: str
    period_start: datetime.date
    amount: Decimal
    refunded_amount: Decimal

    @staticmethod
    def resolve_fee_item_name(obj) -> str:
        return obj.bill.fee_item.name

    @staticmethod
    def resolve_period_start(obj) -> datetime.date:
        return obj.bill.period_start


class PaymentListOut(Schema):
    id: int
    receipt_no: str = Field(description="SJ-<company>-<YYYYMM>-<nnnnnn>, gapless per month.")
    community_id: int
    house_id: int
    house: str
    payer: str
    method: MethodValue
    amount: Decimal
    refunded_amount: Decimal
    status: PaymentStatusValue
    received_at: datetime.datetime

    @staticmethod
    def resolve_house(obj) -> str:
        return _house_label(obj.house)


class PaymentOut(PaymentListOut):
    reference: str
    received_by_name: str | None
    allocations: list[AllocationOut]
    to_prepaid: Decimal = Field(description="What went to the house's prepaid balance.")

    @staticmethod
    def resolve_received_by_name(obj) -> str | None:
        return obj.received_by.display_name if obj.received_by_id else None

    @staticmethod
    def resolve_allocations(obj) -> list:
        return list(obj.allocations.all())

    @staticmethod
    def resolve_to_prepaid(obj) -> Decimal:
        # Not what a later waiver gave back from a bill (those deposits name the bill).
        entries = obj.prepaid_entries.all()
        return sum((e.amount for e in entries if e.amount > 0 and e.bill_id is None), Decimal("0"))


class PaymentFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    house: Id | None = Field(None, description="House id.")
    method: MethodValue | None = None


class OnlinePaymentIn(InputSchema):
    bill_ids: BillIds = Field(description="Unsettled bills of one of your houses.")


class OnlinePaymentOut(Schema):
    id: int
    out_trade_no: str = Field(description="Our order number at the provider.")
    provider: str
    house_id: int
    bill_ids: list[int]
    amount: Decimal = Field(description="What the bills still owe.")
    status: OrderStatusValue
    pay_params: dict[str, str] = Field(
        description="Hand these to the provider's cashier (WeChat Pay / Alipay / sandbox)."
    )


# --- meter readings ---------------------------------------------------------------------
class MeterReadingIn(InputSchema):
    house_id: Id
    fee_item_id: Id = Field(description="A metered fee item of the house's community.")
    reading_date: datetime.date
    value: Decimal = Field(description="The meter's reading, at most two decimals.")
    replaced: bool = Field(False, description="The meter was replaced since the last reading.")
    start_value: Decimal | None = Field(
        None, description="With replaced: the new meter's reading when it was fitted."
    )


class MeterReadingOut(Schema):
    id: int
    house_id: int
    fee_item_id: int
    reading_date: datetime.date
    value: Decimal
    previous: Decimal = Field(description="The reading usage counts from.")
    usage: Decimal
    replaced: bool
    needs_review: bool = Field(
        description="Usage far above the house's usual: bill runs skip it until confirmed."
    )
    review_note: str
    created_at: datetime.datetime


# --- bill runs --------------------------------------------------------------------------
class RunIn(InputSchema):
    community_id: Id | None = Field(
        None, description="Empty: the whole company (company-wide finance only)."
    )
    period_kind: CycleValue = Field(description="month, quarter or year.")
    period_start: datetime.date = Field(description="The first day of the month, quarter or year.")


class RunItemOut(Schema):
    fee_item_id: int
    code: str
    name: str
    bills: int
    amount: Decimal


class RunEventOut(Schema):
    kind: str
    actor_name: str | None
    from_state: str
    to_state: str
    payload: dict[str, Any]
    at: datetime.datetime

    @staticmethod
    def resolve_actor_name(obj) -> str | None:
        return obj.actor.display_name if obj.actor_id else None


class RunOut(Schema):
    id: int
    company_id: int
    community_id: int | None
    period_kind: CycleValue
    period_start: datetime.date
    period_end: datetime.date
    state: RunStateValue = Field(
        description="previewed → queued → issuing → issued (in the background); failed "
        "runs are resumed by issuing again."
    )
    bills_planned: int
    amount_planned: Decimal
    items: list[RunItemOut] = Field(description="The preview per fee item.")
    lines_done: int = Field(description="Progress while issuing: lines done of bills_planned.")
    bills_created: int
    bills_skipped: int = Field(description="Bills that existed already (a rerun).")
    amount_issued: Decimal
    error: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    events: list[RunEventOut]

    @staticmethod
    def resolve_items(obj) -> list:
        return [
            {"fee_item_id": int(item_id), **row}
            for item_id, row in obj.preview.get("items", {}).items()
        ]

    @staticmethod
    def resolve_events(obj) -> list:
        return list(obj.events.all())
