"""Online orders that are never paid: closed after BILLING_ORDER_TTL_MINUTES by the
5-minute job (asking the provider first: a trade paid there is recorded through the
notification's path, not closed), or cancelled by the resident who started one. Money
the provider confirms is never refused: for a closed order, or for bills voided or paid
at the counter meanwhile, it goes to the house's 预存 as a payment with a receipt, and the
event's outcome says so. Replays credit once."""

import datetime
from decimal import Decimal

import pytest
from api_helpers import post
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from wuye.billing import orders, payments, providers, services
from wuye.billing.models import (
    Bill,
    FeeItem,
    Payment,
    PrepaidAccount,
    PrepaidEntry,
    ProviderEvent,
    ProviderOrder,
)
from wuye.billing.providers import Outcome, SandboxProvider
from wuye.billing.tasks import close_expired_orders
from wuye.schedule import JOBS

D = Decimal
DUE = datetime.date(2026, 2, 15)
TOTAL = D("150.50")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    settings.BILLING_ORDER_TTL_MINUTES = 30


@pytest.fixture
def sandbox():
    return SandboxProvider()


@pytest.fixture
def bills(cast):
    item = FeeItem.objects.create(
        company=cast.company,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    return [
        Bill.objects.create(
            company=cast.company,
            community=cast.community_x,
            house=cast.house_a,
            fee_item=item,
            origin=Bill.Origin.ONE_OFF,
            period_start=DUE,
            period_end=DUE,
            amount=D(amount),
            due_date=DUE,
        )
        for amount in ("120.00", "30.50")
    ]


def start(cast, bills, minutes_ago=0, who="resident_a"):
    order, _params = payments.start_online_payment(
        actor=cast.actor(who), bill_ids=[b.id for b in bills]
    )
    if minutes_ago:
        ProviderOrder.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
        )
    order.refresh_from_db()
    return order


@pytest.fixture
def order(cast, bills):
    return start(cast, bills)


def prepaid(house) -> Decimal:
    account = PrepaidAccount.objects.filter(house=house, fee_item=None).first()
    return account.balance if account else D("0")


def status(order):
    order.refresh_from_db()
    return order.status


# --- the 5-minute job ---------------------------------------------------------------------


def test_the_job_runs_every_five_minutes():
    job = next(job for job in JOBS if job.name == "billing.close_expired_orders")
    assert job.every == datetime.timedelta(minutes=5) and job.task is close_expired_orders


def test_orders_unpaid_after_the_ttl_are_closed_there_and_here(cast, bills, sandbox, settings):
    old = start(cast, bills, minutes_ago=31)
    recent = start(cast, bills, minutes_ago=29)
    assert close_expired_orders.call() == {"closed": 1}
    assert (status(old), status(recent)) == ("closed", "created")
    assert sandbox.query_order(old)["trade_state"] == "CLOSED"  # closed at the provider
    assert not Payment.objects.exists() and not ProviderEvent.objects.exists()
    assert orders.close_expired() == {}  # a second tick finds nothing
    settings.BILLING_ORDER_TTL_MINUTES = 20
    assert orders.close_expired() == {"closed": 1}
    assert status(recent) == "closed"


def test_an_order_paid_at_the_provider_is_recorded_not_closed(cast, bills, sandbox):
    order = start(cast, bills, minutes_ago=45)
    lost = sandbox.pay(order)  # the resident paid; the notification never arrived
    assert orders.close_expired() == {Outcome.PAID: 1}
    order.refresh_from_db()
    assert order.status == "paid" and order.transaction_id == f"SBT{order.pk:010d}"
    payment = order.payment
    assert payment.amount == TOTAL and payment.receipt_no.startswith("SJ-ACME-")
    assert sorted(a.amount for a in payment.allocations.all()) == [D("30.50"), D("120.00")]
    event = ProviderEvent.objects.get()
    assert (event.event_id, event.outcome) == (f"query:{order.out_trade_no}", "paid")
    # The late notification finds the order paid: no second payment.
    assert providers.handle_notification(sandbox, *lost) == Outcome.ALREADY_PAID
    assert orders.close_expired() == {}
    assert Payment.objects.count() == 1 and prepaid(cast.house_a) == 0


def test_a_trade_paid_between_the_question_and_the_close_is_recorded(
    cast, bills, sandbox, monkeypatch
):
    order = start(cast, bills, minutes_ago=45)
    query = SandboxProvider.query_order
    asked = []

    def paid_right_after_the_first_question(self, order):
        answer = query(self, order)
        if not asked:
            asked.append(answer)
            self.pay(order)
        return answer

    monkeypatch.setattr(SandboxProvider, "query_order", paid_right_after_the_first_question)
    assert orders.close_expired() == {Outcome.PAID: 1}  # the close answered "paid"
    assert status(order) == "paid" and Payment.objects.get().amount == TOTAL


def test_one_order_failing_does_not_stop_the_others(cast, bills, monkeypatch):
    broken = start(cast, bills, minutes_ago=60)
    fine = start(cast, bills, minutes_ago=60)
    query = SandboxProvider.query_order

    def unreachable_for_one(self, order):
        if order.pk == broken.pk:
            raise ConnectionError("provider timed out")
        return query(self, order)

    monkeypatch.setattr(SandboxProvider, "query_order", unreachable_for_one)
    assert orders.close_expired() == {"error": 1, "closed": 1}
    assert (status(broken), status(fine)) == ("created", "closed")  # tried again next tick


# --- money that arrives anyway ----------------------------------------------------------


def test_a_notification_for_a_closed_order_goes_to_prepaid_once(cast, bills, sandbox):
    order = start(cast, bills, minutes_ago=31)
    orders.close_expired()
    note = sandbox.build_notification(order, event_id="EV-LATE")
    assert providers.handle_notification(sandbox, *note) == Outcome.CLOSED_TO_PREPAID
    order.refresh_from_db()
    assert order.status == "paid"  # it has a payment now (refunds go back through it)
    payment = order.payment
    assert (payment.amount, payment.method) == (TOTAL, "online")
    assert payment.receipt_no and not payment.allocations.exists()
    assert PrepaidEntry.objects.get(payment=payment).amount == TOTAL
    assert prepaid(cast.house_a) == TOTAL
    assert {b.status for b in Bill.objects.all()} == {"open"}  # the bills still owe
    assert ProviderEvent.objects.get().outcome == "closed_to_prepaid"
    # The same notification again, and another event for the order: nothing more.
    assert providers.handle_notification(sandbox, *note) == Outcome.DUPLICATE
    other = sandbox.build_notification(order, event_id="EV-AGAIN")
    assert providers.handle_notification(sandbox, *other) == Outcome.ALREADY_PAID
    assert Payment.objects.count() == 1 and prepaid(cast.house_a) == TOTAL


def test_the_notify_endpoint_acknowledges_money_for_a_closed_order(client, cast, order, sandbox):
    orders.cancel_order(actor=cast.actor("resident_a"), order=order)
    body, headers = sandbox.build_notification(order, event_id="EV1")
    for _attempt in range(2):  # the provider retries: acknowledged both times, one credit
        response = client.post(
            "/billing/notify/sandbox/",
            data=body,
            content_type="application/json",
            HTTP_X_SANDBOX_SIGNATURE=headers["X-Sandbox-Signature"],
        )
        assert response.status_code == 200 and response.json()["code"] == "SUCCESS"
    assert Payment.objects.get().amount == TOTAL and prepaid(cast.house_a) == TOTAL


def test_money_for_bills_voided_meanwhile_goes_to_prepaid(cast, bills, order, sandbox):
    services.void_bill(actor=cast.actor("finance"), bill=bills[1], reason="Billed twice")
    note = sandbox.build_notification(order, event_id="EV1")
    assert providers.handle_notification(sandbox, *note) == Outcome.SURPLUS_TO_PREPAID
    order.refresh_from_db()
    (allocation,) = order.payment.allocations.all()
    assert (allocation.bill_id, allocation.amount) == (bills[0].id, D("120.00"))
    assert prepaid(cast.house_a) == D("30.50") and order.payment.receipt_no
    bills[0].refresh_from_db()
    assert bills[0].status == "paid"
    assert providers.handle_notification(sandbox, *note) == Outcome.DUPLICATE
    assert Payment.objects.count() == 1 and prepaid(cast.house_a) == D("30.50")


def test_money_for_bills_paid_at_the_counter_goes_to_prepaid(cast, bills, order, sandbox):
    payments.collect(
        actor=cast.actor("finance"), house=cast.house_a, amount=TOTAL, method="cash"
    )  # both bills paid in cash while the resident was paying online
    note = sandbox.build_notification(order, event_id="EV1")
    assert providers.handle_notification(sandbox, *note) == Outcome.SURPLUS_TO_PREPAID
    order.refresh_from_db()
    assert not order.payment.allocations.exists() and prepaid(cast.house_a) == TOTAL
    assert providers.handle_notification(sandbox, *note) == Outcome.DUPLICATE
    assert Payment.objects.count() == 2 and prepaid(cast.house_a) == TOTAL


def test_a_fully_paid_order_still_says_paid(cast, order, sandbox):
    note = sandbox.build_notification(order, event_id="EV1")
    assert providers.handle_notification(sandbox, *note) == Outcome.PAID
    assert prepaid(cast.house_a) == 0


# --- the resident cancels ---------------------------------------------------------------


def test_the_resident_cancels_their_order_on_the_result_page(cast, order, sandbox):
    client = cast.client("resident_a")
    result = reverse("billing_resident:result", args=[order.out_trade_no])
    page = client.get(result).content.decode()
    cancel = reverse("billing_resident:order_cancel", args=[order.out_trade_no])
    assert f'action="{cancel}"' in page
    response = client.post(cancel, follow=True)
    assert b"Order cancelled. Nothing was charged." in response.content
    assert b"Order closed" in response.content
    assert f'action="{cancel}"' not in response.content.decode()
    assert status(order) == "closed"
    assert sandbox.query_order(order)["trade_state"] == "CLOSED"
    # The cashier of a closed order shows the result; paying it is refused.
    cashier = reverse("billing_resident:cashier", args=[order.out_trade_no])
    assert client.get(cashier).url == result
    pay = reverse("billing_resident:cashier_pay", args=[order.out_trade_no])
    response = client.post(pay, follow=True)
    assert b"This order was closed; start a new payment." in response.content
    assert not Payment.objects.exists()
    # The bills can be paid with a new order.
    assert (
        client.post(reverse("billing_resident:pay"), {"bills": order.bill_ids}).status_code == 302
    )


def test_only_the_resident_who_started_it_cancels(cast, order):
    cancel = reverse("billing_resident:order_cancel", args=[order.out_trade_no])
    for name in ("resident_b", "other_resident"):
        assert cast.client(name).post(cancel).status_code == 404
    assert cast.client("finance").post(cancel).status_code == 403  # staff without a house
    with pytest.raises(PermissionDenied):
        orders.cancel_order(actor=cast.actor("resident_b"), order=order)
    assert status(order) == "created"


def test_a_paid_order_cannot_be_cancelled(cast, order, sandbox):
    providers.handle_notification(sandbox, *sandbox.pay(order))
    with pytest.raises(ValidationError, match="went through"):
        orders.cancel_order(actor=cast.actor("resident_a"), order=order)
    response = cast.client("resident_a").post(
        reverse("billing_resident:order_cancel", args=[order.out_trade_no]), follow=True
    )
    assert b"This payment went through" in response.content
    assert status(order) == "paid" and Payment.objects.count() == 1


def test_cancelling_an_order_paid_meanwhile_records_the_payment(cast, order, sandbox):
    sandbox.pay(order)  # paid at the provider, notification not here yet
    cancelled = orders.cancel_order(actor=cast.actor("resident_a"), order=order)
    assert cancelled.status == "paid" and cancelled.payment.amount == TOTAL


def test_cancelling_twice_changes_nothing(cast, order):
    orders.cancel_order(actor=cast.actor("resident_a"), order=order)
    again = orders.cancel_order(actor=cast.actor("resident_a"), order=order)
    assert again.status == "closed" and not ProviderEvent.objects.exists()


def test_the_api_cancels_an_order(cast, order):
    url = f"/billing/online-payments/{order.pk}/cancel"
    assert post(cast.client("resident_b"), url).status_code == 404
    assert post(cast.client("finance"), url).status_code == 404
    assert status(order) == "created"
    response = post(cast.client("resident_a"), url, **{"Idempotency-Key": "cancel-1"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["amount"]) == (order.pk, "closed", "150.50")
    replay = post(cast.client("resident_a"), url, **{"Idempotency-Key": "cancel-1"})
    assert replay.json() == body and replay.headers["Idempotent-Replayed"] == "true"
    assert status(order) == "closed"
