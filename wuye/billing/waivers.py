"""Discounts and waivers (减免): a community's discount rules and the waivers granted
under them, proposed by one person and approved by another.

A ``DiscountRule`` takes ``rate`` off a fee item charged by the month (by area, fixed,
parking; not metered usage) for a vacant house (空置房, e.g. 50 %) or a house that
prepays ``min_months`` months (预交优惠, e.g. 5 % for 12 months). A ``Waiver`` applies a
rule to one house for whole months ``start``..``end`` at the rule's rate of the day.

Rules of a proposal (``propose_waiver``; a refusal writes nothing):

- ``billing.manage`` in the rule's community; the house is in that community; the rule
  is active; whole months (first day to last day), at least ``rule.min_months`` of them,
  at most 36; the house is charged the fee item in those months;
- vacant: the house's occupancy is vacant when the waiver is proposed;
- prepay: the house's prepaid balance it can spend on the fee item (the fee item's own
  prepaid account plus the general one) holds at least what those months come to after
  the discount, computed as a bill run would bill them today (charging, area, prices);
- no other pending or approved waiver of the same house and fee item overlaps the months.

A decision (``decide_waiver``) is made by someone else with ``billing.manage`` (the same
four-eyes rule as adjustments); a rejection says why. On approval:

- bills a run issues later for those months are discounted by the run itself
  (``wuye.billing.runs``): the bill's ``detail`` lists the waiver, rate, months and the
  amount off, so the resident sees how the amount came about;
- bills already issued for those months get an approved credit note (``Adjustment``)
  for exactly what the run would have taken off (``discounts``): each month's exact
  amount from the bill's detail × the share of the month the waiver covers (days of
  overlap, ``money.month_shares``) × the rate, rounded once per bill and waiver by the
  company's rounding;
- a bill already paid keeps what it was paid up to its new payable amount; the rest is
  the resident's money and goes back to the house's prepaid balance (预存,
  ``payments.return_to_prepaid``), where the next bills or a refund find it. Nothing is
  skipped and no payment is rewritten: the receipt still shows what was paid that day.

Deactivating a rule stops new proposals under it; waivers already granted keep their
rate (copied when proposed).
"""

import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.billing import money, payments, services
from wuye.billing.models import (
    Adjustment,
    Bill,
    DiscountRule,
    FeeItem,
    PrepaidAccount,
    Waiver,
)
from wuye.billing.services import policy_for, require_community
from wuye.core.i18n import site_text
from wuye.core.services import full_clean
from wuye.estates.models import House

MONTHLY_PRICED = (FeeItem.Kind.AREA, FeeItem.Kind.FIXED, FeeItem.Kind.PARKING)
MAX_MONTHS = 36
LIVE = (Waiver.Status.PENDING, Waiver.Status.APPROVED)
WAIVER_CREDIT_REASON = gettext_lazy("Waiver #%(id)s: %(rule)s, %(rate)s off %(months)s")
CYCLE_MONTHS = {FeeItem.Cycle.MONTH: 1, FeeItem.Cycle.QUARTER: 3, FeeItem.Cycle.YEAR: 12}


def percent(rate) -> str:
    """0.5 → "50%", 0.05 → "5%", 0.125 → "12.5%"."""
    return f"{(Decimal(rate) * 100).normalize():f}%"


def _months_text(first: datetime.date, last: datetime.date) -> str:
    a, b = first.strftime("%Y-%m"), last.strftime("%Y-%m")
    return a if a == b else f"{a} – {b}"


# --- rules ----------------------------------------------------------------------------


def _clean_rate(rate) -> Decimal:
    message = _("The discount is a share above 0 and at most 1: 0.5 takes half off, 0.05 5%.")
    if isinstance(rate, float):
        raise ValidationError({"rate": message})
    try:
        value = Decimal(str(rate).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"rate": message}) from exc
    if not value.is_finite() or not 0 < value <= 1:
        raise ValidationError({"rate": message})
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationError({"rate": _("Give the discount with at most four decimals.")})
    return value


def _check_rule(rule: DiscountRule) -> None:
    item = rule.fee_item
    if item.community_id != rule.community_id:
        raise ValidationError({"fee_item": _("Choose a fee item of this community.")})
    if item.kind not in MONTHLY_PRICED:
        raise ValidationError(
            {
                "fee_item": _(
                    "Discounts apply to fees charged by the month: by area, fixed or parking."
                )
            }
        )
    rule.name = (rule.name or "").strip()
    full_clean(rule)


@transaction.atomic
def create_rule(
    *, actor, community, fee_item, kind: str, name: str, rate, min_months: int = 1
) -> DiscountRule:
    """A discount rule of ``community`` (``billing.manage`` there)."""
    require_community(actor, community)
    rule = DiscountRule(
        company_id=community.company_id,
        community=community,
        fee_item=fee_item,
        kind=kind,
        name=name,
        rate=_clean_rate(rate),
        min_months=min_months,
    )
    _check_rule(rule)
    rule.save()
    return rule


@transaction.atomic
def update_rule(*, actor, rule: DiscountRule, **changes) -> DiscountRule:
    """Edit a rule's name, rate, minimum months or whether it is in use. Its fee item and
    kind only change while no waiver was proposed under it (those name what they
    discounted). A new rate applies to waivers proposed from now on."""
    require_community(actor, rule.community)
    locked = DiscountRule.objects.select_for_update().get(pk=rule.pk)
    allowed = {"name", "rate", "min_months", "is_active", "fee_item", "kind"}
    if set(changes) - allowed:
        raise TypeError(f"unknown fields {sorted(set(changes) - allowed)}")
    fee_item = changes.get("fee_item", locked.fee_item)
    moved = fee_item.pk != locked.fee_item_id or changes.get("kind", locked.kind) != locked.kind
    if moved and locked.waivers.exists():
        raise ValidationError(
            {
                "fee_item": _(
                    "Waivers were proposed under this rule; its fee item and kind stay. "
                    "Create a new rule instead."
                )
            }
        )
    if "rate" in changes:
        changes["rate"] = _clean_rate(changes["rate"])
    for field, value in changes.items():
        setattr(locked, field, value)
    _check_rule(locked)
    locked.save()
    return locked


def deactivate_rule(*, actor, rule: DiscountRule) -> DiscountRule:
    """No new waivers under this rule; those granted keep their rate."""
    return update_rule(actor=actor, rule=rule, is_active=False)


# --- what a discount takes off ----------------------------------------------------------


def discounts(period_start, period_end, amounts: dict, waived, rules: money.Rules) -> list[dict]:
    """What each waiver takes off a bill of ``period_start``..``period_end`` whose months
    come to ``amounts`` (month → exact amount): Σ amount × share of the month the waiver
    covers × rate, rounded once per waiver. The same figure whether the run applies it or
    a credit note does afterwards."""
    # Waivers are whole months: counted whole whatever the move-in/out day settings say.
    whole = money.Rules(proration_basis=rules.proration_basis)
    found = []
    for waiver in sorted(waived, key=lambda w: (w.start, w.pk)):
        shares = money.month_shares(period_start, period_end, [(waiver.start, waiver.end)], whole)
        covered = [s for s in shares if s.days and amounts.get(s.month)]
        exact = sum((amounts[s.month] * s.fraction for s in covered), Fraction(0))
        exact *= Fraction(waiver.rate)
        amount = money.round_money(exact, rules.rounding)
        if amount <= 0:
            continue
        found.append(
            {
                "waiver": waiver.pk,
                "rule": waiver.rule.name,
                "kind": waiver.rule.kind,
                "rate": str(waiver.rate),
                "months": [s.month.strftime("%Y-%m") for s in covered],
                "exact": money.exact_text(exact),
                "amount": str(amount),
            }
        )
    return found


def discounted(period_start, period_end, amounts, waived, rules, amount: Decimal, detail: dict):
    """A run's bill line with the approved waivers applied: the rounded amount minus the
    rounded discounts (never below 0.00), and the detail that explains it."""
    found = discounts(period_start, period_end, amounts, waived, rules)
    if not found:
        return amount, detail
    off = Decimal("0.00")
    for row in found:
        part = min(Decimal(row["amount"]), amount - off)
        row["amount"] = str(part)
        off += part
    net = amount - off
    return net, detail | {"before_discount": str(amount), "discounts": found, "amount": str(net)}


def approved_in(run) -> dict[int, dict[int, list[Waiver]]]:
    """The approved waivers overlapping a run's period in its scope, by fee item and
    house (one query for the whole run)."""
    waived = Waiver.objects.filter(
        company_id=run.company_id,
        status=Waiver.Status.APPROVED,
        start__lte=run.period_end,
        end__gte=run.period_start,
    )
    if run.community_id:
        waived = waived.filter(community_id=run.community_id)
    found: dict[int, dict[int, list[Waiver]]] = {}
    for waiver in waived.select_related("rule").order_by("id"):
        found.setdefault(waiver.fee_item_id, {}).setdefault(waiver.house_id, []).append(waiver)
    return found


def month_amounts_of(bill: Bill) -> dict[datetime.date, Fraction]:
    """Each month's exact amount of an issued bill, from its detail (before discounts);
    without month lines, the amount spread over the period's days."""
    detail = bill.detail or {}
    if detail.get("months"):
        area = Fraction(detail["area"]) if detail.get("area") else Fraction(1)
        return {
            datetime.date.fromisoformat(row["month"] + "-01"): Fraction(row["unit_price"])
            * area
            * Fraction(row["days"], row["of"])
            for row in detail["months"]
            if row["days"]
        }
    days = (bill.period_end - bill.period_start).days + 1
    return {
        first: Fraction(bill.amount) * ((last - first).days + 1) / days
        for first, last in money.natural_months(bill.period_start, bill.period_end)
    }


# --- proposing ------------------------------------------------------------------------


def _check_months(rule, start, end) -> int:
    errors = {}
    if start.day != 1:
        errors["start_month"] = _("A waiver starts on the first day of a month.")
    if end != money.month_end(end):
        errors["end_month"] = _("A waiver ends on the last day of a month.")
    if errors:
        raise ValidationError(errors)
    if end < start:
        raise ValidationError({"end_month": _("The last month cannot be before the first.")})
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months < rule.min_months:
        raise ValidationError(
            {
                "end_month": _(
                    "“%(rule)s” needs at least %(min)d months; %(start)s to %(end)s is %(n)d."
                )
                % {
                    "rule": rule.name,
                    "min": rule.min_months,
                    "start": start.strftime("%Y-%m"),
                    "end": end.strftime("%Y-%m"),
                    "n": months,
                }
            }
        )
    if months > MAX_MONTHS:
        raise ValidationError(
            {"end_month": _("A waiver covers at most %(n)d months.") % {"n": MAX_MONTHS}}
        )
    return months


def _periods(cycle: str, amounts: dict) -> list[list[Fraction]]:
    """The months' amounts grouped by the fee item's billing period (one bill each)."""
    span = CYCLE_MONTHS.get(cycle, 1)
    groups: dict[tuple[int, int], list[Fraction]] = {}
    for month, amount in sorted(amounts.items()):
        groups.setdefault((month.year, (month.month - 1) // span), []).append(amount)
    return list(groups.values())


def prepay_needed(house, rule, amounts: dict) -> tuple[Decimal, Decimal]:
    """(before, after the discount) of the months whose exact amounts are ``amounts``
    (``runs.house_month_amounts``), rounded per bill as the runs will bill them."""
    rounding = policy_for(house.company).rounding
    rate = Fraction(rule.rate)
    gross = net = Decimal("0.00")
    for period in _periods(rule.fee_item.cycle, amounts):
        whole = money.round_money(sum(period, Fraction(0)), rounding)
        gross += whole
        net += whole - money.round_money(sum(period, Fraction(0)) * rate, rounding)
    return gross, net


def _check_prepaid(house, rule, amounts: dict, months: int) -> None:
    """A prepayment discount is for months already paid ahead: the prepaid balance the
    house can spend on the fee item must hold what the months come to after it."""
    gross, net = prepay_needed(house, rule, amounts)
    balance = PrepaidAccount.objects.filter(house=house).filter(
        Q(fee_item=rule.fee_item) | Q(fee_item__isnull=True)
    ).aggregate(s=Sum("balance"))["s"] or Decimal("0")
    balance = balance.quantize(money.CENT)  # SQLite sums come back without their scale
    if balance >= net:
        return
    raise ValidationError(
        {
            "rule": _(
                "A prepayment discount is for months paid ahead. %(n)d months of %(item)s "
                "come to ¥%(gross)s, ¥%(net)s after %(rate)s off, but the prepaid balance "
                "this house can spend on %(item)s (its %(item)s account and its general "
                "account) is ¥%(balance)s, ¥%(short)s short. Collect the prepayment first."
            )
            % {
                "n": months,
                "item": rule.fee_item.name,
                "gross": gross,
                "net": net,
                "rate": percent(rule.rate),
                "balance": balance,
                "short": net - balance,
            }
        }
    )


@transaction.atomic
def propose_waiver(
    *,
    actor,
    house,
    rule: DiscountRule,
    start_month: datetime.date,
    end_month: datetime.date,
    reason: str,
) -> Waiver:
    """A waiver of ``rule`` for ``house`` over whole months, waiting for a second person
    (see the module docstring for what is checked)."""
    from wuye.billing.runs import house_month_amounts  # runs builds on this module

    rule = DiscountRule.objects.select_related("community", "fee_item").get(pk=rule.pk)
    require_community(actor, rule.community)
    if house.community_id != rule.community_id:
        raise ValidationError({"house": _("The house is not in this rule's community.")})
    if not rule.is_active:
        raise ValidationError({"rule": _("This discount rule is no longer in use.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason under 200 characters.")})
    months = _check_months(rule, start_month, end_month)
    # One proposal per house at a time: the overlap and occupancy checks see the truth.
    house = House.objects.select_for_update().select_related("company").get(pk=house.pk)
    if rule.kind == DiscountRule.Kind.VACANT and house.occupancy != House.Occupancy.VACANT:
        raise ValidationError(
            {
                "house": _(
                    "A vacant-house discount is for houses recorded as vacant; this house "
                    "is recorded as “%(occupancy)s”."
                )
                % {"occupancy": house.get_occupancy_display()}
            }
        )
    other = (
        Waiver.objects.filter(
            house=house,
            fee_item_id=rule.fee_item_id,
            status__in=LIVE,
            start__lte=end_month,
            end__gte=start_month,
        )
        .order_by("start")
        .first()
    )
    if other is not None:
        raise ValidationError(
            {
                "start_month": _(
                    "Waiver #%(id)s (%(status)s) already covers %(months)s of this fee "
                    "item for this house; waivers cannot overlap."
                )
                % {
                    "id": other.pk,
                    "status": other.get_status_display(),
                    "months": _months_text(other.start, other.end),
                }
            }
        )
    amounts = house_month_amounts(
        rule.fee_item, house.pk, start_month, end_month, policy_for(house.company)
    )
    if not any(amounts.values()):
        raise ValidationError(
            {
                "house": _("The house is not charged for %(item)s in those months.")
                % {"item": rule.fee_item.name}
            }
        )
    if rule.kind == DiscountRule.Kind.PREPAY:
        _check_prepaid(house, rule, amounts, months)
    waiver = Waiver(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        rule=rule,
        fee_item_id=rule.fee_item_id,
        start=start_month,
        end=end_month,
        rate=rule.rate,
        reason=reason,
        proposed_by=actor.user,
    )
    full_clean(waiver)
    waiver.save()
    return waiver


# --- deciding -------------------------------------------------------------------------


def _credit_issued(actor, waiver: Waiver, now) -> list[Adjustment]:
    """Approved credit notes for the waiver's months on the bills already issued."""
    bills = (
        Bill.objects.select_for_update()
        .filter(
            house_id=waiver.house_id,
            fee_item_id=waiver.fee_item_id,
            origin=Bill.Origin.RUN,
            period_start__lte=waiver.end,
            period_end__gte=waiver.start,
        )
        .exclude(status=Bill.Status.VOID)
        .order_by("id")
    )
    rules = money.Rules.of(policy_for(waiver.company))
    credits = []
    for bill in bills:
        if any(row.get("waiver") == waiver.pk for row in bill.detail.get("discounts", [])):
            continue  # the run already took it off
        found = discounts(
            bill.period_start, bill.period_end, month_amounts_of(bill), [waiver], rules
        )
        amount = min(Decimal(found[0]["amount"]), bill.payable) if found else Decimal(0)
        if amount <= 0:
            continue
        credit = Adjustment.objects.create(
            company_id=bill.company_id,
            community_id=bill.community_id,
            bill=bill,
            kind=Adjustment.Kind.CREDIT,
            amount=amount,
            # Stored once for every reader: in the site's language.
            reason=site_text(
                WAIVER_CREDIT_REASON,
                {
                    "id": waiver.pk,
                    "rule": waiver.rule.name,
                    "rate": percent(waiver.rate),
                    "months": " ".join(found[0]["months"]),
                },
            ),
            status=Adjustment.Status.APPROVED,
            created_by_id=waiver.proposed_by_id,
            approved_by=actor.user,
            decided_at=now,
        )
        paid_over = amount - bill.balance
        if paid_over > 0:  # already paid: that part is the resident's prepaid money now
            payments.return_to_prepaid(bill, paid_over, at=now)
        services.apply_to_bill(bill, credit.signed_amount)
        credits.append(credit)
    return credits


@transaction.atomic
def decide_waiver(*, actor, waiver: Waiver, approve: bool, note: str = "") -> Waiver:
    """Approve or reject a pending waiver (``billing.manage``, not the proposer). An
    approval credits the bills already issued for its months; a rejection needs a note."""
    require_community(actor, waiver.community)
    locked = (
        Waiver.objects.select_for_update(of=("self",))
        .select_related("rule", "company")
        .get(pk=waiver.pk)
    )
    if locked.status != Waiver.Status.PENDING:
        raise ValidationError(_("This waiver has already been decided."))
    services.require_second_person(actor, locked.proposed_by_id)
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("Keep the note under 200 characters.")})
    if not approve and not note:
        raise ValidationError({"note": _("Say why the waiver is rejected.")})
    now = timezone.now()
    if approve:
        _credit_issued(actor, locked, now)
    locked.status = Waiver.Status.APPROVED if approve else Waiver.Status.REJECTED
    locked.decided_by = actor.user
    locked.decided_at = now
    locked.decision_note = note
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return locked
