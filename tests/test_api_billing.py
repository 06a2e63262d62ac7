"""/api/v1/billing: who sees which bills (residents their own houses, other communities
and companies nothing), a bill's computation, adjustments and payments, collecting at
the counter with an Idempotency-Key (a retry writes nothing), refusals that write nothing
(another company's house, another house's bill, three decimals, a reading going
backwards), online payment start, arrears per community, and a bill run previewed and
issued by finance but not by a project manager."""

import datetime
from decimal import Decimal

import pytest
from api_helpers import bearer_client, get, ids, post, results
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuye.billing import payments, runs, services
from wuye.billing.models import Bill, BillRun, FeeItem, MeterReading, Payment, ProviderOrder

D = Decimal
CST = datetime.timezone(datetime.timedelta(hours=8))
JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)
MAR = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _english(settings, time_machine):
    settings.LANGUAGE_CODE = "en"
    time_machine.move_to(datetime.datetime(2026, 3, 10, 10, 0, tzinfo=CST), tick=False)


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def fees(cast, finance):
    """Community X: a property fee of 2.00/m²/month charged to houses A and B from
    January, January issued (A: 89.50 m² → 179.00 due 2026-01-16), and a water meter."""
    area = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.AREA,
        unit_price=D("2.00"),
        effective_from=JAN,
    )
    water = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="water",
        name="水费",
        kind=FeeItem.Kind.METERED,
        unit_price=D("3.20"),
        effective_from=JAN,
    )
    run = runs.preview_run(
        actor=finance, period_kind="month", period_start=JAN, community=cast.community_x
    )
    runs.issue_run(actor=finance, run=run)
    return {
        "area": area,
        "water": water,
        "run": run,
        "bill_a": Bill.objects.get(house=cast.house_a, fee_item=area),
        "bill_b": Bill.objects.get(house=cast.house_b, fee_item=area),
    }


def client(cast, name):
    return bearer_client(cast.users[name])


def collect(client, house, amount="50.00", key=None, **fields):
    headers = {"Idempotency-Key": key} if key else {}
    body = {"house_id": house.id, "amount": amount, "method": "cash", **fields}
    return post(client, "/billing/payments", body, **headers)


def money_state() -> tuple:
    """Everything a payment could have written."""
    return (
        Payment.objects.count(),
        list(Bill.objects.order_by("id").values_list("paid_amount", "status")),
    )


# --- who sees which bills -------------------------------------------------------------
def test_a_resident_lists_only_the_bills_of_their_own_house(cast, fees):
    assert ids(get(client(cast, "resident_a"), "/billing/bills")) == {fees["bill_a"].id}
    assert ids(get(client(cast, "resident_b"), "/billing/bills")) == {fees["bill_b"].id}
    staff_sees = ids(get(client(cast, "finance"), "/billing/bills"))
    assert {fees["bill_a"].id, fees["bill_b"].id} <= staff_sees


def test_another_resident_company_or_community_gets_404_and_empty_lists(cast, fees):
    bill_a = f"/billing/bills/{fees['bill_a'].id}"
    for name in ("resident_b", "other_admin", "other_resident", "manager_y", "technician"):
        assert get(client(cast, name), bill_a).status_code == 404, name
        assert fees["bill_a"].id not in ids(get(client(cast, name), "/billing/bills")), name
    for name in ("other_admin", "other_resident", "manager_y", "technician", "nobody"):
        assert results(get(client(cast, name), "/billing/bills")) == [], name
    assert get(client(cast, "resident_a"), bill_a).status_code == 200


def test_bill_filters(cast, fees):
    finance = client(cast, "finance")
    by_house = get(finance, "/billing/bills", {"house": cast.house_a.id})
    assert ids(by_house) == {fees["bill_a"].id}
    assert ids(get(finance, "/billing/bills", {"status": "paid"})) == set()
    overdue = ids(get(finance, "/billing/bills", {"overdue": "true"}))
    assert {fees["bill_a"].id, fees["bill_b"].id} <= overdue
    assert ids(get(finance, "/billing/bills", {"period": "2026-01-20"})) >= {fees["bill_a"].id}
    assert ids(get(finance, "/billing/bills", {"period": "2026-02-01"})) == set()
    assert ids(get(finance, "/billing/bills", {"community": cast.community_y.id})) == set()


def test_bill_list_is_one_query_per_page(cast, fees):
    finance = client(cast, "finance")
    get(finance, "/billing/bills")  # warm the caches of the token and roles
    with CaptureQueriesContext(connection) as first:
        get(finance, "/billing/bills", {"page_size": 1})
    with CaptureQueriesContext(connection) as more:
        get(finance, "/billing/bills", {"page_size": 50})
    assert len(more) == len(first)


def test_a_bill_shows_its_computation_adjustments_and_payments(cast, fees, finance):
    bill = fees["bill_a"]
    services.propose_adjustment(
        actor=finance, bill=bill, kind="credit", amount=D("9.00"), reason="空置减免"
    )
    payment = payments.collect(actor=finance, house=cast.house_a, amount=D("100.00"), method="cash")
    body = get(client(cast, "resident_a"), f"/billing/bills/{bill.id}").json()
    assert body["amount"] == "179.00"
    assert body["paid_amount"] == "100.00"
    assert body["balance"] == "79.00"
    assert body["status"] == "partially_paid"
    assert body["overdue"] is True
    assert body["detail"]["area"] == "89.50"
    assert body["detail"]["months"][0]["unit_price"] == "2.0000"
    assert body["adjustments"][0]["reason"] == "空置减免"
    assert body["adjustments"][0]["status"] == "pending"
    assert body["allocations"] == [
        {
            "payment_id": payment.id,
            "receipt_no": payment.receipt_no,
            "received_at": body["allocations"][0]["received_at"],
            "amount": "100.00",
            "refunded_amount": "0.00",
        }
    ]


# --- collecting --------------------------------------------------------------------------
def test_collect_pays_the_oldest_bill_and_puts_the_rest_on_the_prepaid_balance(cast, fees):
    response = collect(client(cast, "finance"), cast.house_a, amount="200.00", payer="张伟")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["receipt_no"] == "SJ-ACME-202603-000001"
    assert body["allocations"][0]["bill_id"] == fees["bill_a"].id
    assert body["allocations"][0]["amount"] == "179.00"
    assert body["to_prepaid"] == "21.00"
    assert body["received_by_name"]
    fees["bill_a"].refresh_from_db()
    assert fees["bill_a"].status == Bill.Status.PAID


def test_the_same_idempotency_key_twice_writes_one_payment(cast, fees):
    finance = client(cast, "finance")
    first = collect(finance, cast.house_a, key="counter-1-0001")
    again = collect(finance, cast.house_a, key="counter-1-0001")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    # A second counter of the company sending the same key gets the first payment too.
    admin = collect(client(cast, "company_admin"), cast.house_a, key="counter-1-0001")
    assert admin.status_code == 201
    assert admin.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1
    fees["bill_a"].refresh_from_db()
    assert fees["bill_a"].paid_amount == D("50.00")


def test_a_key_reused_for_another_payment_is_refused(cast, fees):
    collect(client(cast, "finance"), cast.house_a, key="k-1")
    before = money_state()
    response = collect(client(cast, "company_admin"), cast.house_b, key="k-1")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert money_state() == before


def test_paying_another_companys_house_writes_nothing(cast, fees):
    before = money_state()
    response = collect(client(cast, "finance"), cast.other_house)
    assert response.status_code == 400
    assert response.json()["detail"] == {"house_id": ["No such item, or it is outside your scope."]}
    foreign = collect(client(cast, "other_admin"), cast.house_a)
    assert foreign.status_code == 400
    assert money_state() == before


def test_paying_another_houses_bill_writes_nothing(cast, fees):
    before = money_state()
    response = collect(
        client(cast, "finance"), cast.house_a, bill_ids=[fees["bill_b"].id], key="k-2"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == {
        "bill_ids": [f"Bill {fees['bill_b'].id} is not a bill of this house."]
    }
    assert money_state() == before


def test_an_amount_with_three_decimals_is_refused(cast, fees):
    before = money_state()
    response = collect(client(cast, "finance"), cast.house_a, amount="10.005")
    assert response.status_code == 400
    assert response.json()["detail"] == {
        "amount": ["Enter an amount above zero with at most two decimals."]
    }
    assert money_state() == before


def test_only_cashiers_collect(cast, fees):
    before = money_state()
    for name in ("project_manager", "dispatcher", "resident_a"):
        response = collect(client(cast, name), cast.house_a)
        assert response.status_code == 403, name
    assert money_state() == before


def test_payments_are_scoped(cast, fees, finance):
    payment = payments.collect(actor=finance, house=cast.house_a, amount=D("10"), method="pos")
    assert ids(get(client(cast, "resident_a"), "/billing/payments")) == {payment.id}
    assert ids(get(client(cast, "finance"), "/billing/payments")) == {payment.id}
    for name in ("resident_b", "other_admin", "manager_y"):
        assert results(get(client(cast, name), "/billing/payments")) == [], name
        assert get(client(cast, name), f"/billing/payments/{payment.id}").status_code == 404
    body = get(client(cast, "resident_a"), f"/billing/payments/{payment.id}").json()
    assert body["method"] == "pos"
    assert body["allocations"][0]["fee_item_name"] == "物业费"


# --- online -----------------------------------------------------------------------------
def test_a_resident_starts_an_online_payment_for_their_own_bill(cast, fees):
    response = post(
        client(cast, "resident_a"), "/billing/online-payments", {"bill_ids": [fees["bill_a"].id]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "179.00"
    assert body["house_id"] == cast.house_a.id
    assert body["pay_params"]["out_trade_no"] == body["out_trade_no"]
    assert body["pay_params"]["sign"]
    assert ProviderOrder.objects.get().status == ProviderOrder.Status.CREATED


def test_online_payment_of_someone_elses_bill_is_refused(cast, fees):
    resident_b = client(cast, "resident_b")
    response = post(resident_b, "/billing/online-payments", {"bill_ids": [fees["bill_a"].id]})
    assert response.status_code == 400
    assert "bill_ids" in response.json()["detail"]
    staff = post(client(cast, "finance"), "/billing/online-payments", {"bill_ids": [1]})
    assert staff.status_code == 403
    assert not ProviderOrder.objects.exists()


# --- arrears and fee items -------------------------------------------------------------
def test_arrears_per_community(cast, fees):
    rows = get(client(cast, "finance"), "/billing/arrears", {"as_of": "2026-03-10"}).json()
    row = next(r for r in rows if r["id"] == cast.community_x.id)
    assert row["name"] == "翠湖花园"
    assert row["houses"] == 2
    assert row["total"] == "358.00"
    assert row["buckets"]["d60"] == "358.00"  # due 2026-01-16: 53 days overdue
    assert get(client(cast, "other_admin"), "/billing/arrears").json() == []
    assert get(client(cast, "resident_a"), "/billing/arrears").status_code == 403


def test_fee_items_with_todays_price(cast, fees):
    rows = results(get(client(cast, "finance"), "/billing/fee-items", {"kind": "area"}))
    assert [(r["code"], r["current_price"]) for r in rows] == [("wuye", "2.0000")]
    assert rows[0]["community_name"] == "翠湖花园"
    assert results(get(client(cast, "other_admin"), "/billing/fee-items")) == []


# --- meter readings ---------------------------------------------------------------------
def read(client, fees, house, value, day):
    body = {
        "house_id": house.id,
        "fee_item_id": fees["water"].id,
        "reading_date": day.isoformat(),
        "value": value,
    }
    return post(client, "/billing/meter-readings", body)


def test_a_reading_going_backwards_is_refused_naming_value(cast, fees):
    tech = client(cast, "technician")  # field staff read meters on their phones
    first = read(tech, fees, cast.house_a, "120.50", FEB)
    assert first.status_code == 201, first.content
    assert first.json()["usage"] == "0.00"
    response = read(tech, fees, cast.house_a, "99.00", MAR)
    assert response.status_code == 400
    assert list(response.json()["detail"]) == ["value"]
    assert "lower than the previous reading 120.50" in response.json()["detail"]["value"][0]
    assert MeterReading.objects.count() == 1


def test_readings_of_another_company_or_a_non_metered_item_are_refused(cast, fees):
    tech = client(cast, "technician")
    assert read(tech, fees, cast.other_house, "1", FEB).status_code == 400
    body = {
        "house_id": cast.house_a.id,
        "fee_item_id": fees["area"].id,
        "reading_date": "2026-02-01",
        "value": "1",
    }
    response = post(tech, "/billing/meter-readings", body)
    assert response.status_code == 400
    assert list(response.json()["detail"]) == ["fee_item_id"]
    assert read(client(cast, "resident_a"), fees, cast.house_a, "1", FEB).status_code == 403
    assert not MeterReading.objects.exists()


# --- bill runs --------------------------------------------------------------------------
def test_finance_previews_then_issues_a_run(cast, fees, django_capture_on_commit_callbacks):
    finance = client(cast, "finance")
    body = {"community_id": cast.community_x.id, "period_kind": "month", "period_start": FEB}
    preview = post(finance, "/billing/runs", body)
    assert preview.status_code == 201, preview.content
    run = preview.json()
    assert run["state"] == "previewed"
    assert run["bills_planned"] == 2
    assert run["items"][0]["code"] == "wuye"
    assert not Bill.objects.filter(period_start=FEB).exists()

    with django_capture_on_commit_callbacks(execute=True):  # the worker issues it
        queued = post(finance, f"/billing/runs/{run['id']}/issue")
    assert queued.status_code == 200, queued.content
    assert queued.json()["state"] == "queued"
    issued = get(finance, f"/billing/runs/{run['id']}").json()
    assert issued["state"] == "issued"
    assert issued["bills_created"] == 2
    assert [e["kind"] for e in issued["events"]] == ["previewed", "queued", "started", "issued"]
    assert Bill.objects.filter(period_start=FEB).count() == 2

    again = post(finance, f"/billing/runs/{run['id']}/issue")
    assert again.status_code == 400
    assert Bill.objects.filter(period_start=FEB).count() == 2
    assert get(finance, f"/billing/runs/{run['id']}").json()["state"] == "issued"
    assert run["id"] in ids(get(finance, "/billing/runs"))


def test_a_period_already_issued_is_refused(cast, fees):
    body = {"community_id": cast.community_x.id, "period_kind": "month", "period_start": JAN}
    response = post(client(cast, "finance"), "/billing/runs", body)
    assert response.status_code == 400
    assert "already issued" in str(response.json()["detail"])
    assert BillRun.objects.count() == 1


def test_a_project_manager_sees_runs_but_cannot_preview_or_issue(cast, fees, finance):
    run = runs.preview_run(
        actor=finance, period_kind="month", period_start=FEB, community=cast.community_x
    )
    manager = client(cast, "project_manager")
    assert get(manager, f"/billing/runs/{run.id}").status_code == 200
    assert post(manager, f"/billing/runs/{run.id}/issue").status_code == 403
    body = {"community_id": cast.community_x.id, "period_kind": "month", "period_start": MAR}
    assert post(manager, "/billing/runs", body).status_code == 403
    run.refresh_from_db()
    assert run.state == BillRun.State.PREVIEWED
    assert BillRun.objects.count() == 2
    assert get(client(cast, "other_admin"), f"/billing/runs/{run.id}").status_code == 404
    assert get(client(cast, "resident_a"), f"/billing/runs/{run.id}").status_code == 404


def test_a_bad_period_start_names_the_field(cast, fees):
    body = {
        "community_id": cast.community_x.id,
        "period_kind": "quarter",
        "period_start": "2026-02-01",
    }
    response = post(client(cast, "finance"), "/billing/runs", body)
    assert response.status_code == 400
    assert list(response.json()["detail"]) == ["period_start"]
