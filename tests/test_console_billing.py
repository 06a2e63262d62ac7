"""Fees console: scoping, fee items with bad input, preview then issue through the pages,
the computation shown on a bill, adjustments, arrears buckets and the collection rate on
a hand-built set, meter readings, and the Excel exports."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from wuye.billing import meters, runs, selectors, services
from wuye.billing.models import Adjustment, Bill, BillRun, Charging, FeeItem, FeeRate, MeterReading

D = Decimal
JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def fee(cast, community=None, price="2.35", **fields):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=community or cast.community_x,
        code=fields.pop("code", "wuye"),
        name=fields.pop("name", "Property fee"),
        kind=fields.pop("kind", FeeItem.Kind.AREA),
        unit_price=D(price),
        effective_from=fields.pop("effective_from", JAN),
        **fields,
    )


def issued(cast, community, start=FEB):
    finance = cast.actor("finance")
    run = runs.preview_run(
        actor=finance, period_kind="month", period_start=start, community=community
    )
    return runs.issue_run(actor=finance, run=run)


def bill(cast, house, item, *, due, amount="100.00", paid="0.00", status=None, start=None):
    start = start or due.replace(day=1)
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=item,
        origin=Bill.Origin.ONE_OFF,
        period_start=start,
        period_end=start,
        amount=D(amount),
        paid_amount=D(paid),
        due_date=due,
        status=status or services.status_for(D(amount), D(paid)),
    )


# --- scoping -------------------------------------------------------------------------------


@pytest.fixture
def billed(cast):
    """A property fee in X and in Y, February issued in both."""
    x_fee = fee(cast)
    y_fee = fee(cast, community=cast.community_y, code="wuye-y", name="Y fee")
    issued(cast, cast.community_x)
    issued(cast, cast.community_y)
    return x_fee, y_fee


def test_finance_sees_every_community_of_the_company(cast, billed):
    page = cast.client("finance").get(reverse("billing:bill_list")).content.decode()
    assert "翠湖花园" in page and "锦绣苑" in page
    assert page.count('href="/console/billing/bills/') == 3


def test_project_manager_sees_x_only_and_cannot_manage(cast, billed):
    x_fee, y_fee = billed
    client = cast.client("project_manager")
    page = client.get(reverse("billing:bill_list")).content.decode()
    assert "翠湖花园" in page and "锦绣苑" not in page
    assert client.get(reverse("billing:fee_item_detail", args=[x_fee.pk])).status_code == 200
    assert client.get(reverse("billing:fee_item_detail", args=[y_fee.pk])).status_code == 404
    assert client.get(reverse("billing:fee_item_create")).status_code == 403
    assert client.get(reverse("billing:run_create")).status_code == 403
    response = client.post(
        reverse("billing:fee_item_price", args=[x_fee.pk]),
        {"price-unit_price": "3", "price-effective_from": "2026-06-01"},
    )
    assert response.status_code == 403 and x_fee.rates.count() == 1


def test_manager_y_sees_nothing_of_x(cast, billed):
    x_fee, _y = billed
    client = cast.client("manager_y")
    x_bill = Bill.objects.filter(community=cast.community_x).first()
    assert client.get(reverse("billing:bill_detail", args=[x_bill.pk])).status_code == 404
    assert client.get(reverse("billing:fee_item_detail", args=[x_fee.pk])).status_code == 404
    run = BillRun.objects.get(community=cast.community_x)
    assert client.get(reverse("billing:run_detail", args=[run.pk])).status_code == 404
    page = client.get(reverse("billing:bill_list")).content.decode()
    assert "翠湖花园" not in page


def test_other_company_admin_gets_404(cast, billed):
    x_fee, _y = billed
    client = cast.client("other_admin")
    x_bill = Bill.objects.filter(community=cast.community_x).first()
    assert client.get(reverse("billing:bill_detail", args=[x_bill.pk])).status_code == 404
    assert client.get(reverse("billing:fee_item_detail", args=[x_fee.pk])).status_code == 404
    assert "翠湖花园" not in client.get(reverse("billing:arrears")).content.decode()


@pytest.mark.parametrize("who", ["resident_a", "technician", "guard"])
def test_residents_and_field_staff_get_403(cast, billed, who):
    client = cast.client(who)
    for name in ("billing:bill_list", "billing:fee_item_list", "billing:arrears"):
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("billing:reading_create")).status_code == 403


# --- fee items ---------------------------------------------------------------------------


def _item_form(cast, **overrides):
    data = {
        "community": cast.community_x.pk,
        "code": "water",
        "name": "Water",
        "kind": "metered",
        "area_basis": "built",
        "cycle": "month",
        "due_days": "15",
        "unit_price": "3.50",
        "multiplier": "",
        "tiers": "",
        "effective_from": "2026-01-01",
    }
    return data | overrides


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"unit_price": "-1"}, "unit_price", "greater than or equal to 0"),
        ({"tiers": "10 1\n20 2"}, "tiers", "The last band must be open-ended."),
        ({"tiers": "20 1\n10 2\n- 3"}, "tiers", "Band limits must go up."),
        ({"tiers": '[{"up_to": 1}'}, "tiers", "not valid JSON"),
        ({"tiers": "abc"}, "tiers", "write the upper limit and the price"),
        ({"kind": "area", "tiers": "- 1"}, "tiers", "Only metered fee items"),
    ],
)
def test_bad_fee_items_show_form_errors_and_write_nothing(cast, overrides, field, message):
    client = cast.client("finance")
    response = client.post(reverse("billing:fee_item_create"), _item_form(cast, **overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not FeeItem.objects.exists() and not FeeRate.objects.exists()


def test_duplicate_code_is_a_form_error(cast):
    fee(cast, code="water", kind="metered")
    response = cast.client("finance").post(reverse("billing:fee_item_create"), _item_form(cast))
    assert response.status_code == 200 and response.context["form"].errors
    assert FeeItem.objects.count() == 1


def test_a_metered_item_with_tiers_is_created_through_the_page(cast):
    response = cast.client("finance").post(
        reverse("billing:fee_item_create"),
        _item_form(cast, tiers="180 0.56\n260 0.61\n- 0.86", multiplier="2"),
    )
    item = FeeItem.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("billing:fee_item_detail", args=[item.pk])
    rate = item.rates.get()
    assert rate.tiers[-1] == {"up_to": None, "price": "0.86"} and rate.multiplier == D("2")
    assert Charging.objects.filter(fee_item=item).count() == 2


def test_list_shows_current_price_and_houses_charged(cast):
    item = fee(cast)
    services.change_price(
        actor=cast.actor("finance"), fee_item=item, effective_from=FEB, unit_price=D("2.80")
    )
    with time_machine.travel(datetime.datetime(2026, 2, 10, 9)):
        rows = list(
            selectors.fee_items_with_figures(FeeItem.objects.all(), on=datetime.date(2026, 2, 10))
        )
        page = cast.client("finance").get(reverse("billing:fee_item_list")).content.decode()
    assert rows[0].current_price == D("2.80") and rows[0].houses == 2
    assert "¥2.8000" in page


def test_price_change_into_issued_months_is_refused_on_the_form(cast):
    item = fee(cast)
    issued(cast, cast.community_x)
    response = cast.client("finance").post(
        reverse("billing:fee_item_price", args=[item.pk]),
        {"price-unit_price": "3", "price-effective_from": "2026-02-01"},
    )
    assert response.status_code == 200
    assert "already issued at the old price" in " ".join(
        response.context["price_form"].errors["effective_from"]
    )
    assert item.rates.count() == 1
    response = cast.client("finance").post(
        reverse("billing:fee_item_price", args=[item.pk]),
        {"price-unit_price": "3", "price-effective_from": "2026-03-01"},
    )
    assert response.status_code == 302 and item.rates.count() == 2


# --- bill runs through the pages --------------------------------------------------------------


def test_preview_then_issue_through_the_pages(cast, django_capture_on_commit_callbacks):
    fee(cast)
    client = cast.client("finance")
    response = client.post(
        reverse("billing:run_create"),
        {"community": cast.community_x.pk, "period_kind": "month", "period_start": "2026-02-01"},
    )
    run = BillRun.objects.get()
    assert response.url == reverse("billing:run_detail", args=[run.pk])
    page = client.get(response.url).content.decode()
    # 2 houses × 89.50 m² × 2.35 = 210.325 → 210.33 each
    assert "Property fee" in page and "¥420.66" in page and "Issue" in page
    assert not Bill.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the worker issues it
        response = client.post(reverse("billing:run_issue", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == BillRun.State.ISSUED and run.bills_created == 2
    page = client.get(reverse("billing:run_detail", args=[run.pk])).content.decode()
    assert "Issued" in page and "Queued to issue" in page and "Issuing started" in page
    second = client.post(
        reverse("billing:run_create"),
        {"community": cast.community_x.pk, "period_kind": "month", "period_start": "2026-02-01"},
    )
    assert "already issued for this scope" in second.content.decode()
    assert BillRun.objects.count() == 1


def test_company_wide_run_is_only_offered_to_company_wide_staff(cast):
    fee(cast)
    fee(cast, community=cast.community_y, code="y")
    response = cast.client("finance").post(
        reverse("billing:run_create"), {"period_kind": "month", "period_start": "2026-02-01"}
    )
    run = BillRun.objects.get()
    assert response.status_code == 302 and run.community_id is None and run.bills_planned == 3


def test_a_bad_period_start_is_a_form_error(cast):
    response = cast.client("finance").post(
        reverse("billing:run_create"),
        {"community": cast.community_x.pk, "period_kind": "quarter", "period_start": "2026-02-01"},
    )
    assert "first day of a month, quarter or year" in response.content.decode()
    assert not BillRun.objects.exists()


# --- bills --------------------------------------------------------------------------------------


def test_bill_detail_shows_how_the_amount_came_about(cast):
    item = fee(cast)
    services.stop_charging(
        actor=cast.actor("finance"),
        house=cast.house_a,
        fee_item=item,
        end=datetime.date(2026, 2, 14),
    )
    issued(cast, cast.community_x)
    a_bill = Bill.objects.get(house=cast.house_a)
    page = cast.client("finance").get(reverse("billing:bill_detail", args=[a_bill.pk]))
    text = page.content.decode()
    # 89.50 × 2.35 × 14/28 = 105.1625 → 105.16 (half up)
    assert a_bill.amount == D("105.16")
    for part in ("2026-02", "89.50 ×", "¥2.3500", "× 14/28", "¥105.1625", "¥105.16", "Half up"):
        assert part in text, part
    assert "Built-up area" in text and "Actual days of the month" in text


def test_adjustment_needs_a_second_person(cast):
    fee(cast)
    issued(cast, cast.community_x)
    a_bill = Bill.objects.get(house=cast.house_a)
    finance = cast.client("finance")
    response = finance.post(
        reverse("billing:adjustment_propose", args=[a_bill.pk]),
        {"adj-kind": "credit", "adj-amount": "10.00", "adj-reason": "空置房减免"},
    )
    assert response.status_code == 302
    adjustment = Adjustment.objects.get()
    url = reverse("billing:adjustment_decide", args=[a_bill.pk, adjustment.pk, "approve"])
    response = finance.post(url)
    assert "Someone other than the proposer must decide." in response.content.decode()
    adjustment.refresh_from_db()
    assert adjustment.status == Adjustment.Status.PENDING
    assert cast.client("company_admin").post(url).status_code == 302
    a_bill.refresh_from_db()
    assert a_bill.adjusted_amount == D("-10.00") and a_bill.balance == D("200.33")


def test_adjustment_over_the_balance_is_a_form_error(cast):
    fee(cast)
    issued(cast, cast.community_x)
    a_bill = Bill.objects.get(house=cast.house_a)
    response = cast.client("finance").post(
        reverse("billing:adjustment_propose", args=[a_bill.pk]),
        {"adj-kind": "credit", "adj-amount": "999.00", "adj-reason": "too much"},
    )
    assert response.status_code == 200
    assert "cannot exceed what is still owed" in response.content.decode()
    assert not Adjustment.objects.exists()


def test_bill_filters_and_totals(cast):
    item = fee(cast, kind="one_off", code="repair", name="Repair")
    bill(cast, cast.house_a, item, due=datetime.date(2026, 3, 1), amount="100.00")
    bill(cast, cast.house_b, item, due=datetime.date(2026, 3, 1), amount="50.00", paid="50.00")
    bill(cast, cast.house_b, item, due=datetime.date(2026, 5, 1), amount="30.00", paid="10.00")
    client = cast.client("finance")
    with time_machine.travel(datetime.datetime(2026, 4, 1, 9)):
        response = client.get(reverse("billing:bill_list"), {"overdue": "on"})
        assert response.context["totals"]["count"] == 1
        assert response.context["totals"]["owed"] == D("100.00")
        response = client.get(reverse("billing:bill_list"), {"number": "0102"})
    totals = response.context["totals"]
    assert totals["count"] == 2 and totals["paid"] == D("60.00") and totals["owed"] == D("20")
    response = client.get(reverse("billing:bill_list"), {"status": "paid"})
    assert [b.amount for b in response.context["page"].items] == [D("50.00")]


def test_bill_list_query_count_does_not_grow_with_rows(cast, django_assert_max_num_queries):
    item = fee(cast, kind="one_off", code="repair", name="Repair")
    for day in range(1, 20):
        bill(cast, cast.house_a, item, due=datetime.date(2026, 3, day))
    client = cast.client("finance")
    with django_assert_max_num_queries(12):
        client.get(reverse("billing:bill_list"))


def test_bill_export_has_the_filtered_rows(cast):
    item = fee(cast, kind="one_off", code="repair", name="Repair")
    bill(cast, cast.house_a, item, due=datetime.date(2026, 3, 1), amount="100.00")
    bill(cast, cast.house_b, item, due=datetime.date(2026, 3, 1), amount="50.00", paid="50.00")
    bill(
        cast,
        cast.house_y,
        item_y := fee(cast, cast.community_y, kind="one_off", code="r"),
        due=datetime.date(2026, 3, 1),
    )
    response = cast.client("project_manager").get(
        reverse("billing:bill_export"), {"status": "open"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Bill" and len(rows) == 2
    assert rows[1][4] == "0101" and rows[1][9] == 100 and rows[1][13] == "Unpaid"
    assert item_y.community_id == cast.community_y.id


# --- arrears --------------------------------------------------------------------------------


@pytest.fixture
def arrears_set(cast):
    """As of 2026-07-01: house A owes 100 due 06-30 (1 day), 200 due 05-31 (31 days),
    a partly paid 300 (120 paid) due 2026-01-01 (181 days); house B paid 400 due 06-30
    in full and owes 50 due 07-01 (not overdue yet); Y owes 70 due 04-01 (91 days)."""
    item = fee(cast, kind="one_off", code="misc", name="Misc")
    item_y = fee(cast, cast.community_y, kind="one_off", code="misc", name="Misc")
    bill(cast, cast.house_a, item, due=datetime.date(2026, 6, 30), amount="100.00")
    bill(cast, cast.house_a, item, due=datetime.date(2026, 5, 31), amount="200.00")
    bill(cast, cast.house_a, item, due=datetime.date(2026, 1, 1), amount="300.00", paid="120.00")
    bill(cast, cast.house_b, item, due=datetime.date(2026, 6, 30), amount="400.00", paid="400.00")
    bill(cast, cast.house_b, item, due=datetime.date(2026, 7, 1), amount="50.00")
    bill(cast, cast.house_y, item_y, due=datetime.date(2026, 4, 1), amount="70.00")
    void = bill(cast, cast.house_b, item, due=datetime.date(2026, 6, 1), amount="999.00")
    Bill.objects.filter(pk=void.pk).update(status=Bill.Status.VOID)
    return datetime.date(2026, 7, 1)


def test_aging_buckets_by_community_and_building(cast, arrears_set):
    rows = selectors.aging(Bill.objects.all(), as_of=arrears_set, by="community")
    by_name = {row["name"]: row for row in rows}
    x, y = by_name["翠湖花园"], by_name["锦绣苑"]
    assert x["buckets"] == [D("100"), D("200"), D("0"), D("0"), D("180")]
    assert x["total"] == D("480") and x["houses"] == 1 and x["bills"] == 3
    assert y["buckets"] == [D("0"), D("0"), D("0"), D("70"), D("0")]
    assert [row["name"] for row in rows] == ["翠湖花园", "锦绣苑"]  # largest first
    buildings = selectors.aging(Bill.objects.all(), as_of=arrears_set, by="building")
    assert {row["name"] for row in buildings} == {"翠湖花园 1栋", "锦绣苑 1栋"}
    total = selectors.aging_total(Bill.objects.all(), as_of=arrears_set)
    assert total["total"] == D("550") and total["buckets"][3] == D("70")


def test_collection_rate_by_community_building_and_month(cast, arrears_set):
    bills = Bill.objects.all()
    june = datetime.date(2026, 6, 1)
    rate = selectors.collection_rate(bills, june, june)
    # due in June, void left out: 100 (unpaid) + 400 (paid) → 400 / 500 = 80 %
    assert rate == {
        "bills": 2,
        "payable": D("500"),
        "paid": D("400"),
        "owed": D("100"),
        "rate": D("80.0"),
    }
    months = selectors.collection_rate_by(bills, datetime.date(2026, 1, 1), june, by="month")
    assert [(row["name"], row["rate"]) for row in months] == [
        ("2026-01", D("40.0")),
        ("2026-04", D("0.0")),
        ("2026-05", D("0.0")),
        ("2026-06", D("80.0")),
    ]
    communities = selectors.collection_rate_by(
        bills, datetime.date(2026, 1, 1), june, by="community"
    )
    # X: payable 100 + 200 + 300 + 400 = 1000, paid 520 → 52 %; Y: 0 of 70
    assert [(r["name"], r["rate"]) for r in communities] == [
        ("翠湖花园", D("52.0")),
        ("锦绣苑", D("0.0")),
    ]


def test_arrears_page_and_export(cast, arrears_set):
    query = {"as_of": "2026-07-01", "month_from": "2026-01", "month_to": "2026-06"}
    client = cast.client("project_manager")
    page = client.get(reverse("billing:arrears"), query).content.decode()
    assert "¥480.00" in page and "52.0%" in page and "锦绣苑" not in page
    response = client.get(reverse("billing:arrears_export"), query)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    aging = list(book.worksheets[0].iter_rows(values_only=True))
    assert aging[2][0] == "翠湖花园" and aging[2][3:] == (100, 200, 0, 0, 180, 480)
    months = list(book.worksheets[4].iter_rows(values_only=True))
    assert [row[0] for row in months[2:]] == ["2026-01", "2026-05", "2026-06"]
    bad = client.get(reverse("billing:arrears_export"), query | {"month_to": "2025-01"})
    assert bad.status_code == 400


# --- meter readings ------------------------------------------------------------------------


def _reading_form(cast, item, **overrides):
    return {
        "community": cast.community_x.pk,
        "building": cast.building_x1.pk,
        "unit": "",
        "number": "0101",
        "fee_item": item.pk,
        "reading_date": "2026-02-01",
        "value": "120.5",
    } | overrides


@time_machine.travel(datetime.datetime(2026, 3, 1, 9))
def test_readings_recorded_with_errors_on_the_form(cast):
    item = fee(cast, kind="metered", code="water", name="Water", price="3")
    client = cast.client("finance")
    response = client.post(reverse("billing:reading_create"), _reading_form(cast, item))
    assert response.status_code == 302
    response = client.post(
        reverse("billing:reading_create"),
        _reading_form(cast, item, reading_date="2026-02-20", value="100"),
    )
    assert "lower than the previous reading" in " ".join(response.context["form"].errors["value"])
    response = client.post(
        reverse("billing:reading_create"), _reading_form(cast, item, number="9999")
    )
    assert "no house with this number" in response.content.decode()
    assert MeterReading.objects.count() == 1


@time_machine.travel(datetime.datetime(2026, 6, 1, 9))
def test_held_reading_is_listed_and_confirmed(cast):
    item = fee(cast, kind="metered", code="water", name="Water", price="3")
    finance = cast.actor("finance")
    for month, value in ((1, 100), (2, 110), (3, 120), (4, 130), (5, 300)):
        meters.record_reading(
            actor=finance,
            house=cast.house_a,
            fee_item=item,
            reading_date=datetime.date(2026, month, 1),
            value=str(value),
        )
    held = MeterReading.objects.get(needs_review=True)
    client = cast.client("finance")
    page = client.get(reverse("billing:reading_list"), {"held": "on"})
    assert [r.pk for r in page.context["page"].items] == [held.pk]
    assert (
        cast.client("project_manager")
        .post(reverse("billing:reading_confirm", args=[held.pk]))
        .status_code
        == 403
    )
    assert client.post(reverse("billing:reading_confirm", args=[held.pk])).status_code == 302
    held.refresh_from_db()
    assert not held.needs_review
