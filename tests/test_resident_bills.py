"""Resident H5 bills (/h5/bills/): each resident sees only their own houses' bills and
how each amount came about, pays chosen bills online through the sandbox cashier (the
signed notification pays them once, with a receipt number), and paying anyone else's,
a paid or a void bill is refused with nothing written."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from wuye.billing import payments, runs
from wuye.billing import services as fees
from wuye.billing.models import Bill, FeeItem, Payment, PrepaidEntry, ProviderEvent, ProviderOrder

D = Decimal
TODAY = datetime.datetime(2026, 3, 10, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def bills(cast):
    """Community X's property fee (2.35/m² a month) billed for January and February;
    house A moved out on 14 February, so its February is 14 of 28 days."""
    finance = cast.actor("finance")
    fees.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="Property fee",
        kind="area",
        unit_price=D("2.35"),
        effective_from=datetime.date(2026, 1, 1),
    )
    item = FeeItem.objects.get(community=cast.community_x, code="wuye")
    fees.stop_charging(
        actor=finance, house=cast.house_a, fee_item=item, end=datetime.date(2026, 2, 14)
    )
    for month in (1, 2):
        run = runs.preview_run(
            actor=finance,
            period_kind="month",
            period_start=datetime.date(2026, month, 1),
            community=cast.community_x,
        )
        runs.issue_run(actor=finance, run=run)
    return {
        house: list(Bill.objects.filter(house=getattr(cast, house)).order_by("period_start"))
        for house in ("house_a", "house_b")
    }


def nothing_written(before_payments=0):
    return Payment.objects.count() == before_payments and not ProviderOrder.objects.exists()


# --- who sees what ----------------------------------------------------------------------
def test_a_resident_sees_their_houses_bills_with_the_total_due(cast, bills):
    jan, feb = bills["house_a"]
    page = cast.client("resident_a").get(reverse("billing_resident:bill_list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert reverse("billing_resident:bill_detail", args=[jan.pk]) in text
    assert reverse("billing_resident:bill_detail", args=[feb.pk]) in text
    for bill in bills["house_b"]:
        assert reverse("billing_resident:bill_detail", args=[bill.pk]) not in text
    assert f"¥{jan.amount + feb.amount:,.2f}" in text  # total due
    assert "Overdue" in text  # both were due before 10 March
    assert cast.house_a.address in text


@pytest.mark.parametrize("who", ["resident_b", "other_resident"])
def test_others_get_404_on_a_bill_detail_and_do_not_list_it(cast, bills, who):
    bill = bills["house_a"][0]
    client = cast.client(who)
    assert client.get(reverse("billing_resident:bill_detail", args=[bill.pk])).status_code == 404
    text = client.get(reverse("billing_resident:bill_list")).content.decode()
    assert reverse("billing_resident:bill_detail", args=[bill.pk]) not in text


def test_other_resident_sees_nothing_of_company_a(cast, bills):
    text = cast.client("other_resident").get(reverse("billing_resident:bill_list")).content
    assert b"Property fee" not in text
    assert b"No unpaid bills." in text


@pytest.mark.parametrize("who", ["finance", "project_manager", "technician"])
def test_staff_get_403_on_resident_pages(cast, bills, who):
    client = cast.client(who)
    bill = bills["house_a"][0]
    assert client.get(reverse("billing_resident:bill_list")).status_code == 403
    assert client.get(reverse("billing_resident:bill_detail", args=[bill.pk])).status_code == 403
    response = client.post(reverse("billing_resident:pay"), {"bills": [bill.pk]})
    assert response.status_code == 403
    assert nothing_written()


def test_anonymous_is_sent_to_sign_in(cast, bills):
    response = cast.client(None).get(reverse("billing_resident:bill_list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_user_without_a_house_sees_the_unlinked_page(cast):
    response = cast.client("nobody").get(reverse("billing_resident:bill_list"))
    assert response.status_code == 200
    assert "web/unlinked.html" in [t.name for t in response.templates]


def test_the_list_reads_a_fixed_number_of_queries(cast, bills, django_assert_max_num_queries):
    client = cast.client("resident_a")
    with django_assert_max_num_queries(12):
        client.get(reverse("billing_resident:bill_list"))


# --- how a bill came about --------------------------------------------------------------
def test_the_detail_explains_area_times_price_times_days(cast, bills):
    jan, feb = bills["house_a"]
    client = cast.client("resident_a")
    text = client.get(reverse("billing_resident:bill_detail", args=[feb.pk])).content.decode()
    # 89.50 m² × 2.35 × 14/28 = 105.1625 → 105.16
    assert "89.50 m² × ¥2.3500 per m² × 14 of 28 days = ¥105.1625" in text
    assert "¥105.16" in text and feb.amount == D("105.16")
    text = client.get(reverse("billing_resident:bill_detail", args=[jan.pk])).content.decode()
    # 89.50 × 2.35 = 210.325 → 210.33: half up, once for the bill
    assert "× 31 of 31 days = ¥210.325" in text and jan.amount == D("210.33")
    assert "Half up" in text
    assert "Nothing paid yet." in text


def test_the_detail_lists_adjustments_and_payments_with_receipt_numbers(cast, bills):
    jan = bills["house_a"][0]
    finance, admin = cast.actor("finance"), cast.actor("company_admin")
    adjustment = fees.propose_adjustment(
        actor=finance, bill=jan, kind="credit", amount=D("5.33"), reason="Vacant for a week"
    )
    fees.approve_adjustment(actor=admin, adjustment=adjustment)
    payment = payments.collect(
        actor=finance, house=cast.house_a, amount=D("50"), method="cash", bill_ids=[jan.pk]
    )
    text = (
        cast.client("resident_a")
        .get(reverse("billing_resident:bill_detail", args=[jan.pk]))
        .content.decode()
    )
    assert "Vacant for a week" in text and "−¥5.33" in text
    assert payment.receipt_no in text and "¥50.00" in text
    assert "¥155.00" in text  # still owed: 210.33 − 5.33 − 50


# --- paying -----------------------------------------------------------------------------
def test_the_pay_page_ticks_all_unsettled_bills_of_the_house(cast, bills):
    page = cast.client("resident_a").get(reverse("billing_resident:pay"))
    text = page.content.decode()
    assert page.status_code == 200
    for bill in bills["house_a"]:
        assert f'value="{bill.pk}" data-balance="{bill.balance}" checked' in text
    assert f"¥{sum(b.amount for b in bills['house_a']):,.2f}" in text


def test_pay_end_to_end_marks_the_bills_paid_with_a_receipt(cast, bills):
    client = cast.client("resident_a")
    chosen = bills["house_a"]
    response = client.post(reverse("billing_resident:pay"), {"bills": [b.pk for b in chosen]})
    order = ProviderOrder.objects.get()
    cashier = reverse("billing_resident:cashier", args=[order.out_trade_no])
    assert response.status_code == 302 and response.url == cashier
    assert order.amount == sum(b.amount for b in chosen)

    page = client.get(cashier).content.decode()
    assert "SANDBOX" in page and "demo payment provider" in page

    response = client.post(reverse("billing_resident:cashier_pay", args=[order.out_trade_no]))
    result = reverse("billing_resident:result", args=[order.out_trade_no])
    assert response.status_code == 302 and response.url == result
    order.refresh_from_db()
    payment = order.payment
    assert order.status == ProviderOrder.Status.PAID
    assert (payment.method, payment.amount) == ("online", order.amount)
    assert payment.receipt_no.startswith("SJ-ACME-202603-")
    assert {b.status for b in Bill.objects.filter(house=cast.house_a)} == {Bill.Status.PAID}
    assert ProviderEvent.objects.get().verified
    text = client.get(result).content.decode()
    assert payment.receipt_no in text and "Paid" in text
    receipt = reverse("billing_resident:receipt", args=[payment.pk])
    assert receipt in text
    pdf = client.get(receipt)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and payment.receipt_no in pdf["Content-Disposition"]
    for other in ("resident_b", "other_resident"):  # not their payment: the same 404
        assert cast.client(other).get(receipt).status_code == 404

    # Pressing Pay again (a second notification) pays nothing twice.
    client.post(reverse("billing_resident:cashier_pay", args=[order.out_trade_no]))
    assert Payment.objects.count() == 1 and not PrepaidEntry.objects.exists()


def test_paying_one_chosen_bill_leaves_the_other_unpaid(cast, bills):
    client = cast.client("resident_a")
    jan, feb = bills["house_a"]
    client.post(reverse("billing_resident:pay"), {"bills": [feb.pk]})
    order = ProviderOrder.objects.get()
    client.post(reverse("billing_resident:cashier_pay", args=[order.out_trade_no]))
    jan.refresh_from_db()
    feb.refresh_from_db()
    assert (jan.status, feb.status) == (Bill.Status.OPEN, Bill.Status.PAID)


def test_cancel_in_the_cashier_charges_nothing(cast, bills):
    client = cast.client("resident_a")
    client.post(reverse("billing_resident:pay"), {"bills": [bills["house_a"][0].pk]})
    order = ProviderOrder.objects.get()
    response = client.post(
        reverse("billing_resident:cashier_cancel", args=[order.out_trade_no]), follow=True
    )
    assert b"Nothing was charged." in response.content
    assert not Payment.objects.exists()
    assert ProviderEvent.objects.get().outcome == "not_paid"  # the sandbox's closed trade
    order.refresh_from_db()
    assert order.status == ProviderOrder.Status.CREATED  # still payable


def test_paying_someone_elses_bill_is_refused_and_nothing_written(cast, bills):
    other = bills["house_b"][0]
    response = cast.client("resident_a").post(
        reverse("billing_resident:pay"), {"bills": [other.pk]}
    )
    assert response.status_code == 400
    assert f"Bill {other.pk} is not one of your bills." in response.content.decode()
    assert nothing_written()


def test_paying_a_paid_bill_is_refused(cast, bills):
    jan = bills["house_a"][0]
    payments.collect(
        actor=cast.actor("finance"),
        house=cast.house_a,
        amount=jan.amount,
        method="cash",
        bill_ids=[jan.pk],
    )
    response = cast.client("resident_a").post(reverse("billing_resident:pay"), {"bills": [jan.pk]})
    assert response.status_code == 400
    assert f"Bill {jan.pk} has nothing left to pay." in response.content.decode()
    assert nothing_written(before_payments=1)


def test_paying_a_void_bill_is_refused(cast, bills):
    jan = bills["house_a"][0]
    fees.void_bill(actor=cast.actor("finance"), bill=jan, reason="Billed by mistake")
    response = cast.client("resident_a").post(reverse("billing_resident:pay"), {"bills": [jan.pk]})
    assert response.status_code == 400
    assert f"Bill {jan.pk} has nothing left to pay." in response.content.decode()
    assert nothing_written()


def test_paying_nothing_or_garbage_is_a_form_error(cast, bills):
    client = cast.client("resident_a")
    assert b"Choose the bills to pay." in client.post(reverse("billing_resident:pay"), {}).content
    response = client.post(reverse("billing_resident:pay"), {"bills": ["abc"]})
    assert response.status_code == 400 and b"Bills are given by their numbers." in response.content
    assert nothing_written()


def test_another_residents_cashier_and_result_are_404(cast, bills):
    cast.client("resident_a").post(
        reverse("billing_resident:pay"), {"bills": [bills["house_a"][0].pk]}
    )
    order = ProviderOrder.objects.get()
    client = cast.client("resident_b")
    for name in ("cashier", "result"):
        url = reverse(f"billing_resident:{name}", args=[order.out_trade_no])
        assert client.get(url).status_code == 404
    pay = reverse("billing_resident:cashier_pay", args=[order.out_trade_no])
    assert client.post(pay).status_code == 404
    assert not Payment.objects.exists()


def test_a_house_of_someone_else_on_the_pay_page_is_404(cast, bills):
    url = reverse("billing_resident:pay") + f"?house={cast.house_b.pk}"
    assert cast.client("resident_a").get(url).status_code == 404


def test_the_resident_home_links_to_my_bills(cast):
    text = cast.client("resident_a").get(reverse("web:resident_home")).content.decode()
    assert reverse("billing_resident:bill_list") in text
