"""The dunning (催缴) API: the list's figures, filters and cursor, reminders sent through the
API with their figures, scoping (other communities and companies see nothing, residents
are refused), refused sends that write nothing, Idempotency-Key replay, the history."""

import datetime
from decimal import Decimal as D

import pytest
import time_machine
from api_helpers import get, post, results
from conftest import make_house

from wuye.billing import services
from wuye.billing.models import Bill, DunningNotice, FeeItem
from wuye.core.models import IdempotencyKey

TODAY = datetime.date(2026, 12, 7)
NOW = datetime.datetime(2026, 12, 7, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Beijing
KEY = "Idempotency-Key"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def item(cast, community):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=community,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("100"),
        effective_from=datetime.date(2026, 1, 1),
    )


def bill(house, fee_item, *, due, amount, paid="0.00"):
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=D(amount),
        paid_amount=D(paid),
        due_date=due,
        status=services.status_for(D(amount), D(paid)),
    )


@pytest.fixture
def owing(cast):
    """House A owes 130.00 overdue in 2 bills (oldest 40 days), house B 500.00 (200 days),
    house Y (community Y) 70.00 (5 days), the other company's house 99.00 (50 days);
    house C (community X) has only a paid bill."""
    x = item(cast, cast.community_x)
    y = item(cast, cast.community_y)
    other = FeeItem.objects.create(
        company=cast.other_company,
        community=cast.other_community,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    bill(cast.house_a, x, due=days_ago(40), amount="100.00")
    bill(cast.house_a, x, due=days_ago(10), amount="50.00", paid="20.00")
    bill(cast.house_a, x, due=TODAY, amount="999.00")  # due today: not overdue yet
    bill(cast.house_b, x, due=days_ago(200), amount="500.00")
    bill(cast.house_y, y, due=days_ago(5), amount="70.00")
    bill(cast.other_house, other, due=days_ago(50), amount="99.00")
    house_c = make_house(cast.building_x1, cast.unit_x1, "0103")
    bill(house_c, x, due=days_ago(30), amount="80.00", paid="80.00")
    return {"house_c": house_c}


def dunning_list(cast, name="finance", **params):
    response = get(cast.client(name), "/billing/dunning", params)
    assert response.status_code == 200, response.content
    return response.json()


def house_ids(body) -> list[int]:
    return [row["house_id"] for row in body["items"]]


def remind(cast, name="finance", **data):
    return post(cast.client(name), "/billing/dunning/reminders", data)


# --- the list -----------------------------------------------------------------------------------


def test_the_list_with_its_figures(cast, owing):
    body = dunning_list(cast)
    assert body["as_of"] == "2026-12-07"
    # finance is company-wide: communities X and Y; longest overdue first
    assert house_ids(body) == [cast.house_b.id, cast.house_a.id, cast.house_y.id]
    a = body["items"][1]
    assert a == {
        "house_id": cast.house_a.id,
        "address": cast.house_a.address,
        "community_id": cast.community_x.id,
        "residents": ["张伟"],
        "owed": "130.00",
        "bills": 2,
        "oldest_due_date": "2026-10-28",
        "days_overdue": 40,
        "bucket": "d60",
        "bucket_label": "31–60 days",
        "reminders": 0,
        "last_reminded_at": None,
        "last_channel": None,
    }
    assert body["items"][0]["owed"] == "500.00" and body["items"][0]["bucket"] == "over180"
    assert body["next"] is None
    assert body["items"][2]["owed"] == "70.00" and body["items"][2]["bucket"] == "d30"
    assert body["totals"] == {"houses": 3, "bills": 4, "owed": "700.00"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"bucket": "d60"}, ["a"]),
        ({"bucket": "d30"}, ["y"]),
        ({"bucket": "d90"}, []),
        ({"min_amount": "130.00"}, ["b", "a"]),
        ({"min_amount": "130.01"}, ["b"]),
        ({"community": "COMMUNITY_Y"}, ["y"]),
        ({"community": "OTHER"}, []),  # another company's
        ({"building": "BUILDING_X1"}, ["b", "a"]),
    ],
)
def test_filters(cast, owing, params, expected):
    swap = {
        "COMMUNITY_Y": cast.community_y.id,
        "OTHER": cast.other_community.id,
        "BUILDING_X1": cast.building_x1.id,
    }
    params = {key: swap.get(value, value) for key, value in params.items()}
    houses = {"a": cast.house_a.id, "b": cast.house_b.id, "y": cast.house_y.id}
    assert house_ids(dunning_list(cast, **params)) == [houses[h] for h in expected]


def test_not_reminded_days_and_the_last_reminder(cast, owing):
    assert (
        remind(cast, house_ids=[cast.house_a.id], channel="phone", note="下周交").status_code == 201
    )
    body = dunning_list(cast)
    a = body["items"][1]
    assert a["house_id"] == cast.house_a.id
    assert (a["reminders"], a["last_channel"]) == (1, "phone")
    assert a["last_reminded_at"].startswith("2026-12-07T")
    quiet = dunning_list(cast, not_reminded_days=30)
    assert house_ids(quiet) == [cast.house_b.id, cast.house_y.id]


def test_the_cursor(cast, owing):
    after = f"{days_ago(200):%Y-%m-%d}_{cast.house_b.id}"
    body = dunning_list(cast, after=after)
    assert house_ids(body) == [cast.house_a.id, cast.house_y.id]
    assert body["totals"]["houses"] == 3  # of every matching house
    bad = get(cast.client("finance"), "/billing/dunning", {"after": "2026-13-01_x"})
    assert bad.status_code == 400
    assert bad.json()["detail"] == {"after": ["This page link is not valid; start again."]}


def test_bad_filters_are_422(cast, owing):
    client = cast.client("finance")
    for params in ({"bucket": "d7"}, {"min_amount": "-1"}, {"not_reminded_days": "0"}):
        assert get(client, "/billing/dunning", params).status_code == 422, params


def test_each_sees_their_own_communities_only(cast, owing):
    assert house_ids(dunning_list(cast, "manager_y")) == [cast.house_y.id]
    body = dunning_list(cast, "other_admin")
    assert house_ids(body) == [cast.other_house.id]
    assert body["totals"] == {"houses": 1, "bills": 1, "owed": "99.00"}
    assert house_ids(dunning_list(cast, "project_manager")) == [cast.house_b.id, cast.house_a.id]
    for name in ("resident_a", "technician", "nobody"):
        assert get(cast.client(name), "/billing/dunning").status_code == 403, name
    assert get(cast.client(None), "/billing/dunning").status_code == 401


# --- sending ------------------------------------------------------------------------------------


def test_send_reminders(cast, owing, django_capture_on_commit_callbacks):
    ids = [cast.house_b.id, cast.house_a.id, owing["house_c"].id]
    with django_capture_on_commit_callbacks(execute=True):
        response = remind(cast, house_ids=ids, channel="notice", note="请尽快缴费")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["skipped"], body["recipients"]) == ("notice", 1, 2)
    got = [
        (n["house_id"], n["amount_due"], n["bills_count"], n["oldest_due_date"])
        for n in body["notices"]
    ]
    assert got == [
        (cast.house_a.id, "130.00", 2, "2026-10-28"),
        (cast.house_b.id, "500.00", 1, "2026-05-21"),
    ]
    first = body["notices"][0]
    assert first["address"] == cast.house_a.address
    assert (first["note"], first["recipients_count"], first["batch"]) == (
        "请尽快缴费",
        1,
        body["batch"],
    )
    assert first["sent_by_name"] == cast.users["finance"].display_name
    notices = DunningNotice.objects.order_by("house_id")
    assert [(n.house_id, n.amount_due) for n in notices] == [
        (cast.house_a.id, D("130.00")),
        (cast.house_b.id, D("500.00")),
    ]


def test_viewers_and_residents_cannot_send(cast, owing):
    for name in ("project_manager", "resident_a", "technician"):
        response = remind(cast, name, house_ids=[cast.house_a.id], channel="notice")
        assert response.status_code == 403, name
    assert not DunningNotice.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "status", "field", "message"),
    [
        ("finance", {"house_ids": [], "channel": "notice"}, 400, "houses", "at least one house"),
        ("finance", {"house_ids": ["x"], "channel": "notice"}, 422, None, "house_ids"),
        ("finance", {"house_ids": ["A"], "channel": "fax"}, 422, None, "channel"),
        ("finance", {"house_ids": ["A"], "channel": "phone"}, 400, "note", "what was agreed"),
        ("finance", {"house_ids": ["O"], "channel": "notice"}, 400, "houses", "not in your"),
        ("other_admin", {"house_ids": ["A"], "channel": "notice"}, 400, "houses", "not in your"),
        ("finance", {"house_ids": ["C"], "channel": "notice"}, 400, "houses", "owes anything"),
        ("finance", {"house_ids": ["A"], "channel": "sms", "note": "x" * 201}, 422, None, "note"),
    ],
)
def test_refused_sends_write_nothing(cast, owing, name, data, status, field, message):
    houses = {
        "A": cast.house_a.id,
        "O": cast.other_house.id,
        "C": owing["house_c"].id,
    }
    data = {**data, "house_ids": [houses.get(h, h) for h in data["house_ids"]]}
    response = post(cast.client(name), "/billing/dunning/reminders", data, **{KEY: "k"})
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    if field:
        assert message in " ".join(detail[field])
    elif message:
        assert message in str(detail)
    assert not DunningNotice.objects.exists()
    assert not IdempotencyKey.objects.exists()


def test_an_idempotent_replay_writes_once(cast, owing):
    client = cast.client("finance")
    data = {"house_ids": [cast.house_a.id], "channel": "letter"}
    first = post(client, "/billing/dunning/reminders", data, **{KEY: "dun-1"})
    again = post(client, "/billing/dunning/reminders", data, **{KEY: "dun-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert DunningNotice.objects.count() == 1
    other = post(client, "/billing/dunning/reminders", {**data, "channel": "sms"}, **{KEY: "dun-1"})
    assert other.status_code == 422
    assert DunningNotice.objects.count() == 1


# --- the history --------------------------------------------------------------------------------


def test_the_history_newest_first_with_filters(cast, owing):
    ids = [cast.house_a.id, cast.house_b.id]
    first = remind(cast, house_ids=ids, channel="letter").json()
    second = remind(cast, house_ids=[cast.house_a.id], channel="phone", note="下周交").json()
    client = cast.client("finance")
    listed = results(get(client, "/billing/dunning/notices"))
    assert [n["id"] for n in listed] == [
        second["notices"][0]["id"],
        *[n["id"] for n in reversed(first["notices"])],
    ]
    by_house = results(get(client, "/billing/dunning/notices", {"house": cast.house_a.id}))
    assert [(n["channel"], n["amount_due"]) for n in by_house] == [
        ("phone", "130.00"),
        ("letter", "130.00"),
    ]
    phone = results(get(client, "/billing/dunning/notices", {"channel": "phone"}))
    assert [n["note"] for n in phone] == ["下周交"]
    assert (
        results(get(client, "/billing/dunning/notices", {"community": cast.community_y.id})) == []
    )
    batch = results(get(client, "/billing/dunning/notices", {"batch": first["batch"]}))
    assert {n["house_id"] for n in batch} == set(ids)
    assert get(client, "/billing/dunning/notices", {"channel": "fax"}).status_code == 422


def test_the_history_is_scoped(cast, owing):
    remind(cast, house_ids=[cast.house_a.id], channel="letter")
    remind(cast, "other_admin", house_ids=[cast.other_house.id], channel="letter")
    mine = results(get(cast.client("other_admin"), "/billing/dunning/notices"))
    assert [n["house_id"] for n in mine] == [cast.other_house.id]
    assert [n["amount_due"] for n in mine] == ["99.00"]
    for name in ("manager_y", "resident_a", "technician", "nobody"):
        assert results(get(cast.client(name), "/billing/dunning/notices")) == [], name
    viewer = results(get(cast.client("project_manager"), "/billing/dunning/notices"))
    assert [n["house_id"] for n in viewer] == [cast.house_a.id]
