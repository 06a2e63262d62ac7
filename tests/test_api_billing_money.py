"""Billing API, money after the bill: refunds (request, approve/reject by a second
person), a bill's adjustments (list, propose, decide), the collection rate by community,
building and month, and a payment's receipt PDF. Scoped: other communities, companies
and residents get 404 or nothing; refused input writes nothing; POSTs honour
Idempotency-Key."""

import datetime
from decimal import Decimal

import pytest
from api_helpers import get, ids, post, results

from wuye.billing import payments, services
from wuye.billing.models import Adjustment, Bill, FeeItem, Payment, Refund

D = Decimal
KEY = "Idempotency-Key"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def make_bill(house, item, amount, due, status=Bill.Status.OPEN):
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=item,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=D(amount),
        due_date=due,
        status=status,
    )


def item_of(community, code="repair"):
    return FeeItem.objects.create(
        company_id=community.company_id,
        community=community,
        code=code,
        name="维修费",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )


@pytest.fixture
def money(cast):
    """House A: a 100.00 bill due 2026-02-10 paid 60.00 in cash by finance; house B: an
    80.00 bill due 2026-03-05 unpaid; house Y (community Y): 50.00 due 2026-02-20 paid."""
    x_item, y_item = item_of(cast.community_x), item_of(cast.community_y)
    a = make_bill(cast.house_a, x_item, "100.00", datetime.date(2026, 2, 10))
    b = make_bill(cast.house_b, x_item, "80.00", datetime.date(2026, 3, 5))
    y = make_bill(cast.house_y, y_item, "50.00", datetime.date(2026, 2, 20))
    finance = cast.actor("finance")
    cash = payments.collect(
        actor=finance, house=cast.house_a, amount="60", method="cash", bill_ids=[a.id]
    )
    payments.collect(actor=finance, house=cast.house_y, amount="50", method="cash")
    return {"a": a, "b": b, "y": y, "cash": cash}


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- refunds ----------------------------------------------------------------------------


def test_a_refund_is_requested_then_approved_by_someone_else(cast, money):
    cash, finance, admin = money["cash"], cast.client("finance"), cast.client("company_admin")
    url = f"/billing/payments/{cash.id}/refunds"
    body = {"amount": "20.00", "reason": "Paid twice"}
    response = post(finance, url, body, **{KEY: "r-1"})
    assert response.status_code == 201, response.content
    refund = response.json()
    assert (refund["status"], refund["amount"], refund["receipt_no"]) == (
        "requested",
        "20.00",
        cash.receipt_no,
    )
    assert refund["house_id"] == cast.house_a.id and refund["requested_by_name"] == "finance"
    replay = post(finance, url, body, **{KEY: "r-1"})
    assert replay.json() == refund and Refund.objects.count() == 1
    # The requester may not decide it.
    same = post(finance, f"/billing/refunds/{refund['id']}/approve")
    assert same.status_code == 400
    assert "Someone other than the requester" in str(same.json()["detail"])
    assert fresh(cash).refunded_amount == 0
    approved = post(admin, f"/billing/refunds/{refund['id']}/approve", **{KEY: "a-1"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by_name"] == "company_admin"
    assert fresh(cash).refunded_amount == D("20.00")
    assert fresh(money["a"]).paid_amount == D("40.00")
    again = post(admin, f"/billing/refunds/{refund['id']}/reject")
    assert again.status_code == 400 and "already been decided" in str(again.json()["detail"])


def test_a_rejected_refund_changes_nothing_on_the_payment(cast, money):
    cash = money["cash"]
    refund = payments.request_refund(
        actor=cast.actor("finance"), payment=cash, amount="10", reason="Asked"
    )
    response = post(cast.client("company_admin"), f"/billing/refunds/{refund.id}/reject")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert fresh(cash).refunded_amount == 0 and fresh(money["a"]).paid_amount == D("60.00")


def test_a_refund_beyond_the_payment_or_without_a_reason_is_refused(cast, money):
    url = f"/billing/payments/{money['cash'].id}/refunds"
    finance = cast.client("finance")
    too_much = post(finance, url, {"amount": "60.01", "reason": "All of it"})
    assert too_much.status_code == 400 and "amount" in too_much.json()["detail"]
    blank = post(finance, url, {"amount": "1.00", "reason": "  "})
    assert blank.status_code == 400 and "reason" in blank.json()["detail"]
    fraction = post(finance, url, {"amount": "1.001", "reason": "x"})
    assert fraction.status_code == 400
    assert not Refund.objects.exists()


def test_refunds_are_scoped(cast, money):
    cash = money["cash"]
    url = f"/billing/payments/{cash.id}/refunds"
    body = {"amount": "5.00", "reason": "x"}
    for name in ("manager_y", "other_admin", "resident_b", "technician"):
        assert post(cast.client(name), url, body).status_code == 404, name
    for name in ("project_manager", "resident_a"):  # they see the payment, may not refund
        assert post(cast.client(name), url, body).status_code == 403, name
    assert not Refund.objects.exists()
    refund = payments.request_refund(
        actor=cast.actor("finance"), payment=cash, amount="5", reason="x"
    )
    assert ids(get(cast.client("finance"), "/billing/refunds")) == {refund.id}
    assert ids(get(cast.client("resident_a"), "/billing/refunds")) == {refund.id}
    for name in ("resident_b", "manager_y", "other_admin", "technician"):
        assert ids(get(cast.client(name), "/billing/refunds")) == set(), name
    filtered = get(cast.client("finance"), "/billing/refunds", {"status": "approved"})
    assert results(filtered) == []
    for name in ("other_admin", "resident_a", "project_manager"):
        response = post(cast.client(name), f"/billing/refunds/{refund.id}/approve")
        assert response.status_code in (403, 404), name
    assert fresh(refund).status == "requested"


# --- adjustments ------------------------------------------------------------------------


def test_an_adjustment_is_proposed_listed_and_decided(cast, money):
    bill = money["b"]
    finance, admin = cast.client("finance"), cast.client("company_admin")
    url = f"/billing/bills/{bill.id}/adjustments"
    body = {"kind": "credit", "amount": "15.50", "reason": "Leak in the flat above"}
    response = post(finance, url, body, **{KEY: "adj-1"})
    assert response.status_code == 201, response.content
    proposed = response.json()
    assert (proposed["status"], proposed["amount"], proposed["bill_id"]) == (
        "pending",
        "15.50",
        bill.id,
    )
    assert post(finance, url, body, **{KEY: "adj-1"}).json() == proposed
    assert Adjustment.objects.count() == 1
    listed = get(cast.client("resident_b"), url)  # the house's resident sees it
    assert [row["id"] for row in listed.json()] == [proposed["id"]]
    same = post(finance, f"/billing/adjustments/{proposed['id']}/approve")
    assert same.status_code == 400 and fresh(bill).adjusted_amount == 0
    approved = post(admin, f"/billing/adjustments/{proposed['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decided_by_name"] == "company_admin"
    bill = fresh(bill)
    assert (bill.adjusted_amount, bill.balance) == (D("-15.50"), D("64.50"))
    second = post(finance, url, {"kind": "debit", "amount": "3", "reason": "Meter fee"})
    rejected = post(admin, f"/billing/adjustments/{second.json()['id']}/reject")
    assert rejected.json()["status"] == "rejected" and fresh(bill).adjusted_amount == D("-15.50")
    rows = get(finance, url).json()
    assert [row["status"] for row in rows] == ["approved", "rejected"]


def test_a_bad_adjustment_writes_nothing(cast, money):
    finance = cast.client("finance")
    url = f"/billing/bills/{money['b'].id}/adjustments"
    too_big = post(finance, url, {"kind": "credit", "amount": "80.01", "reason": "x"})
    assert too_big.status_code == 400 and "amount" in too_big.json()["detail"]
    no_reason = post(finance, url, {"kind": "credit", "amount": "1", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["detail"]
    assert post(finance, url, {"kind": "gift", "amount": "1", "reason": "x"}).status_code == 422
    assert not Adjustment.objects.exists()
    services.void_bill(actor=cast.actor("finance"), bill=money["b"], reason="Wrong house")
    voiding = set(Adjustment.objects.values_list("id", flat=True))  # the void's own credit
    void = post(finance, url, {"kind": "debit", "amount": "1", "reason": "x"})
    assert void.status_code == 400 and "void" in str(void.json()["detail"])
    assert set(Adjustment.objects.values_list("id", flat=True)) == voiding


def test_adjustments_are_scoped(cast, money):
    url = f"/billing/bills/{money['b'].id}/adjustments"
    body = {"kind": "credit", "amount": "1", "reason": "x"}
    for name in ("manager_y", "other_admin", "resident_a", "technician"):
        assert post(cast.client(name), url, body).status_code == 404, name
        assert get(cast.client(name), url).status_code == 404, name
    for name in ("project_manager", "resident_b"):  # see the bill, may not adjust it
        assert post(cast.client(name), url, body).status_code == 403, name
    adjustment = services.propose_adjustment(
        actor=cast.actor("finance"), bill=money["b"], kind="credit", amount=D("1"), reason="x"
    )
    for name in ("other_admin", "manager_y", "resident_b"):
        response = post(cast.client(name), f"/billing/adjustments/{adjustment.id}/approve")
        assert response.status_code in (403, 404), name
    assert fresh(adjustment).status == "pending" and fresh(money["b"]).adjusted_amount == 0


# --- collection rate --------------------------------------------------------------------


def rate(client, **params):
    return get(client, "/billing/collection-rate", params)


def test_the_collection_rate_by_community_building_and_month(cast, money):
    months = {"month_from": "2026-02-01", "month_to": "2026-03-31"}
    finance = cast.client("finance")
    response = rate(finance, **months)
    assert response.status_code == 200, response.content
    body = response.json()
    # X: 100 + 80 payable, 60 paid; Y: 50 payable, 50 paid.
    assert body["total"] == {
        "bills": 3,
        "payable": "230.00",
        "paid": "110.00",
        "owed": "120.00",
        "rate": "47.8",
    }
    by_community = {row["id"]: row for row in body["rows"]}
    assert by_community[cast.community_x.id]["rate"] == "33.3"
    assert by_community[cast.community_y.id]["paid"] == "50.00"
    assert by_community[cast.community_x.id]["month"] is None
    buildings = rate(finance, by="building", **months).json()["rows"]
    assert {row["id"] for row in buildings} == {cast.building_x1.id, cast.house_y.building_id}
    by_month = rate(finance, by="month", **months).json()["rows"]
    assert [(row["month"], row["payable"], row["paid"]) for row in by_month] == [
        ("2026-02", "150.00", "110.00"),
        ("2026-03", "80.00", "0.00"),
    ]
    only_x = rate(finance, community=cast.community_x.id, **months).json()
    assert only_x["total"]["payable"] == "180.00"
    feb = rate(finance, month_from="2026-02-01", month_to="2026-02-28").json()
    assert feb["total"]["payable"] == "150.00" and feb["month_to"] == "2026-02-01"


def test_the_collection_rate_is_scoped(cast, money):
    months = {"month_from": "2026-02-01", "month_to": "2026-03-31"}
    manager_y = rate(cast.client("manager_y"), **months).json()
    assert manager_y["total"]["payable"] == "50.00"
    assert [row["id"] for row in manager_y["rows"]] == [cast.community_y.id]
    assert rate(cast.client("other_admin"), **months).json()["total"]["bills"] == 0
    for name in ("resident_a", "technician", "nobody"):
        assert rate(cast.client(name), **months).status_code == 403, name
    assert rate(cast.client(None), **months).status_code == 401


def test_a_bad_range_is_400(cast, money):
    finance = cast.client("finance")
    backwards = rate(finance, month_from="2026-05-01", month_to="2026-04-01")
    assert backwards.status_code == 400 and "month_to" in backwards.json()["detail"]
    too_long = rate(finance, month_from="2023-01-01", month_to="2026-01-01")
    assert too_long.status_code == 400 and "at most 36 months" in str(too_long.json()["detail"])
    assert rate(finance, by="house").status_code == 422


# --- receipts ---------------------------------------------------------------------------


def test_the_receipt_pdf_for_staff_and_the_payer(cast, money):
    url = f"/billing/payments/{money['cash'].id}/receipt"
    for name in ("finance", "project_manager", "resident_a", "company_admin"):
        response = get(cast.client(name), url)
        assert response.status_code == 200, name
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert money["cash"].receipt_no in response["Content-Disposition"]
    for name in ("resident_b", "manager_y", "other_admin", "technician", "nobody"):
        assert get(cast.client(name), url).status_code == 404, name
    assert get(cast.client(None), url).status_code == 401
    assert get(cast.client("finance"), "/billing/payments/999999/receipt").status_code == 404
    assert Payment.objects.count() == 2
