"""Keyset pagination on id: complete walks, bad cursors, bounded queries per page."""

import base64
import datetime
from decimal import Decimal

import pytest
from api_helpers import API, bearer_client, get, results
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuye.core.apitools import IdCursorPagination
from wuye.estates.models import House
from wuye.staff.models import RosterEntry, Shift


def add_houses(cast, count):
    building, unit = cast.building_x1, cast.unit_x1
    House.objects.bulk_create(
        House(
            company_id=cast.company.id,
            community_id=cast.community_x.id,
            building=building,
            unit=unit,
            number=f"9{i:04d}",
            floor=1 + i % 30,
            built_area=Decimal("88.00"),
        )
        for i in range(count)
    )


def walk(client, params):
    """Follow ``next`` links to the end; returns every page's ids."""
    pages = []
    response = get(client, "/houses", params)
    while True:
        body = response.json()
        assert response.status_code == 200, body
        pages.append([row["id"] for row in body["results"]])
        if not body["next"]:
            return pages
        response = client.get(body["next"])


def test_walk_covers_every_visible_house_once(cast):
    add_houses(cast, 130)
    client = cast.client("dispatcher")
    pages = walk(client, {"page_size": 25})
    seen = [house_id for page in pages for house_id in page]
    expected = list(
        House.objects.filter(community=cast.community_x).order_by("id").values_list("id", flat=True)
    )
    assert seen == expected  # ordered, no duplicates, no gaps
    assert len(expected) == 132 and [len(p) for p in pages] == [25] * 5 + [7]


def test_filters_survive_in_next_links(cast):
    add_houses(cast, 60)
    client = cast.client("company_admin")
    pages = walk(client, {"page_size": 7, "q": "90", "building": cast.building_x1.id})
    seen = [house_id for page in pages for house_id in page]
    expected = House.objects.filter(number__startswith="90").order_by("id")
    assert seen == list(expected.values_list("id", flat=True))


def test_previous_link_returns_the_page_before(cast):
    add_houses(cast, 30)
    client = cast.client("company_admin")
    first = get(client, "/houses", {"page_size": 10}).json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_page_size_is_clamped(cast):
    add_houses(cast, 210)
    client = cast.client("company_admin")
    assert len(results(get(client, "/houses", {"page_size": 10**9}))) == 200
    assert len(results(get(client, "/houses", {"page_size": 0}))) == 1
    assert len(results(get(client, "/houses", {"page_size": -3}))) == 1
    assert len(results(get(client, "/houses"))) == 50
    assert get(client, "/houses", {"page_size": "many"}).status_code == 422


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "abc",
        "!!!!",
        "ü",
        encoded("p=abc"),
        encoded("p=-5"),
        encoded("p=1.5"),
        encoded(f"p={2**64}"),
        encoded("o=-1"),
        encoded("o=abc"),
        encoded("r=maybe"),
        base64.b64encode(b"\xff\xfe").decode(),
        "A" * 500,
    ],
)
def test_bad_cursor_is_422(cast, cursor):
    response = get(cast.client("company_admin"), "/houses", {"cursor": cursor})
    assert response.status_code == 422, response.content


def test_cursor_from_the_api_class_lands_on_that_id(cast):
    add_houses(cast, 20)
    target = House.objects.filter(community=cast.community_x).order_by("id")[10]
    cursor = IdCursorPagination.Cursor(p=str(target.id)).encode_as_param()
    body = get(cast.client("dispatcher"), "/houses", {"cursor": cursor, "page_size": 3}).json()
    assert body["results"][0]["id"] == target.id


def test_a_cursor_cannot_reach_outside_the_scope(cast):
    cursor = IdCursorPagination.Cursor(p=str(cast.other_house.id)).encode_as_param()
    rows = results(get(cast.client("dispatcher"), "/houses", {"cursor": cursor}))
    assert cast.other_house.id not in {r["id"] for r in rows}


def _house_queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(API + "/houses", params)
    assert response.status_code == 200
    return ctx, response


@pytest.mark.parametrize("who", ["company_admin", "dispatcher", "resident_a"])
def test_house_list_queries_do_not_grow_with_rows(cast, who):
    add_houses(cast, 120)
    client = bearer_client(cast.users[who])
    _house_queries(client, {})  # the first use of a token records its last-used time
    small, _ = _house_queries(client, {"page_size": 2})
    big, response = _house_queries(client, {"page_size": 100})
    assert len(small) == len(big)
    assert len(results(response)) == (1 if who == "resident_a" else 100)
    house_sql = [q["sql"] for q in big.captured_queries if 'FROM "estates_house"' in q["sql"]]
    # The page's ids on the bare table (wuye.core.keyset), then those rows, names joined in.
    ids, rows = house_sql
    assert "LIMIT" in ids and "JOIN" not in ids
    assert " IN (" in rows and "estates_community" in rows and "estates_building" in rows
    assert "COUNT(" not in " ".join(q["sql"] for q in big.captured_queries).upper()


def test_house_list_query_budget(cast, django_assert_max_num_queries):
    add_houses(cast, 120)
    client = bearer_client(cast.users["dispatcher"])
    client.get(API + "/houses")  # the first use of a token records its last-used time
    # token lookup, actor (staff, permissions, company-wide?, community scope, resident
    # houses), and the page itself: its ids, then its rows.
    with django_assert_max_num_queries(8):
        response = client.get(API + "/houses", {"page_size": 100})
    assert len(response.json()["results"]) == 100


LIST_PATHS = [
    "/companies",
    "/communities",
    "/buildings",
    "/units",
    "/houses",
    "/common-areas",
    "/residents",
    "/residencies",
    "/staff",
    "/roles",
    "/trades",
    "/shifts",
    "/roster",
    "/tokens",
]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_no_list_queries_per_row(cast, path):
    """One row or many on the page: the same number of queries (no N+1)."""
    admin = cast.users["company_admin"]
    shift = Shift.objects.filter(company=cast.company).first()
    for day in (1, 2):
        RosterEntry.objects.create(
            staff=cast.staff["technician"],
            date=datetime.date(2026, 3, day),
            shift=shift,
            community=cast.community_x,
        )
    bearer_client(admin)  # a second token, so /tokens has two rows
    client = bearer_client(admin)
    client.get(API + path)  # the first use of a token records its last-used time
    with CaptureQueriesContext(connection) as one:
        first = client.get(API + path, {"page_size": 1})
    with CaptureQueriesContext(connection) as many:
        full = client.get(API + path, {"page_size": 200})
    assert first.status_code == full.status_code == 200
    assert len(first.json()["results"]) == 1
    if path != "/companies":  # one's own company is a single row
        assert len(full.json()["results"]) >= 2, path
    assert len(one) == len(many), path
