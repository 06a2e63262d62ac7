"""Writes of the billing domain: the company's billing policy, fee items and their prices,
计费起止 (start/stop charging a house), one-off charges, adjustments of issued bills,
opening balances (the bills of ``wuye.billing.imports``), 公摊 and voiding a bill.

Every function takes ``actor=`` and checks ``billing.manage`` in the community concerned
(company-wide finance: every community of the company). Bill runs are in
``wuye.billing.runs``.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing import money
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


def require_second_person(actor, proposer_id) -> None:
    """Four eyes: whoever proposed a change (an adjustment, a waiver) does not decide it."""
    if proposer_id == actor.user.pk:
        raise ValidationError(_("Someone other than the proposer must decide."))


def apply_to_bill(bill: Bill, signed_amount: Decimal) -> None:
    """Move a locked bill's adjusted amount by an approved adjustment (the bill's amount
    stays as issued) and its status with it; never below what has been paid."""
    adjusted = bill.adjusted_amount + signed_amount
    if bill.amount + adjusted < bill.paid_amount:
        raise ValidationError({"amount": _("A credit cannot exceed what is still owed.")})
    bill.adjusted_amount = adjusted
    if bill.status != Bill.Status.VOID:
        bill.status = status_for(bill.amount + adjusted, bill.paid_amount)
    bill.save(update_fields=["adjusted_amount", "status", "updated_at"])


def _lock_pending(actor, adjustment) -> tuple[Adjustment, Bill]:
    require_community(actor, adjustment.bill.community)
    locked = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if locked.status != Adjustment.Status.PENDING:
        raise ValidationError(_("This adjustment has already been decided."))
    require_second_person(actor, locked.created_by_id)
    return locked, Bill.objects.select_for_update().get(pk=locked.bill_id)


@transaction.atomic
def approve_adjustment(*, actor, adjustment: Adjustment) -> Adjustment:
    """Apply a proposed adjustment to its bill (the bill's amount stays as issued)."""
    locked, bill = _lock_pending(actor, adjustment)
    apply_to_bill(bill, locked.signed_amount)
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


# --- opening balances (期初欠费) ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OpeningLine:
    """One checked row of an opening-balance file (``wuye.billing.imports``)."""

    row: int
    house_id: int
    fee_item: FeeItem
    period_start: datetime.date
    amount: Decimal
    paid: Decimal


def opening_bill(line: OpeningLine, community, file_name: str) -> Bill:
    """The bill of an opening balance: the arrears of one house × fee item × month
    before the system was used; what was already collected then is ``paid_amount``."""
    period_end = money.month_end(line.period_start)
    return Bill(
        company_id=community.company_id,
        community_id=community.id,
        house_id=line.house_id,
        fee_item=line.fee_item,
        origin=Bill.Origin.OPENING,
        period_start=line.period_start,
        period_end=period_end,
        amount=line.amount,
        paid_amount=line.paid,
        status=status_for(line.amount, line.paid),
        due_date=line.period_start + datetime.timedelta(days=line.fee_item.due_days),
        detail={
            "source": "opening balance import",
            "file": file_name,
            "row": line.row,
            "amount": str(line.amount),
            "paid_before_import": str(line.paid),
        },
    )


# --- 公摊: a shared meter's cost split between houses ----------------------------------

AREA, HOUSEHOLDS = "area", "households"


@dataclasses.dataclass(frozen=True)
class Apportionment:
    total: Decimal
    created: int
    already_there: int
    bills: list[Bill]


def _shared_total(fee_item, period_start, total_usage, total_amount) -> tuple[Decimal, dict]:
    """The amount to share and how it came about: given, or usage × multiplier × the
    unit price effective on the period start (tiers are per-household bands and do not
    apply to a shared meter), rounded once by the company's rule."""
    if (total_usage is None) == (total_amount is None):
        raise ValidationError(_("Give either the total usage or the total amount."))
    if total_amount is not None:
        if total_amount <= 0 or total_amount != total_amount.quantize(money.CENT):
            raise ValidationError(
                {"total_amount": _("Enter an amount above zero in yuan and fen.")}
            )
        return total_amount, {"total_amount": str(total_amount)}
    if total_usage <= 0:
        raise ValidationError({"total_usage": _("The usage must be above zero.")})
    rate = fee_item.rates.filter(effective_from__lte=period_start).order_by("-effective_from")
    rate = rate.first()
    if rate is None:
        raise ValidationError({"fee_item": _("This fee item has no price on that date.")})
    rounding = policy_for(fee_item.company).rounding
    total = money.round_money(total_usage * rate.multiplier * rate.unit_price, rounding)
    if total <= 0:
        raise ValidationError({"total_usage": _("The usage comes to nothing at this price.")})
    return total, {
        "total_usage": str(total_usage),
        "multiplier": str(rate.multiplier),
        "unit_price": str(rate.unit_price),
        "rounding": rounding,
        "total_amount": str(total),
    }


def _sharing_houses(fee_item, period_start, period_end, houses) -> list[House]:
    """The houses named (all of the fee item's community), else the houses charged the
    fee item on at least one day of the period; in id order (ties go to the lower id)."""
    if houses is None:
        charged = Charging.objects.filter(fee_item=fee_item, start__lte=period_end).filter(
            Q(end__isnull=True) | Q(end__gte=period_start)
        )
        found = list(House.objects.filter(pk__in=charged.values("house_id")).order_by("id"))
    else:
        found = sorted({h.pk: h for h in houses}.values(), key=lambda h: h.pk)
        if any(h.community_id != fee_item.community_id for h in found):
            raise ValidationError({"houses": _("A house is not in this fee item's community.")})
    if not found:
        raise ValidationError({"houses": _("No houses to share the amount between.")})
    return found


def _weight(house, fee_item, basis) -> Decimal:
    if basis == HOUSEHOLDS:
        return Decimal(1)
    if fee_item.area_basis == FeeItem.AreaBasis.INDOOR:
        return house.indoor_area or Decimal(0)
    return house.built_area


@transaction.atomic
def apportion_shared(
    *,
    actor,
    fee_item: FeeItem,
    period_start: datetime.date,
    reference_prefix: str,
    total_usage: Decimal | None = None,
    total_amount: Decimal | None = None,
    basis: str = AREA,
    houses=None,
) -> Apportionment:
    """公摊: a shared meter's usage (priced at the fee item's rate) or an amount, split
    between houses by area (the fee item's area basis) or per household into whole
    cents that add up to the total exactly (``money.apportion``: largest remainder,
    ties to the lower house id). One bill per house with a share above zero, referenced
    ``<reference_prefix>:<house id>``: running the same apportionment again writes
    nothing; running it again with other figures is refused."""
    require_community(actor, fee_item.community)
    if basis not in (AREA, HOUSEHOLDS):
        raise ValidationError({"basis": _("Share by area or by household.")})
    from wuye.billing.runs import period_bounds  # runs builds on this module

    period_start, period_end = period_bounds(fee_item.cycle, period_start)
    prefix = (reference_prefix or "").strip()
    if not prefix or len(prefix) > 40:
        raise ValidationError({"reference_prefix": _("Give a reference of at most 40 characters.")})
    FeeItem.objects.select_for_update().filter(pk=fee_item.pk).first()
    total, how = _shared_total(fee_item, period_start, total_usage, total_amount)
    sharing = _sharing_houses(fee_item, period_start, period_end, houses)
    weights = [_weight(h, fee_item, basis) for h in sharing]
    try:
        shares = money.apportion(total, weights)
    except ValueError as exc:
        raise ValidationError({"basis": str(exc)}) from exc
    total_weight = sum(weights)
    bills = []
    for house, weight, share in zip(sharing, weights, shares, strict=True):
        if share <= 0:
            continue
        bills.append(
            Bill(
                company_id=fee_item.company_id,
                community_id=fee_item.community_id,
                house=house,
                fee_item=fee_item,
                origin=Bill.Origin.ONE_OFF,
                reference=f"{prefix}:{house.pk}",
                period_start=period_start,
                period_end=period_end,
                amount=share,
                due_date=period_start + datetime.timedelta(days=fee_item.due_days),
                detail={
                    "kind": "shared",
                    **how,
                    "basis": basis,
                    "area_basis": fee_item.area_basis if basis == AREA else "",
                    "weight": str(weight),
                    "total_weight": str(total_weight),
                    "houses": len(sharing),
                    "share": str(share),
                    "amount": str(share),
                },
            )
        )
    existing = {
        b.reference: b
        for b in Bill.objects.filter(
            company_id=fee_item.company_id, reference__in=[b.reference for b in bills]
        )
    }
    for bill in bills:
        before = existing.get(bill.reference)
        if before is not None and (
            before.fee_item_id != fee_item.id
            or before.amount != bill.amount
            or before.period_start != period_start
        ):
            raise ValidationError(
                {
                    "reference_prefix": _(
                        "%(reference)s was already charged with other figures; use a new "
                        "reference or correct those bills with adjustments."
                    )
                    % {"reference": bill.reference}
                }
            )
    new = [b for b in bills if b.reference not in existing]
    Bill.objects.bulk_create(new, batch_size=1000)
    return Apportionment(
        total=total,
        created=len(new),
        already_there=len(bills) - len(new),
        bills=[existing.get(b.reference, b) for b in bills],
    )


# --- voiding a bill (作废) -------------------------------------------------------------


@transaction.atomic
def void_bill(*, actor, bill: Bill, reason: str) -> Bill:
    """作废: cancel a bill nothing has been paid on (a bill with payments is corrected by
    a credit note and refunds instead). The payable amount is credited back by an
    approved ``Adjustment`` carrying the reason (balance 0, so no total counts it even
    without looking at the status), pending adjustments are rejected, the bill becomes
    void (out of the arrears) and ``detail["void"]`` records who, when and why."""
    require_community(actor, bill.community)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason under 200 characters.")})
    locked = Bill.objects.select_for_update().get(pk=bill.pk)
    if locked.status == Bill.Status.VOID:
        raise ValidationError(_("This bill is already void."))
    if locked.paid_amount != 0:
        raise ValidationError(
            _("Money has been paid on this bill; refund it or issue a credit note instead.")
        )
    if locked.payable <= 0:
        raise ValidationError(_("Nothing is owed on this bill; there is nothing to void."))
    now = timezone.now()
    locked.adjustments.filter(status=Adjustment.Status.PENDING).update(
        status=Adjustment.Status.REJECTED, approved_by=actor.user, decided_at=now
    )
    credit = Adjustment.objects.create(
        company_id=locked.company_id,
        community_id=locked.community_id,
        bill=locked,
        kind=Adjustment.Kind.CREDIT,
        amount=locked.payable,
        reason=reason,
        status=Adjustment.Status.APPROVED,
        created_by=actor.user,
        approved_by=actor.user,
        decided_at=now,
    )
    locked.adjusted_amount -= credit.amount
    locked.status = Bill.Status.VOID
    locked.detail = {
        **locked.detail,
        "void": {
            "reason": reason,
            "by": actor.user.pk,
            "at": now.isoformat(),
            "adjustment": credit.pk,
        },
    }
    locked.save(update_fields=["adjusted_amount", "status", "detail", "updated_at"])
    return locked
