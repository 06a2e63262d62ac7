"""公摊 (a shared meter split between houses) and voiding a bill (作废)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.conftest import make_house
from wuye.billing import payments, services
from wuye.billing.models import Adjustment, Bill, FeeItem

D = Decimal
MAR = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def third(cast):
    """A third house of community X, smaller (60 m²), created before the fee item so it
    is charged too: houses A, B (89.50 m² each) and this one."""
    return make_house(cast.building_x1, cast.unit_x1, "0103", area="60.00")


@pytest.fixture
def shared_water(cast, finance, third):
    return services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="gtsf",
        name="公摊水费",
        kind=FeeItem.Kind.METERED,
        unit_price=D("3.50"),
        effective_from=datetime.date(2026, 1, 1),
    )


def apportion(actor, fee, **kwargs):
    kwargs.setdefault("reference_prefix", "gt-2026-03")
    kwargs.setdefault("period_start", MAR)
    return services.apportion_shared(actor=actor, fee_item=fee, **kwargs)


def amounts(result):
    return [(b.house_id, b.amount) for b in result.bills]


# --- 公摊 ------------------------------------------------------------------------------


def test_a_cent_left_over_goes_to_the_lower_house_id_and_the_parts_add_up(
    cast, finance, shared_water, third
):
    result = apportion(finance, shared_water, total_amount=D("100.00"), basis="households")
    assert amounts(result) == [
        (cast.house_a.id, D("33.34")),
        (cast.house_b.id, D("33.33")),
        (third.id, D("33.33")),
    ]
    assert sum(b.amount for b in Bill.objects.all()) == D("100.00")
    bill = Bill.objects.get(house=third)
    assert bill.origin == Bill.Origin.ONE_OFF and bill.reference == f"gt-2026-03:{third.id}"
    assert (bill.period_start, bill.period_end) == (MAR, datetime.date(2026, 3, 31))
    assert bill.due_date == datetime.date(2026, 3, 16)
    assert {k: bill.detail[k] for k in ("total_amount", "basis", "weight", "share")} == {
        "total_amount": "100.00",
        "basis": "households",
        "weight": "1",
        "share": "33.33",
    }
    assert bill.detail["total_weight"] == "3" and bill.detail["houses"] == 3


def test_by_area_the_larger_houses_pay_more(cast, finance, shared_water, third):
    """100.00 over 89.50 + 89.50 + 60.00 m²: 37.4477, 37.4477, 25.1046 → two leftover
    cents to the two largest remainders."""
    result = apportion(finance, shared_water, total_amount=D("100.00"), basis="area")
    assert amounts(result) == [
        (cast.house_a.id, D("37.45")),
        (cast.house_b.id, D("37.45")),
        (third.id, D("25.10")),
    ]
    detail = Bill.objects.get(house=third).detail
    assert (detail["weight"], detail["total_weight"], detail["area_basis"]) == (
        "60.00",
        "239.00",
        "built",
    )


def test_a_shared_usage_is_priced_at_the_fee_items_rate(cast, finance, shared_water, third):
    result = apportion(finance, shared_water, total_usage=D("120"), basis="households")
    assert result.total == D("420.00")  # 120 × 3.50
    assert [b.amount for b in result.bills] == [D("140.00")] * 3
    detail = result.bills[0].detail
    assert (detail["total_usage"], detail["unit_price"], detail["total_amount"]) == (
        "120",
        "3.5000",
        "420.00",
    )


def test_running_the_same_apportionment_again_writes_nothing(cast, finance, shared_water):
    first = apportion(finance, shared_water, total_amount=D("100.00"))
    again = apportion(finance, shared_water, total_amount=D("100.00"))
    assert (first.created, first.already_there) == (3, 0)
    assert (again.created, again.already_there) == (0, 3)
    assert [b.pk for b in again.bills] == [b.pk for b in first.bills]
    assert Bill.objects.count() == 3
    with pytest.raises(ValidationError) as err:
        apportion(finance, shared_water, total_amount=D("120.00"))
    assert "already charged with other figures" in err.value.message_dict["reference_prefix"][0]
    assert Bill.objects.count() == 3


def test_the_houses_can_be_named_but_only_of_the_community(cast, finance, shared_water):
    result = apportion(
        finance,
        shared_water,
        total_amount=D("10.00"),
        houses=[cast.house_b, cast.house_a],
        basis="households",
    )
    assert amounts(result) == [(cast.house_a.id, D("5.00")), (cast.house_b.id, D("5.00"))]
    with pytest.raises(ValidationError) as err:
        apportion(
            finance,
            shared_water,
            reference_prefix="gt-other",
            total_amount=D("10.00"),
            houses=[cast.house_a, cast.house_y],
        )
    assert err.value.message_dict["houses"] == ["A house is not in this fee item's community."]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"total_amount": D("-1.00")}, "total_amount"),
        ({"total_amount": D("1.001")}, "total_amount"),
        ({"total_usage": D("0")}, "total_usage"),
        ({"total_amount": D("1.00"), "basis": "rooms"}, "basis"),
        ({"total_amount": D("1.00"), "reference_prefix": " "}, "reference_prefix"),
        ({"total_amount": D("1.00"), "period_start": datetime.date(2026, 3, 2)}, "period_start"),
    ],
)
def test_bad_figures_are_refused(cast, finance, shared_water, kwargs, field):
    with pytest.raises(ValidationError) as err:
        apportion(finance, shared_water, **kwargs)
    assert field in err.value.message_dict
    assert not Bill.objects.exists()


def test_neither_or_both_totals_are_refused(cast, finance, shared_water):
    with pytest.raises(ValidationError):
        apportion(finance, shared_water)
    with pytest.raises(ValidationError):
        apportion(finance, shared_water, total_amount=D("1.00"), total_usage=D("1"))
    assert not Bill.objects.exists()


@pytest.mark.parametrize("who", ["project_manager", "manager_y", "other_admin", "technician"])
def test_only_billing_managers_of_the_community_apportion(cast, shared_water, who):
    with pytest.raises(PermissionDenied):
        apportion(cast.actor(who), shared_water, total_amount=D("100.00"))
    assert not Bill.objects.exists()


# --- voiding a bill ------------------------------------------------------------------


@pytest.fixture
def repair(cast, finance):
    fee = services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="repair",
        name="维修费",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("80"),
        effective_from=datetime.date(2026, 1, 1),
    )
    return services.charge_one_off(actor=finance, house=cast.house_a, fee_item=fee, on=MAR)


def test_a_void_bill_owes_nothing_and_keeps_its_reason(cast, finance, repair):
    bill = services.void_bill(actor=finance, bill=repair, reason="  charged to the wrong house ")
    assert bill.status == Bill.Status.VOID
    assert (bill.amount, bill.adjusted_amount, bill.balance) == (D("80.00"), D("-80.00"), D(0))
    credit = Adjustment.objects.get(bill=bill)
    assert (credit.kind, credit.status, credit.amount) == ("credit", "approved", D("80.00"))
    assert credit.reason == "charged to the wrong house"
    assert bill.detail["void"]["reason"] == "charged to the wrong house"
    assert bill.detail["void"]["adjustment"] == credit.pk
    assert not Bill.objects.unsettled().exists()
    with pytest.raises(ValidationError) as err:
        services.void_bill(actor=finance, bill=bill, reason="again")
    assert err.value.messages == ["This bill is already void."]


def test_voiding_rejects_pending_adjustments(cast, finance, repair):
    pending = services.propose_adjustment(
        actor=cast.actor("company_admin"), bill=repair, kind="debit", amount=D("5"), reason="x"
    )
    services.void_bill(actor=finance, bill=repair, reason="duplicate")
    pending.refresh_from_db()
    assert pending.status == Adjustment.Status.REJECTED


def test_a_bill_with_money_paid_on_it_cannot_be_voided(cast, finance, repair):
    payments.collect(
        actor=finance, house=cast.house_a, amount=D("10"), method="cash", bill_ids=[repair.id]
    )
    with pytest.raises(ValidationError) as err:
        services.void_bill(actor=finance, bill=repair, reason="duplicate")
    assert "refund it or issue a credit note" in err.value.messages[0]
    repair.refresh_from_db()
    assert repair.status == Bill.Status.PARTIALLY_PAID and not repair.adjustments.exists()


def test_a_reason_is_required(cast, finance, repair):
    with pytest.raises(ValidationError) as err:
        services.void_bill(actor=finance, bill=repair, reason="  ")
    assert err.value.message_dict == {"reason": ["Give a reason."]}
    repair.refresh_from_db()
    assert repair.status == Bill.Status.OPEN


@pytest.mark.parametrize("who", ["project_manager", "manager_y", "other_admin", "resident_a"])
def test_only_billing_managers_of_the_community_void(cast, repair, who):
    with pytest.raises(PermissionDenied):
        services.void_bill(actor=cast.actor(who), bill=repair, reason="no")
    repair.refresh_from_db()
    assert repair.status == Bill.Status.OPEN and not Adjustment.objects.exists()
