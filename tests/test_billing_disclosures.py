"""收支公示: income is exactly the money received in the period (partial payments, refunds,
prepaid deposits and their later use, the period's edges in local time, another community),
expense lines are validated and nothing is written on bad input, a published report is
frozen, residents of the community see only published reports (others, drafts and
withdrawn ones are 404 on the H5 and the API), staff of another company get 404, and
publishing notifies the community's residents once."""

import datetime
import io
import re
import zoneinfo
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse

from wuye.billing import disclosures, payments, services
from wuye.billing.models import Bill, Disclosure, DisclosureLine, FeeItem, Payment
from wuye.notifications.models import Notification

D = Decimal
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
Q1 = (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
NOW = datetime.datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)
DEPOSITS = "Prepaid deposits (预存款)"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def local(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def items(cast, finance):
    def item(community, code, name):
        return services.create_fee_item(
            actor=finance,
            community=community,
            code=code,
            name=name,
            kind=FeeItem.Kind.ONE_OFF,
            unit_price=D("1"),
            effective_from=datetime.date(2025, 1, 1),
        )

    return {
        "wuye": item(cast.community_x, "wuye", "物业费"),
        "parking": item(cast.community_x, "parking", "车位管理费"),
        "wuye_y": item(cast.community_y, "wuye", "物业费"),
    }


def bill(house, item, amount, due):
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
    )


def pay(actor, house, amount, at, bills=()):
    return payments.collect(
        actor=actor,
        house=house,
        amount=D(amount),
        method="cash",
        bill_ids=[b.id for b in bills],
        at=at,
    )


def received(cast, start, end):
    """Σ (amount − refunded) of community X's payments on the local dates, computed
    independently of the code under test."""
    total = D(0)
    for payment in Payment.objects.filter(community=cast.community_x):
        if start <= payment.received_at.astimezone(SHANGHAI).date() <= end:
            total += payment.amount - payment.refunded_amount
    return total


@pytest.fixture
def money(cast, finance, items):
    """Community X in Q1 2026:

    - house A pays 150 on 15 Jan for its 100 property bill and 80 parking bill: 100 and
      a partial 50;
    - house B pays 300 on 10 Feb for a 120 property bill: 120 and 180 to 预存; 200 of it
      is refunded (180 from the deposit, then 20 from the bill);
    - house A pays 200 ahead on 20 Feb (all 预存), then 90 of it pays the rest of its
      parking bill and a March bill;
    - house A pays 30 of a second parking bill at 23:59 on 31 March (in), another 5 at
      00:00 on 1 April (out); 40 at 23:30 on 31 December (out);
    - a payment in community Y (out).
    """
    a, b = cast.house_a, cast.house_b
    wuye, parking = items["wuye"], items["parking"]
    a_wuye = bill(a, wuye, "100", datetime.date(2025, 12, 1))
    a_parking = bill(a, parking, "80", datetime.date(2025, 12, 2))
    b_wuye = bill(b, wuye, "120", datetime.date(2026, 1, 1))
    a_early = bill(a, wuye, "40", datetime.date(2025, 11, 1))
    pay(finance, a, "40", local(2025, 12, 31, 23, 30), [a_early])
    pay(finance, a, "150", local(2026, 1, 15, 9, 0), [a_wuye, a_parking])
    refunded = pay(finance, b, "300", local(2026, 2, 10, 11, 0), [b_wuye])
    refund = payments.request_refund(actor=finance, payment=refunded, amount="200", reason="多收")
    payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    pay(finance, a, "200", local(2026, 2, 20, 15, 0), [])
    march = bill(a, wuye, "60", datetime.date(2026, 3, 1))
    # 预存 pays the rest of the parking bill (30) and the March bill (60).
    assert payments.deduct_prepaid(house=a, at=local(2026, 3, 2, 8, 0)) == D("90")
    a_parking2 = bill(a, parking, "80", datetime.date(2026, 3, 15))
    pay(finance, a, "30", local(2026, 3, 31, 23, 59), [a_parking2])
    pay(finance, a, "5", local(2026, 4, 1, 0, 0), [a_parking2])
    y_bill = bill(cast.house_y, items["wuye_y"], "90", datetime.date(2026, 1, 1))
    pay(finance, cast.house_y, "90", local(2026, 2, 1, 10, 0), [y_bill])
    march.refresh_from_db()
    assert march.status == Bill.Status.PAID
    return {"refunded": refunded}


def lines(report, side=DisclosureLine.Side.INCOME):
    return [(line.category, line.amount) for line in report.lines.filter(side=side)]


def draft(cast, finance, period=Q1, **kwargs):
    return disclosures.create_draft(
        actor=finance,
        community=kwargs.pop("community", cast.community_x),
        period_start=period[0],
        period_end=period[1],
        title=kwargs.pop("title", ""),
    )


# --- income -------------------------------------------------------------------------------
def test_income_is_exactly_the_money_received_in_the_period(cast, finance, money):
    report = draft(cast, finance)
    assert lines(report) == [
        ("物业费", D("200.00")),  # 100 of A's bill + 120 of B's less the 20 refunded from it
        ("车位管理费", D("80.00")),  # partial payments: 50 + 30, not the 80 billed
        (DEPOSITS, D("200.00")),  # B's 180 refunded away, A's 200 paid ahead
    ]
    income = disclosures.totals(report.lines.all()).income
    assert income == D("480.00") == received(cast, *Q1)
    assert income == disclosures.received_total(cast.community_x, *Q1)
    # The 90 taken from 预存 for bills is not counted a second time.
    assert (
        Bill.objects.filter(community=cast.community_x).aggregate(s=Sum("paid_amount"))["s"]
        != income
    )


@pytest.mark.parametrize(
    "period",
    [
        (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)),
        (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)),
        (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)),
        (datetime.date(2025, 12, 1), datetime.date(2026, 4, 30)),
    ],
)
def test_every_period_adds_up_to_what_it_received(cast, finance, money, period):
    report = draft(cast, finance, period)
    assert disclosures.totals(report.lines.all()).income == received(cast, *period)
    assert all(amount > 0 for _category, amount in lines(report))


def test_months_add_up_to_the_quarter(cast, finance, money):
    months = [
        disclosures.received_income(cast.community_x, start, end)
        for start, end in [
            (datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)),
            (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)),
            (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)),
        ]
    ]
    quarter = disclosures.received_income(cast.community_x, *Q1)
    assert sum(line.amount for month in months for line in month) == sum(
        line.amount for line in quarter
    )


def test_money_returned_to_prepaid_moves_from_the_fee_item_to_deposits(cast, finance, items):
    """A credit after payment (a waiver) gives money back from the bill to 预存 as a
    deposit naming the bill and the payment: the total stays what was received, the fee
    item counts only what it kept; a refund of that money then leaves the deposits."""
    owed = bill(cast.house_a, items["wuye"], "100", datetime.date(2026, 1, 1))
    payment = pay(finance, cast.house_a, "100", local(2026, 1, 5, 10, 0), [owed])
    with transaction.atomic():
        locked = Bill.objects.select_for_update().get(pk=owed.pk)
        payments.return_to_prepaid(locked, D("30"), at=local(2026, 2, 1, 9, 0))
        locked.adjusted_amount, locked.status = D("-30"), Bill.Status.PAID  # the credit
        locked.save(update_fields=["adjusted_amount", "status"])

    def income():
        found = disclosures.received_income(cast.community_x, *Q1)
        assert sum(line.amount for line in found) == received(cast, *Q1)
        return [(line.category, line.amount) for line in found]

    assert income() == [("物业费", D("70.00")), (DEPOSITS, D("30.00"))]
    refund = payments.request_refund(actor=finance, payment=payment, amount="30", reason="退预存")
    payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    assert income() == [("物业费", D("70.00"))]
    refund = payments.request_refund(actor=finance, payment=payment, amount="20", reason="再退")
    payments.approve_refund(actor=cast.actor("company_admin"), refund=refund)
    assert income() == [("物业费", D("50.00"))]


def test_refresh_picks_up_later_payments_and_publishing_a_stale_draft_is_refused(
    cast, finance, money, items
):
    report = draft(cast, finance)
    late = bill(cast.house_b, items["parking"], "45", datetime.date(2026, 3, 1))
    pay(finance, cast.house_b, "45", local(2026, 3, 20, 10, 0), [late])
    assert disclosures.income_changed(report) == D("525.00")
    with pytest.raises(ValidationError, match="Refresh the income"):
        disclosures.publish(actor=finance, disclosure=report)
    assert Disclosure.objects.get(pk=report.pk).state == Disclosure.State.DRAFT
    disclosures.refresh_income(actor=finance, disclosure=report)
    assert dict(lines(report))["车位管理费"] == D("125.00")
    assert disclosures.income_changed(report) is None
    disclosures.publish(actor=finance, disclosure=report)
    assert Disclosure.objects.get(pk=report.pk).state == Disclosure.State.PUBLISHED


# --- periods and drafts -------------------------------------------------------------------
@pytest.mark.parametrize(
    "start, end, field",
    [
        (datetime.date(2026, 1, 2), datetime.date(2026, 3, 31), "period_start"),
        (datetime.date(2026, 1, 1), datetime.date(2026, 3, 30), "period_end"),
        (datetime.date(2026, 3, 1), datetime.date(2026, 1, 31), "period_end"),
        (datetime.date(2025, 1, 1), datetime.date(2026, 1, 31), "period_end"),  # 13 months
        (datetime.date(2026, 5, 1), datetime.date(2026, 5, 31), "period_start"),  # future
    ],
)
def test_a_report_covers_whole_months(cast, finance, start, end, field):
    with pytest.raises(ValidationError) as caught:
        disclosures.create_draft(
            actor=finance, community=cast.community_x, period_start=start, period_end=end
        )
    assert field in caught.value.message_dict
    assert not Disclosure.objects.exists()


def test_one_report_per_community_and_period_until_withdrawn(cast, finance):
    first = draft(cast, finance)
    assert first.title == "Income and expenses 2026 Q1"
    with pytest.raises(ValidationError, match="already has a report"):
        draft(cast, finance)
    draft(cast, finance, community=cast.community_y)  # another community
    disclosures.withdraw(actor=finance, disclosure=first, reason="重做")
    assert draft(cast, finance, title=" 2026年一季度收支公示 ").title == "2026年一季度收支公示"


@pytest.mark.parametrize("name", ["project_manager", "manager_y", "other_admin", "dispatcher"])
def test_only_billing_managers_of_the_community_draft(cast, name):
    with pytest.raises(PermissionDenied):
        draft(cast, cast.actor(name))
    assert not Disclosure.objects.exists()


# --- expenses -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "category, amount, field",
    [
        ("人员费用", "-0.01", "amount"),
        ("  ", "100", "category"),
        ("", "100", "category"),
        ("人员费用", "12.345", "amount"),
        ("人员费用", 12.5, "amount"),  # float
        ("人员费用", "abc", "amount"),
        ("人员费用", "NaN", "amount"),
        ("x" * 51, "1", "category"),
    ],
)
def test_bad_expense_is_refused_and_writes_nothing(cast, finance, category, amount, field):
    report = draft(cast, finance)
    before = list(report.lines.values_list("id", "category", "amount"))
    with pytest.raises(ValidationError) as caught:
        disclosures.add_expense(actor=finance, disclosure=report, category=category, amount=amount)
    assert field in caught.value.message_dict
    line = disclosures.add_expense(
        actor=finance, disclosure=report, category="保险", amount="10.00"
    )
    with pytest.raises(ValidationError):
        disclosures.update_expense(actor=finance, line=line, category=category, amount=amount)
    line.refresh_from_db()
    assert (line.category, line.amount) == ("保险", D("10.00"))
    assert list(report.lines.exclude(pk=line.pk).values_list("id", "category", "amount")) == before


def test_expenses_and_the_balance(cast, finance, money):
    report = draft(cast, finance)
    staff = disclosures.add_expense(
        actor=finance, disclosure=report, category="人员费用", amount="300.00", note="保安保洁"
    )
    energy = disclosures.add_expense(
        actor=finance, disclosure=report, category="公共能耗(水电)", amount="220.50"
    )
    assert (staff.position, energy.position) == (0, 1)
    figures = disclosures.totals(report.lines.all())
    assert (figures.income, figures.expense, figures.balance) == (
        D("480.00"),
        D("520.50"),
        D("-40.50"),
    )
    disclosures.update_expense(actor=finance, line=energy, category="公共能耗(水电)", amount="100")
    disclosures.remove_expense(actor=finance, line=staff)
    assert lines(report, DisclosureLine.Side.EXPENSE) == [("公共能耗(水电)", D("100.00"))]
    assert disclosures.totals(report.lines.all()).balance == D("380.00")
    # The income lines are not expenses: they cannot be edited or removed as one.
    income_line = report.lines.filter(side=DisclosureLine.Side.INCOME).first()
    with pytest.raises(ValidationError):
        disclosures.remove_expense(actor=finance, line=income_line)
    assert report.lines.filter(pk=income_line.pk).exists()


def test_a_published_report_is_frozen(cast, finance, money):
    report = draft(cast, finance)
    line = disclosures.add_expense(
        actor=finance, disclosure=report, category="保险", amount="12.00"
    )
    disclosures.publish(actor=finance, disclosure=report)
    before = list(report.lines.values_list("id", "side", "category", "amount", "note"))
    changes = [
        lambda: disclosures.add_expense(
            actor=finance, disclosure=report, category="其他", amount="1"
        ),
        lambda: disclosures.update_expense(actor=finance, line=line, category="其他", amount="1"),
        lambda: disclosures.remove_expense(actor=finance, line=line),
        lambda: disclosures.refresh_income(actor=finance, disclosure=report),
        lambda: disclosures.update_draft(actor=finance, disclosure=report, title="改"),
        lambda: disclosures.publish(actor=finance, disclosure=report),
    ]
    for change in changes:
        with pytest.raises(ValidationError, match="no longer be changed"):
            change()
    assert list(report.lines.values_list("id", "side", "category", "amount", "note")) == before
    client = cast.client("finance")
    response = client.post(
        reverse("billing:disclosure_expense_add", args=[report.pk]),
        {"expense-category": "其他", "expense-amount": "1"},
    )
    assert response.status_code == 400
    assert "no longer be changed" in response.content.decode()
    response = client.post(
        reverse("billing:disclosure_expense_edit", args=[report.pk, line.pk]),
        {"category": "其他", "amount": "1"},
    )
    assert response.status_code == 400
    assert list(report.lines.values_list("id", "side", "category", "amount", "note")) == before


def test_a_period_not_yet_ended_is_not_published(cast, finance):
    april = (datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
    report = draft(cast, finance, april)
    with pytest.raises(ValidationError, match="not ended"):
        disclosures.publish(actor=finance, disclosure=report)


# --- the console --------------------------------------------------------------------------
def test_the_console_from_draft_to_published(cast, money, django_capture_on_commit_callbacks):
    client = cast.client("finance")
    response = client.post(
        reverse("billing:disclosure_create"),
        {"community": cast.community_x.id, "first_month": "2026-01", "last_month": "2026-03"},
    )
    report = Disclosure.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("billing:disclosure_detail", args=[report.pk])
    # Bad expenses: form errors, nothing written.
    count = DisclosureLine.objects.count()
    for data in (
        {"expense-category": "人员费用", "expense-amount": "-5"},
        {"expense-category": " ", "expense-amount": "5"},
    ):
        response = client.post(reverse("billing:disclosure_expense_add", args=[report.pk]), data)
        assert response.status_code == 400
        assert DisclosureLine.objects.count() == count
    response = client.post(
        reverse("billing:disclosure_expense_add", args=[report.pk]),
        {"expense-category": "人员费用", "expense-amount": "300", "expense-note": "四人"},
    )
    assert response.status_code == 302
    page = client.get(reverse("billing:disclosure_detail", args=[report.pk])).content.decode()
    for text in ("物业费", "¥200.00", "人员费用", "¥300.00", "¥480.00", "¥180.00", "Publish"):
        assert text in page
    line = report.lines.get(category="人员费用")
    response = client.post(
        reverse("billing:disclosure_expense_edit", args=[report.pk, line.pk]),
        {"category": "人员费用", "amount": "280", "note": ""},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == D("280.00")
    response = client.post(
        reverse("billing:disclosure_edit", args=[report.pk]),
        {"title": "2026年第一季度收支公示", "note": "电梯年检费计入维修保养。"},
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:disclosure_publish", args=[report.pk]))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == Disclosure.State.PUBLISHED
    assert report.published_by == cast.users["finance"]
    listing = client.get(reverse("billing:disclosure_list")).content.decode()
    assert "2026年第一季度收支公示" in listing and "¥200.00" in listing  # balance 480 − 280


def test_exports(cast, finance, money):
    report = draft(cast, finance)
    disclosures.add_expense(actor=finance, disclosure=report, category="保险", amount="80")
    client = cast.client("finance")
    response = client.get(reverse("billing:disclosure_export", args=[report.pk]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = {row[1]: row for row in book.active.iter_rows(values_only=True) if len(row) > 2}
    assert D(str(rows["物业费"][2])) == D("200")
    assert D(str(rows["保险"][2])) == D("80")
    assert D(str(rows["Balance (income − expenses)"][2])) == D("400")
    response = client.get(reverse("billing:disclosure_pdf", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_long_report_continues_on_more_pages(cast, finance):
    from wuye.billing.disclosures_print import render_pdf

    report = draft(cast, finance)
    for n in range(60):
        disclosures.add_expense(
            actor=finance, disclosure=report, category=f"维修项目{n}", amount=str(n), note="备注"
        )
    pdf = render_pdf(report, url="https://wuye.example/h5/bills/disclosures/1/")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) >= 2


# --- who sees what ------------------------------------------------------------------------
@pytest.fixture
def published(cast, finance, money, django_capture_on_commit_callbacks):
    report = draft(cast, finance)
    disclosures.add_expense(actor=finance, disclosure=report, category="人员费用", amount="100")
    with django_capture_on_commit_callbacks(execute=True):
        disclosures.publish(actor=finance, disclosure=report)
    return report


def h5(name):
    return {
        "list": reverse("billing_resident:disclosure_list"),
        "detail": lambda pk: reverse("billing_resident:disclosure_detail", args=[pk]),
        "pdf": lambda pk: reverse("billing_resident:disclosure_pdf", args=[pk]),
    }[name]


def test_residents_of_the_community_read_the_published_report(cast, published):
    for name in ("resident_a", "resident_b"):
        client = cast.client(name)
        listing = client.get(h5("list"))
        assert published.title in listing.content.decode()
        page = client.get(h5("detail")(published.pk))
        assert page.status_code == 200
        text = page.content.decode()
        for expected in ("物业费", "车位管理费", DEPOSITS, "人员费用", "¥480.00", "¥380.00"):
            assert expected in text
        assert client.get(h5("pdf")(published.pk)).content.startswith(b"%PDF")
        api = client.get(f"/api/v1/billing/disclosures/{published.pk}").json()
        assert (api["income_total"], api["expense_total"], api["balance"]) == (
            "480.00",
            "100.00",
            "380.00",
        )
        assert [line["category"] for line in api["income"]] == ["物业费", "车位管理费", DEPOSITS]
        ids = [row["id"] for row in client.get("/api/v1/billing/disclosures").json()["results"]]
        assert ids == [published.pk]


def test_others_do_not_see_it(cast, finance, published):
    other_draft = draft(cast, finance, (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28)))
    y_report = draft(cast, finance, community=cast.community_y, title="锦绣苑一季度")
    disclosures.publish(actor=finance, disclosure=y_report)
    # Residents of X: the draft and Y's published report are 404.
    client = cast.client("resident_a")
    for pk in (other_draft.pk, y_report.pk):
        assert client.get(h5("detail")(pk)).status_code == 404
        assert client.get(h5("pdf")(pk)).status_code == 404
        assert client.get(f"/api/v1/billing/disclosures/{pk}").status_code == 404
    assert y_report.title not in client.get(h5("list")).content.decode()
    # A resident of another company: nothing.
    other = cast.client("other_resident")
    assert other.get(h5("detail")(published.pk)).status_code == 404
    assert other.get(f"/api/v1/billing/disclosures/{published.pk}").status_code == 404
    assert published.title not in other.get(h5("list")).content.decode()
    assert other.get("/api/v1/billing/disclosures").json()["results"] == []
    # Staff of another company, and billing staff of community Y only: 404.
    for name in ("other_admin", "manager_y"):
        staff = cast.client(name)
        assert (
            staff.get(reverse("billing:disclosure_detail", args=[published.pk])).status_code == 404
        )
        assert staff.get(reverse("billing:disclosure_pdf", args=[published.pk])).status_code == 404
        assert staff.get(f"/api/v1/billing/disclosures/{published.pk}").status_code == 404
        ids = [row["id"] for row in staff.get("/api/v1/billing/disclosures").json()["results"]]
        assert published.pk not in ids
    # Staff of X see drafts too (API and console).
    ids = [
        row["id"]
        for row in cast.client("project_manager")
        .get("/api/v1/billing/disclosures")
        .json()["results"]
    ]
    assert other_draft.pk in ids and published.pk in ids and y_report.pk not in ids


def test_withdrawing_hides_it_from_residents(cast, finance, published):
    with pytest.raises(ValidationError) as caught:
        disclosures.withdraw(actor=finance, disclosure=published, reason="  ")
    assert "reason" in caught.value.message_dict
    assert Disclosure.objects.get(pk=published.pk).state == Disclosure.State.PUBLISHED
    client = cast.client("finance")
    response = client.post(
        reverse("billing:disclosure_withdraw", args=[published.pk]),
        {"withdraw-reason": "支出金额录入有误"},
    )
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.state == Disclosure.State.WITHDRAWN
    assert "支出金额录入有误" in published.note
    resident = cast.client("resident_a")
    assert resident.get(h5("detail")(published.pk)).status_code == 404
    assert resident.get(f"/api/v1/billing/disclosures/{published.pk}").status_code == 404
    assert published.title not in resident.get(h5("list")).content.decode()
    with pytest.raises(ValidationError, match="already been withdrawn"):
        disclosures.withdraw(actor=finance, disclosure=published, reason="再撤")


def test_publishing_notifies_the_residents_once(
    cast, finance, published, django_capture_on_commit_callbacks
):
    sent = Notification.objects.filter(kind=disclosures.NOTIFY_KIND)
    assert sorted(sent.values_list("recipient__username", flat=True)) == [
        "13800000001",
        "13800000002",
    ]
    notice = sent.first()
    assert notice.url == reverse("billing_resident:disclosure_detail", args=[published.pk])
    assert "¥480.00" in notice.body
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        disclosures.publish(actor=finance, disclosure=published)
    assert sent.count() == 2
    # The delivery itself is keyed by the report: a repeated delivery adds nobody.
    from wuye.notifications.services import deliver

    deliver(
        recipient_ids=[cast.users["resident_a"].pk],
        kind=disclosures.NOTIFY_KIND,
        title=notice.title,
        body=notice.body,
        url=notice.url,
        object_type="billing.disclosure",
        object_id=published.pk,
        dedupe_key=f"{disclosures.NOTIFY_KIND}:{published.pk}",
    )
    assert sent.count() == 2


def test_staff_without_a_house_cannot_open_the_resident_pages(cast, published):
    assert cast.client("finance").get(h5("detail")(published.pk)).status_code == 403
    assert cast.client("nobody").get(h5("detail")(published.pk)).status_code == 404
