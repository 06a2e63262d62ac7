"""Console pages of the estate registry: tree, communities, buildings, houses, common areas."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuye.estates.models import Building, CommonArea, Community, House, Unit
from wuye.people.models import Residency, Resident

VIEWERS = ["company_admin", "project_manager", "dispatcher", "technician", "finance", "quality"]
NOT_STAFF = ["resident_a", "nobody"]


def url(name, *args):
    return reverse(f"estates:{name}", args=args)


def add_houses(building, unit, count, start=1000):
    return House.objects.bulk_create(
        House(
            company_id=building.community.company_id,
            community=building.community,
            building=building,
            unit=unit,
            number=str(start + i),
            floor=1 + i // 10,
            built_area=Decimal("80.00"),
        )
        for i in range(count)
    )


def house_post(cast, **overrides):
    data = {
        "community": cast.community_x.pk,
        "building": cast.building_x1.pk,
        "unit": cast.unit_x1.pk,
        "number": "0301",
        "floor": "3",
        "built_area": "98.50",
        "indoor_area": "80.00",
        "kind": "residence",
        "occupancy": "vacant",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Tree ---------------------------------------------------------------------
@pytest.mark.parametrize("who", VIEWERS)
def test_tree_shows_visible_communities_with_counts(cast, who):
    response = cast.client(who).get(url("tree"))
    assert response.status_code == 200
    counts = {c.name: (c.building_count, c.house_count) for c in response.context["communities"]}
    assert counts["翠湖花园"] == (1, 2)
    assert "他山小区" not in counts
    if who in ("company_admin", "finance", "quality"):  # company-wide roles
        assert counts["锦绣苑"] == (1, 1)
    else:
        assert "锦绣苑" not in counts


@pytest.mark.parametrize("who", NOT_STAFF)
def test_tree_forbidden_without_estates_view(cast, who):
    assert cast.client(who).get(url("tree")).status_code == 403


def test_tree_nodes_expand_lazily(cast):
    client = cast.client("dispatcher")
    response = client.get(url("tree_community", cast.community_x.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body  # a fragment, not a page
    assert url("tree_building", cast.building_x1.pk) in body and "1栋" in body
    assert 'data-units="1" data-houses="2"' in body  # counts computed in the database
    response = client.get(url("tree_building", cast.building_x1.pk))
    body = response.content.decode()
    assert url("tree_unit", cast.unit_x1.pk) in body and 'data-houses="2"' in body
    response = client.get(url("tree_unit", cast.unit_x1.pk))
    body = response.content.decode()
    assert "0101" in body and "0102" in body
    assert url("house_detail", cast.house_a.pk) in body


def test_tree_nodes_of_other_scopes_are_404(cast):
    client = cast.client("dispatcher")
    assert client.get(url("tree_community", cast.community_y.pk)).status_code == 404
    assert client.get(url("tree_community", cast.other_community.pk)).status_code == 404
    other = cast.client("other_admin")
    assert other.get(url("tree_building", cast.building_x1.pk)).status_code == 404
    assert other.get(url("tree_unit", cast.unit_x1.pk)).status_code == 404


def test_tree_empty_state(cast):
    client = cast.client("manager_y")
    response = client.get(url("tree_building", cast.house_y.building_id))
    assert response.status_code == 200
    building = Building.objects.create(community=cast.community_y, name="2栋")
    response = client.get(url("tree_building", building.pk))
    assert 'class="empty"' in response.content.decode()


# --- Community and building pages ----------------------------------------------
def test_community_and_building_detail(cast):
    client = cast.client("dispatcher")
    response = client.get(url("community_detail", cast.community_x.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1栋" in body and "翠湖花园大堂" in body
    assert response.context["breadcrumbs"][-1] == ("翠湖花园", None)
    response = client.get(url("building_detail", cast.building_x1.pk))
    assert response.status_code == 200
    assert [(u.name, u.house_count) for u in response.context["units"]] == [("1单元", 2)]
    assert client.get(url("community_detail", cast.community_y.pk)).status_code == 404
    assert client.get(url("building_detail", cast.house_y.building_id)).status_code == 404
    other = cast.client("other_admin")
    assert other.get(url("community_detail", cast.community_x.pk)).status_code == 404


def test_community_create_by_company_admin(cast):
    client = cast.client("company_admin")
    assert client.get(url("community_create")).status_code == 200
    response = client.post(
        url("community_create"), {"name": "滨江府", "code": "binjiang", "kind": "residential"}
    )
    community = Community.objects.get(code="binjiang")
    assert community.company_id == cast.company.id
    assert response.status_code == 302
    assert response.url == url("community_detail", community.pk)


def test_community_create_bad_input_and_denials(cast):
    client = cast.client("company_admin")
    before = Community.objects.count()
    response = client.post(
        url("community_create"), {"name": "新小区", "code": "x", "kind": "residential"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]  # duplicate code in the company
    response = client.post(
        url("community_create"), {"name": "", "code": "bad code!", "kind": "nope"}
    )
    assert set(response.context["form"].errors) >= {"name", "code", "kind"}
    assert Community.objects.count() == before
    # A community-scoped manager cannot open communities; a dispatcher cannot manage at all.
    for who in ("project_manager", "dispatcher"):
        response = cast.client(who).post(
            url("community_create"), {"name": "越权", "code": "sneaky", "kind": "residential"}
        )
        assert response.status_code == 403
    assert Community.objects.count() == before


def test_building_and_unit_create(cast):
    client = cast.client("project_manager")
    response = client.post(
        url("building_create", cast.community_x.pk),
        {"name": "2栋", "floors_above": "18", "floors_below": "2", "sort_order": "2"},
    )
    building = Building.objects.get(community=cast.community_x, name="2栋")
    assert response.url == url("building_detail", building.pk)
    response = client.post(url("unit_create", building.pk), {"name": "1单元", "sort_order": "1"})
    assert response.status_code == 302
    assert Unit.objects.filter(building=building, name="1单元").exists()


def test_building_and_unit_create_bad_input(cast):
    client = cast.client("project_manager")
    buildings, units = Building.objects.count(), Unit.objects.count()
    response = client.post(
        url("building_create", cast.community_x.pk),
        {"name": "1栋", "floors_above": "5", "floors_below": "0", "sort_order": "0"},
    )
    assert response.context["form"].errors["name"]  # same name in the community
    response = client.post(
        url("building_create", cast.community_x.pk),
        {"name": "9栋", "floors_above": "500", "floors_below": "-1", "sort_order": "0"},
    )
    assert set(response.context["form"].errors) == {"floors_above", "floors_below"}
    response = client.post(
        url("unit_create", cast.building_x1.pk), {"name": "1单元", "sort_order": "0"}
    )
    assert response.context["form"].errors["name"]
    # Other scopes: 404 before anything is looked at.
    assert (
        client.post(url("building_create", cast.community_y.pk), {"name": "3栋"}).status_code == 404
    )
    other = cast.client("other_admin")
    assert other.post(url("unit_create", cast.building_x1.pk), {"name": "9单元"}).status_code == 404
    assert (
        cast.client("dispatcher")
        .post(url("unit_create", cast.building_x1.pk), {"name": "9单元"})
        .status_code
        == 403
    )
    assert (Building.objects.count(), Unit.objects.count()) == (buildings, units)


# --- House list -------------------------------------------------------------------
def test_house_list_scoped_and_filtered(cast):
    client = cast.client("dispatcher")
    response = client.get(url("house_list"))
    assert response.status_code == 200
    assert [h.pk for h in response.context["page"].items] == [cast.house_a.pk, cast.house_b.pk]
    body = response.content.decode()
    assert "翠湖花园" in body and "锦绣苑" not in body

    House.objects.filter(pk=cast.house_b.pk).update(kind="shop", occupancy="rented")

    def ids(**params):
        page = client.get(url("house_list"), params).context["page"]
        return [h.pk for h in page.items]

    assert ids(kind="shop") == [cast.house_b.pk]
    assert ids(occupancy="owner_occupied") == [cast.house_a.pk]
    assert ids(number="0101") == [cast.house_a.pk]
    assert ids(number="01") == [cast.house_a.pk, cast.house_b.pk]  # starts with
    assert ids(
        community=cast.community_x.pk, building=cast.building_x1.pk, unit=cast.unit_x1.pk
    ) == [
        cast.house_a.pk,
        cast.house_b.pk,
    ]
    # After switching community, a building left over from the other one is dropped.
    admin = cast.client("company_admin")
    params = {"community": cast.community_x.pk, "building": cast.house_y.building_id}
    page = admin.get(url("house_list"), params).context["page"]
    assert [h.pk for h in page.items] == [cast.house_a.pk, cast.house_b.pk]


def test_house_list_rejects_other_scopes_in_filters(cast):
    client = cast.client("dispatcher")
    for params in (
        {"community": cast.community_y.pk},
        {"community": cast.other_community.pk},
        {"community": cast.community_x.pk, "building": cast.other_house.building_id},
        {"after": "abc"},
    ):
        response = client.get(url("house_list"), params)
        assert response.status_code == 200
        assert response.context["page"] is None
        assert response.context["form"].errors


@pytest.mark.parametrize("who", NOT_STAFF)
def test_house_pages_forbidden_without_estates_view(cast, who):
    client = cast.client(who)
    assert client.get(url("house_list")).status_code == 403
    assert client.get(url("house_detail", cast.house_a.pk)).status_code == 403


def test_house_list_cursor_pages_have_no_gaps_or_duplicates(cast):
    add_houses(cast.building_x1, cast.unit_x1, 120)
    add_houses(cast.house_y.building, cast.house_y.unit, 7)
    client = cast.client("company_admin")
    seen, params, pages = [], {}, 0
    while True:
        page = client.get(url("house_list"), params).context["page"]
        seen += [h.pk for h in page.items]
        pages += 1
        if not page.has_next:
            break
        params = {"after": page.next_after}
    expected = list(
        House.objects.filter(company=cast.company).order_by("id").values_list("id", flat=True)
    )
    assert seen == expected
    assert len(seen) == len(set(seen)) == 130
    assert pages == 3


def test_house_list_next_link_keeps_filters(cast):
    add_houses(cast.building_x1, cast.unit_x1, 60)
    response = cast.client("dispatcher").get(url("house_list"), {"kind": "residence"})
    page = response.context["page"]
    assert page.has_next
    assert f"kind=residence&amp;after={page.next_after}" in response.content.decode()


def count_queries(client, path, params=None):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_house_list_query_count_does_not_grow_with_rows(cast, django_assert_max_num_queries):
    client = cast.client("dispatcher")
    few = count_queries(client, url("house_list"))
    add_houses(cast.building_x1, cast.unit_x1, 70)
    many = count_queries(client, url("house_list"))
    assert many == few
    with django_assert_max_num_queries(15):
        client.get(
            url("house_list"), {"community": cast.community_x.pk, "building": cast.building_x1.pk}
        )


# --- House detail ---------------------------------------------------------------------
def test_house_detail_shows_residents_with_relation_and_dates(cast):
    former = Resident.objects.create(company=cast.company, name="赵磊", mobile="13800000077")
    Residency.objects.create(
        resident=former,
        house=cast.house_a,
        relation="tenant",
        move_in=datetime.date(2020, 3, 1),
        move_out=datetime.date(2023, 12, 31),
    )
    response = cast.client("dispatcher").get(url("house_detail", cast.house_a.pk))
    assert response.status_code == 200
    assert [r.resident.name for r in response.context["current"]] == ["张伟"]
    assert [r.resident.name for r in response.context["past"]] == ["赵磊"]
    body = response.content.decode()
    assert "2024-01-01" in body and "2023-12-31" in body
    assert "138****0001" in body and "13800000001" not in body  # masked on the house page
    labels = [label for label, _url in response.context["breadcrumbs"]]
    assert labels[1:] == ["翠湖花园", "1栋", "1单元", "0101"]


def test_house_detail_hides_residents_from_field_staff(cast):
    response = cast.client("technician").get(url("house_detail", cast.house_a.pk))
    assert response.status_code == 200
    assert "张伟" not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "house"),
    [
        ("dispatcher", "house_y"),
        ("dispatcher", "other_house"),
        ("technician_y", "house_a"),
        ("other_admin", "house_a"),
    ],
)
def test_house_pages_404_outside_scope(cast, who, house):
    client = cast.client(who)
    pk = getattr(cast, house).pk
    assert client.get(url("house_detail", pk)).status_code == 404
    if who == "other_admin":
        assert client.get(url("house_edit", pk)).status_code == 404
        before = House.objects.get(pk=pk).built_area
        client.post(url("house_edit", pk), house_post(cast, built_area="1.00"))
        assert House.objects.get(pk=pk).built_area == before


# --- House create / edit ----------------------------------------------------------------
def test_house_create(cast):
    client = cast.client("project_manager")
    response = client.get(
        url("house_create"), {"community": cast.community_x.pk, "building": cast.building_x1.pk}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert [c[0] for c in form.fields["building"].widget.choices] == ["", cast.building_x1.pk]
    assert [c[0] for c in form.fields["unit"].widget.choices] == ["", cast.unit_x1.pk]
    response = client.post(url("house_create"), house_post(cast))
    house = House.objects.get(unit=cast.unit_x1, number="0301")
    assert response.url == url("house_detail", house.pk)
    assert (house.company_id, house.community_id, house.built_area) == (
        cast.company.id,
        cast.community_x.id,
        Decimal("98.50"),
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"number": "0101"}, "number"),  # taken in this unit
        ({"built_area": "-5"}, "built_area"),
        ({"built_area": "99999999"}, "built_area"),
        ({"built_area": "abc"}, "built_area"),
        ({"indoor_area": "120.00"}, "indoor_area"),  # larger than built-up area
        ({"number": None}, "number"),
        ({"floor": None}, "floor"),
        ({"kind": "castle"}, "kind"),
        ({"building": "other"}, "building"),  # another tenant's building id
        ({"building": "y"}, "building"),  # a community the manager does not run
        ({"unit": "foreign"}, "unit"),
    ],
)
def test_house_create_bad_input_writes_nothing(cast, overrides, field):
    other_ids = {
        "other": cast.other_house.building_id,
        "y": cast.house_y.building_id,
        "foreign": cast.other_house.unit_id,
    }
    overrides = {k: other_ids.get(v, v) for k, v in overrides.items()}
    before = House.objects.count()
    response = cast.client("project_manager").post(
        url("house_create"), house_post(cast, **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert House.objects.count() == before


def test_house_create_needs_estates_manage(cast):
    before = House.objects.count()
    for who in ("dispatcher", "technician", "resident_a"):
        assert cast.client(who).post(url("house_create"), house_post(cast)).status_code == 403
    assert House.objects.count() == before


def test_house_edit(cast):
    client = cast.client("project_manager")
    assert client.get(url("house_edit", cast.house_a.pk)).status_code == 200
    data = house_post(
        cast, number="0101", built_area="100.00", indoor_area="85.00", occupancy="rented"
    )
    response = client.post(url("house_edit", cast.house_a.pk), data)
    assert response.url == url("house_detail", cast.house_a.pk)
    cast.house_a.refresh_from_db()
    assert (cast.house_a.built_area, cast.house_a.occupancy) == (Decimal("100.00"), "rented")


def test_house_edit_bad_input_and_denials(cast):
    client = cast.client("project_manager")
    for overrides, field in (
        ({"number": "0102"}, "number"),
        ({"indoor_area": "200"}, "indoor_area"),
        ({"built_area": "-1"}, "built_area"),
    ):
        response = client.post(
            url("house_edit", cast.house_a.pk), house_post(cast, **({"number": "0101"} | overrides))
        )
        assert field in response.context["form"].errors
    cast.house_a.refresh_from_db()
    assert (cast.house_a.number, cast.house_a.built_area) == ("0101", Decimal("89.50"))
    assert (
        cast.client("dispatcher")
        .post(url("house_edit", cast.house_a.pk), house_post(cast))
        .status_code
        == 403
    )
    assert cast.client("manager_y").get(url("house_edit", cast.house_a.pk)).status_code == 404


# --- Common areas ---------------------------------------------------------------------
def test_commonarea_list_and_create(cast):
    response = cast.client("dispatcher").get(url("commonarea_list"))
    names = [a.name for a in response.context["page"].items]
    assert names == ["翠湖花园大堂"]
    client = cast.client("project_manager")
    response = client.post(
        url("commonarea_create"),
        {
            "community": cast.community_x.pk,
            "building": cast.building_x1.pk,
            "name": "1栋泵房",
            "kind": "pump_room",
        },
    )
    assert response.status_code == 302
    assert CommonArea.objects.filter(building=cast.building_x1, name="1栋泵房").exists()


def test_commonarea_create_bad_input(cast):
    client = cast.client("project_manager")
    before = CommonArea.objects.count()
    for data, field in (
        ({"community": cast.community_x.pk, "name": "翠湖花园大堂", "kind": "lobby"}, "name"),
        (
            {
                "community": cast.community_x.pk,
                "building": cast.house_y.building_id,
                "name": "A",
                "kind": "lobby",
            },
            "building",
        ),
        ({"community": cast.other_community.pk, "name": "B", "kind": "lobby"}, "community"),
        ({"community": cast.community_x.pk, "name": "", "kind": "lobby"}, "name"),
    ):
        response = client.post(url("commonarea_create"), data)
        assert field in response.context["form"].errors, data
    assert (
        cast.client("dispatcher")
        .post(
            url("commonarea_create"),
            {"community": cast.community_x.pk, "name": "C", "kind": "lobby"},
        )
        .status_code
        == 403
    )
    assert CommonArea.objects.count() == before
