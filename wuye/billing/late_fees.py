"""Late fees (滞纳金) posted as bills, once a month.

``post_late_fees(company=…, as_of=…)`` writes, for every unsettled overdue bill of the
company (not itself a late fee; void and paid bills are not unsettled), one late-fee bill
for the fee accrued up to ``as_of`` that was not posted before:

    accrued = money.late_fee(current balance, due date, as_of, the company's policy)
    posted  = Σ amount of the late-fee bills already written for that bill
    new     = accrued − posted, when above zero

Conventions (also in ``BillingPolicy``'s docstring):

- the principal is the bill's balance on ``as_of`` (amount + adjustments − paid), and the
  late days run from the due date (after the grace period) to ``as_of``; a partial payment
  lowers the principal of every later posting, never a posting already made (a fee
  accrued on a higher balance is not taken back: ``new`` is never negative);
- "posted before" counts every late-fee bill of the bill whatever happened to it since:
  a late fee that was waived (credited or voided) is not charged again next month;
- one posting per bill per month: the reference ``late:<bill id>:<YYYY-MM of as_of>`` is
  unique per company, so a rerun in the same month writes nothing new;
- the bill: origin ``late_fee``, ``source_bill`` the overdue bill, fee item 滞纳金
  (code ``late-fee``, one-off, created in each community the first time it is needed),
  period = ``as_of``, due ``as_of`` + the item's due days (0 unless finance changes it),
  ``detail`` saying how it was computed (principal, days, rate, cap).

The daily task (``wuye.billing.tasks.post_late_fees``) calls ``post_due_late_fees``, which
posts as of the first day of the current month: a daily tick is only there to catch up if
the scheduler was down on the 1st; whichever day of the month it runs, the figures and the
references are those of the 1st, so the month gets one posting per bill. The late fee a
bill runs up after the 1st is posted on the next 1st (the cashier sees it accruing:
``accrued_unposted``).
"""

import dataclasses
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from wuye.billing import money
from wuye.billing.models import Bill, BillingPolicy, FeeItem
from wuye.estates.models import House

LATE_FEE_CODE = "late-fee"
LATE_FEE_NAME = "滞纳金"  # data, like every fee item's name (finance may rename it)
CHUNK = 1000
ZERO = Decimal("0.00")


@dataclasses.dataclass
class Posting:
    as_of: datetime.date
    checked: int = 0  # overdue bills looked at
    posted: int = 0  # late-fee bills written
    amount: Decimal = ZERO  # their total
    already: int = 0  # bills that already had this month's posting


def reference_for(bill_id: int, as_of: datetime.date) -> str:
    return f"late:{bill_id}:{as_of:%Y-%m}"


def _fee(policy: BillingPolicy, principal: Decimal, due_date, as_of) -> tuple[Decimal, int]:
    days = money.late_days(
        due_date,
        as_of,
        grace_days=policy.late_fee_grace_days,
        count_from=policy.late_fee_from,
        payment_day_counts=policy.late_fee_payment_day_counts,
    )
    fee = money.late_fee(
        principal,
        due_date,
        as_of,
        daily_rate=policy.late_fee_daily_rate,
        grace_days=policy.late_fee_grace_days,
        cap_ratio=policy.late_fee_cap_ratio,
        count_from=policy.late_fee_from,
        payment_day_counts=policy.late_fee_payment_day_counts,
        rounding=policy.rounding,
    )
    return fee, days


def _candidates(company_id: int, policy: BillingPolicy, as_of: datetime.date):
    """Unsettled bills that may be late on ``as_of`` (a superset: the grace period and the
    payment-day rule are applied per bill), oldest id first."""
    latest_due = as_of - datetime.timedelta(days=policy.late_fee_grace_days)
    return (
        Bill.objects.filter(
            company_id=company_id, status__in=Bill.UNSETTLED, due_date__lt=latest_due
        )
        .exclude(origin=Bill.Origin.LATE_FEE)
        .order_by("id")
    )


def posted_before(bill_ids: Iterable[int]) -> dict[int, Decimal]:
    """Σ amount of the late-fee bills written for each of ``bill_ids`` (every status)."""
    rows = (
        Bill.objects.filter(source_bill_id__in=list(bill_ids), origin=Bill.Origin.LATE_FEE)
        .order_by()
        .values("source_bill_id")
        .annotate(total=Sum("amount"))
    )
    # SQLite hands sums back unscaled (Decimal("8")): to the fen, as the bills say.
    return {row["source_bill_id"]: Decimal(row["total"]).quantize(money.CENT) for row in rows}


def late_fee_items(company_id: int, community_ids: Iterable[int]) -> dict[int, FeeItem]:
    """The 滞纳金 fee item of each community, created where it is missing."""
    wanted = set(community_ids)
    found = {
        item.community_id: item
        for item in FeeItem.objects.filter(community_id__in=wanted, code=LATE_FEE_CODE)
    }
    missing = wanted - set(found)
    if missing:
        FeeItem.objects.bulk_create(
            [
                FeeItem(
                    company_id=company_id,
                    community_id=community_id,
                    code=LATE_FEE_CODE,
                    name=LATE_FEE_NAME,
                    kind=FeeItem.Kind.ONE_OFF,
                    house_kinds=list(House.Kind.values),
                    due_days=0,
                )
                for community_id in sorted(missing)
            ],
            ignore_conflicts=True,  # a concurrent run made it: use theirs
        )
        found |= {
            item.community_id: item
            for item in FeeItem.objects.filter(community_id__in=missing, code=LATE_FEE_CODE)
        }
    return found


def _detail(policy, bill, principal, days, accrued, before, amount, as_of) -> dict:
    return {
        "kind": "late_fee",
        "source_bill": bill.pk,
        "principal": str(principal),
        "due_date": bill.due_date.isoformat(),
        "as_of": as_of.isoformat(),
        "days": days,
        "daily_rate": str(policy.late_fee_daily_rate),
        "grace_days": policy.late_fee_grace_days,
        "count_from": policy.late_fee_from,
        "payment_day_counts": policy.late_fee_payment_day_counts,
        "cap_ratio": str(policy.late_fee_cap_ratio),
        "cap": str(money.round_money(principal * policy.late_fee_cap_ratio, policy.rounding)),
        "capped": principal * policy.late_fee_daily_rate * days
        > principal * policy.late_fee_cap_ratio,
        "rounding": policy.rounding,
        "accrued": str(accrued),
        "posted_before": str(before),
        "amount": str(amount),
    }


def post_late_fees(*, company, as_of: datetime.date) -> Posting:
    """Post the late fees of ``company``'s overdue bills accrued up to ``as_of`` (see the
    module docstring). Nothing when the company's policy has late fees off."""
    result = Posting(as_of=as_of)
    policy = policy_of(company.pk)
    if policy is None or not policy.late_fee_enabled:
        return result
    company_id = company.pk
    batch: list[Bill] = []
    for bill in _candidates(company_id, policy, as_of).iterator(chunk_size=CHUNK):
        batch.append(bill)
        if len(batch) == CHUNK:
            _post_chunk(policy, company_id, batch, as_of, result)
            batch = []
    if batch:
        _post_chunk(policy, company_id, batch, as_of, result)
    return result


@transaction.atomic
def _post_chunk(policy, company_id, bills: list[Bill], as_of, result: Posting) -> None:
    result.checked += len(bills)
    references = {bill.pk: reference_for(bill.pk, as_of) for bill in bills}
    done = set(
        Bill.objects.filter(company_id=company_id, reference__in=references.values()).values_list(
            "reference", flat=True
        )
    )
    result.already += len(done)
    todo = [bill for bill in bills if references[bill.pk] not in done]
    before = posted_before(bill.pk for bill in todo)
    new: list[Bill] = []
    for bill in todo:
        principal = bill.balance
        accrued, days = _fee(policy, principal, bill.due_date, as_of)
        already = before.get(bill.pk, ZERO)
        amount = accrued - already
        if amount <= 0:
            continue
        new.append(
            Bill(
                company_id=company_id,
                community_id=bill.community_id,
                house_id=bill.house_id,
                origin=Bill.Origin.LATE_FEE,
                source_bill=bill,
                reference=references[bill.pk],
                period_start=as_of,
                period_end=as_of,
                amount=amount,
                due_date=as_of,  # moved by the item's due days below
                detail=_detail(policy, bill, principal, days, accrued, already, amount, as_of),
            )
        )
    if not new:
        return
    items = late_fee_items(company_id, {bill.community_id for bill in new})
    for bill in new:
        item = items[bill.community_id]
        bill.fee_item = item
        bill.due_date = as_of + datetime.timedelta(days=item.due_days)
    # A concurrent run of the same month may have written some: the unique reference keeps
    # one of each, and theirs stands.
    Bill.objects.bulk_create(new, batch_size=CHUNK, ignore_conflicts=True)
    result.posted += len(new)
    result.amount += sum((bill.amount for bill in new), ZERO)


def post_due_late_fees(today: datetime.date | None = None) -> int:
    """Every company with late fees on: post this month's late fees (as of its 1st).
    Returns the number of late-fee bills written."""
    as_of = (today or timezone.localdate()).replace(day=1)
    posted = 0
    for policy in BillingPolicy.objects.filter(late_fee_enabled=True).select_related("company"):
        posted += post_late_fees(company=policy.company, as_of=as_of).posted
    return posted


def policy_of(company_id: int) -> BillingPolicy | None:
    """The company's policy if it has one (a read: ``services.policy_for`` creates it)."""
    return BillingPolicy.objects.filter(company_id=company_id).first()


def accrued_unposted(
    policy: BillingPolicy | None, bills: Iterable[Bill], as_of: datetime.date
) -> dict[int, Decimal]:
    """For the cashier: the late fee each overdue bill has run up by ``as_of`` and that is
    not posted as a bill yet (posted on the next 1st). Late-fee bills themselves and bills
    with nothing accrued are left out; empty when late fees are off."""
    if policy is None or not policy.late_fee_enabled:
        return {}
    bills = [b for b in bills if b.origin != Bill.Origin.LATE_FEE and b.due_date < as_of]
    before = posted_before(b.pk for b in bills) if bills else {}
    found = {}
    for bill in bills:
        accrued, _days = _fee(policy, bill.balance, bill.due_date, as_of)
        extra = accrued - before.get(bill.pk, ZERO)
        if extra > 0:
            found[bill.pk] = extra
    return found
