"""Online payments through the sandbox provider: a signed notification pays the order
once; replays, forged signatures, wrong amounts and late duplicates write nothing new."""

import datetime
import json
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.query import QuerySet

from wuye.billing import payments, providers
from wuye.billing.models import (
    Allocation,
    Bill,
    FeeItem,
    Payment,
    PrepaidEntry,
    ProviderEvent,
    ProviderOrder,
    Refund,
)
from wuye.billing.providers import Outcome, SandboxProvider

D = Decimal
DUE = datetime.date(2026, 2, 15)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def sandbox():
    return SandboxProvider()


@pytest.fixture
def order(cast):
    item = FeeItem.objects.create(
        company=cast.company,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    bills = [
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
    order, _params = payments.start_online_payment(
        actor=cast.actor("resident_a"), bill_ids=[b.id for b in bills]
    )
    return order


def nothing_paid():
    return not Payment.objects.exists() and not Allocation.objects.exists()


def test_a_valid_notification_pays_the_order_once(cast, sandbox, order):
    body, headers = sandbox.build_notification(order, event_id="EV1", transaction_id="T1")
    assert providers.handle_notification(sandbox, body, headers) == Outcome.PAID
    order.refresh_from_db()
    payment = order.payment
    assert (order.status, order.transaction_id) == (ProviderOrder.Status.PAID, "T1")
    assert (payment.method, payment.amount, payment.reference) == ("online", D("150.50"), "T1")
    assert payment.received_by is None and payment.receipt_no.startswith("SJ-ACME-")
    assert set(Bill.objects.values_list("status", flat=True)) == {Bill.Status.PAID}
    assert not PrepaidEntry.objects.exists()
    event = ProviderEvent.objects.get()
    assert (event.event_id, event.verified, event.outcome, event.order) == (
        "EV1",
        True,
        Outcome.PAID,
        order,
    )


def test_a_replayed_notification_changes_nothing(sandbox, order):
    body, headers = sandbox.build_notification(order, event_id="EV1")
    providers.handle_notification(sandbox, body, headers)
    assert providers.handle_notification(sandbox, body, headers) == Outcome.DUPLICATE
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1


def test_another_event_for_a_paid_order_changes_nothing(sandbox, order):
    providers.handle_notification(sandbox, *sandbox.build_notification(order, event_id="EV1"))
    later = sandbox.build_notification(order, event_id="EV2")
    assert providers.handle_notification(sandbox, *later) == Outcome.ALREADY_PAID
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1


def test_a_twin_delivery_racing_past_the_check_hits_the_unique_event_id(
    sandbox, order, monkeypatch
):
    body, headers = sandbox.build_notification(order, event_id="EV1")
    providers.handle_notification(sandbox, body, headers)
    ProviderOrder.objects.filter(pk=order.pk).update(status=ProviderOrder.Status.CREATED)
    real_exists = QuerySet.exists

    def not_seen_yet(qs):  # the twin looked before the first delivery committed
        return False if qs.model is ProviderEvent else real_exists(qs)

    monkeypatch.setattr(QuerySet, "exists", not_seen_yet)
    assert providers.handle_notification(sandbox, body, headers) == Outcome.DUPLICATE
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1


def test_a_forged_signature_is_rejected_and_nothing_written(sandbox, order, settings):
    body, headers = sandbox.build_notification(order)
    tampered = body.replace(b"150.50", b"1.00")
    for forged in (
        (tampered, headers),
        (body, {}),
        (body, {providers.SIGNATURE_HEADER: "0" * 64}),
    ):
        with pytest.raises(ValidationError, match="signature is not valid"):
            providers.handle_notification(sandbox, *forged)
    settings.BILLING_SANDBOX_SECRET = "another-secret"  # signed with a different key
    with pytest.raises(ValidationError):
        providers.handle_notification(sandbox, body, headers)
    assert nothing_paid() and not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == ProviderOrder.Status.CREATED


def test_a_signed_but_unreadable_notification_is_rejected(db, sandbox):
    body = b'{"event_id": "EV1"}'
    with pytest.raises(ValidationError, match="cannot be read"):
        providers.handle_notification(
            sandbox, body, {providers.SIGNATURE_HEADER: sandbox.sign(body)}
        )
    assert not ProviderEvent.objects.exists()


def test_an_amount_that_differs_from_the_order_pays_nothing(sandbox, order):
    body, headers = sandbox.build_notification(order, event_id="EV1", amount=D("150.49"))
    assert providers.handle_notification(sandbox, body, headers) == Outcome.AMOUNT_MISMATCH
    assert nothing_paid()
    order.refresh_from_db()
    assert order.status == ProviderOrder.Status.CREATED
    assert ProviderEvent.objects.get().outcome == Outcome.AMOUNT_MISMATCH


def test_a_closed_trade_or_an_unknown_order_pays_nothing(sandbox, order):
    closed = sandbox.build_notification(order, event_id="EV1", paid=False)
    assert providers.handle_notification(sandbox, *closed) == Outcome.NOT_PAID
    order.out_trade_no = "WY-NOT-OURS"
    unknown = sandbox.build_notification(order, event_id="EV2")
    assert providers.handle_notification(sandbox, *unknown) == Outcome.UNKNOWN_ORDER
    assert nothing_paid()


def test_a_bill_paid_at_the_counter_meanwhile_leaves_the_rest_prepaid(cast, sandbox, order):
    first = Bill.objects.order_by("id").first()
    payments.collect(
        actor=cast.actor("finance"),
        house=cast.house_a,
        amount="120",
        method="cash",
        bill_ids=[first.id],
    )
    providers.handle_notification(sandbox, *sandbox.build_notification(order))
    order.refresh_from_db()
    assert order.payment.allocations.get().amount == D("30.50")
    assert PrepaidEntry.objects.get(payment=order.payment).amount == D("120.00")


def test_an_online_refund_goes_back_through_the_provider(cast, sandbox, order):
    providers.handle_notification(sandbox, *sandbox.build_notification(order))
    order.refresh_from_db()
    finance = cast.actor("finance")
    refund = payments.request_refund(
        actor=finance, payment=order.payment, amount="30.50", reason="重复缴费"
    )
    payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    refund = payments.pay_refund(actor=finance, refund=refund)
    assert refund.status == Refund.Status.PAID
    assert refund.provider_refund_id.startswith("SBR")


def test_query_and_pay_parameters(sandbox, order):
    assert sandbox.query_order(order) == {
        "out_trade_no": order.out_trade_no,
        "trade_state": "CREATED",
    }
    params = sandbox.create_order(order)
    signed = {k: v for k, v in params.items() if k != "sign"}
    assert params["sign"] == sandbox.sign(json.dumps(signed, sort_keys=True).encode())
    with pytest.raises(ValidationError, match="Unknown payment provider"):
        providers.get_provider("paypal")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.parametrize("same_event", [True, False])
def test_two_deliveries_at_the_same_moment_pay_once(cast, sandbox, order, same_event):
    notes = [sandbox.build_notification(order, event_id="EV1")]
    notes.append(notes[0] if same_event else sandbox.build_notification(order, event_id="EV2"))
    start = threading.Barrier(2)
    outcomes = []

    def deliver(note):
        try:
            start.wait()
            outcomes.append(providers.handle_notification(sandbox, *note))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(note,)) for note in notes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second = Outcome.DUPLICATE if same_event else Outcome.ALREADY_PAID
    assert sorted(outcomes) == sorted([Outcome.PAID, second])
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1
    assert Bill.objects.filter(status=Bill.Status.PAID).count() == 2
