"""Late fees (滞纳金) posted as bills: exact amounts with grace days, the cap, partial
payments and rounding; one posting per bill and month (a rerun writes nothing); nothing
when the policy is off, nor on void, paid or late-fee bills; the daily task and its
schedule; what the cashier and the bill page show."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from django.urls import reverse

from wuye.billing import late_fees, services
from wuye.billing.late_fees import post_due_late_fees, post_late_fees
from wuye.billing.models import Bill, FeeItem
from wuye.billing.tasks import post_late_fees as post_late_fees_task
from wuye.schedule import JOBS

MAR15 = datetime.date(2026, 3, 15)
APR1 = datetime.date(2026, 4, 1)
MAY1 = datetime.date(2026, 5, 1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def repair(cast):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=cast.community_x,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("100"),
        effective_from=datetime.date(2026, 1, 1),
    )


def policy(company, **fields):
    found = services.policy_for(company)
    values = {
        "late_fee_enabled": True,
        "late_fee_daily_rate": D("0.0005"),
        "late_fee_grace_days": 0,
        "late_fee_cap_ratio": D("1"),
        **fields,
    }
    for name, value in values.items():
        setattr(found, name, value)
    found.save()
    return found


def bill(house, item, *, due=MAR15, amount="1000.00", paid="0.00", status=None):
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=item,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=D(amount),
        paid_amount=D(paid),
        due_date=due,
        status=status or services.status_for(D(amount), D(paid)),
    )


def fees_of(source):
    return list(Bill.objects.filter(source_bill=source).order_by("id"))


# --- amounts ----------------------------------------------------------------------------------


def test_first_posting_counts_the_days_up_to_the_day_before_the_first(cast, repair):
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    result = post_late_fees(company=cast.company, as_of=APR1)
    # 16 late days (16-31 March; the 1st itself is not counted) × 0.05 % × 1000.00
    [fee] = fees_of(overdue)
    assert fee.amount == D("8.00")
    assert (result.posted, result.amount, result.checked) == (1, D("8.00"), 1)
    assert fee.origin == Bill.Origin.LATE_FEE and fee.house_id == cast.house_a.id
    assert fee.reference == f"late:{overdue.id}:2026-04"
    assert (fee.period_start, fee.period_end, fee.due_date) == (APR1, APR1, APR1)
    assert fee.status == Bill.Status.OPEN
    item = fee.fee_item
    assert (item.code, item.name, item.kind, item.community_id) == (
        "late-fee",
        "滞纳金",
        FeeItem.Kind.ONE_OFF,
        cast.community_x.id,
    )
    assert fee.detail == {
        "kind": "late_fee",
        "source_bill": overdue.id,
        "principal": "1000.00",
        "due_date": "2026-03-15",
        "as_of": "2026-04-01",
        "days": 16,
        "daily_rate": "0.000500",
        "grace_days": 0,
        "count_from": "after_grace",
        "payment_day_counts": False,
        "cap_ratio": "1.0000",
        "cap": "1000.00",
        "capped": False,
        "rounding": "half_up",
        "accrued": "8.00",
        "posted_before": "0.00",
        "amount": "8.00",
    }


def test_the_next_month_posts_what_accrued_since(cast, repair):
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)
    post_late_fees(company=cast.company, as_of=MAY1)
    # 46 days to 30 April: 23.00 accrued, 8.00 charged in April
    assert [fee.amount for fee in fees_of(overdue)] == [D("8.00"), D("15.00")]
    assert fees_of(overdue)[1].detail["posted_before"] == "8.00"
    assert fees_of(overdue)[1].reference == f"late:{overdue.id}:2026-05"


def test_the_payment_day_counted(cast, repair):
    policy(cast.company, late_fee_payment_day_counts=True)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)
    assert fees_of(overdue)[0].amount == D("8.50")  # 17 days


@pytest.mark.parametrize(
    ("count_from", "due", "expected"),
    [
        ("after_grace", MAR15, D("3.00")),  # 16 days overdue − 10 grace = 6 days
        ("due_date", MAR15, D("8.00")),  # grace passed: all 16 days count
        ("after_grace", datetime.date(2026, 3, 22), None),  # 9 days overdue: within grace
        ("due_date", datetime.date(2026, 3, 21), None),  # 10 days: still within grace
        ("due_date", datetime.date(2026, 3, 20), D("5.50")),  # 11 days: all of them
    ],
)
def test_grace_days(cast, repair, count_from, due, expected):
    policy(cast.company, late_fee_grace_days=10, late_fee_from=count_from)
    overdue = bill(cast.house_a, repair, due=due)
    post_late_fees(company=cast.company, as_of=APR1)
    assert [fee.amount for fee in fees_of(overdue)] == ([expected] if expected else [])


def test_the_cap_stops_the_fee_and_later_months_add_nothing(cast, repair):
    policy(cast.company, late_fee_daily_rate=D("0.01"), late_fee_cap_ratio=D("0.1"))
    overdue = bill(cast.house_a, repair, due=datetime.date(2026, 1, 1), amount="500.00")
    post_late_fees(company=cast.company, as_of=APR1)
    # 89 days × 1 % × 500 = 445.00, capped at 10 % of 500 = 50.00
    [fee] = fees_of(overdue)
    assert fee.amount == D("50.00")
    assert fee.detail["capped"] is True and fee.detail["cap"] == "50.00"
    assert post_late_fees(company=cast.company, as_of=MAY1).posted == 0
    assert len(fees_of(overdue)) == 1


def test_a_partial_payment_lowers_the_principal(cast, repair):
    policy(cast.company)
    partly = bill(cast.house_a, repair, paid="400.00")
    post_late_fees(company=cast.company, as_of=APR1)
    assert fees_of(partly)[0].amount == D("4.80")  # 600.00 × 0.05 % × 16
    assert fees_of(partly)[0].detail["principal"] == "600.00"


def test_a_fee_already_charged_on_a_higher_balance_is_never_taken_back(cast, repair):
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)  # 8.00 on 1000.00
    Bill.objects.filter(pk=overdue.pk).update(
        paid_amount=D("800.00"), status=Bill.Status.PARTIALLY_PAID
    )
    # 200.00 × 0.05 % × 46 = 4.60 accrued, less than the 8.00 charged: nothing, never negative
    assert post_late_fees(company=cast.company, as_of=MAY1).posted == 0
    assert [fee.amount for fee in fees_of(overdue)] == [D("8.00")]


def test_rounding_follows_the_policy(cast, repair):
    policy(cast.company)
    up = bill(cast.house_a, repair, amount="333.33")  # 2.66664 → 2.67
    half = bill(cast.house_b, repair, amount="40.63")
    post_late_fees(company=cast.company, as_of=APR1)
    assert fees_of(up)[0].amount == D("2.67")
    assert fees_of(half)[0].amount == D("0.33")  # 0.32504 → 0.33


# --- what gets nothing ------------------------------------------------------------------------


def test_rerunning_in_the_same_month_writes_nothing(cast, repair, django_assert_max_num_queries):
    policy(cast.company)
    bills = [bill(cast.house_a, repair, due=MAR15 - datetime.timedelta(days=n)) for n in range(30)]
    with django_assert_max_num_queries(12):  # bulk: not a query per bill
        first = post_late_fees(company=cast.company, as_of=APR1)
    assert first.posted == 30
    count = Bill.objects.count()
    with django_assert_max_num_queries(6):
        again = post_late_fees(company=cast.company, as_of=APR1)
    assert (again.posted, again.already, again.checked) == (0, 30, 30)
    assert Bill.objects.count() == count
    assert all(len(fees_of(b)) == 1 for b in bills)


def test_a_disabled_policy_posts_nothing(cast, repair):
    bill(cast.house_a, repair)
    assert post_late_fees(company=cast.company, as_of=APR1).posted == 0  # no policy row
    policy(cast.company, late_fee_enabled=False)
    assert post_late_fees(company=cast.company, as_of=APR1).posted == 0
    assert not Bill.objects.filter(origin=Bill.Origin.LATE_FEE).exists()
    assert not FeeItem.objects.filter(code="late-fee").exists()


def test_void_paid_and_not_yet_due_bills_get_nothing(cast, repair):
    policy(cast.company)
    paid = bill(cast.house_a, repair, paid="1000.00")
    void = bill(cast.house_a, repair)
    services.void_bill(actor=cast.actor("finance"), bill=void, reason="wrong house")
    not_due = bill(cast.house_a, repair, due=APR1)
    due_yesterday = bill(cast.house_a, repair, due=APR1 - datetime.timedelta(days=1))
    post_late_fees(company=cast.company, as_of=APR1)
    for quiet in (paid, void, not_due, due_yesterday):  # paying on the due date is on time
        assert fees_of(quiet) == []


def test_late_fees_are_not_charged_late_fees(cast, repair):
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)
    [april] = fees_of(overdue)
    post_late_fees(company=cast.company, as_of=MAY1)  # April's late fee is overdue by now
    assert fees_of(april) == []
    assert Bill.objects.filter(origin=Bill.Origin.LATE_FEE).count() == 2


def test_a_waived_late_fee_is_not_charged_again(cast, repair):
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)
    [april] = fees_of(overdue)
    services.void_bill(actor=cast.actor("finance"), bill=april, reason="waived")
    post_late_fees(company=cast.company, as_of=MAY1)
    assert [fee.amount for fee in fees_of(overdue)] == [D("8.00"), D("15.00")]


def test_other_companies_are_left_alone(cast, repair):
    policy(cast.company)
    policy(cast.other_company)
    other_item = FeeItem.objects.create(
        company=cast.other_company,
        community=cast.other_community,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    theirs = bill(cast.other_house, other_item)
    post_late_fees(company=cast.company, as_of=APR1)
    assert fees_of(theirs) == []
    post_late_fees(company=cast.other_company, as_of=APR1)
    [fee] = fees_of(theirs)
    assert fee.fee_item.community_id == cast.other_community.id
    assert fee.company_id == cast.other_company.id


def test_one_late_fee_item_per_community(cast, repair):
    policy(cast.company)
    y_item = services.create_fee_item(
        actor=cast.actor("finance"),
        community=cast.community_y,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("100"),
        effective_from=datetime.date(2026, 1, 1),
    )
    bill(cast.house_a, repair)
    bill(cast.house_b, repair)
    bill(cast.house_y, y_item)
    post_late_fees(company=cast.company, as_of=APR1)
    post_late_fees(company=cast.company, as_of=MAY1)
    items = FeeItem.objects.filter(code="late-fee")
    assert sorted(items.values_list("community_id", flat=True)) == sorted(
        [cast.community_x.id, cast.community_y.id]
    )
    assert Bill.objects.filter(origin=Bill.Origin.LATE_FEE).count() == 6


# --- the monthly job --------------------------------------------------------------------------


def test_the_job_runs_daily_and_posts_as_of_the_first(cast, repair):
    job = next(job for job in JOBS if job.name == "billing.post_late_fees")
    assert job.every == datetime.timedelta(days=1)
    assert job.task is post_late_fees_task
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    with time_machine.travel(datetime.datetime(2026, 4, 3, 2, 0, tzinfo=datetime.UTC)):
        assert post_late_fees_task.enqueue().return_value == 1
    [fee] = fees_of(overdue)
    assert fee.period_start == APR1 and fee.amount == D("8.00")  # as of the 1st, not the 3rd
    with time_machine.travel(datetime.datetime(2026, 4, 20, 2, 0, tzinfo=datetime.UTC)):
        assert post_late_fees_task.enqueue().return_value == 0
    assert post_due_late_fees(today=datetime.date(2026, 5, 9)) == 1


# --- pages ------------------------------------------------------------------------------------


def test_the_cashier_sees_the_late_fee_running_up(cast, repair):
    policy(cast.company)
    bill(cast.house_a, repair)
    with time_machine.travel(datetime.datetime(2026, 4, 11, 10, 0, tzinfo=datetime.UTC)):
        post_late_fees(company=cast.company, as_of=APR1)  # 8.00 posted
        page = cast.client("finance").get(reverse("cashier:collect", args=[cast.house_a.id]))
    text = page.content.decode()
    # 26 days to 10 April = 13.00 accrued, 8.00 posted: 5.00 running
    assert "late fee so far ¥5.00" in text
    assert "Late fees of ¥5.00 have accrued" in text


def test_the_cashier_shows_nothing_when_late_fees_are_off(cast, repair):
    bill(cast.house_a, repair)
    page = cast.client("finance").get(reverse("cashier:collect", args=[cast.house_a.id]))
    assert "late fee so far" not in page.content.decode()


def test_the_bill_pages_explain_the_late_fee(cast, repair):
    policy(cast.company)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)
    [fee] = fees_of(overdue)
    client = cast.client("finance")
    page = client.get(reverse("billing:bill_detail", args=[fee.id])).content.decode()
    assert "How the late fee was computed" in page
    assert "¥1000.00" in page and "16 days up to 2026-04-01" in page and "0.000500" in page
    assert reverse("billing:bill_detail", args=[overdue.id]) in page
    source = client.get(reverse("billing:bill_detail", args=[overdue.id])).content.decode()
    assert "Late fees charged on this bill" in source
    assert reverse("billing:bill_detail", args=[fee.id]) in source


def test_accrued_unposted_leaves_out_late_fee_bills(cast, repair):
    found = policy(cast.company)
    overdue = bill(cast.house_a, repair)
    post_late_fees(company=cast.company, as_of=APR1)
    bills = list(Bill.objects.filter(house=cast.house_a))
    assert late_fees.accrued_unposted(found, bills, APR1) == {}
    assert late_fees.accrued_unposted(found, bills, datetime.date(2026, 4, 3)) == {
        overdue.id: D("1.00")
    }
