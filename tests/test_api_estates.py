"""/api/v1 estate registry: happy paths, scoping, permission denial, bad input."""

import pytest
from api_helpers import get, ids, patch, post, results

from wuye.estates.models import Building, CommonArea, Community, House, Unit


# --- reads and scoping -------------------------------------------------------------
def test_companies_are_own_only(cast):
    assert ids(get(cast.client("company_admin"), "/companies")) == {cast.company.id}
    assert ids(get(cast.client("resident_a"), "/companies")) == {cast.company.id}
    assert ids(get(cast.client("other_admin"), "/companies")) == {cast.other_company.id}
    response = get(cast.client("company_admin"), f"/companies/{cast.other_company.id}")
    assert response.status_code == 404
    body = get(cast.client("company_admin"), f"/companies/{cast.company.id}").json()
    assert body["code"] == "acme"


def test_community_lists_follow_scope(cast):
    x, y = cast.community_x.id, cast.community_y.id
    assert ids(get(cast.client("company_admin"), "/communities")) == {x, y}
    assert ids(get(cast.client("dispatcher"), "/communities")) == {x}
    assert ids(get(cast.client("manager_y"), "/communities")) == {y}
    assert ids(get(cast.client("other_admin"), "/communities")) == {cast.other_community.id}
    assert ids(get(cast.client("nobody"), "/communities")) == set()
    assert ids(get(cast.client("company_admin"), "/communities", {"q": "翠湖"})) == {x}
    assert get(cast.client("dispatcher"), f"/communities/{y}").status_code == 404
    assert get(cast.client("dispatcher"), f"/communities/{x}").json()["name"] == "翠湖花园"


def test_house_list_scoping_matrix(cast):
    a, b, hy, ho = cast.house_a.id, cast.house_b.id, cast.house_y.id, cast.other_house.id
    assert ids(get(cast.client("company_admin"), "/houses")) == {a, b, hy}
    assert ids(get(cast.client("dispatcher"), "/houses")) == {a, b}
    assert ids(get(cast.client("technician_y"), "/houses")) == {hy}
    assert ids(get(cast.client("resident_a"), "/houses")) == {a}
    assert ids(get(cast.client("resident_b"), "/houses")) == {b}
    assert ids(get(cast.client("other_admin"), "/houses")) == {ho}
    assert ids(get(cast.client("nobody"), "/houses")) == set()
    # Filters cannot widen the scope.
    other = {"community": cast.other_community.id}
    assert ids(get(cast.client("company_admin"), "/houses", other)) == set()


def test_house_detail_is_404_outside_scope(cast):
    for name, house in [
        ("dispatcher", cast.house_y),
        ("resident_a", cast.house_b),
        ("other_admin", cast.house_a),
        ("company_admin", cast.other_house),
    ]:
        assert get(cast.client(name), f"/houses/{house.id}").status_code == 404, name
    body = get(cast.client("resident_a"), f"/houses/{cast.house_a.id}").json()
    assert body["address"] == "翠湖花园 1栋 1单元 0101"
    assert body["built_area"] == "89.50"
    assert body["unit_name"] == "1单元"


def test_house_filters(cast):
    client = cast.client("company_admin")
    x = cast.community_x.id
    assert ids(get(client, "/houses", {"community": x})) == {cast.house_a.id, cast.house_b.id}
    assert ids(get(client, "/houses", {"building": cast.building_x1.id, "number": "0102"})) == {
        cast.house_b.id
    }
    assert ids(get(client, "/houses", {"unit": cast.unit_x1.id, "q": "01"})) == {
        cast.house_a.id,
        cast.house_b.id,
    }
    assert ids(get(client, "/houses", {"q": "0102"})) == {cast.house_b.id}
    assert ids(get(client, "/houses", {"occupancy": "vacant"})) == set()
    assert len(results(get(client, "/houses", {"kind": "residence"}))) == 3


def test_buildings_units_common_areas_lists(cast):
    dispatcher = cast.client("dispatcher")
    assert ids(get(dispatcher, "/buildings")) == {cast.building_x1.id}
    assert ids(get(dispatcher, "/units")) == {cast.unit_x1.id}
    areas = results(get(dispatcher, "/common-areas"))
    assert {a["community_id"] for a in areas} == {cast.community_x.id}
    assert ids(get(cast.client("resident_a"), "/buildings")) == {cast.building_x1.id}
    assert (
        ids(get(cast.client("other_admin"), "/units", {"building": cast.building_x1.id})) == set()
    )
    other_building = Building.objects.get(community=cast.other_community)
    assert get(dispatcher, f"/buildings/{other_building.id}").status_code == 404
    other_unit = Unit.objects.get(building=other_building)
    assert get(dispatcher, f"/units/{other_unit.id}").status_code == 404
    other_area = CommonArea.objects.get(community=cast.other_community)
    assert get(dispatcher, f"/common-areas/{other_area.id}").status_code == 404


# --- writes ----------------------------------------------------------------------------
def test_admin_creates_the_whole_tree(cast):
    client = cast.client("company_admin")
    community = post(client, "/communities", {"name": "新城", "code": "xc", "kind": "office"})
    assert community.status_code == 201, community.content
    cid = community.json()["id"]
    building = post(client, "/buildings", {"community_id": cid, "name": "A座", "floors_above": 30})
    assert building.status_code == 201, building.content
    bid = building.json()["id"]
    unit = post(client, "/units", {"building_id": bid, "name": "1单元"})
    assert unit.status_code == 201, unit.content
    house = post(
        client,
        "/houses",
        {
            "building_id": bid,
            "unit_id": unit.json()["id"],
            "number": "1201",
            "floor": 12,
            "built_area": "120.35",
            "indoor_area": "98",
            "kind": "office",
        },
    )
    assert house.status_code == 201, house.content
    assert house.json()["address"] == "新城 A座 1单元 1201"
    assert house.json()["indoor_area"] == "98.00"
    area = post(client, "/common-areas", {"community_id": cid, "building_id": bid, "name": "大堂"})
    assert area.status_code == 201, area.content
    created = House.objects.get(pk=house.json()["id"])
    assert created.company_id == cast.company.id and created.community_id == cid


def test_updates_go_through_services(cast):
    client = cast.client("project_manager")  # community X
    response = patch(client, f"/houses/{cast.house_a.id}", {"occupancy": "rented"})
    assert response.status_code == 200, response.content
    assert response.json()["occupancy"] == "rented"
    cast.house_a.refresh_from_db()
    assert cast.house_a.occupancy == "rented"
    response = patch(client, f"/buildings/{cast.building_x1.id}", {"name": "2栋"})
    assert response.status_code == 200 and response.json()["name"] == "2栋"
    response = patch(client, f"/units/{cast.unit_x1.id}", {"sort_order": 3})
    assert response.status_code == 200 and response.json()["sort_order"] == 3
    response = patch(client, f"/communities/{cast.community_x.id}", {"service_phone": "400-1"})
    assert response.status_code == 200 and response.json()["service_phone"] == "400-1"
    area = CommonArea.objects.get(community=cast.community_x)
    response = patch(client, f"/common-areas/{area.id}", {"kind": "garden"})
    assert response.status_code == 200 and response.json()["kind"] == "garden"


def test_view_only_staff_get_403_and_nothing_changes(cast):
    before = House.objects.count()
    client = cast.client("dispatcher")  # estates.view only
    data = {"building_id": cast.building_x1.id, "number": "0999", "floor": 9, "built_area": "50"}
    assert post(client, "/houses", data).status_code == 403
    assert patch(client, f"/houses/{cast.house_a.id}", {"floor": 5}).status_code == 403
    assert House.objects.count() == before
    cast.house_a.refresh_from_db()
    assert cast.house_a.floor == 1
    # Community-scoped managers cannot create communities (company-wide only).
    response = post(cast.client("project_manager"), "/communities", {"name": "N", "code": "n"})
    assert response.status_code == 403
    assert not Community.objects.filter(code="n").exists()


@pytest.mark.parametrize(
    ("who", "building_status"),
    # Resident A can see the building they live in, but may not change it (403);
    # for the others it is outside their scope (400 on the field, 404 on the path).
    [("manager_y", 404), ("other_admin", 404), ("resident_a", 403)],
)
def test_other_scope_cannot_write_to_community_x(cast, who, building_status):
    client = cast.client(who)
    create = 400 if building_status == 404 else 403
    data = {"building_id": cast.building_x1.id, "number": "0999", "floor": 9, "built_area": "50"}
    response = post(client, "/houses", data)
    assert response.status_code == create
    if create == 400:
        assert "building_id" in response.json()["detail"]
    assert patch(client, f"/houses/{cast.house_b.id}", {"floor": 7}).status_code == 404
    response = patch(client, f"/buildings/{cast.building_x1.id}", {"name": "X"})
    assert response.status_code == building_status
    response = post(client, "/units", {"building_id": cast.building_x1.id, "name": "9单元"})
    assert response.status_code == create
    assert not House.objects.filter(number="0999").exists()
    assert not Unit.objects.filter(name="9单元").exists()
    cast.house_b.refresh_from_db()
    cast.building_x1.refresh_from_db()
    assert cast.house_b.floor == 1 and cast.building_x1.name == "1栋"


def test_unit_of_another_building_is_refused(cast):
    client = cast.client("company_admin")
    y_unit = Unit.objects.get(building__community=cast.community_y)
    data = {
        "building_id": cast.building_x1.id,
        "unit_id": y_unit.id,
        "number": "0888",
        "floor": 8,
        "built_area": "50",
    }
    response = post(client, "/houses", data)
    assert response.status_code == 400
    assert "unit" in response.json()["detail"]
    assert not House.objects.filter(number="0888").exists()


# --- bad input -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"built_area": "-1"}, 400, "built_area"),
        ({"built_area": "1e100"}, 400, "built_area"),
        ({"built_area": "abc"}, 422, None),
        ({"built_area": "NaN"}, 422, None),
        ({"floor": "twelve"}, 422, None),
        ({"floor": 10**12}, 400, "floor"),
        ({"kind": "castle"}, 422, None),
        ({"indoor_area": "200"}, 400, None),  # indoor above built-up area
        ({"number": "0102"}, 400, None),  # duplicate in the unit
        ({"number": "x" * 500}, 400, "number"),
        ({"building_id": "abc"}, 422, None),
        ({"building_id": 2**70}, 422, None),
        ({"building_id": -5}, 422, None),
        ({"building_id": 987654}, 400, "building_id"),
    ],
)
def test_bad_house_input_is_4xx_and_writes_nothing(cast, change, status, field):
    before = House.objects.count()
    data = {
        "building_id": cast.building_x1.id,
        "unit_id": cast.unit_x1.id,
        "number": "0301",
        "floor": 3,
        "built_area": "89.5",
        **change,
    }
    response = post(cast.client("company_admin"), "/houses", data)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["detail"]
    assert House.objects.count() == before


def test_missing_fields_and_malformed_json(cast):
    client = cast.client("company_admin")
    assert post(client, "/houses", {"building_id": cast.building_x1.id}).status_code == 422
    response = client.post("/api/v1/houses", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert patch(client, f"/houses/{cast.house_a.id}", {"floor": None}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/houses/abc",
        "/houses/0",
        "/houses/-1",
        f"/houses/{2**64}",
        "/houses?community=abc",
        "/houses?kind=castle",
        "/houses?page_size=abc",
        "/houses?q=" + "9" * 40,
        "/communities?kind=castle",
    ],
)
def test_bad_query_and_path_values_are_4xx(cast, path):
    response = cast.client("company_admin").get("/api/v1" + path)
    assert 400 <= response.status_code < 500, (path, response.status_code)


def test_anonymous_is_401(cast):
    assert get(cast.client(None), "/houses").status_code == 401
    data = {"building_id": cast.building_x1.id, "number": "1", "floor": 1, "built_area": "1"}
    assert post(cast.client(None), "/houses", data).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/houses", {"q": "01\x00"}),
        ("get", "/houses", {"number": "\x00"}),
        ("get", "/communities", {"q": "\x00"}),
        ("get", "/residents", {"q": "\x00"}),
        ("get", "/staff", {"role": "\x00"}),
        ("get", "/staff", {"q": "\x00"}),
        ("post", "/communities", {"name": "新\x00城", "code": "nul"}),
        ("post", "/tokens", {"name": "a\x00"}),
        ("post", "/auth/token", {"username": "a\x00", "password": "x"}),
        ("post", "/staff", {"username": "a\x00", "name": "n", "employee_no": "e", "role_ids": [1]}),
    ],
)
def test_nul_characters_are_4xx_not_500(cast, method, path, data):
    """PostgreSQL refuses NUL in text; the API must refuse it first."""
    client = cast.client("company_admin")
    response = get(client, path, data) if method == "get" else post(client, path, data)
    assert 400 <= response.status_code < 500, response.content
    assert not Community.objects.filter(code="nul").exists()
