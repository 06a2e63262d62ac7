"""Fee items, price history, 计费起止, bill runs (preview, issue, rerun, crash and resume,
second run refused), adjustments, and who sees what."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.conftest import make_house
from wuye.billing import runs, services
from wuye.billing.models import (
    Adjustment,
    Bill,
    BillRun,
    Charging,
    FeeItem,
    MeterReading,
)
from wuye.estates.models import House

D = Decimal
JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)
MONTH = FeeItem.Cycle.MONTH


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


def property_fee(cast, actor, community=None, price="2.35", **fields):
    return services.create_fee_item(
        actor=actor,
        community=community or cast.community_x,
        code=fields.pop("code", "wuye"),
        name=fields.pop("name", "物业费"),
        kind=fields.pop("kind", FeeItem.Kind.AREA),
        unit_price=D(price),
        effective_from=fields.pop("effective_from", JAN),
        **fields,
    )


def bills_of(run):
    return {
        (b.house_id, b.fee_item_id): b.amount for b in Bill.objects.filter(run=run).order_by("id")
    }


def issue(actor, period_start=FEB, kind=MONTH, **scope):
    scope.setdefault("community", None)
    run = runs.preview_run(actor=actor, period_kind=kind, period_start=period_start, **scope)
    return runs.issue_run(actor=actor, run=run)


# --- fee items, prices, charging -------------------------------------------------------


def test_a_fee_item_charges_every_applicable_house_from_its_first_price(cast, finance):
    parking_space = make_house(cast.building_x1, cast.unit_x1, "P001")
    House.objects.filter(pk=parking_space.pk).update(kind=House.Kind.PARKING)
    fee = property_fee(cast, finance)
    parking = property_fee(cast, finance, code="car", name="车位费", kind="parking", price="150")
    assert set(Charging.objects.filter(fee_item=fee).values_list("house_id", flat=True)) == {
        cast.house_a.id,
        cast.house_b.id,
    }
    assert list(Charging.objects.filter(fee_item=parking).values_list("house_id", flat=True)) == [
        parking_space.id
    ]
    assert fee.rates.get().unit_price == D("2.3500")
    assert fee.house_kinds == ["residence", "shop", "office"]


def test_bad_fee_items_are_refused_and_nothing_is_written(cast, finance):
    with pytest.raises(ValidationError) as err:
        property_fee(cast, finance, price="-1")
    assert "unit_price" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        property_fee(cast, finance, kind="metered", tiers=[{"up_to": "10", "price": "1"}])
    assert err.value.message_dict["tiers"] == ["The last band must be open-ended."]
    with pytest.raises(ValidationError):
        property_fee(cast, finance, house_kinds=["castle"])
    assert not FeeItem.objects.exists() and not Charging.objects.exists()


@pytest.mark.parametrize("who", ["project_manager", "manager_y", "other_admin", "technician"])
def test_only_billing_managers_of_the_community_set_up_fees(cast, who):
    with pytest.raises(PermissionDenied):
        property_fee(cast, cast.actor(who))
    assert not FeeItem.objects.exists()


def test_a_price_change_is_a_new_row_effective_per_month_start(cast, finance):
    """Q1 2026: 2.35 until January, 3.00 from 1 February, 4.00 from 15 March (March
    still at 3.00: a month's price is the one effective on its first day)."""
    fee = property_fee(cast, finance, cycle=FeeItem.Cycle.QUARTER)
    services.change_price(actor=finance, fee_item=fee, effective_from=FEB, unit_price=D("3"))
    services.change_price(
        actor=finance, fee_item=fee, effective_from=datetime.date(2026, 3, 15), unit_price=D("4")
    )
    assert list(fee.rates.values_list("unit_price", flat=True)) == [D("2.35"), D("3"), D("4")]
    run = issue(finance, JAN, FeeItem.Cycle.QUARTER, community=cast.community_x)
    bill = Bill.objects.get(run=run, house=cast.house_a)
    assert bill.amount == D("747.33")  # 89.50 × (2.35 + 3.00 + 3.00) = 747.325, half up
    assert [m["unit_price"] for m in bill.detail["months"]] == ["2.3500", "3.0000", "3.0000"]
    assert bill.detail["area"] == "89.50" and bill.detail["rounding"] == "half_up"


def test_a_price_change_into_issued_months_is_refused(cast, finance):
    fee = property_fee(cast, finance)
    issue(finance, community=cast.community_x)
    with pytest.raises(ValidationError) as err:
        services.change_price(
            actor=finance, fee_item=fee, effective_from=datetime.date(2026, 1, 20), unit_price=D(3)
        )
    assert "already issued" in err.value.message_dict["effective_from"][0]
    services.change_price(
        actor=finance, fee_item=fee, effective_from=datetime.date(2026, 2, 2), unit_price=D(3)
    )  # from March: fine
    with pytest.raises(ValidationError):
        services.change_price(
            actor=finance, fee_item=fee, effective_from=datetime.date(2026, 4, 1), unit_price=D(-1)
        )
    assert fee.rates.count() == 2


def test_move_in_and_move_out_are_prorated_by_day(cast, finance):
    """February 2026 (28 days): house A moves out on the 10th (billed 10 days), a new
    house is charged from the 15th (14 days, both ends billed)."""
    fee = property_fee(cast, finance, kind="fixed", price="280")
    services.stop_charging(
        actor=finance, house=cast.house_a, fee_item=fee, end=datetime.date(2026, 2, 10)
    )
    new = make_house(cast.building_x1, cast.unit_x1, "0201")
    services.start_charging(
        actor=finance, house=new, fee_item=fee, start=datetime.date(2026, 2, 15)
    )
    run = issue(finance, community=cast.community_x)
    assert bills_of(run) == {
        (cast.house_a.id, fee.id): D("100.00"),
        (cast.house_b.id, fee.id): D("280.00"),
        (new.id, fee.id): D("140.00"),
    }
    detail = Bill.objects.get(run=run, house=new).detail
    assert detail["months"] == [
        {"month": "2026-02", "days": 14, "of": 28, "unit_price": "280.0000"}
    ]
    # March: house A is no longer billed
    march = issue(finance, datetime.date(2026, 3, 1), community=cast.community_x)
    assert cast.house_a.id not in {h for h, _f in bills_of(march)}


def test_charging_intervals_never_overlap(cast, finance):
    fee = property_fee(cast, finance)
    with pytest.raises(ValidationError):
        services.start_charging(actor=finance, house=cast.house_a, fee_item=fee, start=FEB)
    services.stop_charging(actor=finance, house=cast.house_a, fee_item=fee, end=FEB)
    with pytest.raises(ValidationError):
        services.start_charging(actor=finance, house=cast.house_a, fee_item=fee, start=FEB)
    services.start_charging(
        actor=finance, house=cast.house_a, fee_item=fee, start=datetime.date(2026, 2, 20)
    )
    with pytest.raises(ValidationError):
        services.stop_charging(
            actor=finance, house=cast.house_a, fee_item=fee, end=datetime.date(2026, 2, 19)
        )
    with pytest.raises(ValidationError):
        services.start_charging(actor=finance, house=cast.house_y, fee_item=fee, start=FEB)


def test_policy_changes_the_outcome(cast, finance):
    policy = services.policy_for(cast.company)
    assert (policy.rounding, policy.proration_basis, policy.late_fee_enabled) == (
        "half_up",
        "actual_days",
        False,
    )
    fee = property_fee(cast, finance, price="2.35")  # 89.50 × 2.35 = 210.325
    policy.rounding = "half_even"
    policy.save()
    run = issue(finance, community=cast.community_x)
    assert bills_of(run)[(cast.house_a.id, fee.id)] == D("210.32")


def test_metered_bills_come_from_readings(cast, finance):
    water = property_fee(
        cast,
        finance,
        code="water",
        name="水费",
        kind="metered",
        price="0",
        tiers=[{"up_to": "15", "price": "3.45"}, {"up_to": None, "price": "5.83"}],
    )
    MeterReading.objects.create(
        company=cast.company,
        community=cast.community_x,
        house=cast.house_a,
        fee_item=water,
        reading_date=datetime.date(2026, 2, 25),
        value=D("120"),
        previous=D("100"),
    )
    run = issue(finance, community=cast.community_x)
    assert bills_of(run) == {(cast.house_a.id, water.id): 15 * D("3.45") + 5 * D("5.83")}
    assert Bill.objects.get(run=run).detail["usage"] == "20.00"


# --- runs -----------------------------------------------------------------------------


@pytest.fixture
def estate(cast, finance):
    """Community X with 12 houses charged two items; one moves in mid-month."""
    for n in range(10):
        make_house(cast.building_x1, cast.unit_x1, f"1{n:02d}", area=f"{80 + n}.25")
    fee = property_fee(cast, finance)
    trash = property_fee(cast, finance, code="trash", name="垃圾费", kind="fixed", price="15")
    late = make_house(cast.building_x1, cast.unit_x1, "0999")
    services.start_charging(
        actor=finance, house=late, fee_item=fee, start=datetime.date(2026, 2, 15)
    )
    return fee, trash


def test_preview_writes_no_bills_and_equals_what_is_issued(cast, finance, estate):
    run = runs.preview_run(
        actor=finance, period_kind=MONTH, period_start=FEB, community=cast.community_x
    )
    assert run.state == BillRun.State.PREVIEWED and not Bill.objects.exists()
    fee, trash = estate
    assert run.preview["items"][str(trash.id)] == {
        "code": "trash",
        "name": "垃圾费",
        "bills": 12,
        "amount": "180.00",
    }
    assert run.bills_planned == 25
    run = runs.issue_run(actor=finance, run=run)
    assert run.state == BillRun.State.ISSUED
    assert (run.bills_created, run.bills_skipped) == (25, 0)
    assert run.amount_issued == run.amount_planned
    for item_id, row in run.preview["items"].items():
        issued = Bill.objects.filter(run=run, fee_item_id=item_id)
        assert issued.count() == row["bills"]
        assert sum(b.amount for b in issued) == D(row["amount"])
    bill = Bill.objects.get(run=run, house=cast.house_a, fee_item=fee)
    assert (bill.due_date, bill.status, bill.balance) == (
        datetime.date(2026, 2, 16),
        Bill.Status.OPEN,
        bill.amount,
    )
    kinds = list(run.events.values_list("kind", flat=True))
    assert kinds == ["previewed", "started", "issued"]


def test_a_rerun_writes_nothing_new(cast, finance, estate):
    run = issue(finance, community=cast.community_x)
    before = bills_of(run)
    BillRun.objects.filter(pk=run.pk).update(state=BillRun.State.FAILED, checkpoint={})
    run.refresh_from_db()
    again = runs.issue_run(actor=finance, run=run)
    assert bills_of(again) == before
    assert Bill.objects.count() == len(before)
    assert (again.bills_created, again.lines_done - len(before)) == (len(before), len(before))
    with pytest.raises(ValidationError, match="already issued"):
        runs.issue_run(actor=finance, run=again)


def test_a_run_killed_mid_way_then_rerun_gives_exactly_the_right_bills(
    cast, finance, estate, monkeypatch
):
    reference = runs.preview_run(
        actor=finance, period_kind=MONTH, period_start=FEB, community=cast.community_x
    )
    expected = {
        (b.house_id, b.fee_item_id): b.amount
        for b in runs.bill_lines(reference, services.policy_for(cast.company))
    }
    reference.delete()
    run = runs.preview_run(
        actor=finance, period_kind=MONTH, period_start=FEB, community=cast.community_x
    )
    write = runs._write_batch
    calls = []

    def crash_on_the_fourth_batch(run, batch):
        calls.append(len(batch))
        if len(calls) == 4:
            raise RuntimeError("worker killed")
        write(run, batch)

    monkeypatch.setattr(runs, "_write_batch", crash_on_the_fourth_batch)
    with pytest.raises(RuntimeError):
        runs.issue_run(actor=finance, run=run, batch_size=4)
    run.refresh_from_db()
    assert run.state == BillRun.State.FAILED and "worker killed" in run.error
    assert Bill.objects.filter(run=run).count() == run.lines_done == 12
    # another run of the same scope must resume this one, not start over
    with pytest.raises(ValidationError, match="unfinished"):
        runs.preview_run(
            actor=finance, period_kind=MONTH, period_start=FEB, community=cast.community_x
        )
    monkeypatch.setattr(runs, "_write_batch", write)
    run = runs.issue_run(actor=finance, run=run, batch_size=4)
    assert bills_of(run) == expected
    assert (run.state, run.bills_created, run.lines_done) == (BillRun.State.ISSUED, 25, 25)
    assert list(run.events.values_list("kind", flat=True)) == [
        "previewed",
        "started",
        "failed",
        "resumed",
        "issued",
    ]


def test_a_second_run_for_an_issued_period_is_refused(cast, finance, estate):
    first = issue(finance, community=cast.community_x)
    message = (
        f"Bills for the period from 2026-02-01 are already issued for this scope "
        f"(bill run {first.pk}); correct them with adjustments."
    )
    with pytest.raises(ValidationError) as err:
        runs.preview_run(
            actor=finance, period_kind=MONTH, period_start=FEB, community=cast.community_x
        )
    assert err.value.messages == [message]
    with pytest.raises(ValidationError):  # the whole company overlaps community X
        runs.preview_run(actor=finance, period_kind=MONTH, period_start=FEB, company=cast.company)
    # two previews of one scope: the second cannot be issued once the first is
    issue(finance, datetime.date(2026, 3, 1), community=cast.community_x)
    other = runs.preview_run(
        actor=finance,
        period_kind=MONTH,
        period_start=datetime.date(2026, 4, 1),
        company=cast.company,
    )
    issue(finance, datetime.date(2026, 4, 1), community=cast.community_y)
    with pytest.raises(ValidationError):
        runs.issue_run(actor=finance, run=other)
    assert Bill.objects.filter(run=other).count() == 0


def test_a_company_run_covers_every_community_and_needs_a_company_wide_role(cast, finance):
    property_fee(cast, finance)
    property_fee(cast, finance, community=cast.community_y)
    with pytest.raises(PermissionDenied):
        runs.preview_run(
            actor=cast.actor("project_manager"),
            period_kind=MONTH,
            period_start=FEB,
            company=cast.company,
        )
    run = issue(finance, company=cast.company)
    assert {h for h, _f in bills_of(run)} == {cast.house_a.id, cast.house_b.id, cast.house_y.id}


@pytest.mark.parametrize(
    ("kind", "start"),
    [("month", datetime.date(2026, 2, 2)), ("quarter", FEB), ("year", FEB), ("week", FEB)],
)
def test_periods_must_be_natural(cast, finance, kind, start):
    with pytest.raises(ValidationError):
        runs.preview_run(
            actor=finance, period_kind=kind, period_start=start, community=cast.community_x
        )


def test_a_quarterly_run_bills_quarterly_items_only(cast, finance):
    property_fee(cast, finance)
    quarterly = property_fee(
        cast, finance, code="q", name="季度", kind="fixed", price="10", cycle="quarter"
    )
    run = issue(finance, JAN, FeeItem.Cycle.QUARTER, community=cast.community_x)
    assert set(bills_of(run).values()) == {D("30.00")}
    assert {f for _h, f in bills_of(run)} == {quarterly.id}


# --- adjustments ----------------------------------------------------------------------


def test_adjustments_correct_a_bill_without_editing_it(cast, finance):
    property_fee(cast, finance)
    issue(finance, community=cast.community_x)
    bill = Bill.objects.get(house=cast.house_a)
    admin = cast.actor("company_admin")
    with pytest.raises(ValidationError):
        services.propose_adjustment(
            actor=finance, bill=bill, kind="credit", amount=bill.amount + 1, reason="空置"
        )
    with pytest.raises(ValidationError):
        services.propose_adjustment(actor=finance, bill=bill, kind="credit", amount=D(1), reason="")
    with pytest.raises(PermissionDenied):
        services.propose_adjustment(
            actor=cast.actor("project_manager"), bill=bill, kind="debit", amount=D(1), reason="x"
        )
    credit = services.propose_adjustment(
        actor=finance, bill=bill, kind="credit", amount=D("10.33"), reason="空置房减免"
    )
    with pytest.raises(ValidationError, match="other than the proposer"):
        services.approve_adjustment(actor=finance, adjustment=credit)
    services.approve_adjustment(actor=admin, adjustment=credit)
    bill.refresh_from_db()
    assert (bill.amount, bill.adjusted_amount, bill.balance) == (
        D("210.33"),
        D("-10.33"),
        D("200.00"),
    )
    with pytest.raises(ValidationError, match="already been decided"):
        services.approve_adjustment(actor=admin, adjustment=credit)
    rest = services.propose_adjustment(
        actor=admin, bill=bill, kind="credit", amount=D("200"), reason="全免"
    )
    services.approve_adjustment(actor=finance, adjustment=rest)
    bill.refresh_from_db()
    assert (bill.balance, bill.status) == (D("0"), Bill.Status.PAID)
    debit = services.propose_adjustment(
        actor=admin, bill=bill, kind="debit", amount=D("5"), reason="补收"
    )
    services.reject_adjustment(actor=finance, adjustment=debit)
    bill.refresh_from_db()
    assert bill.balance == 0
    assert list(Adjustment.objects.values_list("status", flat=True)) == [
        "approved",
        "approved",
        "rejected",
    ]


def test_one_off_charges_are_written_once_per_reference(cast, finance):
    repair = property_fee(cast, finance, code="repair", name="维修费", kind="one_off", price="0")
    on = datetime.date(2026, 2, 3)
    first = services.charge_one_off(
        actor=finance, house=cast.house_a, fee_item=repair, on=on, amount=D("80"), reference="wo:1"
    )
    again = services.charge_one_off(
        actor=finance, house=cast.house_a, fee_item=repair, on=on, amount=D("80"), reference="wo:1"
    )
    second = services.charge_one_off(
        actor=finance, house=cast.house_a, fee_item=repair, on=on, amount=D("20"), reference="wo:2"
    )
    assert first == again and second != first and Bill.objects.count() == 2
    with pytest.raises(ValidationError):
        services.charge_one_off(actor=finance, house=cast.house_a, fee_item=repair, on=on)


def test_late_fee_follows_the_policy(cast, finance):
    property_fee(cast, finance, kind="fixed", price="1000")
    issue(finance, community=cast.community_x)
    bill = Bill.objects.get(house=cast.house_a)  # due 2026-02-16
    policy = services.policy_for(cast.company)
    late = datetime.date(2026, 2, 27)
    assert services.late_fee_for(policy, bill, late) == 0  # off by default
    policy.late_fee_enabled = True
    assert services.late_fee_for(policy, bill, late) == D("5.00")  # 10 days × 0.05 %


# --- who sees what --------------------------------------------------------------------


def test_scoping(cast, finance):
    x_fee = property_fee(cast, finance)
    y_fee = property_fee(cast, finance, community=cast.community_y)
    run = issue(finance, company=cast.company)
    other_admin = cast.actor("other_admin")
    services.create_fee_item(
        actor=other_admin,
        community=cast.other_community,
        code="wuye",
        name="物业费",
        kind="area",
        unit_price=D("1"),
        effective_from=JAN,
    )
    issue(other_admin, community=cast.other_community)

    def seen(model, who):
        return set(model.objects.visible_to(cast.actor(who)).values_list("id", flat=True))

    bill = {b.house_id: b.id for b in Bill.objects.all()}
    assert seen(Bill, "resident_a") == {bill[cast.house_a.id]}
    assert seen(Bill, "resident_b") == {bill[cast.house_b.id]}
    assert seen(Bill, "other_resident") == {bill[cast.other_house.id]}
    assert seen(Bill, "finance") == {bill[h.id] for h in (cast.house_a, cast.house_b, cast.house_y)}
    assert seen(Bill, "project_manager") == {bill[cast.house_a.id], bill[cast.house_b.id]}
    assert seen(Bill, "manager_y") == {bill[cast.house_y.id]}
    assert seen(Bill, "other_admin") == {bill[cast.other_house.id]}
    for nobody in ("technician", "dispatcher", "nobody"):
        assert seen(Bill, nobody) == set()
    assert seen(FeeItem, "resident_a") == {x_fee.id}
    assert seen(FeeItem, "manager_y") == {y_fee.id}
    assert seen(FeeItem, "technician") == set()
    assert seen(BillRun, "finance") == {run.id}
    assert seen(BillRun, "project_manager") == set()  # a company-wide run
    for who in ("resident_a", "other_admin", "technician"):
        assert run.id not in seen(BillRun, who)


def test_a_run_without_a_scope_is_refused_with_a_message(cast, finance):
    with pytest.raises(ValidationError) as error:
        runs.preview_run(actor=finance, period_kind=MONTH, period_start=FEB)
    assert "Choose a community or the company" in str(error.value)
    assert not BillRun.objects.exists()
