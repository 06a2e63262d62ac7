"""Meter readings on the phone (/m/meters/): community → building → unit → houses with
their metered fee items and last readings; saving goes through meters.record_reading,
its refusals shown on the meter's line with nothing written, spikes saved but shown as
held for review; only the reader's own communities (404 elsewhere)."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from wuye.billing import meters, services, views_field
from wuye.billing.models import FeeItem, MeterReading
from wuye.estates.models import House

TODAY = datetime.date(2026, 6, 30)


@pytest.fixture(autouse=True)
def _english(settings, time_machine):
    settings.LANGUAGE_CODE = "en"
    time_machine.move_to(datetime.datetime(2026, 6, 30, 4, tzinfo=datetime.UTC), tick=False)


def metered(cast, community, code, name, price="3.45"):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=community,
        code=code,
        name=name,
        kind=FeeItem.Kind.METERED,
        unit_price=D(price),
        effective_from=datetime.date(2026, 1, 1),
    )


@pytest.fixture
def water(cast):
    return metered(cast, cast.community_x, "water", "水费")


@pytest.fixture
def power(cast):
    return metered(cast, cast.community_x, "power", "电费", "0.56")


def read(cast, item, day, value, house=None):
    return meters.record_reading(
        actor=cast.actor("finance"),
        house=house or cast.house_a,
        fee_item=item,
        reading_date=day,
        value=value,
    )


def unit_url(cast):
    return reverse("meters_field:unit", args=[cast.unit_x1.pk])


def post(cast, who, house, item, htmx=False, **data):
    client = cast.client(who)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        reverse("meters_field:record", args=[house.pk]),
        {"fee_item": item.pk, **data},
        **headers,
    )


def test_the_reader_walks_from_community_to_the_houses_of_a_unit(cast, water, power):
    read(cast, water, datetime.date(2026, 5, 25), "120.50")
    client = cast.client("technician")
    home = client.get(reverse("meters_field:home"))
    assert home.status_code == 200
    page = home.content.decode()
    assert "翠湖花园" in page and "锦绣苑" not in page  # only the communities worked in
    assert reverse("meters_field:community", args=[cast.community_x.pk]) in page

    community = client.get(reverse("meters_field:community", args=[cast.community_x.pk]))
    assert community.status_code == 200
    assert (
        reverse("meters_field:building", args=[cast.building_x1.pk]) in community.content.decode()
    )
    assert "0/4 read today" in community.content.decode()  # 2 houses × water and power

    building = client.get(reverse("meters_field:building", args=[cast.building_x1.pk]))
    assert unit_url(cast) in building.content.decode()

    sheet = client.get(unit_url(cast))
    assert sheet.status_code == 200
    html = sheet.content.decode()
    assert html.count('class="m-card house-card"') == 2
    assert "水费" in html and "电费" in html
    assert "120.50" in html and "05-25" in html  # house A's last water reading
    assert html.count('name="value"') == 4  # one field per meter
    assert "Meter replaced" in html


def test_saving_a_reading_records_it_for_today(cast, water):
    read(cast, water, datetime.date(2026, 5, 25), "120.50")
    response = post(cast, "technician", cast.house_a, water, value="133.25")
    assert response.status_code == 302
    assert response.url == unit_url(cast) + f"?floor=1#house-{cast.house_a.pk}"
    reading = MeterReading.objects.get(reading_date=TODAY)
    assert (reading.house, reading.value, reading.previous) == (
        cast.house_a,
        D("133.25"),
        D("120.50"),
    )
    assert reading.recorded_by == cast.users["technician"]
    sheet = cast.client("technician").get(unit_url(cast)).content.decode()
    assert "Read today" in sheet and "(+12.75)" in sheet
    assert sheet.count('name="value"') == 1  # house A's water is done; house B's remains


def test_htmx_swaps_only_the_meter_line(cast, water):
    response = post(cast, "technician", cast.house_b, water, htmx=True, value="88")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(
        f'<div class="meter-line just-saved" id="meter-{cast.house_b.pk}-'
    )
    assert "Read today" in html and "<html" not in html
    assert MeterReading.objects.get().value == D("88")


def test_a_backwards_reading_is_shown_on_its_row_and_nothing_is_written(cast, water):
    read(cast, water, datetime.date(2026, 5, 25), "120.50")
    response = post(cast, "technician", cast.house_a, water, value="99")
    assert response.status_code == 400
    html = response.content.decode()
    assert "99 is lower than the previous reading 120.50" in html
    assert 'value="99"' in html  # what was typed stays in the field
    assert MeterReading.objects.count() == 1

    htmx = post(cast, "technician", cast.house_a, water, htmx=True, value="99")
    assert htmx.status_code == 200  # htmx swaps only 2xx answers
    assert "lower than the previous reading" in htmx.content.decode()
    assert "<html" not in htmx.content.decode()
    assert MeterReading.objects.count() == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("-3", "Enter a reading between 0"),
        ("abc", "Enter the reading as a number"),
        ("", "required"),
    ],
)
def test_malformed_readings_are_refused_on_the_row(cast, water, value, message):
    response = post(cast, "technician", cast.house_a, water, value=value)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MeterReading.objects.exists()


def test_a_replaced_meter_needs_its_starting_reading(cast, water):
    read(cast, water, datetime.date(2026, 5, 25), "120.50")
    refused = post(cast, "technician", cast.house_a, water, value="5", replaced="on")
    assert refused.status_code == 400
    assert "Give the new meter&#x27;s reading when it was fitted." in refused.content.decode()
    assert "is-replaced" in refused.content.decode()  # the start field stays open
    assert MeterReading.objects.count() == 1
    saved = post(cast, "technician", cast.house_a, water, value="5", replaced="on", start_value="0")
    assert saved.status_code == 302
    reading = MeterReading.objects.get(reading_date=TODAY)
    assert (reading.replaced, reading.previous, reading.usage) == (True, D("0"), D("5"))


def test_a_spike_is_saved_and_shown_as_held_for_review(cast, water):
    value = D("100")
    for month in (2, 3, 4, 5):
        read(cast, water, datetime.date(2026, month, 25), value)
        value += 10
    response = post(cast, "technician", cast.house_a, water, htmx=True, value="200")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Held for review" in html and "over 3× the usual 10" in html
    reading = MeterReading.objects.get(reading_date=TODAY)
    assert reading.needs_review
    # Without HTMX: the same news as a message on the sheet.
    MeterReading.objects.filter(pk=reading.pk).delete()
    client = cast.client("technician")
    response = client.post(
        reverse("meters_field:record", args=[cast.house_a.pk]),
        {"fee_item": water.pk, "value": "200"},
        follow=True,
    )
    assert "saved, held for review" in response.content.decode()
    assert "Held for review" in response.content.decode()


@pytest.mark.parametrize("who", ["technician_y", "manager_y", "other_admin"])
def test_staff_of_another_community_cannot_see_or_post_its_houses(cast, water, who):
    client = cast.client(who)
    for url in (
        reverse("meters_field:community", args=[cast.community_x.pk]),
        reverse("meters_field:building", args=[cast.building_x1.pk]),
        unit_url(cast),
    ):
        assert client.get(url).status_code == 404, url
    assert "翠湖花园" not in client.get(reverse("meters_field:home")).content.decode()
    response = post(cast, who, cast.house_a, water, value="10")
    assert response.status_code == 404
    assert not MeterReading.objects.exists()


def test_a_fee_item_of_another_community_is_not_found(cast, water):
    other = metered(cast, cast.community_y, "water-y", "水费")
    assert post(cast, "technician", cast.house_a, other, value="10").status_code == 404
    area = FeeItem.objects.create(
        company=cast.company, community=cast.community_x, code="wuye", name="物业费", kind="area"
    )
    assert post(cast, "technician", cast.house_a, area, value="10").status_code == 404
    assert not MeterReading.objects.exists()


@pytest.mark.parametrize("who", ["guard", "dispatcher", "resident_a"])
def test_only_meter_readers_open_the_pages(cast, water, who):
    client = cast.client(who)
    assert client.get(reverse("meters_field:home")).status_code == 403
    assert client.get(unit_url(cast)).status_code == 403
    assert post(cast, who, cast.house_a, water, value="10").status_code == 403
    assert not MeterReading.objects.exists()


def test_the_field_home_links_to_meter_readings_for_readers_only(cast):
    link = reverse("meters_field:home")
    assert link in cast.client("technician").get(reverse("web:field_home")).content.decode()
    assert link not in cast.client("guard").get(reverse("web:field_home")).content.decode()


def test_houses_without_metered_items_are_not_listed(cast, water):
    House.objects.filter(pk=cast.house_b.pk).update(kind=House.Kind.PARKING)
    water.chargings.filter(house=cast.house_b).delete()
    html = cast.client("technician").get(unit_url(cast)).content.decode()
    assert html.count('class="m-card house-card"') == 1
    assert f'id="house-{cast.house_a.pk}"' in html


def test_a_big_unit_is_read_one_floor_at_a_time(cast, water, monkeypatch):
    monkeypatch.setattr(views_field, "HOUSES_SHOWN", 1)
    upstairs = House.objects.create(
        company=cast.company,
        community=cast.community_x,
        building=cast.building_x1,
        unit=cast.unit_x1,
        number="0201",
        floor=2,
        built_area=D("90"),
    )
    water.chargings.create(
        company=cast.company, community=cast.community_x, house=upstairs, start=TODAY
    )
    client = cast.client("technician")
    first = client.get(unit_url(cast)).content.decode()
    assert f'id="house-{cast.house_a.pk}"' in first and f'id="house-{upstairs.pk}"' not in first
    assert '?floor=2"' in first
    second = client.get(unit_url(cast) + "?floor=2").content.decode()
    assert f'id="house-{upstairs.pk}"' in second and f'id="house-{cast.house_a.pk}"' not in second
