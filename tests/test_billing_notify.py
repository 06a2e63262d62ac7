"""POST /billing/notify/<provider>/: no session, no CSRF token, the provider's signature
is the authentication. A signed notification pays once and is acknowledged; forged,
unreadable and unknown ones are refused with nothing written; replays are acknowledged
and change nothing."""

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from wuye.billing import payments
from wuye.billing.models import Bill, FeeItem, Payment, ProviderEvent, ProviderOrder
from wuye.billing.providers import SIGNATURE_HEADER, SandboxProvider

D = Decimal
DUE = datetime.date(2026, 2, 15)
URL = "/billing/notify/sandbox/"


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
        code="repair",
        name="维修费",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    bill = Bill.objects.create(
        company=cast.company,
        community=cast.community_x,
        house=cast.house_a,
        fee_item=item,
        origin=Bill.Origin.ONE_OFF,
        period_start=DUE,
        period_end=DUE,
        amount=D("88.00"),
        due_date=DUE,
    )
    order, _params = payments.start_online_payment(
        actor=cast.actor("resident_a"), bill_ids=[bill.id]
    )
    return order


def deliver(body: bytes, headers: dict, url: str = URL):
    """As the provider does: a bare POST (CSRF checks on) with the signature header."""
    client = Client(enforce_csrf_checks=True)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post(url, data=body, content_type="application/json", **extra)


def test_the_url_is_where_providers_post(order):
    assert reverse("billing_notify:notify", args=["sandbox"]) == URL


def test_a_signed_notification_pays_and_is_acknowledged(cast, sandbox, order):
    body, headers = sandbox.build_notification(order, event_id="EV1", transaction_id="T1")
    response = deliver(body, headers)
    assert response.status_code == 200
    assert response.json() == {"code": "SUCCESS", "message": "paid"}
    order.refresh_from_db()
    assert order.status == ProviderOrder.Status.PAID
    assert order.payment.receipt_no.startswith("SJ-ACME-")
    assert Bill.objects.get().status == Bill.Status.PAID


def test_a_replay_is_acknowledged_and_writes_nothing(sandbox, order):
    body, headers = sandbox.build_notification(order, event_id="EV1")
    deliver(body, headers)
    response = deliver(body, headers)
    assert response.status_code == 200
    assert response.json() == {"code": "SUCCESS", "message": "duplicate"}
    assert Payment.objects.count() == 1 and ProviderEvent.objects.count() == 1


def test_a_second_event_for_a_paid_order_writes_no_payment(sandbox, order):
    deliver(*sandbox.build_notification(order, event_id="EV1"))
    response = deliver(*sandbox.build_notification(order, event_id="EV2"))
    assert response.json()["message"] == "already_paid"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, headers: (body, {SIGNATURE_HEADER: "0" * 64}),
        lambda body, headers: (body, {}),
        lambda body, headers: (body.replace(b"88.00", b"0.01"), headers),
    ],
    ids=["wrong signature", "no signature", "body changed after signing"],
)
def test_a_forged_notification_is_400_and_writes_nothing(sandbox, order, forge):
    body, headers = forge(*sandbox.build_notification(order, event_id="EV1"))
    response = deliver(body, headers)
    assert response.status_code == 400
    assert response.json()["code"] == "FAIL"
    assert "signature" in response.json()["message"]
    assert not Payment.objects.exists() and not ProviderEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == ProviderOrder.Status.CREATED


def test_a_signed_but_unreadable_body_is_400(sandbox, order):
    body = b"not json"
    response = deliver(body, {SIGNATURE_HEADER: sandbox.sign(body)})
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    assert not ProviderEvent.objects.exists()


def test_a_wrong_amount_is_recorded_not_paid(sandbox, order):
    response = deliver(*sandbox.build_notification(order, event_id="EV1", amount="1.00"))
    assert response.status_code == 200
    assert response.json()["message"] == "amount_mismatch"
    assert not Payment.objects.exists()
    assert ProviderEvent.objects.get().outcome == "amount_mismatch"


def test_an_unknown_order_is_404_fail(sandbox, order):
    order.out_trade_no = "WYNOSUCHORDER"
    response = deliver(*sandbox.build_notification(order, event_id="EV1"))
    assert response.status_code == 404 and response.json()["code"] == "FAIL"
    assert not ProviderEvent.objects.exists()


def test_an_unknown_provider_is_404(sandbox, order):
    body, headers = sandbox.build_notification(order)
    assert deliver(body, headers, url="/billing/notify/nosuch/").status_code == 404
    assert not Payment.objects.exists()


def test_only_post(order):
    assert Client().get(URL).status_code == 405


def test_a_bill_voided_after_the_order_is_taken_as_prepaid(cast, sandbox, order):
    """The provider has the resident's money: it is kept as 预存, not refused (a FAIL
    would only make the provider deliver it again). tests/test_billing_orders_expiry.py"""
    from wuye.billing import services

    services.void_bill(actor=cast.actor("finance"), bill=Bill.objects.get(), reason="作废")
    response = deliver(*sandbox.build_notification(order, event_id="EV1"))
    assert response.status_code == 200 and response.json()["code"] == "SUCCESS"
    assert ProviderEvent.objects.get().outcome == "surplus_to_prepaid"
    payment = Payment.objects.get()
    assert not payment.allocations.exists() and payment.receipt_no


def test_the_body_is_json_the_provider_reads(sandbox, order):
    response = deliver(*sandbox.build_notification(order))
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"code", "message"}
