"""Receipts and monthly statements: the amount in Chinese capital numerals (大写), the receipt
PDF (number, lines, prepaid deposit, cashier, refunded stamp) and the house's statement."""

import datetime
import io
from decimal import Decimal as D

import pytest
import time_machine
from pypdf import PdfReader

from wuye.billing import payments, services
from wuye.billing.models import Bill, FeeItem
from wuye.billing.receipts import amount_in_words, render_receipt, render_statement

JAN = datetime.date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.5", "伍角整"),
        ("1.05", "壹元零伍分"),
        ("10", "壹拾元整"),
        ("100.5", "壹佰元伍角整"),
        ("123.45", "壹佰贰拾叁元肆角伍分"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("10010.01", "壹万零壹拾元零壹分"),
        ("100000", "壹拾万元整"),
        ("10000100", "壹仟万零壹佰元整"),
        ("10001000", "壹仟万壹仟元整"),
        ("12345678.9", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角整"),
        ("100000001", "壹亿零壹元整"),
        ("200000000.10", "贰亿元壹角整"),
        ("-3", "负叁元整"),
        (1001, "壹仟零壹元整"),
        (D("88.00"), "捌拾捌元整"),
    ],
)
def test_amount_in_words(amount, words):
    assert amount_in_words(amount) == words


@pytest.mark.parametrize("bad", [0.1, "1.005", "abc", "NaN", "1e16"])
def test_amount_in_words_refuses_what_is_not_an_amount(bad):
    with pytest.raises((ValueError, ArithmeticError)):
        amount_in_words(bad)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def item(cast, finance):
    return services.create_fee_item(
        actor=finance,
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


@time_machine.travel(datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC), tick=False)
def test_the_receipt_names_number_house_lines_deposit_and_cashier(cast, finance, item):
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 1, 15))
    make_bill(cast.house_a, item, "23.45", datetime.date(2026, 2, 15))
    payment = payments.collect(
        actor=finance,
        house=cast.house_a,
        amount="200",
        method="cash",
        payer="张伟",
        reference="POS-778",
    )
    pdf = render_receipt(payment)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert payment.receipt_no in text
    assert "2026-01-15" in text and "2026-02-15" in text
    assert "¥100.00" in text and "¥23.45" in text
    assert "¥76.55" in text  # the rest, deposited as 预存
    assert "Prepaid" in text
    assert "¥200.00" in text and "贰佰元整" in text
    assert "翠湖花园" in text and "0101" in text and "张伟" in text
    assert "finance" in text  # the cashier
    assert "REFUNDED" not in text


def test_a_refunded_payment_is_stamped(cast, finance, item):
    make_bill(cast.house_a, item, "50.00", datetime.date(2026, 1, 15))
    payment = payments.collect(actor=finance, house=cast.house_a, amount="50", method="pos")
    refund = payments.request_refund(actor=finance, payment=payment, amount="20", reason="多收")
    payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    payment.refresh_from_db()
    assert "PARTIALLY REFUNDED" in pdf_text(render_receipt(payment))
    rest = payments.request_refund(actor=finance, payment=payment, amount="30", reason="退")
    payments.approve_refund(actor=cast.actor("company_admin"), refund=rest)
    payment.refresh_from_db()
    text = pdf_text(render_receipt(payment))
    assert "REFUNDED" in text and "PARTIALLY" not in text


def test_a_long_receipt_continues_on_a_second_page(cast, finance, item):
    for n in range(40):
        make_bill(cast.house_a, item, "1.00", JAN + datetime.timedelta(days=n))
    payment = payments.collect(actor=finance, house=cast.house_a, amount="40", method="cash")
    reader = PdfReader(io.BytesIO(render_receipt(payment)))
    assert len(reader.pages) >= 2
    text = pdf_text(render_receipt(payment))
    assert "2026-01-01" in text and "2026-02-09" in text and "肆拾元整" in text


@time_machine.travel(datetime.datetime(2026, 3, 20, 2, 0, tzinfo=datetime.UTC), tick=False)
def test_the_statement_shows_the_months_bills_payments_and_balance(cast, finance, item):
    make_bill(cast.house_a, item, "30.00", datetime.date(2026, 2, 1))  # earlier, unpaid
    make_bill(cast.house_a, item, "100.00", datetime.date(2026, 3, 1))
    make_bill(cast.house_b, item, "999.00", datetime.date(2026, 3, 1))  # another house
    payment = payments.collect(
        actor=finance,
        house=cast.house_a,
        amount="60",
        method="transfer",
        bill_ids=[Bill.objects.get(amount=D("100.00")).id],
    )
    pdf = render_statement(cast.house_a, datetime.date(2026, 3, 1))
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "2026-03" in text and "翠湖花园" in text
    assert payment.receipt_no in text
    assert "2026-02-01" in text  # the earlier bill still unpaid
    assert "¥999.00" not in text
    # owed: 30 (earlier) + 40 (this month's rest)
    assert "¥70.00" in text and "柒拾元整" in text


def test_an_empty_month_says_so(cast):
    text = pdf_text(render_statement(cast.house_y, datetime.date(2026, 5, 1)))
    assert "None." in text and "零元整" in text
