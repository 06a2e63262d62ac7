"""The money rules of wuye.billing.money: properties (hypothesis) and worked examples."""

import datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wuye.billing import money
from wuye.billing.money import (
    OpenBill,
    Rules,
    Tier,
    allocate,
    apportion,
    late_fee,
    month_shares,
    parse_tiers,
    prorate,
    round_money,
    tiered_amount,
)

D = Decimal
MODES = st.sampled_from([money.HALF_UP, money.HALF_EVEN])
BASES = st.sampled_from([money.ACTUAL_DAYS, money.THIRTY_DAYS])
cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c).scaleb(-2))
prices = st.decimals(min_value=D("0"), max_value=D("99999"), places=4)


@st.composite
def periods(draw):
    """A month, quarter or year of natural months between 2024 and 2030."""
    months = draw(st.sampled_from([1, 3, 12]))
    year = draw(st.integers(2024, 2030))
    first_month = draw(st.sampled_from({1: range(1, 13), 3: [1, 4, 7, 10], 12: [1]}[months]))
    start = datetime.date(year, first_month, 1)
    return start, money.add_months(start, months) - datetime.timedelta(days=1), months


def _day_in(draw, start, end):
    return start + datetime.timedelta(days=draw(st.integers(0, (end - start).days)))


# --- rounding -------------------------------------------------------------------------


@given(st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=6), MODES)
def test_rounding_lands_on_the_nearest_cent(amount, mode):
    rounded = round_money(amount, mode)
    assert rounded == rounded.quantize(D("0.01"))
    assert abs(rounded - amount) <= D("0.005")
    assert round_money(Fraction(amount), mode) == rounded  # exact fractions agree


@given(st.integers(-10_000_000, 10_000_000), MODES)
def test_halves_go_away_from_zero_or_to_the_even_cent(whole_cents, mode):
    half = D(whole_cents).scaleb(-2) + (D("0.005") if whole_cents >= 0 else D("-0.005"))
    rounded = round_money(half, mode)
    away = D(whole_cents + (1 if whole_cents >= 0 else -1)).scaleb(-2)
    if mode == money.HALF_UP:
        assert rounded == away
    else:
        assert int(rounded * 100) % 2 == 0


def test_rounding_examples():
    # 89.50 m² × 2.35 yuan = 210.325
    assert round_money(D("210.325"), "half_up") == D("210.33")
    assert round_money(D("210.325"), "half_even") == D("210.32")
    assert round_money(D("210.335"), "half_even") == D("210.34")
    assert round_money(Fraction(1, 3)) == D("0.33")
    assert round_money(Fraction(-1, 200), "half_up") == D("-0.01")
    with pytest.raises(ValueError):
        round_money(D("1"), "ceiling")


# --- proration ------------------------------------------------------------------------


@given(periods(), cents, MODES, BASES)
def test_a_full_period_is_the_monthly_amount_times_its_months(period, monthly, mode, basis):
    start, end, months = period
    rules = Rules(rounding=mode, proration_basis=basis)
    assert prorate(monthly, start, end, start, None, rules) == round_money(monthly * months, mode)
    # charged from long before to long after: the same
    before, after = start - datetime.timedelta(days=400), end + datetime.timedelta(days=400)
    assert prorate(monthly, start, end, before, after, rules) == round_money(monthly * months, mode)


@settings(max_examples=200)
@given(periods(), cents, MODES, BASES, st.data())
def test_a_split_period_adds_up_to_the_whole(period, monthly, mode, basis, data):
    """Charging split at any days into n consecutive intervals (each day billed once):
    the exact month shares add up to the whole exactly, and the parts' rounded amounts
    add up to the rounded whole within ⌊(n + 1) / 2⌋ cents."""
    start, end, _months = period
    rules = Rules(rounding=mode, proration_basis=basis)
    days = (end - start).days
    cuts = sorted(set(data.draw(st.lists(st.integers(0, days - 1), min_size=1, max_size=4))))
    bounds = [start + datetime.timedelta(days=c) for c in cuts]
    intervals, since = [], start
    for cut in bounds:
        intervals.append((since, cut))
        since = cut + datetime.timedelta(days=1)
    intervals.append((since, None))

    def exact(ivs):
        return money.prorated_exact(month_shares(start, end, ivs, rules), lambda _m: monthly)

    assert sum(exact([iv]) for iv in intervals) == exact([(start, None)])
    whole = prorate(monthly, start, end, start, None, rules)
    parts = [prorate(monthly, start, end, a, b, rules) for a, b in intervals]
    assert abs(sum(parts) - whole) <= D("0.01") * ((len(parts) + 1) // 2)


@given(periods(), st.data(), BASES)
def test_shares_stay_within_a_month(period, data, basis):
    start, end, _months = period
    since = _day_in(data.draw, start, end)
    until = _day_in(data.draw, since, end)
    for share in month_shares(start, end, [(since, until)], Rules(proration_basis=basis)):
        assert 0 <= share.days <= share.of


def test_move_in_mid_february_bills_14_of_28_days():
    feb_start, feb_end = datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)
    move_in = datetime.date(2026, 2, 15)
    (share,) = month_shares(feb_start, feb_end, [(move_in, None)])
    assert (share.days, share.of) == (14, 28)  # 15th..28th, both days billed
    assert prorate(D("223.75"), feb_start, feb_end, move_in, None) == D("111.88")  # 111.875
    assert prorate(D("223.75"), feb_start, feb_end, move_in, None, Rules("half_even")) == D(
        "111.88"
    )
    no_move_in_day = Rules(bill_move_in_day=False)
    assert month_shares(feb_start, feb_end, [(move_in, None)], no_move_in_day)[0].days == 13


def test_move_out_mid_march_bills_the_move_out_day_unless_told_not_to():
    start, end = datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)
    out = datetime.date(2026, 3, 10)
    assert prorate(D("310"), start, end, datetime.date(2025, 1, 1), out) == D("100.00")  # 10/31
    assert prorate(D("310"), start, end, start, out, Rules(bill_move_out_day=False)) == D("90.00")


def test_thirty_day_months():
    rules = Rules(proration_basis=money.THIRTY_DAYS)
    feb = (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    mar = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
    assert month_shares(*feb, [(datetime.date(2026, 2, 15), None)], rules)[0].days == 16
    assert month_shares(*feb, [(feb[0], datetime.date(2026, 2, 14))], rules)[0].days == 14
    assert month_shares(*mar, [(datetime.date(2026, 3, 31), None)], rules)[0].days == 0
    assert prorate(D("300"), *mar, datetime.date(2026, 3, 16), None, rules) == D("150.00")


def test_a_quarter_is_prorated_per_natural_month():
    """Move-in on 15 Feb in Q1 2026: January 0, February 14/28, March whole."""
    q1 = (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
    shares = month_shares(*q1, [(datetime.date(2026, 2, 15), None)])
    assert [(s.days, s.of) for s in shares] == [(0, 31), (14, 28), (31, 31)]
    assert prorate(D("100"), *q1, datetime.date(2026, 2, 15), None) == D("150.00")


def test_periods_are_whole_natural_months():
    with pytest.raises(ValueError):
        prorate(D("1"), datetime.date(2026, 2, 2), datetime.date(2026, 2, 28), None, None)


# --- tiers ----------------------------------------------------------------------------

WATER = parse_tiers(
    [
        {"up_to": "15", "price": "3.45"},
        {"up_to": "22", "price": "4.83"},
        {"up_to": None, "price": "5.83"},
    ]
)


def test_tier_examples():
    assert tiered_amount(D("10"), WATER) == D("34.50")
    assert tiered_amount(D("15"), WATER) == D("51.75")  # the limit is in its band
    assert tiered_amount(D("20"), WATER) == D("51.75") + 5 * D("4.83")
    assert tiered_amount(D("30"), WATER) == D("51.75") + 7 * D("4.83") + 8 * D("5.83")
    assert tiered_amount(D("20"), WATER, money.HIGHEST_BAND) == 20 * D("4.83")
    assert tiered_amount(D("0"), WATER) == 0


@given(st.decimals(min_value=D("0"), max_value=D("100000"), places=2))
def test_tiers_cost_between_the_lowest_and_highest_price(usage):
    per_band = tiered_amount(usage, WATER)
    assert usage * D("3.45") <= per_band <= tiered_amount(usage, WATER, money.HIGHEST_BAND)
    assert per_band <= usage * D("5.83")


@given(st.decimals(min_value=D("0"), max_value=D("1000"), places=2), prices)
def test_one_open_band_is_a_flat_price(usage, price):
    tiers = [Tier(None, price)]
    assert tiered_amount(usage, tiers) == tiered_amount(usage, tiers, money.HIGHEST_BAND)
    assert tiered_amount(usage, tiers) == usage * price


@pytest.mark.parametrize(
    "raw",
    [
        "cheap",
        [{"up_to": "10", "price": "1"}],  # last band not open
        [{"up_to": None, "price": "1"}, {"up_to": None, "price": "2"}],
        [{"up_to": "10", "price": "1"}, {"up_to": "5", "price": "2"}, {"up_to": None, "price": 3}],
        [{"up_to": None, "price": "-1"}],
        [{"up_to": None, "price": "abc"}],
        [{"up_to": "NaN", "price": "1"}, {"up_to": None, "price": "1"}],
        [{"price": "1"}],
    ],
)
def test_bad_tiers_are_refused(raw):
    with pytest.raises(ValueError):
        parse_tiers(raw)


# --- apportion ------------------------------------------------------------------------

weights = st.lists(
    st.decimals(min_value=D("0"), max_value=D("500"), places=2), min_size=1, max_size=40
).filter(lambda ws: any(w > 0 for w in ws))


@given(cents, weights)
def test_apportion_adds_up_exactly_and_is_fair_to_the_cent(total, ws):
    parts = apportion(total, ws)
    assert sum(parts) == total
    assert parts == apportion(total, list(ws))  # deterministic
    weight = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        assert part == part.quantize(D("0.01"))
        assert abs(part - total * w / weight) < D("0.01")


def test_apportion_leftover_cents_go_to_the_largest_remainders_then_the_lower_house():
    assert apportion(D("1.00"), [D(1), D(1), D(1)]) == [D("0.34"), D("0.33"), D("0.33")]
    assert apportion(D("0.02"), [D(1), D(1), D(1)]) == [D("0.01"), D("0.01"), D("0.00")]
    # 10.00 by 89.5 / 120 / 60.5 m²: 3.3148…, 4.4444…, 2.2407… → the cent left over
    # goes to the largest remainder (0.48 of a cent, the first house)
    assert apportion(D("10.00"), [D("89.5"), D("120"), D("60.5")]) == [
        D("3.32"),
        D("4.44"),
        D("2.24"),
    ]
    with pytest.raises(ValueError):
        apportion(D("1.005"), [D(1)])
    with pytest.raises(ValueError):
        apportion(D("1"), [D(0)])


# --- allocation -----------------------------------------------------------------------


@st.composite
def open_bills(draw):
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, 5), st.integers(1, 500_000)),
            min_size=0,
            max_size=15,
        )
    )
    day = datetime.date(2026, 1, 15)
    return [
        OpenBill(id=i + 1, due_date=day + datetime.timedelta(days=30 * d), balance=D(c).scaleb(-2))
        for i, (d, c) in enumerate(rows)
    ]


@given(cents, open_bills(), st.sampled_from([money.OLDEST_ID, money.PROPORTIONAL]))
def test_allocation_pays_oldest_first_and_adds_up(payment, bills, tie):
    allocations = allocate(payment, bills, tie)
    due = sum((b.balance for b in bills), D(0))
    paid = sum((a.amount for a in allocations), D(0))
    assert paid == min(payment, due)  # the rest of the payment is the prepaid remainder
    by_id = {b.id: b for b in bills}
    assert len({a.bill_id for a in allocations}) == len(allocations)
    for a in allocations:
        assert D("0.01") <= a.amount <= by_id[a.bill_id].balance
    got = {a.bill_id: a.amount for a in allocations}
    unpaid = [b for b in bills if got.get(b.id, 0) < b.balance]
    if unpaid:  # nothing due after the oldest not fully paid bill's due date got money
        oldest_open = min(b.due_date for b in unpaid)
        assert all(by_id[i].due_date <= oldest_open for i in got)


def test_allocation_examples():
    jan, feb = datetime.date(2026, 1, 15), datetime.date(2026, 2, 15)
    bills = [OpenBill(3, feb, D("100")), OpenBill(2, jan, D("60")), OpenBill(1, jan, D("40"))]
    assert allocate(D("70"), bills) == [
        money.Allocation(1, D("40.00")),
        money.Allocation(2, D("30.00")),
    ]
    assert allocate(D("50"), bills, money.PROPORTIONAL) == [
        money.Allocation(1, D("20.00")),
        money.Allocation(2, D("30.00")),
    ]
    assert sum(a.amount for a in allocate(D("500"), bills)) == D("200")
    with pytest.raises(ValueError):
        allocate(D("-1"), bills)


# --- late fees ------------------------------------------------------------------------

DUE = datetime.date(2026, 3, 15)


def test_late_fee_examples():
    rate = D("0.0005")
    assert late_fee(D("1000"), DUE, DUE, daily_rate=rate) == 0  # paid on the due date
    assert late_fee(D("1000"), DUE, datetime.date(2026, 3, 16), daily_rate=rate) == 0
    assert late_fee(
        D("1000"), DUE, datetime.date(2026, 3, 16), daily_rate=rate, payment_day_counts=True
    ) == D("0.50")
    # 10 days late, 5 of grace: 5 days after the grace, or all 10 once grace has passed
    paid = datetime.date(2026, 3, 26)
    assert late_fee(D("1000"), DUE, paid, daily_rate=rate, grace_days=5) == D("2.50")
    assert late_fee(
        D("1000"), DUE, paid, daily_rate=rate, grace_days=5, count_from="due_date"
    ) == D("5.00")
    assert late_fee(D("1000"), DUE, paid, daily_rate=rate, grace_days=10) == 0
    # capped at the principal (or a share of it)
    years_later = datetime.date(2036, 3, 15)
    assert late_fee(D("1000"), DUE, years_later, daily_rate=rate) == D("1000.00")
    assert late_fee(D("1000"), DUE, years_later, daily_rate=rate, cap_ratio=D("0.3")) == D("300.00")
    assert late_fee(D("0"), DUE, years_later, daily_rate=rate) == 0


@given(
    cents,
    st.integers(0, 4000),
    st.integers(0, 60),
    st.decimals(min_value=D("0"), max_value=D("0.01"), places=6),
)
def test_late_fees_never_pass_the_cap_and_grow_with_time(principal, days, grace, rate):
    as_of = DUE + datetime.timedelta(days=days)
    fee = late_fee(principal, DUE, as_of, daily_rate=rate, grace_days=grace)
    later = late_fee(
        principal, DUE, as_of + datetime.timedelta(days=1), daily_rate=rate, grace_days=grace
    )
    assert D(0) <= fee <= later <= principal
