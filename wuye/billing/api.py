"""``/api/v1/billing`` — fee items, bills with how each amount came about, arrears per
community, payments at the counter and online, meter readings, and bill runs (preview,
then issue).

Reads are scoped with the models' ``visible_to`` (billing staff by community, residents
their own houses); writes call ``wuye.billing.payments``, ``meters`` and ``runs``. An
amount or reading the services refuse is a 400 naming the field; nothing is written.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wuye.billing import meters, money, payments, runs, selectors
from wuye.billing.models import (
    Allocation,
    Bill,
    BillRun,
    FeeItem,
    Payment,
)
from wuye.billing.schemas import (
    ArrearsFilters,
    ArrearsOut,
    BillFilters,
    BillListOut,
    BillOut,
    FeeItemFilters,
    FeeItemOut,
    MeterReadingIn,
    MeterReadingOut,
    OnlinePaymentIn,
    OnlinePaymentOut,
    PaymentFilters,
    PaymentIn,
    PaymentListOut,
    PaymentOut,
    RunIn,
    RunOut,
)
from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    actor,
    visible_ref,
)
from wuye.core.idempotency import HEADER, idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.estates.models import Community, House

router = Router(tags=["billing"])

# The services name the related objects; the API's fields are their ids.
REF_FIELDS = {"house": "house_id", "fee_item": "fee_item_id", "community": "community_id"}
# Payment.idempotency_key holds at most this many characters.
MAX_PAYMENT_KEY = 100


@contextmanager
def _id_field_names():
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, api_field in REF_FIELDS.items():
                if field in exc.error_dict:
                    exc.error_dict[api_field] = exc.error_dict.pop(field)
        raise


# --- read helpers -----------------------------------------------------------------------
HOUSE = ("house__community", "house__building", "house__unit")


def _bills():
    return Bill.objects.select_related("community", "fee_item", *HOUSE)


def _bill_detail():
    allocations = Allocation.objects.select_related("payment").order_by("id")
    return _bills().prefetch_related("adjustments", Prefetch("allocations", queryset=allocations))


def _payments():
    return Payment.objects.select_related(*HOUSE)


def _payment_detail():
    allocations = Allocation.objects.select_related("bill__fee_item").order_by("id")
    return (
        _payments()
        .select_related("received_by")
        .prefetch_related(Prefetch("allocations", queryset=allocations), "prepaid_entries")
    )


def _run_detail():
    return BillRun.objects.prefetch_related("events__actor")


# --- fee items --------------------------------------------------------------------------
@router.get(
    "/billing/fee-items",
    response={200: list[FeeItemOut], **LIST_ERRORS},
    summary="List fee items (收费项目)",
    description="Fee items of the caller's communities with today's price, for billing "
    "staff; residents get their communities' published price list.",
)
@paginate(IdCursorPagination)
def list_fee_items(request, filters: Query[FeeItemFilters]):
    qs = FeeItem.objects.visible_to(actor(request)).select_related("community")
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return selectors.fee_items_with_figures(qs, on=timezone.localdate())


# --- bills ------------------------------------------------------------------------------
@router.get(
    "/billing/bills",
    response={200: list[BillListOut], **LIST_ERRORS},
    summary="List bills",
    description="Newest first (keyset-paginated on id, descending). Billing staff see "
    "their communities' bills; residents the bills of the houses they live in.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_bills(request, filters: Query[BillFilters]):
    qs = _bills().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.house:
        qs = qs.filter(house_id=filters.house)
    if filters.fee_item:
        qs = qs.filter(fee_item_id=filters.fee_item)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = selectors.overdue(qs, timezone.localdate())
    if filters.period:
        month = filters.period.replace(day=1)
        qs = qs.filter(period_start__lte=money.month_end(month), period_end__gte=month)
    return qs


@router.get(
    "/billing/bills/{bill_id}",
    response={200: BillOut, **READ_ERRORS},
    summary="A bill with how its amount came about",
    description="The computation (area or usage, prices, days per month, exact amount, "
    "rounding), its adjustments and the payments applied to it.",
)
def get_bill(request, bill_id: Id):
    return get_visible_or_404(_bill_detail(), actor(request), pk=bill_id)


@router.get(
    "/billing/arrears",
    response={200: list[ArrearsOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Arrears per community (欠费账龄)",
    description="Overdue balance of each of the caller's communities on a day, by days "
    "overdue (1–30, 31–60, 61–90, 91–180, over 180), largest first; billing.view.",
)
def list_arrears(request, filters: Query[ArrearsFilters]):
    who = actor(request)
    require(who, "billing.view")
    bills = Bill.objects.visible_to(who)
    if filters.community:
        bills = bills.filter(community_id=filters.community)
    return selectors.aging(bills, as_of=filters.as_of or timezone.localdate(), by="community")


# --- payments ---------------------------------------------------------------------------
def _payment_key(request) -> str:
    """The request's Idempotency-Key, also kept on the payment: a second counter sending
    the same key gets the first payment back."""
    key = (request.headers.get(HEADER) or "").strip()
    if len(key) > MAX_PAYMENT_KEY:
        raise ValidationError(
            {HEADER: _("Use at most %(max)d characters.") % {"max": MAX_PAYMENT_KEY}}
        )
    return key


@router.post(
    "/billing/payments",
    response={201: PaymentOut, **WRITE_ERRORS},
    summary="Collect a payment at the counter (收款)",
    description="billing.collect in the house's community. The money goes to the chosen "
    "bills (or all unsettled ones) oldest due first, the rest to the prepaid balance. "
    "Send an Idempotency-Key: a retry returns the first payment and writes nothing.",
)
@idempotent
def collect_payment(request, payload: PaymentIn):
    who = actor(request)
    house = visible_ref(House.objects, who, payload.house_id, "house_id")
    key = _payment_key(request)
    payment = payments.collect(
        actor=who,
        house=house,
        amount=payload.amount,
        method=payload.method,
        bill_ids=payload.bill_ids,
        payer=payload.payer,
        reference=payload.reference,
        idempotency_key=key,
        use_prepaid=payload.use_prepaid,
    )
    if key and (payment.house_id != house.pk or payment.amount != payload.amount):
        raise ValidationError(
            {HEADER: _("This Idempotency-Key was already used for a different payment.")}
        )
    return Status(201, _payment_detail().get(pk=payment.pk))


@router.get(
    "/billing/payments",
    response={200: list[PaymentListOut], **LIST_ERRORS},
    summary="List payments",
    description="Newest first. Billing staff see their communities' payments; residents "
    "their houses'.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_payments(request, filters: Query[PaymentFilters]):
    qs = _payments().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.house:
        qs = qs.filter(house_id=filters.house)
    if filters.method:
        qs = qs.filter(method=filters.method)
    return qs


@router.get(
    "/billing/payments/{payment_id}",
    response={200: PaymentOut, **READ_ERRORS},
    summary="A payment with its allocations and receipt number",
)
def get_payment(request, payment_id: Id):
    return get_visible_or_404(_payment_detail(), actor(request), pk=payment_id)


@router.post(
    "/billing/online-payments",
    response={201: OnlinePaymentOut, **WRITE_ERRORS},
    summary="Start an online payment (resident)",
    description="A resident pays unsettled bills of one of their houses: returns the "
    "provider order and the parameters for the provider's cashier. The bills are paid "
    "when the provider's signed notification arrives.",
)
@idempotent
def start_online_payment(request, payload: OnlinePaymentIn):
    order, pay_params = payments.start_online_payment(
        actor=actor(request), bill_ids=payload.bill_ids
    )
    order.pay_params = pay_params
    return Status(201, order)


# --- meter readings ---------------------------------------------------------------------
@router.post(
    "/billing/meter-readings",
    response={201: MeterReadingOut, **WRITE_ERRORS},
    summary="Record a meter reading (抄表)",
    description="billing.meters in the house's community. A reading lower than the last "
    "is refused unless the meter was replaced; a usage over 3× the house's usual is kept "
    "but held for review (needs_review).",
)
@idempotent
def record_meter_reading(request, payload: MeterReadingIn):
    who = actor(request)
    house = visible_ref(House.objects, who, payload.house_id, "house_id")
    fee_item = FeeItem.objects.filter(pk=payload.fee_item_id, community_id=house.community_id)
    if not fee_item.exists():
        raise ValidationError({"fee_item_id": _("Choose a metered fee item of this community.")})
    with _id_field_names():
        reading = meters.record_reading(
            actor=who,
            house=house,
            fee_item=fee_item.get(),
            reading_date=payload.reading_date,
            value=payload.value,
            replaced=payload.replaced,
            start_value=payload.start_value,
        )
    return Status(201, reading)


# --- bill runs --------------------------------------------------------------------------
@router.get(
    "/billing/runs",
    response={200: list[RunOut], **LIST_ERRORS},
    summary="List bill runs (出账)",
    description="Newest first; billing.view or billing.manage.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_runs(request):
    return _run_detail().visible_to(actor(request))


@router.post(
    "/billing/runs",
    response={201: RunOut, **WRITE_ERRORS},
    summary="Preview a bill run",
    description="billing.manage. Computes every bill the period would get, per fee item "
    "and in total, with the same code that issues; nothing is billed yet. A period "
    "already issued for the scope is refused.",
)
@idempotent
def preview_run(request, payload: RunIn):
    who = actor(request)
    community = visible_ref(Community.objects, who, payload.community_id, "community_id")
    with _id_field_names():
        run = runs.preview_run(
            actor=who,
            period_kind=payload.period_kind,
            period_start=payload.period_start,
            community=community,
            company=who.staff.company if community is None and who.staff else None,
        )
    return Status(201, _run_detail().get(pk=run.pk))


@router.get("/billing/runs/{run_id}", response={200: RunOut, **READ_ERRORS})
def get_run(request, run_id: Id):
    return get_visible_or_404(_run_detail(), actor(request), pk=run_id)


@router.post(
    "/billing/runs/{run_id}/issue",
    response={200: RunOut, **WRITE_ERRORS},
    summary="Issue (or resume) a bill run in the background",
    description="billing.manage in the run's scope. Queues a previewed or failed run and "
    "returns it with state `queued`; the background worker then issues it (state "
    "`issuing`, then `issued`, or `failed` with `error`). Poll `GET /billing/runs/{run_id}` "
    "for progress: `lines_done` of `bills_planned`; `bills_created` and `amount_issued` are "
    "set when it is issued. The worker writes the bills in batches; a failed run resumes "
    "from its checkpoint when issued again and bills already there are skipped. Houses "
    "with a prepaid balance pay their new bills from it. A run already queued, issuing or "
    "issued is refused (400).",
)
def issue_run(request, run_id: Id):
    who = actor(request)
    run = get_visible_or_404(BillRun.objects.select_related("company", "community"), who, pk=run_id)
    runs.queue_run(actor=who, run=run)
    return _run_detail().get(pk=run.pk)
