"""Payments: allocation to bills (property-based and worked examples), prepaid balances
(预存) and their auto-deduction after a bill run, idempotency keys, receipt numbers,
refunds with a second approver, online payment start, and who sees what."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuye.billing import payments, runs, services
from wuye.billing.models import (
    Allocation,
    Bill,
    BillingPolicy,
    FeeItem,
    Payment,
    PrepaidAccount,
    PrepaidEntry,
    ProviderOrder,
    ReceiptCounter,
    Refund,
)

D = Decimal
JAN = datetime.date(2026, 1, 1)
CASH = Payment.Method.CASH
NOON = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def item(cast, finance):
    return services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="repair",
        name="维修费",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("100"),
        effective_from=JAN,
    )


def make_bill(house, fee_item, amount, due, **fields):
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=D(amount),
        due_date=due,
        **fields,
    )


def day(n):
    return JAN + datetime.timedelta(days=n)


def prepaid_balance(house):
    return PrepaidAccount.objects.filter(house=house).aggregate(s=Sum("balance"))["s"] or D(0)


def assert_ledgers_add_up():
    """Every bill's paid amount is its allocations + prepaid deductions; every prepaid
    balance is the sum of its entries."""
    for bill in Bill.objects.all():
        allocated = sum((a.amount - a.refunded_amount for a in bill.allocations.all()), D(0))
        deducted = -sum((e.amount for e in bill.prepaid_entries.all()), D(0))
        assert bill.paid_amount == allocated + deducted
        assert 0 <= bill.paid_amount <= bill.payable
        assert bill.status == services.status_for(bill.payable, bill.paid_amount)
    for account in PrepaidAccount.objects.all():
        assert account.balance == sum((e.amount for e in account.entries.all()), D(0))


# --- allocation: properties -----------------------------------------------------------

bills_strategy = st.lists(
    st.tuples(st.integers(1, 50_000), st.integers(0, 5)), min_size=0, max_size=6
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bills_strategy, st.integers(1, 200_000), st.booleans())
def test_a_payment_pays_bills_up_to_their_balance_and_the_rest_is_prepaid(
    cast, finance, item, bills, cents, proportional
):
    with transaction.atomic():
        tie = "proportional" if proportional else "oldest_id"
        BillingPolicy.objects.update_or_create(
            company=cast.company, defaults={"allocation_tie": tie}
        )
        made = [make_bill(cast.house_a, item, D(c) / 100, day(d)) for c, d in bills]
        amount = D(cents) / 100
        payment = payments.collect(actor=finance, house=cast.house_a, amount=amount, method=CASH)
        total_due = sum((b.amount for b in made), D(0))
        allocated = Allocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
        assert (allocated or D(0)) == min(amount, total_due)
        assert prepaid_balance(cast.house_a) == amount - (allocated or D(0))
        for bill in Bill.objects.filter(pk__in=[b.pk for b in made]):
            assert bill.paid_amount <= bill.payable
        assert_ledgers_add_up()
        transaction.set_rollback(True)


# --- allocation: examples -------------------------------------------------------------


def test_oldest_due_date_first_and_a_partial_payment(cast, finance, item):
    newer = make_bill(cast.house_a, item, "80.00", day(40))
    older = make_bill(cast.house_a, item, "50.00", day(10))
    payment = payments.collect(actor=finance, house=cast.house_a, amount="70.00", method=CASH)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert [(a.bill_id, a.amount) for a in payment.allocations.order_by("id")] == [
        (older.id, D("50.00")),
        (newer.id, D("20.00")),
    ]
    assert older.status == Bill.Status.PAID
    assert (newer.status, newer.paid_amount, newer.balance) == (
        Bill.Status.PARTIALLY_PAID,
        D("20.00"),
        D("60.00"),
    )
    assert prepaid_balance(cast.house_a) == 0


def test_chosen_bills_only_and_the_overpayment_is_prepaid(cast, finance, item):
    first = make_bill(cast.house_a, item, "50.00", day(10))
    chosen = make_bill(cast.house_a, item, "30.00", day(20))
    payment = payments.collect(
        actor=finance, house=cast.house_a, amount="100", method=CASH, bill_ids=[chosen.id]
    )
    first.refresh_from_db()
    chosen.refresh_from_db()
    assert (first.paid_amount, chosen.status) == (D("0"), Bill.Status.PAID)
    entry = PrepaidEntry.objects.get(payment=payment)
    assert (entry.kind, entry.amount, entry.account.fee_item) == ("deposit", D("70.00"), None)
    assert_ledgers_add_up()


def test_same_due_date_in_proportion_when_the_policy_says_so(cast, finance, item):
    BillingPolicy.objects.create(company=cast.company, allocation_tie="proportional")
    a = make_bill(cast.house_a, item, "30.00", day(10))
    b = make_bill(cast.house_a, item, "10.00", day(10))
    payments.collect(actor=finance, house=cast.house_a, amount="20", method=CASH)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.paid_amount, b.paid_amount) == (D("15.00"), D("5.00"))


@pytest.mark.parametrize("amount", ["0", "-5", "10.001", "abc", 1.5])
def test_bad_amounts_are_refused(cast, finance, item, amount):
    make_bill(cast.house_a, item, "50.00", day(10))
    with pytest.raises(ValidationError) as err:
        payments.collect(actor=finance, house=cast.house_a, amount=amount, method=CASH)
    assert "amount" in err.value.message_dict
    assert not Payment.objects.exists()


def test_a_repeated_idempotency_key_returns_the_first_payment(cast, finance, item):
    make_bill(cast.house_a, item, "50.00", day(10))
    first = payments.collect(
        actor=finance, house=cast.house_a, amount="50", method=CASH, idempotency_key="k-1"
    )
    again = payments.collect(
        actor=finance, house=cast.house_a, amount="80", method=CASH, idempotency_key="k-1"
    )
    assert again.pk == first.pk
    assert Payment.objects.count() == 1 and Allocation.objects.count() == 1
    assert ReceiptCounter.objects.get().last_number == 1


def test_a_twin_that_got_past_the_first_check_writes_nothing(cast, finance, item):
    first = payments.record_payment(
        house=cast.house_a, amount=D("5"), method=CASH, idempotency_key="k-2"
    )
    twin = payments.record_payment(
        house=cast.house_a, amount=D("5"), method=CASH, idempotency_key="k-2"
    )
    assert twin.pk == first.pk
    assert ReceiptCounter.objects.get().last_number == 1  # no number lost
    assert PrepaidEntry.objects.count() == 1


@pytest.mark.parametrize("whose", ["house_b", "other_house"])
def test_paying_a_bill_of_another_house_is_refused_and_nothing_written(cast, finance, item, whose):
    other_item = FeeItem.objects.create(
        company_id=getattr(cast, whose).company_id,
        community_id=getattr(cast, whose).community_id,
        code="x",
        name="x",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    foreign = make_bill(getattr(cast, whose), other_item, "50.00", day(10))
    mine = make_bill(cast.house_a, item, "50.00", day(10))
    with pytest.raises(ValidationError) as err:
        payments.collect(
            actor=finance,
            house=cast.house_a,
            amount="100",
            method=CASH,
            bill_ids=[mine.id, foreign.id],
        )
    assert err.value.message_dict["bill_ids"] == [f"Bill {foreign.id} is not a bill of this house."]
    assert not Payment.objects.exists() and not ReceiptCounter.objects.exists()
    mine.refresh_from_db()
    assert mine.paid_amount == 0


def test_a_void_bill_is_refused(cast, finance, item):
    void = make_bill(cast.house_a, item, "50.00", day(10), status=Bill.Status.VOID)
    with pytest.raises(ValidationError, match=f"Bill {void.id} is void"):
        payments.collect(
            actor=finance, house=cast.house_a, amount="5", method=CASH, bill_ids=[void.id]
        )


@pytest.mark.parametrize("who", ["technician", "project_manager", "resident_a", "other_admin"])
def test_only_cashiers_of_the_community_collect(cast, who):
    with pytest.raises(PermissionDenied):
        payments.collect(actor=cast.actor(who), house=cast.house_a, amount="5", method=CASH)


# --- receipt numbers ------------------------------------------------------------------


def test_receipt_numbers_are_sequential_per_company_and_month(cast, finance):
    def pay(house, at, actor=finance):
        return payments.collect(actor=actor, house=house, amount="1", method=CASH, at=at).receipt_no

    march = [pay(cast.house_a, NOON) for _ in range(3)]
    april = pay(cast.house_y, NOON + datetime.timedelta(days=30))
    other = pay(cast.other_house, NOON, cast.actor("other_admin"))
    assert march == [f"SJ-ACME-202603-{n:06d}" for n in (1, 2, 3)]
    assert april == "SJ-ACME-202604-000001"
    assert other == "SJ-OTHER-202603-000001"
    with pytest.raises(ValidationError):  # a failed payment takes no number
        payments.collect(actor=finance, house=cast.house_a, amount="0", method=CASH, at=NOON)
    assert pay(cast.house_a, NOON) == "SJ-ACME-202603-000004"


# --- prepaid --------------------------------------------------------------------------


def test_use_prepaid_spends_the_balance_before_the_payment(cast, finance, item):
    payments.collect(actor=finance, house=cast.house_a, amount="30", method=CASH)
    bill = make_bill(cast.house_a, item, "50.00", day(10))
    payment = payments.collect(
        actor=finance, house=cast.house_a, amount="20", method=CASH, use_prepaid=True
    )
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID
    assert payment.allocations.get().amount == D("20.00")
    assert prepaid_balance(cast.house_a) == 0
    assert_ledgers_add_up()


def test_prepaid_is_deducted_after_a_bill_run(cast, finance):
    fee = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.FIXED,
        unit_price=D("100"),
        effective_from=JAN,
    )
    payments.collect(actor=finance, house=cast.house_a, amount="150", method=CASH)
    run = runs.preview_run(
        actor=finance,
        period_kind="month",
        period_start=datetime.date(2026, 2, 1),
        community=cast.community_x,
    )
    run = runs.issue_run(actor=finance, run=run)  # deducts 预存 when it issues
    bill_a = Bill.objects.get(house=cast.house_a, fee_item=fee)
    bill_b = Bill.objects.get(house=cast.house_b, fee_item=fee)
    assert (bill_a.status, bill_b.status) == (Bill.Status.PAID, Bill.Status.OPEN)
    assert prepaid_balance(cast.house_a) == D("50.00")
    assert payments.deduct_after_run(run) == 0  # run again: nothing left to pay
    assert PrepaidEntry.objects.filter(kind="deduction").count() == 1
    assert_ledgers_add_up()


def test_an_earmarked_prepayment_only_pays_its_fee_item(cast, finance, item):
    other_item = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="deposit",
        name="装修押金",
        kind=FeeItem.Kind.DEPOSIT,
        unit_price=D("10"),
        effective_from=JAN,
    )
    account = PrepaidAccount.objects.create(
        company=cast.company, community=cast.community_x, house=cast.house_a, fee_item=item
    )
    PrepaidEntry.objects.create(account=account, kind="deposit", amount=D("40"), at=NOON)
    PrepaidAccount.objects.filter(pk=account.pk).update(balance=D("40"))
    elsewhere = make_bill(cast.house_a, other_item, "30.00", day(5))
    own = make_bill(cast.house_a, item, "25.00", day(20))
    assert payments.deduct_prepaid(house=cast.house_a) == D("25.00")
    elsewhere.refresh_from_db()
    own.refresh_from_db()
    assert (elsewhere.paid_amount, own.status) == (D("0"), Bill.Status.PAID)
    assert_ledgers_add_up()


# --- refunds --------------------------------------------------------------------------


def test_refund_needs_a_second_person_and_restores_the_bills(cast, finance, item):
    older = make_bill(cast.house_a, item, "50.00", day(10))
    newer = make_bill(cast.house_a, item, "40.00", day(20))
    payment = payments.collect(actor=finance, house=cast.house_a, amount="100", method=CASH)
    refund = payments.request_refund(actor=finance, payment=payment, amount="30", reason="错收")
    with pytest.raises(ValidationError, match="Someone other than the requester"):
        payments.approve_refund(actor=finance, refund=refund)
    with pytest.raises(PermissionDenied):
        payments.approve_refund(actor=cast.actor("project_manager"), refund=refund)
    payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    older.refresh_from_db()
    newer.refresh_from_db()
    payment.refresh_from_db()
    # 10 of the prepaid remainder first, then 20 from the newest allocation.
    assert prepaid_balance(cast.house_a) == 0
    assert (older.status, newer.status, newer.paid_amount) == (
        Bill.Status.PAID,
        Bill.Status.PARTIALLY_PAID,
        D("20.00"),
    )
    assert (payment.status, payment.refunded_amount) == (
        Payment.Status.PARTIALLY_REFUNDED,
        D("30.00"),
    )
    assert_ledgers_add_up()
    rest = payments.request_refund(actor=finance, payment=payment, amount="70", reason="退房")
    payments.approve_refund(actor=cast.actor("company_admin"), refund=rest)
    older.refresh_from_db()
    newer.refresh_from_db()
    payment.refresh_from_db()
    assert (older.status, newer.status) == (Bill.Status.OPEN, Bill.Status.OPEN)
    assert payment.status == Payment.Status.REFUNDED
    paid = payments.pay_refund(actor=finance, refund=rest)
    assert paid.status == Refund.Status.PAID
    assert_ledgers_add_up()


def test_a_refund_cannot_exceed_the_payment_or_be_decided_twice(cast, finance, item):
    payment = payments.collect(actor=finance, house=cast.house_a, amount="10", method=CASH)
    payments.request_refund(actor=finance, payment=payment, amount="6", reason="a")
    with pytest.raises(ValidationError, match=r"At most 4\.00"):
        payments.request_refund(actor=finance, payment=payment, amount="5", reason="b")
    refund = Refund.objects.get()
    admin = cast.actor("company_admin")
    payments.reject_refund(actor=admin, refund=refund)
    with pytest.raises(ValidationError, match="already been decided"):
        payments.approve_refund(actor=admin, refund=refund)
    with pytest.raises(ValidationError, match="Only an approved refund"):
        payments.pay_refund(actor=finance, refund=refund)


def test_prepaid_already_spent_elsewhere_cannot_be_refunded(cast, finance, item):
    payment = payments.collect(actor=finance, house=cast.house_a, amount="50", method=CASH)
    make_bill(cast.house_a, item, "50.00", day(10))
    payments.deduct_prepaid(house=cast.house_a)
    refund = payments.request_refund(actor=finance, payment=payment, amount="50", reason="x")
    with pytest.raises(ValidationError, match="spent from the prepaid balance"):
        payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED
    assert_ledgers_add_up()


# --- online: starting a payment -------------------------------------------------------


def test_a_resident_starts_an_online_payment_for_their_own_bills(cast, item):
    one = make_bill(cast.house_a, item, "50.00", day(10))
    two = make_bill(cast.house_a, item, "25.50", day(20), paid_amount=D("5"))
    order, params = payments.start_online_payment(
        actor=cast.actor("resident_a"), bill_ids=[two.id, one.id]
    )
    assert (order.house, order.amount, order.bill_ids) == (
        cast.house_a,
        D("70.50"),
        [one.id, two.id],
    )
    assert order.status == ProviderOrder.Status.CREATED
    assert params["out_trade_no"] == order.out_trade_no and params["amount"] == "70.50"


@pytest.mark.parametrize("who", ["resident_b", "other_resident", "finance"])
def test_nobody_else_starts_an_online_payment_for_a_residents_bill(cast, item, who):
    bill = make_bill(cast.house_a, item, "50.00", day(10))
    with pytest.raises((PermissionDenied, ValidationError)):
        payments.start_online_payment(actor=cast.actor(who), bill_ids=[bill.id])
    assert not ProviderOrder.objects.exists()


def test_a_paid_bill_cannot_be_paid_online(cast, item):
    bill = make_bill(cast.house_a, item, "50.00", day(10), paid_amount=D("50"))
    Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.PAID)
    with pytest.raises(ValidationError, match="nothing left to pay"):
        payments.start_online_payment(actor=cast.actor("resident_a"), bill_ids=[bill.id])


# --- who sees what --------------------------------------------------------------------


def test_scoping(cast, finance):
    def pay(house, actor=finance):
        return payments.collect(actor=actor, house=house, amount="1", method=CASH).pk

    a, b, y = pay(cast.house_a), pay(cast.house_b), pay(cast.house_y)
    other = pay(cast.other_house, cast.actor("other_admin"))

    def seen(model, who):
        return set(model.objects.visible_to(cast.actor(who)).values_list("pk", flat=True))

    assert seen(Payment, "finance") == {a, b, y}
    assert seen(Payment, "project_manager") == {a, b}
    assert seen(Payment, "manager_y") == {y}
    assert seen(Payment, "other_admin") == {other}
    assert seen(Payment, "resident_a") == {a}
    assert seen(Payment, "resident_b") == {b}
    assert seen(Payment, "other_resident") == {other}
    for nobody in ("technician", "dispatcher", "nobody"):
        assert seen(Payment, nobody) == set()
    account_a = PrepaidAccount.objects.get(house=cast.house_a).pk
    assert seen(PrepaidAccount, "resident_a") == {account_a}
    assert account_a not in seen(PrepaidAccount, "resident_b") | seen(PrepaidAccount, "other_admin")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_counters_sending_the_same_key_at_once_write_one_payment(cast):
    start = threading.Barrier(2)
    receipts = []

    def send():
        try:
            start.wait()
            payment = payments.collect(
                actor=cast.actor("finance"),
                house=cast.house_a,
                amount="10",
                method=CASH,
                idempotency_key="twin",
            )
            receipts.append(payment.receipt_no)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receipts) == 2 and set(receipts) == {receipts[0]}
    assert receipts[0].endswith("-000001")
    assert Payment.objects.count() == 1 and PrepaidEntry.objects.count() == 1
    assert ReceiptCounter.objects.get().last_number == 1
