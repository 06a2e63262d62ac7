"""Cashier console: find a house, collect (one payment per form even when submitted twice),
the receipt and statement PDFs, the payments list and its export, refunds decided by a
second person, and scoping (no billing.collect: 403; other communities and companies: 404)."""

import datetime
import io
import re
from decimal import Decimal as D

import openpyxl
import pytest
from django.urls import reverse
from pypdf import PdfReader

from wuye.billing import payments, services
from wuye.billing.models import Bill, FeeItem, Payment, PrepaidAccount, Refund

JAN = datetime.date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def item(cast):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("100"),
        effective_from=JAN,
    )


def make_bill(house, fee_item, amount, start):
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        origin=Bill.Origin.ONE_OFF,
        period_start=start,
        period_end=start,
        amount=D(amount),
        due_date=start,
    )


def form_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', response.content.decode())[1]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_find_a_house_by_number_or_by_resident(cast):
    client = cast.client("finance")
    url = reverse("cashier:search")
    found = client.get(url, {"community": cast.community_x.id, "number": "0101"})
    assert reverse("cashier:collect", args=[cast.house_a.id]) in found.content.decode()
    assert reverse("cashier:collect", args=[cast.house_b.id]) not in found.content.decode()
    by_name = client.get(url, {"q": "李娜"}).content.decode()
    assert reverse("cashier:collect", args=[cast.house_b.id]) in by_name
    assert reverse("cashier:collect", args=[cast.house_a.id]) not in by_name
    by_mobile = client.get(url, {"q": "13800000001"}).content.decode()
    assert reverse("cashier:collect", args=[cast.house_a.id]) in by_mobile
    other = client.get(url, {"q": "王芳"}).content.decode()  # company B's resident
    assert reverse("cashier:collect", args=[cast.other_house.id]) not in other
    assert "No house matches." in other


def test_collect_end_to_end_with_the_receipt(cast, item):
    older = make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    newer = make_bill(cast.house_a, item, "50.00", datetime.date(2026, 2, 15))
    client = cast.client("finance")
    url = reverse("cashier:collect", args=[cast.house_a.id])
    page = client.get(url)
    assert page.status_code == 200
    assert "¥150.00" in page.content.decode()
    response = client.post(
        url,
        {
            "bills": [newer.id],
            "amount": "60.00",
            "method": "transfer",
            "reference": "BANK-1",
            "payer": "张伟",
            "idempotency_key": form_key(page),
        },
    )
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cashier:payment", args=[payment.id])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.paid_amount, newer.paid_amount) == (D("0"), D("50.00"))
    assert PrepaidAccount.objects.get(house=cast.house_a).balance == D("10.00")
    detail = client.get(response["Location"]).content.decode()
    assert payment.receipt_no in detail and "陆拾元整" in detail and "Print receipt" in detail
    pdf = client.get(reverse("cashier:receipt", args=[payment.id]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline")
    assert payment.receipt_no in pdf_text(pdf.content)


def test_no_bills_ticked_pays_the_oldest_first(cast, item):
    older = make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    make_bill(cast.house_a, item, "50.00", datetime.date(2026, 2, 15))
    client = cast.client("finance")
    url = reverse("cashier:collect", args=[cast.house_a.id])
    key = form_key(client.get(url))
    client.post(url, {"amount": "100", "method": "cash", "idempotency_key": key})
    older.refresh_from_db()
    assert older.status == Bill.Status.PAID


def test_a_double_submit_makes_one_payment(cast, item):
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    client = cast.client("finance")
    url = reverse("cashier:collect", args=[cast.house_a.id])
    data = {"amount": "100", "method": "cash", "idempotency_key": form_key(client.get(url))}
    first = client.post(url, data)
    second = client.post(url, data)
    assert Payment.objects.count() == 1
    assert first["Location"] == second["Location"]
    # A fresh rendering of the form is a new key: a second payment.
    client.post(url, data | {"idempotency_key": form_key(client.get(url))})
    assert Payment.objects.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "0", "method": "cash"}, "greater than or equal to 0.01"),
        ({"amount": "1.234", "method": "cash"}, "decimal places"),
        ({"amount": "10", "method": "online"}, "Select a valid choice"),
        ({"amount": "", "method": "cash"}, "This field is required"),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(cast, item, data, message):
    client = cast.client("finance")
    url = reverse("cashier:collect", args=[cast.house_a.id])
    response = client.post(url, data | {"idempotency_key": "k1"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Payment.objects.exists()


def test_a_bill_of_another_house_cannot_be_ticked(cast, item):
    other = make_bill(cast.house_b, item, "100.00", datetime.date(2026, 1, 15))
    client = cast.client("finance")
    url = reverse("cashier:collect", args=[cast.house_a.id])
    response = client.post(
        url, {"bills": [other.id], "amount": "100", "method": "cash", "idempotency_key": "k2"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("project_manager", 403),  # billing.view but not billing.collect
        ("manager_y", 403),
        ("dispatcher", 403),
        ("resident_a", 403),
        ("other_admin", 404),  # collects, but in company B
    ],
)
def test_scoping(cast, item, who, status):
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    payment = payments.collect(
        actor=cast.actor("finance"), house=cast.house_a, amount="100", method="cash"
    )
    client = cast.client(who)
    collect_url = reverse("cashier:collect", args=[cast.house_a.id])
    for url in (
        collect_url,
        reverse("cashier:payment", args=[payment.id]),
        reverse("cashier:receipt", args=[payment.id]),
        reverse("cashier:statement", args=[cast.house_a.id]) + "?month=2026-01",
    ):
        assert client.get(url).status_code == status, url
    response = client.post(
        collect_url, {"amount": "5", "method": "cash", "idempotency_key": f"x-{who}"}
    )
    assert response.status_code == status
    assert Payment.objects.count() == 1
    if status == 404:
        listed = client.get(reverse("cashier:payments")).content.decode()
        assert payment.receipt_no not in listed
    else:
        assert client.get(reverse("cashier:search")).status_code == 403


def test_a_cashier_of_community_y_gets_404_for_houses_of_x(cast, item):
    from tests.conftest import make_staff
    from wuye.staff.models import Role

    role = Role.objects.create(
        company=cast.company, code="cashier_y", name="收银员", permissions=["billing.collect"]
    )
    cashier = make_staff(cast.company, "cashier_y", [role.code], [cast.community_y])
    client = cast.client(None)
    client.force_login(cashier.user)
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    assert client.get(reverse("cashier:collect", args=[cast.house_a.id])).status_code == 404
    assert client.get(reverse("cashier:collect", args=[cast.house_y.id])).status_code == 200
    found = client.get(reverse("cashier:search"), {"number": "0101"}).content.decode()
    assert reverse("cashier:collect", args=[cast.house_y.id]) in found
    assert reverse("cashier:collect", args=[cast.house_a.id]) not in found


def test_payments_list_filters_and_export(cast, item):
    finance = cast.actor("finance")
    cash = payments.collect(actor=finance, house=cast.house_a, amount="10", method="cash")
    pos = payments.collect(actor=finance, house=cast.house_y, amount="20", method="pos")
    client = cast.client("finance")
    url = reverse("cashier:payments")
    listed = client.get(url, {"method": "pos"}).content.decode()
    assert pos.receipt_no in listed and cash.receipt_no not in listed
    by_community = client.get(url, {"community": cast.community_x.id}).content.decode()
    assert cash.receipt_no in by_community and pos.receipt_no not in by_community
    today = datetime.date.today()
    later = (today + datetime.timedelta(days=1)).isoformat()
    assert cash.receipt_no not in client.get(url, {"date_from": later}).content.decode()
    bad = client.get(url, {"date_from": later, "date_to": today.isoformat()})
    assert (
        bad.status_code == 200 and "The end date is before the start date." in bad.content.decode()
    )
    export = client.get(reverse("cashier:payment_export"), {"method": "cash"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [cash.receipt_no]
    assert rows[1][7] == 10
    assert client.get(reverse("cashier:payment_export"), {"date_from": "x"}).status_code == 400


def test_refund_requested_then_decided_by_someone_else(cast, item):
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    payment = payments.collect(
        actor=cast.actor("finance"), house=cast.house_a, amount="100", method="cash"
    )
    finance = cast.client("finance")
    detail = reverse("cashier:payment", args=[payment.id])
    request_url = reverse("cashier:refund_request", args=[payment.id])
    too_much = finance.post(request_url, {"refund-amount": "101", "refund-reason": "多收"})
    assert too_much.status_code == 400 and "At most" in too_much.content.decode()
    finance.post(request_url, {"refund-amount": "40", "refund-reason": "多收"})
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.REQUESTED
    assert "Someone other than the requester must decide." in finance.get(detail).content.decode()
    assert payment.receipt_no in finance.get(reverse("cashier:refunds")).content.decode()
    approve = reverse("cashier:refund_decide", args=[payment.id, refund.id, "approve"])
    response = finance.post(approve)
    assert response.status_code == 400
    assert "Someone other than the requester must decide." in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED
    assert cast.client("project_manager").post(approve).status_code == 403
    cast.client("company_admin").post(approve)
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.APPROVED
    assert (payment.status, payment.refunded_amount) == (
        Payment.Status.PARTIALLY_REFUNDED,
        D("40.00"),
    )
    assert "PARTIALLY REFUNDED" in pdf_text(
        finance.get(reverse("cashier:receipt", args=[payment.id])).content
    )
    finance.post(request_url, {"refund-amount": "60", "refund-reason": "退房"})
    rest = Refund.objects.get(status=Refund.Status.REQUESTED)
    reject = reverse("cashier:refund_decide", args=[payment.id, rest.id, "reject"])
    cast.client("company_admin").post(reject)
    rest.refresh_from_db()
    assert rest.status == Refund.Status.REJECTED
    bogus = reverse("cashier:refund_decide", args=[payment.id, rest.id, "maybe"])
    assert cast.client("company_admin").post(bogus).status_code == 404


def test_the_monthly_statement(cast, item):
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    client = cast.client("finance")
    url = reverse("cashier:statement", args=[cast.house_a.id])
    response = client.get(url, {"month": "2026-01"})
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "2026-01" in text and "¥100.00" in text and "壹佰元整" in text
    assert client.get(url, {"month": "January"}).status_code == 400
