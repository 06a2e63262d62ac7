"""The money rules, pure: no database, ``Decimal`` and ``Fraction`` only, never float.

- ``round_money``: to 0.01 yuan, half up (away from zero) or half even.
- ``prorate``: a monthly amount over a period of natural months for the days charged.
  Each month is its own fraction (actual days: days charged / days of that month;
  30-day months: 30/360 days / 30). The months are added exactly and the sum is rounded
  once: one bill line, one rounding. The full period therefore gives exactly
  ``round(monthly × months)``; a period split into n parts gives parts whose rounded
  amounts add up to the rounded whole within ⌊(n + 1) / 2⌋ cents (each rounding moves an
  amount by at most half a cent, and all of them are whole cents).
- ``tiered_amount``: usage priced in bands, each band at its own price or the whole usage
  at the price of the highest band reached; exact, the caller rounds the line.
- ``apportion``: 公摊 — a total split by weights into cents that add up exactly; leftover
  cents by largest remainder, ties to the earlier weight (callers pass houses in id order).
- ``allocate``: a payment over open bills, oldest due date first, then the oldest bill
  (or in proportion for bills sharing a due date); never more than a bill's balance; what
  is left over is the payer's prepaid remainder.
- ``late_fee``: 滞纳金 for an unpaid amount on a given day.
"""

import calendar
import dataclasses
import datetime
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from itertools import groupby

from django.utils.translation import gettext as _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HALF_UP = "half_up"
HALF_EVEN = "half_even"
ACTUAL_DAYS = "actual_days"
THIRTY_DAYS = "thirty_days"
PER_BAND = "per_band"
HIGHEST_BAND = "highest_band"
OLDEST_ID = "oldest_id"
PROPORTIONAL = "proportional"
_DECIMAL_MODES = {HALF_UP: ROUND_HALF_UP, HALF_EVEN: ROUND_HALF_EVEN}
ONE_DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Rules:
    """The proration and rounding settings (``BillingPolicy`` has the same names)."""

    rounding: str = HALF_UP
    proration_basis: str = ACTUAL_DAYS
    bill_move_in_day: bool = True
    bill_move_out_day: bool = True

    @classmethod
    def of(cls, policy) -> "Rules":
        return cls(
            rounding=policy.rounding,
            proration_basis=policy.proration_basis,
            bill_move_in_day=policy.bill_move_in_day,
            bill_move_out_day=policy.bill_move_out_day,
        )


# --- rounding -------------------------------------------------------------------------


def yuan(amount: Decimal, *, minus: str = "−") -> str:
    """``Decimal("-1234.5")`` → ``−¥1,234.50``."""
    sign = minus if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def round_money(amount: Decimal | Fraction | int, mode: str = HALF_UP) -> Decimal:
    """``amount`` to whole cents. Half up rounds halves away from zero (2.345 → 2.35,
    −2.345 → −2.35); half even to the even cent (2.345 → 2.34, 2.355 → 2.36)."""
    if mode not in _DECIMAL_MODES:
        raise ValueError(f"unknown rounding mode {mode!r}")
    if isinstance(amount, Fraction):
        return _round_fraction(amount, mode)
    return Decimal(amount).quantize(CENT, rounding=_DECIMAL_MODES[mode])


def _round_fraction(value: Fraction, mode: str) -> Decimal:
    if value < 0:
        return -_round_fraction(-value, mode)
    cents, rest = divmod(value.numerator * 100, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (
        twice == value.denominator and (mode == HALF_UP or cents % 2 == 1)
    ):
        cents += 1
    return Decimal(cents).scaleb(-2)


def exact_text(value: Fraction, places: int = 6) -> str:
    """An exact amount as shown in a bill's detail (at most ``places`` decimals)."""
    text = str(Decimal(value.numerator) / Decimal(value.denominator))
    quantized = Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return format(quantized.normalize(), "f")


# --- natural months and proration -----------------------------------------------------


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def natural_months(period_start: datetime.date, period_end: datetime.date):
    """(first day, last day) of each month of a period of whole natural months."""
    if period_start.day != 1 or period_end != month_end(period_end) or period_end < period_start:
        raise ValueError(_("A period runs from the first day of a month to the last of a month."))
    month = period_start
    while month <= period_end:
        yield month, month_end(month)
        month = add_months(month, 1)


@dataclasses.dataclass(frozen=True)
class MonthShare:
    """How much of one month is charged: ``days`` of ``of`` (30 under 30-day months)."""

    month: datetime.date
    days: int
    of: int

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.days, self.of)

    @property
    def is_full(self) -> bool:
        return self.days == self.of


def _thirty_day_count(first: datetime.date, last: datetime.date) -> int:
    """Days from ``first`` to ``last`` (inclusive, one month) counted as 30/360: the 31st
    is free and a month's last day counts up to the 30th (Feb 28 is 3 days)."""
    to_index = 30 if last == month_end(last) else min(last.day, 30)
    return max(0, to_index - first.day + 1)


def month_shares(
    period_start: datetime.date,
    period_end: datetime.date,
    intervals: Iterable[tuple[datetime.date, datetime.date | None]],
    rules: Rules = Rules(),
) -> list[MonthShare]:
    """The charged share of each natural month of the period. ``intervals`` are the
    charging intervals (start, end or None), inclusive and not overlapping; the rules say
    whether the move-in and move-out days themselves are charged."""
    spans = []
    for start, end in intervals:
        if not rules.bill_move_in_day:
            start = start + ONE_DAY
        if end is not None and not rules.bill_move_out_day:
            end = end - ONE_DAY
        spans.append((start, end))
    shares = []
    for first, last in natural_months(period_start, period_end):
        of = 30 if rules.proration_basis == THIRTY_DAYS else last.day
        days = 0
        for start, end in spans:
            lo, hi = max(start, first), min(end or last, last)
            if lo > hi:
                continue
            if rules.proration_basis == THIRTY_DAYS:
                days += _thirty_day_count(lo, hi)
            else:
                days += (hi - lo).days + 1
        shares.append(MonthShare(first, min(days, of), of))
    return shares


def prorated_exact(shares: Sequence[MonthShare], monthly: Callable[[datetime.date], Decimal]):
    """Σ monthly(month) × share, exactly (a ``Fraction``)."""
    total = Fraction(0)
    for share in shares:
        if share.days:
            amount = Fraction(monthly(share.month))
            total += amount if share.is_full else amount * share.fraction
    return total


def prorate(
    monthly_amount: Decimal,
    period_start: datetime.date,
    period_end: datetime.date,
    charged_from: datetime.date,
    charged_to: datetime.date | None,
    policy=Rules(),
) -> Decimal:
    """A monthly amount over the natural months of a period for the days charged
    (``charged_from``..``charged_to`` inclusive; None = still charged), rounded once."""
    rules = policy if isinstance(policy, Rules) else Rules.of(policy)
    shares = month_shares(period_start, period_end, [(charged_from, charged_to)], rules)
    return round_money(prorated_exact(shares, lambda _month: monthly_amount), rules.rounding)


# --- tiered prices --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Tier:
    up_to: Decimal | None  # None: no upper limit (the last band)
    price: Decimal


def _decimal(value, message) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(message) from exc
    if not number.is_finite():
        raise ValueError(message)
    return number


def parse_tiers(raw) -> list[Tier]:
    """Validate tiers as stored on a rate: ascending limits, the last band open-ended,
    prices not negative. An empty list means no tiers."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        raise ValueError(_("Tiers must be a list of bands."))
    tiers = []
    for position, band in enumerate(raw, start=1):
        if not isinstance(band, dict) or set(band) != {"up_to", "price"}:
            raise ValueError(_("Band %(n)s needs an upper limit and a price.") % {"n": position})
        price = _decimal(band["price"], _("Band %(n)s has no valid price.") % {"n": position})
        if price < 0:
            raise ValueError(_("A price cannot be negative."))
        last = position == len(raw)
        if band["up_to"] is None:
            if not last:
                raise ValueError(_("Only the last band can be open-ended."))
            up_to = None
        else:
            if last:
                raise ValueError(_("The last band must be open-ended."))
            up_to = _decimal(band["up_to"], _("Band %(n)s has no valid limit.") % {"n": position})
            previous = tiers[-1].up_to if tiers else Decimal(0)
            if up_to <= previous:
                raise ValueError(_("Band limits must go up."))
        tiers.append(Tier(up_to, price))
    return tiers


def tiered_amount(usage: Decimal, tiers: Sequence[Tier], mode: str = PER_BAND) -> Decimal:
    """What ``usage`` costs in bands (exact). A usage equal to a band's limit is in that
    band. ``highest_band``: all of it at the price of the band it reaches."""
    if usage < 0:
        raise ValueError(_("Usage cannot be negative."))
    if not tiers:
        raise ValueError(_("No tiers given."))
    if mode == HIGHEST_BAND:
        band = next(t for t in tiers if t.up_to is None or usage <= t.up_to)
        return usage * band.price
    total, lower = Decimal(0), Decimal(0)
    for tier in tiers:
        upper = usage if tier.up_to is None else min(usage, tier.up_to)
        if upper > lower:
            total += (upper - lower) * tier.price
        if tier.up_to is None or usage <= tier.up_to:
            break
        lower = tier.up_to
    return total


# --- apportionment and allocation -----------------------------------------------------


def _cents(amount: Decimal) -> int:
    if amount != amount.quantize(CENT):
        raise ValueError(_("Amounts are in whole cents."))
    return int(amount * 100)


def _split_cents(cents: int, weights: Sequence[Decimal]) -> list[int]:
    """``cents`` (≥ 0) split by weights: floors, then one more cent each for the largest
    remainders, ties to the earlier weight."""
    total_weight = sum(Fraction(w) for w in weights)
    exact = [cents * Fraction(w) / total_weight for w in weights]
    parts = [share.numerator // share.denominator for share in exact]
    leftover = cents - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return parts


def apportion(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """公摊: ``total`` (whole cents) split in proportion to ``weights`` (areas, or 1 per
    household) into whole cents that add up to ``total`` exactly."""
    if not weights:
        raise ValueError(_("Nothing to share the amount between."))
    if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise ValueError(_("Weights cannot be negative and at least one must be positive."))
    cents = _cents(total)
    sign = -1 if cents < 0 else 1
    return [Decimal(sign * c).scaleb(-2) for c in _split_cents(abs(cents), weights)]


@dataclasses.dataclass(frozen=True)
class OpenBill:
    id: int
    due_date: datetime.date
    balance: Decimal


@dataclasses.dataclass(frozen=True)
class Allocation:
    bill_id: int
    amount: Decimal


def allocate(payment: Decimal, open_bills: Iterable, tie: str = OLDEST_ID) -> list[Allocation]:
    """A payment over open bills (anything with ``id``, ``due_date``, ``balance``): oldest
    due date first; bills sharing a due date by oldest id, or in proportion to their
    balances (``tie="proportional"``). Never more than a bill's balance; the allocations
    add up to the payment, or to the total due when the payment is larger (the rest is
    the prepaid remainder)."""
    remaining = _cents(payment)
    if remaining < 0:
        raise ValueError(_("A payment cannot be negative."))
    bills = sorted((b for b in open_bills if b.balance > 0), key=lambda b: (b.due_date, b.id))
    allocations = []
    for _due, group in groupby(bills, key=lambda b: b.due_date):
        if remaining == 0:
            break
        group = list(group)
        balances = [_cents(b.balance) for b in group]
        if remaining >= sum(balances):
            parts = balances
        elif tie == PROPORTIONAL:
            parts = _split_cents(remaining, balances)
        else:
            parts, left = [], remaining
            for balance in balances:
                parts.append(min(balance, left))
                left -= parts[-1]
        for bill, part in zip(group, parts, strict=True):
            if part:
                allocations.append(Allocation(bill.id, Decimal(part).scaleb(-2)))
        remaining -= sum(parts)
    return allocations


# --- late fees ------------------------------------------------------------------------


def late_days(
    due_date: datetime.date,
    as_of: datetime.date,
    *,
    grace_days: int = 0,
    count_from: str = "after_grace",
    payment_day_counts: bool = False,
) -> int:
    """Days a bill is late on ``as_of`` (the payment day or today). Paying on the due
    date is on time; within ``grace_days`` after it nothing is late; after that the days
    are counted from the end of the grace period (``after_grace``) or from the due date
    (``due_date``)."""
    last_counted = as_of if payment_day_counts else as_of - ONE_DAY
    overdue = (last_counted - due_date).days
    if overdue <= grace_days:
        return 0
    return overdue - grace_days if count_from == "after_grace" else overdue


def late_fee(
    principal: Decimal,
    due_date: datetime.date,
    as_of: datetime.date,
    *,
    daily_rate: Decimal,
    grace_days: int = 0,
    cap_ratio: Decimal | None = Decimal("1"),
    count_from: str = "after_grace",
    payment_day_counts: bool = False,
    rounding: str = HALF_UP,
) -> Decimal:
    """滞纳金 on an unpaid ``principal``: principal × daily rate × late days, at most
    ``cap_ratio`` × principal (None: no cap), rounded to cents."""
    if principal <= 0:
        return ZERO
    days = late_days(
        due_date,
        as_of,
        grace_days=grace_days,
        count_from=count_from,
        payment_day_counts=payment_day_counts,
    )
    fee = principal * daily_rate * days
    if cap_ratio is not None:
        fee = min(fee, principal * cap_ratio)
    return round_money(fee, rounding)
