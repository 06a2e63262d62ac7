"""Writes of the billing domain: the company's billing policy, fee items and their prices,
计费起止 (start/stop charging a house), one-off charges and adjustments of issued bills.

Every function takes ``actor=`` and checks ``billing.manage`` in the community concerned
(company-wide finance: every community of the company). Bill runs are in
``wuye.billing.runs``.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing.models import Adjustment, Bill, BillingPolicy, Charging, FeeItem, FeeRate
from wuye.billing.money import add_months, late_fee
from wuye.core.services import full_clean, require
from wuye.estates.models import House

MANAGE = "billing.manage"


def require_community(actor, community) -> None:
    """``billing.manage`` in ``community`` (company-wide roles: any of their company)."""
    require(actor, MANAGE)
    if community.id not in actor.community_ids:
        raise PermissionDenied(MANAGE)


def policy_for(company) -> BillingPolicy:
    """The company's billing policy, created with the documented defaults on first use."""
    policy, _created = BillingPolicy.objects.get_or_create(company=company)
    return policy


def default_house_kinds(kind: str) -> list[str]:
    """Parking fees apply to parking spaces; everything else to flats, shops and offices."""
    if kind == FeeItem.Kind.PARKING:
        return [House.Kind.PARKING]
    return [House.Kind.RESIDENCE, House.Kind.SHOP, House.Kind.OFFICE]


def _new_rate(*, actor, fee_item, effective_from, unit_price, multiplier, tiers) -> FeeRate:
    rate = FeeRate(
        fee_item=fee_item,
        effective_from=effective_from,
        unit_price=unit_price,
        multiplier=Decimal("1") if multiplier is None else multiplier,
        tiers=tiers or [],
        created_by=actor.user if actor.is_authenticated else None,
    )
    full_clean(rate, exclude=["fee_item"])
    rate.save()
    return rate


@transaction.atomic
def create_fee_item(
    *,
    actor,
    community,
    code: str,
    name: str,
    kind: str,
    unit_price: Decimal,
    effective_from: datetime.date,
    multiplier: Decimal | None = None,
    tiers: list | None = None,
    house_kinds: list[str] | None = None,
    **fields,
) -> FeeItem:
    """A fee item with its first price, and (for periodic items) charging rows from
    ``effective_from`` for every house of the community of the kinds it applies to."""
    require_community(actor, community)
    item = FeeItem(
        company_id=community.company_id,
        community=community,
        code=(code or "").strip(),
        name=(name or "").strip(),
        kind=kind,
        house_kinds=house_kinds or default_house_kinds(kind),
        **fields,
    )
    full_clean(item)
    item.save()
    _new_rate(
        actor=actor,
        fee_item=item,
        effective_from=effective_from,
        unit_price=unit_price,
        multiplier=multiplier,
        tiers=tiers,
    )
    if item.is_periodic:
        houses = House.objects.filter(community=community, kind__in=item.house_kinds)
        Charging.objects.bulk_create(
            Charging(
                company_id=item.company_id,
                community_id=community.id,
                house_id=house_id,
                fee_item=item,
                start=effective_from,
            )
            for house_id in houses.values_list("id", flat=True).iterator(chunk_size=2000)
        )
    return item


def first_month_affected(effective_from: datetime.date) -> datetime.date:
    """A price applies to the months starting on or after its date."""
    return effective_from if effective_from.day == 1 else add_months(effective_from, 1)


@transaction.atomic
def change_price(
    *,
    actor,
    fee_item: FeeItem,
    effective_from: datetime.date,
    unit_price: Decimal,
    multiplier: Decimal | None = None,
    tiers: list | None = None,
) -> FeeRate:
    """A new price from a date (the old rows stay: history). Refused when bills for the
    months it would change are already issued: those are corrected by adjustments."""
    require_community(actor, fee_item.community)
    FeeItem.objects.select_for_update().filter(pk=fee_item.pk).first()
    affected = first_month_affected(effective_from)
    if Bill.objects.filter(
        fee_item=fee_item, origin=Bill.Origin.RUN, period_end__gte=affected
    ).exists():
        raise ValidationError(
            {
                "effective_from": _(
                    "Bills from %(date)s on are already issued at the old price; choose a "
                    "later date or correct those bills with adjustments."
                )
                % {"date": affected.isoformat()}
            }
        )
    if multiplier is None:
        latest = fee_item.rates.order_by("-effective_from").first()
        multiplier = latest.multiplier if latest else None
    return _new_rate(
        actor=actor,
        fee_item=fee_item,
        effective_from=effective_from,
        unit_price=unit_price,
        multiplier=multiplier,
        tiers=tiers,
    )


def _overlapping(house, fee_item, start, end):
    later = Q(end__isnull=True) | Q(end__gte=start)
    qs = Charging.objects.filter(house=house, fee_item=fee_item).filter(later)
    return qs if end is None else qs.filter(start__lte=end)


@transaction.atomic
def start_charging(*, actor, house, fee_item: FeeItem, start: datetime.date) -> Charging:
    """Charge ``house`` for ``fee_item`` from ``start`` (move-in, a new parking lease)."""
    require_community(actor, fee_item.community)
    if house.community_id != fee_item.community_id:
        raise ValidationError({"house": _("The house is not in this fee item's community.")})
    if not fee_item.is_periodic:
        raise ValidationError({"fee_item": _("Only periodic fee items are charged by date.")})
    House.objects.select_for_update().filter(pk=house.pk).first()
    if _overlapping(house, fee_item, start, None).exists():
        raise ValidationError({"start": _("The house is already charged for this on that date.")})
    charging = Charging(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        start=start,
    )
    full_clean(charging)
    charging.save()
    return charging


@transaction.atomic
def stop_charging(*, actor, house, fee_item: FeeItem, end: datetime.date) -> Charging:
    """Stop charging ``house`` after ``end`` (move-out, vacancy, end of a lease). Bills
    already issued for later days are corrected with a credit note."""
    require_community(actor, fee_item.community)
    charging = (
        Charging.objects.select_for_update()
        .filter(house=house, fee_item=fee_item, end__isnull=True)
        .first()
    )
    if charging is None:
        raise ValidationError({"end": _("The house is not being charged for this.")})
    if end < charging.start:
        raise ValidationError({"end": _("Charging cannot end before it starts.")})
    charging.end = end
    charging.save(update_fields=["end"])
    return charging


def status_for(payable: Decimal, paid: Decimal) -> str:
    """Open, partially paid or paid from what is payable and what was paid; a bill
    credited down to nothing counts as paid (nothing is owed)."""
    if paid >= payable:
        return Bill.Status.PAID
    return Bill.Status.PARTIALLY_PAID if paid > 0 else Bill.Status.OPEN


@transaction.atomic
def charge_one_off(
    *,
    actor,
    house,
    fee_item: FeeItem,
    on: datetime.date,
    amount: Decimal | None = None,
    reference: str = "",
    note: str = "",
) -> Bill:
    """A one-off charge or a deposit (装修押金, 维修费 of a paid repair) as a bill due
    ``fee_item.due_days`` after ``on``. The same ``reference`` twice gives the first bill."""
    require_community(actor, fee_item.community)
    if fee_item.is_periodic:
        raise ValidationError({"fee_item": _("Periodic fees are billed by bill runs.")})
    if house.community_id != fee_item.community_id:
        raise ValidationError({"house": _("The house is not in this fee item's community.")})
    reference = (reference or "").strip()
    if reference:
        existing = Bill.objects.filter(company_id=house.company_id, reference=reference).first()
        if existing is not None:
            return existing
    if amount is None:
        rate = fee_item.rates.filter(effective_from__lte=on).order_by("-effective_from").first()
        if rate is None:
            raise ValidationError({"amount": _("This fee item has no price on that date.")})
        amount = rate.unit_price.quantize(Decimal("0.01"))
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("Enter an amount above zero in yuan and fen.")})
    bill = Bill(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        origin=Bill.Origin.ONE_OFF,
        reference=reference,
        period_start=on,
        period_end=on,
        amount=amount,
        due_date=on + datetime.timedelta(days=fee_item.due_days),
        detail={"kind": fee_item.kind, "amount": str(amount), "note": note.strip()},
    )
    full_clean(bill)
    bill.save()
    return bill


@transaction.atomic
def propose_adjustment(*, actor, bill: Bill, kind: str, amount: Decimal, reason: str):
    """A credit note or debit on an issued bill, waiting for a second person's approval."""
    require_community(actor, bill.community)
    if bill.status == Bill.Status.VOID:
        raise ValidationError(_("A void bill cannot be adjusted."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    adjustment = Adjustment(
        company_id=bill.company_id,
        community_id=bill.community_id,
        bill=bill,
        kind=kind,
        amount=amount,
        reason=reason,
        created_by=actor.user,
    )
    full_clean(adjustment)
    if kind == Adjustment.Kind.CREDIT and amount > bill.balance:
        raise ValidationError({"amount": _("A credit cannot exceed what is still owed.")})
    adjustment.save()
    return adjustment


def _lock_pending(actor, adjustment) -> tuple[Adjustment, Bill]:
    require_community(actor, adjustment.bill.community)
    locked = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if locked.status != Adjustment.Status.PENDING:
        raise ValidationError(_("This adjustment has already been decided."))
    if locked.created_by_id == actor.user.pk:
        raise ValidationError(_("Someone other than the proposer must decide."))
    return locked, Bill.objects.select_for_update().get(pk=locked.bill_id)


@transaction.atomic
def approve_adjustment(*, actor, adjustment: Adjustment) -> Adjustment:
    """Apply a proposed adjustment to its bill (the bill's amount stays as issued)."""
    locked, bill = _lock_pending(actor, adjustment)
    adjusted = bill.adjusted_amount + locked.signed_amount
    if bill.amount + adjusted < bill.paid_amount:
        raise ValidationError({"amount": _("A credit cannot exceed what is still owed.")})
    bill.adjusted_amount = adjusted
    if bill.status != Bill.Status.VOID:
        bill.status = status_for(bill.amount + adjusted, bill.paid_amount)
    bill.save(update_fields=["adjusted_amount", "status", "updated_at"])
    locked.status = Adjustment.Status.APPROVED
    locked.approved_by = actor.user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "approved_by", "decided_at"])
    return locked


@transaction.atomic
def reject_adjustment(*, actor, adjustment: Adjustment) -> Adjustment:
    locked, _bill = _lock_pending(actor, adjustment)
    locked.status = Adjustment.Status.REJECTED
    locked.approved_by = actor.user
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "approved_by", "decided_at"])
    return locked


def late_fee_for(policy: BillingPolicy, bill: Bill, as_of: datetime.date) -> Decimal:
    """The late fee a bill has run up by ``as_of`` under the company's policy (0 when
    late fees are off)."""
    if not policy.late_fee_enabled:
        return Decimal("0.00")
    return late_fee(
        bill.balance,
        bill.due_date,
        as_of,
        daily_rate=policy.late_fee_daily_rate,
        grace_days=policy.late_fee_grace_days,
        cap_ratio=policy.late_fee_cap_ratio,
        count_from=policy.late_fee_from,
        payment_day_counts=policy.late_fee_payment_day_counts,
        rounding=policy.rounding,
    )
