"""Meter readings (issue 5, part 3): backwards readings refused unless the meter was
replaced, spikes over 3× the house's median held for review and left out of bill runs
until confirmed, and who may record them."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wuye.billing import meters, runs, services
from wuye.billing.models import Bill, FeeItem, MeterReading

JAN = datetime.date(2026, 1, 1)


@pytest.fixture(autouse=True)
def _english(settings, time_machine):
    settings.LANGUAGE_CODE = "en"
    time_machine.move_to(datetime.datetime(2026, 6, 30, 12, tzinfo=datetime.UTC), tick=False)


@pytest.fixture
def water(cast):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=cast.community_x,
        code="water",
        name="水费",
        kind=FeeItem.Kind.METERED,
        unit_price=D("3.45"),
        effective_from=JAN,
    )


def read(cast, water, day, value, who="technician", house=None, **extra):
    return meters.record_reading(
        actor=cast.actor(who),
        house=house or cast.house_a,
        fee_item=water,
        reading_date=datetime.date(2026, *day),
        value=value,
        **extra,
    )


def test_the_first_reading_starts_the_meter_and_the_next_counts_usage(cast, water):
    first = read(cast, water, (1, 25), "100")
    assert first.usage == 0 and first.recorded_by == cast.users["technician"]
    second = read(cast, water, (2, 25), "112.5")
    assert (second.previous, second.usage, second.needs_review) == (D("100"), D("12.5"), False)


def test_a_reading_lower_than_the_last_is_refused_unless_the_meter_was_replaced(cast, water):
    read(cast, water, (1, 25), "100")
    with pytest.raises(ValidationError) as error:
        read(cast, water, (2, 25), "90")
    assert "lower than the previous reading 100" in str(error.value.message_dict["value"])
    with pytest.raises(ValidationError) as error:
        read(cast, water, (2, 25), "5", replaced=True)
    assert "start_value" in error.value.message_dict
    assert MeterReading.objects.count() == 1
    new_meter = read(cast, water, (2, 25), "5", replaced=True, start_value="0")
    assert (new_meter.previous, new_meter.usage, new_meter.replaced) == (D("0"), D("5"), True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "as a number"),
        ("-1", "between 0"),
        ("1.234", "two decimals"),
        ("NaN", "between 0"),
        ("1e20", "between 0"),
    ],
)
def test_malformed_readings_are_refused_with_a_message(cast, water, value, message):
    with pytest.raises(ValidationError) as error:
        read(cast, water, (1, 25), value)
    assert message in str(error.value.message_dict["value"])
    assert not MeterReading.objects.exists()


def test_one_reading_a_day_and_none_in_the_future(cast, water):
    read(cast, water, (1, 25), "100")
    with pytest.raises(ValidationError, match="already has a reading"):
        read(cast, water, (1, 25), "101")
    with pytest.raises(ValidationError, match="future"):
        read(cast, water, (7, 1), "101")


def test_a_spike_is_held_for_review_and_left_out_of_the_bill_run_until_confirmed(cast, water):
    for month, value in ((1, "100"), (2, "110"), (3, "121"), (4, "130")):
        read(cast, water, (month, 25), value)
    spike = read(cast, water, (5, 25), "175")  # 45 against a usual 10
    assert spike.needs_review and "over 3× the usual" in spike.review_note
    finance = cast.actor("finance")
    may = datetime.date(2026, 5, 1)
    run = runs.preview_run(
        actor=finance, period_kind="month", period_start=may, community=cast.community_x
    )
    runs.issue_run(actor=finance, run=run)
    assert not Bill.objects.filter(fee_item=water, period_start=may).exists()

    with pytest.raises(PermissionDenied):
        meters.confirm_reading(actor=cast.actor("technician"), reading=spike)
    meters.confirm_reading(actor=finance, reading=spike)
    june = datetime.date(2026, 6, 1)
    read(cast, water, (6, 25), "185")  # the confirmed 45 now counts in the median
    run = runs.preview_run(
        actor=finance, period_kind="month", period_start=june, community=cast.community_x
    )
    runs.issue_run(actor=finance, run=run)
    assert Bill.objects.get(fee_item=water, period_start=june).amount == D("34.50")


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("technician_y", PermissionDenied),  # another community
        ("guard", PermissionDenied),  # no billing.meters
        ("dispatcher", PermissionDenied),
        ("other_admin", PermissionDenied),
        ("resident_a", PermissionDenied),
    ],
)
def test_only_meter_readers_of_the_community_record(cast, water, who, error):
    with pytest.raises(error):
        read(cast, water, (1, 25), "100", who=who)
    assert not MeterReading.objects.exists()


def test_readings_are_seen_by_billing_staff_and_the_house_residents_only(cast, water):
    read(cast, water, (1, 25), "100")
    visible = {
        name: MeterReading.objects.visible_to(cast.actor(name)).exists()
        for name in ("finance", "project_manager", "resident_a", "resident_b", "manager_y")
    }
    assert visible == {
        "finance": True,
        "project_manager": True,
        "resident_a": True,
        "resident_b": False,
        "manager_y": False,
    }
    assert not MeterReading.objects.visible_to(cast.actor("other_admin")).exists()
