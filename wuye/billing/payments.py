"""Payments (收款): collecting money at the counter or online, allocating it to bills,
prepaid balances (预存), refunds with approval and receipt numbers.

Rules:

- a payment goes to the chosen bills (or all the house's unsettled bills), oldest due
  date first, bills due the same day per the company's ``allocation_tie``
  (``wuye.billing.money.allocate``); never more than a bill's balance; the rest is a
  deposit on the house's general prepaid account;
- a bill's ``paid_amount`` = Σ its allocations (net of refunds) + Σ prepaid deductions
  for it − Σ what a later credit gave back to 预存 (``return_to_prepaid``: deposits that
  name the bill); a prepaid account's ``balance`` = Σ its entries;
- receipt numbers ``SJ-<COMPANY>-<YYYYMM>-<nnnnnn>`` come from a per-company-per-month
  counter row locked for the transaction: unique and without gaps (this serialises a
  company's payments of a month; each holds the lock for one short transaction);
- locks are taken in one order everywhere: receipt counter, bills (by id), prepaid
  accounts (by id), so concurrent payments wait instead of deadlocking;
- an ``idempotency_key`` seen before (per company) returns the first payment and
  writes nothing.
"""

import uuid
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing.models import (
    Allocation,
    Bill,
    Payment,
    PrepaidAccount,
    PrepaidEntry,
    ProviderOrder,
    ReceiptCounter,
    Refund,
)
from wuye.billing.money import CENT, ZERO, allocate
from wuye.billing.services import policy_for, status_for
from wuye.core.services import require
from wuye.webhooks.payloads import payment_received

COLLECT = "billing.collect"
MANAGE = "billing.manage"


def require_in_community(actor, perm: str, community) -> None:
    require(actor, perm)
    if community.id not in actor.community_ids:
        raise PermissionDenied(perm)


def clean_amount(amount) -> Decimal:
    """A positive amount in whole fen; floats are refused (money is Decimal)."""
    message = _("Enter an amount above zero with at most two decimals.")
    if isinstance(amount, float):
        raise ValidationError({"amount": message})
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"amount": message}) from exc
    if not value.is_finite() or value <= 0 or value != value.quantize(CENT):
        raise ValidationError({"amount": message})
    return value.quantize(CENT)


def _bill_id_list(bill_ids) -> list[int]:
    try:
        return sorted({int(bill_id) for bill_id in bill_ids})
    except (TypeError, ValueError) as exc:
        raise ValidationError({"bill_ids": _("Bills are given by their numbers.")}) from exc


# --- receipt numbers -------------------------------------------------------------------


def next_receipt_no(company, at) -> str:
    """The next receipt number of ``company`` in the month of ``at`` (locks the counter
    until the transaction ends)."""
    month = timezone.localdate(at).replace(day=1)
    counter, _created = ReceiptCounter.objects.get_or_create(company=company, month=month)
    counter = ReceiptCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"SJ-{company.code.upper()}-{month:%Y%m}-{counter.last_number:06d}"


# --- bills and prepaid accounts -------------------------------------------------------


def _lock_bills(house, bill_ids, skip_void: bool = False) -> list[Bill]:
    """The house's unsettled bills to pay, locked, oldest due date first. Chosen bills of
    another house (or company) are refused by number, and so are void ones unless
    ``skip_void`` (money the provider confirmed for a bill voided since)."""
    if bill_ids is None:
        locked = Bill.objects.select_for_update().filter(house=house).unsettled().order_by("id")
        return sorted(locked, key=lambda bill: (bill.due_date, bill.id))
    ids = _bill_id_list(bill_ids)
    found = {bill.id: bill for bill in Bill.objects.select_for_update().filter(pk__in=ids)}
    for bill_id in ids:
        bill = found.get(bill_id)
        if bill is None or bill.house_id != house.id:
            raise ValidationError(
                {"bill_ids": _("Bill %(id)s is not a bill of this house.") % {"id": bill_id}}
            )
        if bill.status == Bill.Status.VOID and not skip_void:
            raise ValidationError({"bill_ids": _("Bill %(id)s is void.") % {"id": bill_id}})
    unsettled = [found[i] for i in ids if found[i].status in Bill.UNSETTLED]
    return sorted(unsettled, key=lambda bill: (bill.due_date, bill.id))


def _add_paid(bill: Bill, amount: Decimal) -> None:
    """Move a locked bill's paid amount (negative: a refund) and its status with it."""
    bill.paid_amount += amount
    bill.status = status_for(bill.payable, bill.paid_amount)
    bill.save(update_fields=["paid_amount", "status", "updated_at"])


def _lock_account(house, fee_item_id=None) -> PrepaidAccount:
    account, _created = PrepaidAccount.objects.get_or_create(
        house=house,
        fee_item_id=fee_item_id,
        defaults={"company_id": house.company_id, "community_id": house.community_id},
    )
    return PrepaidAccount.objects.select_for_update().get(pk=account.pk)


def _post(account: PrepaidAccount, kind: str, amount: Decimal, *, at, payment=None, bill=None):
    PrepaidEntry.objects.create(
        account=account, kind=kind, amount=amount, payment=payment, bill=bill, at=at
    )
    account.balance += amount
    account.save(update_fields=["balance", "updated_at"])


def _deduct(house, bills: list[Bill], at) -> Decimal:
    """Apply the house's prepaid balances to locked ``bills`` (oldest due first): each
    fee item's own account to that item's bills, then the general account to the rest."""
    accounts = list(
        PrepaidAccount.objects.select_for_update().filter(house=house, balance__gt=0).order_by("id")
    )
    # Earmarked money first, so general money stays available for other bills.
    accounts.sort(key=lambda account: account.fee_item_id is None)
    tie = policy_for(house.company).allocation_tie
    by_id = {bill.id: bill for bill in bills}
    total = ZERO
    for account in accounts:
        eligible = [
            bill
            for bill in bills
            if bill.balance > 0 and account.fee_item_id in (None, bill.fee_item_id)
        ]
        for part in allocate(account.balance, eligible, tie=tie):
            bill = by_id[part.bill_id]
            _post(account, PrepaidEntry.Kind.DEDUCTION, -part.amount, at=at, bill=bill)
            _add_paid(bill, part.amount)
            total += part.amount
    return total


@transaction.atomic
def deduct_prepaid(*, house, at=None) -> Decimal:
    """Pay the house's unsettled bills from its prepaid balance, oldest due date first;
    returns the amount deducted. Run after new bills are issued (``deduct_after_run``)."""
    bills = _lock_bills(house, None)
    if not bills:
        return ZERO
    return _deduct(house, bills, at or timezone.now())


def return_to_prepaid(bill: Bill, amount: Decimal, *, at) -> None:
    """Give ``amount`` of what a locked bill has been paid back to the house's prepaid
    balance (预存): a credit granted after payment (a waiver's 减免) leaves money on the
    bill that is no longer owed. Prepaid deductions for the bill go back to the account
    they came from first, then payments, newest first, to the general account. Each
    return is a deposit naming the bill (and the payment the money came from), so the
    ledgers still add up (paid = allocations + deductions − returns), a refund of that
    payment finds the money on the prepaid account, and the payment's receipt still
    shows what it paid when it was made."""
    left = amount
    deducted = dict(
        PrepaidEntry.objects.filter(bill=bill, payment__isnull=True)
        .values("account_id")
        .annotate(net=Sum("amount"))
        .values_list("account_id", "net")
    )
    allocations = list(bill.allocations.select_related("payment").order_by("-id"))
    general = None
    if allocations:
        general, _created = PrepaidAccount.objects.get_or_create(
            house_id=bill.house_id,
            fee_item=None,
            defaults={"company_id": bill.company_id, "community_id": bill.community_id},
        )
    ids = [*deducted, *([general.pk] if general else [])]
    accounts = PrepaidAccount.objects.select_for_update().filter(pk__in=ids).order_by("id")
    locked = {account.pk: account for account in accounts}  # in id order: the lock order
    for account_id, net in sorted(deducted.items()):
        take = min(-net, left)
        if take > 0:
            _post(locked[account_id], PrepaidEntry.Kind.DEPOSIT, take, at=at, bill=bill)
            left -= take
    general = locked.get(general.pk) if general else None
    returned = _returned(bill.prepaid_entries.filter(payment__isnull=False), "payment_id")
    for allocation in allocations:
        net = allocation.amount - allocation.refunded_amount
        take = min(net - returned.get(allocation.payment_id, ZERO), left)
        if take > 0:
            _post(
                general,
                PrepaidEntry.Kind.DEPOSIT,
                take,
                at=at,
                payment=allocation.payment,
                bill=bill,
            )
            left -= take
    if left > 0:
        raise ValidationError(_("Less than that has been paid on this bill."))
    _add_paid(bill, -amount)


def _returned(entries, key: str) -> dict:
    """Deposits that gave a paid bill's money back to 预存 (``return_to_prepaid``), summed
    by ``key``."""
    rows = entries.filter(kind=PrepaidEntry.Kind.DEPOSIT, bill__isnull=False).values(key)
    return dict(rows.annotate(s=Sum("amount")).values_list(key, "s"))


def deduct_after_run(run) -> int:
    """Prepaid auto-deduction for the houses that got bills in ``run`` and have a prepaid
    balance (one short transaction per house); returns the number of houses paid from."""
    houses = (
        PrepaidAccount.objects.filter(
            balance__gt=0, house_id__in=Bill.objects.filter(run=run).values("house_id")
        )
        .select_related("house__company")
        .order_by("house_id")
    )
    paid = 0
    for house in {account.house_id: account.house for account in houses}.values():
        paid += deduct_prepaid(house=house) > 0
    return paid


# --- collecting -----------------------------------------------------------------------


def _existing(company_id, key: str) -> Payment | None:
    if not key:
        return None
    return Payment.objects.filter(company_id=company_id, idempotency_key=key).first()


def record_payment(
    *,
    house,
    amount: Decimal,
    method: str,
    received_by=None,
    bill_ids=None,
    payer: str = "",
    reference: str = "",
    idempotency_key: str = "",
    use_prepaid: bool = False,
    skip_void: bool = False,
    at=None,
) -> Payment:
    """The payment itself, after the caller has checked who may take it (a cashier in
    ``collect``, a verified provider notification for online payments). With
    ``skip_void``, chosen bills voided meanwhile are passed over (their share goes to the
    prepaid balance) instead of refusing the money."""
    amount = clean_amount(amount)
    if method not in Payment.Method.values:
        raise ValidationError({"method": _("Choose how the money was paid.")})
    key = (idempotency_key or "").strip()
    at = at or timezone.now()
    with transaction.atomic():
        receipt_no = next_receipt_no(house.company, at)
        # Checked again under the counter lock: a concurrent twin has committed by now.
        first = _existing(house.company_id, key)
        if first is not None:
            transaction.set_rollback(True)  # give the receipt number back
            return first
        bills = _lock_bills(house, bill_ids, skip_void)
        if use_prepaid:
            _deduct(house, bills, at)
        payment = Payment.objects.create(
            company_id=house.company_id,
            community_id=house.community_id,
            house=house,
            payer=(payer or "").strip()[:50],
            method=method,
            amount=amount,
            received_at=at,
            received_by=received_by,
            reference=(reference or "").strip()[:64],
            idempotency_key=key,
            receipt_no=receipt_no,
        )
        tie = policy_for(house.company).allocation_tie
        parts = allocate(amount, bills, tie=tie)
        by_id = {bill.id: bill for bill in bills}
        Allocation.objects.bulk_create(
            Allocation(payment=payment, bill_id=part.bill_id, amount=part.amount) for part in parts
        )
        for part in parts:
            _add_paid(by_id[part.bill_id], part.amount)
        left = amount - sum((part.amount for part in parts), ZERO)
        if left > 0:
            _post(_lock_account(house), PrepaidEntry.Kind.DEPOSIT, left, at=at, payment=payment)
        # webhooks, sent once the payment commits
        payment_received(payment, [(part.bill_id, part.amount) for part in parts])
        return payment


def collect(
    *,
    actor,
    house,
    amount,
    method: str,
    bill_ids=None,
    payer: str = "",
    reference: str = "",
    idempotency_key: str = "",
    use_prepaid: bool = False,
    at=None,
) -> Payment:
    """收款 at the counter (``billing.collect`` in the house's community)."""
    require_in_community(actor, COLLECT, house.community)
    first = _existing(house.company_id, (idempotency_key or "").strip())
    if first is not None:
        return first
    return record_payment(
        house=house,
        amount=amount,
        method=method,
        received_by=actor.user,
        bill_ids=bill_ids,
        payer=payer,
        reference=reference,
        idempotency_key=idempotency_key,
        use_prepaid=use_prepaid,
        at=at,
    )


def start_online_payment(*, actor, bill_ids, provider=None):
    """A resident pays their own unsettled bills of one house online: a provider order
    for what they owe, and the parameters the phone passes to the provider's cashier.
    Returns ``(order, pay_params)``."""
    from wuye.billing.providers import get_provider

    if not actor.is_authenticated or not actor.resident_house_ids:
        raise PermissionDenied(_("Only residents pay their bills online."))
    ids = _bill_id_list(bill_ids)
    if not ids:
        raise ValidationError({"bill_ids": _("Choose the bills to pay.")})
    bills = {bill.id: bill for bill in Bill.objects.filter(pk__in=ids).select_related("house")}
    for bill_id in ids:
        bill = bills.get(bill_id)
        if bill is None or bill.house_id not in actor.resident_house_ids:
            raise ValidationError(
                {"bill_ids": _("Bill %(id)s is not one of your bills.") % {"id": bill_id}}
            )
        if bill.status not in Bill.UNSETTLED or bill.balance <= 0:
            raise ValidationError(
                {"bill_ids": _("Bill %(id)s has nothing left to pay.") % {"id": bill_id}}
            )
    if len({bill.house_id for bill in bills.values()}) > 1:
        raise ValidationError({"bill_ids": _("Pay the bills of one house at a time.")})
    house = next(iter(bills.values())).house
    provider = provider or get_provider()
    order = ProviderOrder.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        provider=provider.code,
        out_trade_no=f"WY{uuid.uuid4().hex[:24].upper()}",
        bill_ids=ids,
        amount=sum((bill.balance for bill in bills.values()), ZERO),
        created_by=actor.user,
    )
    return order, provider.create_order(order)


# --- refunds --------------------------------------------------------------------------


def _refundable(payment: Payment) -> Decimal:
    """What is not refunded yet and not already asked for by a pending request."""
    pending = payment.refunds.filter(status=Refund.Status.REQUESTED).aggregate(s=Sum("amount"))
    return payment.amount - payment.refunded_amount - (pending["s"] or ZERO)


@transaction.atomic
def request_refund(*, actor, payment: Payment, amount, reason: str) -> Refund:
    """Ask for (part of) a payment back; someone else with ``billing.manage`` decides."""
    require_in_community(actor, COLLECT, payment.community)
    amount = clean_amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if amount > _refundable(payment):
        raise ValidationError(
            {
                "amount": _("At most %(amount)s of this payment can be refunded.")
                % {"amount": _refundable(payment)}
            }
        )
    return Refund.objects.create(
        company_id=payment.company_id,
        community_id=payment.community_id,
        payment=payment,
        amount=amount,
        reason=reason[:200],
        requested_by=actor.user,
    )


def _lock_requested(actor, refund: Refund) -> Refund:
    require_in_community(actor, MANAGE, refund.community)
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    if locked.status != Refund.Status.REQUESTED:
        raise ValidationError(_("This refund has already been decided."))
    if locked.requested_by_id == actor.user.pk:
        raise ValidationError(_("Someone other than the requester must decide."))
    return locked


def _unspent_deposit(payment: Payment, account: PrepaidAccount) -> Decimal:
    """What this payment put on the prepaid account and is still there."""
    put = payment.prepaid_entries.filter(account=account).aggregate(s=Sum("amount"))["s"]
    return max(ZERO, min(put or ZERO, account.balance))


def _reverse(payment: Payment, amount: Decimal, at) -> None:
    """Take ``amount`` back from the payment: its unspent prepaid deposit first, then its
    allocations newest first (bills go back to partially paid or open)."""
    remaining = amount
    allocations = list(payment.allocations.order_by("-id"))
    # What a waiver's credit gave back to 预存 is no longer on the bill (it is taken from
    # the unspent deposit below, or it was spent).
    returned = _returned(payment.prepaid_entries, "bill_id")
    bills = Bill.objects.select_for_update().filter(pk__in=[a.bill_id for a in allocations])
    bills = {bill.id: bill for bill in bills.order_by("id")}  # bills before accounts
    account = (
        PrepaidAccount.objects.select_for_update()
        .filter(house_id=payment.house_id, fee_item=None)
        .first()
    )
    if account is not None:
        take = min(_unspent_deposit(payment, account), remaining)
        if take > 0:
            _post(account, PrepaidEntry.Kind.REFUND, -take, at=at, payment=payment)
            remaining -= take
    for allocation in allocations:
        net = allocation.amount - allocation.refunded_amount
        take = min(net - returned.get(allocation.bill_id, ZERO), remaining)
        if take <= 0:
            continue
        allocation.refunded_amount += take
        allocation.save(update_fields=["refunded_amount"])
        _add_paid(bills[allocation.bill_id], -take)
        remaining -= take
    if remaining > 0:
        raise ValidationError(
            {
                "amount": _(
                    "Only %(amount)s of this payment is still refundable; the rest was "
                    "spent from the prepaid balance."
                )
                % {"amount": amount - remaining}
            }
        )


@transaction.atomic
def approve_refund(*, actor, refund: Refund) -> Refund:
    """Approve a refund and reverse what the money paid, then pay it out (``pay_refund``)."""
    locked = _lock_requested(actor, refund)
    payment = Payment.objects.select_for_update().get(pk=locked.payment_id)
    now = timezone.now()
    _reverse(payment, locked.amount, now)
    payment.refunded_amount += locked.amount
    payment.status = (
        Payment.Status.REFUNDED
        if payment.refunded_amount == payment.amount
        else Payment.Status.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["refunded_amount", "status"])
    locked.status = Refund.Status.APPROVED
    locked.decided_by = actor.user
    locked.decided_at = now
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


@transaction.atomic
def reject_refund(*, actor, refund: Refund) -> Refund:
    locked = _lock_requested(actor, refund)
    locked.status = Refund.Status.REJECTED
    locked.decided_by = actor.user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    return locked


@transaction.atomic
def pay_refund(*, actor, refund: Refund) -> Refund:
    """Hand an approved refund back: online payments through their provider, the others
    in cash or by transfer (recorded here)."""
    from wuye.billing.providers import get_provider

    require_in_community(actor, COLLECT, refund.community)
    locked = (
        Refund.objects.select_for_update(of=("self",)).select_related("payment").get(pk=refund.pk)
    )
    if locked.status != Refund.Status.APPROVED:
        raise ValidationError(_("Only an approved refund can be paid out."))
    order = ProviderOrder.objects.filter(payment_id=locked.payment_id).first()
    if order is not None:
        locked.provider_refund_id = get_provider(order.provider).refund(order, locked)
    locked.status = Refund.Status.PAID
    locked.paid_at = timezone.now()
    locked.save(update_fields=["status", "paid_at", "provider_refund_id"])
    return locked
