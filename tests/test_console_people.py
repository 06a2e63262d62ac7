"""Console pages for residents: list, detail, register, edit, move in and out."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuye.people.models import Residency, Resident

PEOPLE_VIEWERS = ["company_admin", "project_manager", "dispatcher", "finance", "quality"]
NO_PEOPLE_VIEW = ["technician", "guard", "resident_a", "nobody"]


def url(name, *args):
    return reverse(f"people:{name}", args=args)


def add_residents(cast, count, house=None, start=0):
    house = house or cast.house_a
    residents = Resident.objects.bulk_create(
        Resident(company=cast.company, name=f"住户{i:03d}", mobile=f"1370000{i:04d}")
        for i in range(start, start + count)
    )
    Residency.objects.bulk_create(
        Residency(resident=r, house=house, relation="family", move_in=datetime.date(2024, 5, 1))
        for r in residents
    )
    return residents


def picker(cast, house=None, **extra):
    house = house or cast.house_b
    data = {
        "community": house.community_id,
        "building": house.building_id,
        "unit": house.unit_id or "",
        "number": house.number,
    }
    data.update(extra)
    return data


def snapshot():
    return (
        list(Resident.objects.order_by("id").values()),
        list(Residency.objects.order_by("id").values()),
    )


# --- List ------------------------------------------------------------------------
@pytest.mark.parametrize("who", PEOPLE_VIEWERS)
def test_resident_list_masks_mobiles(cast, who):
    response = cast.client(who).get(url("resident_list"))
    assert response.status_code == 200
    names = [r.name for r in response.context["page"].items]
    assert {"张伟", "李娜"} <= set(names)
    assert "王芳" not in names  # other company
    body = response.content.decode()
    assert "138****0001" in body and "13800000001" not in body
    assert "翠湖花园 1栋 1单元 0101" in body  # current house with its address


@pytest.mark.parametrize("who", NO_PEOPLE_VIEW)
def test_resident_pages_forbidden_without_people_view(cast, who):
    client = cast.client(who)
    assert client.get(url("resident_list")).status_code == 403
    assert client.get(url("resident_detail", cast.resident_a.pk)).status_code == 403


def test_resident_search_and_community_filter(cast):
    client = cast.client("dispatcher")

    def names(**params):
        return [r.name for r in client.get(url("resident_list"), params).context["page"].items]

    assert names(q="张") == ["张伟"]
    assert names(q="13800000002") == ["李娜"]
    assert names(q="1380000000") == ["张伟", "李娜"]
    assert names(community=cast.community_x.pk) == ["张伟", "李娜"]
    response = client.get(url("resident_list"), {"community": cast.community_y.pk})
    assert response.context["page"] is None and "community" in response.context["form"].errors
    assert names(q="没有这个人") == []


def test_resident_list_other_company_and_community(cast):
    assert [
        r.name for r in cast.client("other_admin").get(url("resident_list")).context["page"].items
    ] == ["王芳"]
    assert cast.client("manager_y").get(url("resident_list")).context["page"].items == []


def test_resident_list_cursor_pages_have_no_gaps_or_duplicates(cast):
    add_residents(cast, 110)
    client = cast.client("dispatcher")
    seen, params = [], {}
    while True:
        page = client.get(url("resident_list"), params).context["page"]
        seen += [r.pk for r in page.items]
        if not page.has_next:
            break
        params = {"after": page.next_after}
    expected = sorted(Resident.objects.filter(company=cast.company).values_list("id", flat=True))
    assert seen == expected and len(set(seen)) == 112


def test_resident_list_query_count_does_not_grow_with_rows(cast, django_assert_max_num_queries):
    client = cast.client("dispatcher")
    with CaptureQueriesContext(connection) as few:
        client.get(url("resident_list"))
    add_residents(cast, 60)
    add_residents(cast, 5, house=cast.house_b, start=100)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("resident_list"))
    assert len(response.context["page"].items) == 50
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(12):
        client.get(url("resident_list"), {"q": "住户", "community": cast.community_x.pk})


# --- Detail ------------------------------------------------------------------------
def test_resident_detail_masks_id_number_without_sensitive_permission(cast):
    response = cast.client("dispatcher").get(url("resident_detail", cast.resident_a.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "13800000001" in body  # people.view reads the full mobile
    assert "110101199001011234" not in body
    assert "1101**********1234" in body
    assert "2024-01-01" in body and "翠湖花园 1栋 1单元 0101" in body
    assert response.context["breadcrumbs"][-1] == ("张伟", None)

    body = (
        cast.client("project_manager")
        .get(url("resident_detail", cast.resident_a.pk))
        .content.decode()
    )
    assert "110101199001011234" in body  # people.view_sensitive


@pytest.mark.parametrize(
    ("who", "resident"),
    [("manager_y", "resident_a"), ("other_admin", "resident_a"), ("dispatcher", "other_resident")],
)
def test_resident_pages_404_outside_scope(cast, who, resident):
    client = cast.client(who)
    pk = getattr(cast, resident).pk
    before = snapshot()
    assert client.get(url("resident_detail", pk)).status_code == 404
    assert client.post(url("resident_edit", pk), {"name": "改名"}).status_code == 404
    assert (
        client.post(
            url("move_in", pk), picker(cast, relation="owner", move_in="2025-01-01")
        ).status_code
        == 404
    )
    assert snapshot() == before


# --- Register -----------------------------------------------------------------------
def test_dispatcher_registers_resident_with_house(cast):
    client = cast.client("dispatcher")
    response = client.get(url("resident_create"), {"house": cast.house_b.pk})
    assert response.status_code == 200
    assert response.context["form"].initial["number"] == "0102"
    data = picker(cast, name="陈静", mobile="13900001111", relation="tenant", move_in="2025-03-01")
    response = client.post(f"{url('resident_create')}?house={cast.house_b.pk}", data)
    assert response.status_code == 302
    assert response.url == reverse("estates:house_detail", args=[cast.house_b.pk])
    resident = Resident.objects.get(mobile="13900001111")
    residency = resident.residencies.get()
    assert (residency.house_id, residency.relation, residency.move_in) == (
        cast.house_b.pk,
        "tenant",
        datetime.date(2025, 3, 1),
    )


def test_company_admin_may_register_without_house(cast):
    response = cast.client("company_admin").post(
        url("resident_create"), {"name": "周强", "mobile": ""}
    )
    assert response.status_code == 302
    assert not Resident.objects.get(name="周强").residencies.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"community": None, "building": None, "unit": None, "number": None}, "community"),
        ({"name": ""}, "name"),
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "13800000001"}, "mobile"),  # taken by 张伟
        ({"id_number": "12"}, "id_number"),
        ({"number": "9999"}, "number"),  # no such house
        ({"relation": "lodger"}, "relation"),
        ({"building": "other"}, "building"),  # another tenant's building id
        ({"community": "y"}, "community"),  # a community the dispatcher does not work in
    ],
)
def test_register_resident_bad_input_writes_nothing(cast, overrides, field):
    ids = {"other": cast.other_house.building_id, "y": cast.community_y.pk}
    data = picker(cast, name="陈静", mobile="13900001111", relation="owner", move_in="2025-01-01")
    for key, value in overrides.items():
        if value is None:
            data.pop(key)  # a dispatcher must say where the resident lives
        else:
            data[key] = ids.get(value, value)
    before = snapshot()
    response = cast.client("dispatcher").post(url("resident_create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert snapshot() == before


def test_register_needs_people_manage(cast):
    before = snapshot()
    for who in ("finance", "quality", "technician"):
        data = picker(cast, name="陈静", relation="owner", move_in="2025-01-01")
        assert cast.client(who).post(url("resident_create"), data).status_code == 403
    assert snapshot() == before


# --- Edit --------------------------------------------------------------------------
def test_edit_keeps_hidden_id_number_for_non_sensitive_staff(cast):
    client = cast.client("dispatcher")
    response = client.get(url("resident_edit", cast.resident_a.pk))
    assert "110101199001011234" not in response.content.decode()
    response = client.post(
        url("resident_edit", cast.resident_a.pk),
        {"name": "张伟强", "mobile": "13800000001", "id_number": "", "note": "VIP"},
    )
    assert response.status_code == 302
    cast.resident_a.refresh_from_db()
    assert (cast.resident_a.name, cast.resident_a.id_number, cast.resident_a.note) == (
        "张伟强",
        "110101199001011234",
        "VIP",
    )


def test_edit_by_sensitive_staff_shows_and_clears_id_number(cast):
    client = cast.client("project_manager")
    assert (
        "110101199001011234"
        in client.get(url("resident_edit", cast.resident_a.pk)).content.decode()
    )
    client.post(
        url("resident_edit", cast.resident_a.pk),
        {"name": "张伟", "mobile": "13800000001", "id_number": ""},
    )
    cast.resident_a.refresh_from_db()
    assert cast.resident_a.id_number == ""


def test_edit_bad_input(cast):
    client = cast.client("dispatcher")
    before = snapshot()
    for data, field in (
        ({"name": "张伟", "mobile": "13800000002"}, "mobile"),  # 李娜's mobile
        ({"name": "", "mobile": "13800000001"}, "name"),
        ({"name": "张伟", "mobile": "abc"}, "mobile"),
    ):
        response = client.post(url("resident_edit", cast.resident_a.pk), data)
        assert field in response.context["form"].errors
    assert snapshot() == before


# --- Move in / out ----------------------------------------------------------------------
def test_move_in_finds_house_by_fields(cast):
    client = cast.client("project_manager")
    response = client.get(url("move_in", cast.resident_a.pk), {"house": cast.house_b.pk})
    assert response.context["form"].initial["building"] == cast.building_x1.pk
    # No unit given: the number is unique in the building, so the house is found.
    data = picker(cast, unit="", relation="family", move_in="2025-02-01")
    response = client.post(url("move_in", cast.resident_a.pk), data)
    assert response.url == url("resident_detail", cast.resident_a.pk)
    assert Residency.objects.filter(
        resident=cast.resident_a, house=cast.house_b, relation="family"
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": "0101"}, "house"),  # already lives there (service error, shown at the top)
        ({"number": "0909"}, "number"),
        ({"relation": "boss"}, "relation"),
        ({"move_in": "not-a-date"}, "move_in"),
        ({"community": "y"}, "community"),
        ({"building": "other"}, "building"),
    ],
)
def test_move_in_bad_input_writes_nothing(cast, overrides, field):
    ids = {"other": cast.other_house.building_id, "y": cast.community_y.pk}
    data = picker(cast, relation="family", move_in="2025-02-01") | {
        k: ids.get(v, v) for k, v in overrides.items()
    }
    before = snapshot()
    response = cast.client("dispatcher").post(url("move_in", cast.resident_a.pk), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors or (field == "house" and "__all__" in errors), errors
    assert snapshot() == before


def test_move_out(cast):
    residency = cast.resident_b.residencies.get()
    client = cast.client("dispatcher")
    assert client.get(url("move_out", residency.pk)).status_code == 200
    response = client.post(
        f"{url('move_out', residency.pk)}?next=house", {"move_out": "2025-06-30"}
    )
    assert response.url == reverse("estates:house_detail", args=[cast.house_b.pk])
    residency.refresh_from_db()
    assert residency.move_out == datetime.date(2025, 6, 30)
    # Ended already: the form reports it and nothing changes.
    response = client.post(url("move_out", residency.pk), {"move_out": "2025-07-01"})
    assert response.context["form"].errors
    residency.refresh_from_db()
    assert residency.move_out == datetime.date(2025, 6, 30)


def test_move_out_bad_input_and_denials(cast):
    residency = cast.resident_b.residencies.get()
    before = snapshot()
    response = cast.client("dispatcher").post(
        url("move_out", residency.pk), {"move_out": "2023-01-01"}
    )
    assert "move_out" in response.context["form"].errors  # before the move-in date
    response = cast.client("dispatcher").post(url("move_out", residency.pk), {})
    assert "move_out" in response.context["form"].errors
    assert (
        cast.client("finance")
        .post(url("move_out", residency.pk), {"move_out": "2025-01-01"})
        .status_code
        == 403
    )
    assert (
        cast.client("manager_y")
        .post(url("move_out", residency.pk), {"move_out": "2025-01-01"})
        .status_code
        == 404
    )
    assert (
        cast.client("other_admin")
        .post(url("move_out", residency.pk), {"move_out": "2025-01-01"})
        .status_code
        == 404
    )
    assert snapshot() == before
