"""/api/v1 residents and residencies: masking, scoping, move-in/move-out, bad input."""

import datetime

import pytest
from api_helpers import get, ids, patch, post, results

from wuye.people.models import Residency, Resident

FULL_ID = "110101199001011234"


def test_resident_list_scoping(cast):
    a, b, o = cast.resident_a.id, cast.resident_b.id, cast.other_resident.id
    assert ids(get(cast.client("company_admin"), "/residents")) == {a, b}
    assert ids(get(cast.client("dispatcher"), "/residents")) == {a, b}
    assert ids(get(cast.client("manager_y"), "/residents")) == set()
    assert ids(get(cast.client("technician"), "/residents")) == set()  # no people.view
    assert ids(get(cast.client("resident_a"), "/residents")) == {a}
    assert ids(get(cast.client("other_admin"), "/residents")) == {o}
    assert get(cast.client("dispatcher"), f"/residents/{o}").status_code == 404
    assert get(cast.client("resident_a"), f"/residents/{b}").status_code == 404
    assert get(cast.client("manager_y"), f"/residents/{a}").status_code == 404


def test_resident_filters_and_search(cast):
    client = cast.client("dispatcher")
    assert ids(get(client, "/residents", {"house": cast.house_b.id})) == {cast.resident_b.id}
    assert ids(get(client, "/residents", {"community": cast.community_x.id})) == {
        cast.resident_a.id,
        cast.resident_b.id,
    }
    assert ids(get(client, "/residents", {"q": "张"})) == {cast.resident_a.id}
    assert ids(get(client, "/residents", {"q": "13800000002"})) == {cast.resident_b.id}
    assert ids(get(client, "/residents", {"q": "1380000000"})) == {
        cast.resident_a.id,
        cast.resident_b.id,
    }


def test_lists_always_mask_details_unmask_only_for_view_sensitive(cast):
    for who in ("company_admin", "project_manager", "dispatcher"):
        row = next(
            r for r in results(get(cast.client(who), "/residents")) if r["id"] == cast.resident_a.id
        )
        assert row["mobile"] == "138****0001" and row["id_number"] == "1101**********1234"
    # project_manager has people.view_sensitive; the dispatcher does not.
    full = get(cast.client("project_manager"), f"/residents/{cast.resident_a.id}").json()
    assert full["mobile"] == "13800000001" and full["id_number"] == FULL_ID
    masked = get(cast.client("dispatcher"), f"/residents/{cast.resident_a.id}").json()
    assert masked["mobile"] == "138****0001" and masked["id_number"] == "1101**********1234"
    own = get(cast.client("resident_a"), f"/residents/{cast.resident_a.id}").json()
    assert FULL_ID not in str(own)


def test_register_resident_with_house(cast):
    client = cast.client("dispatcher")
    data = {
        "name": "赵敏",
        "mobile": "13700000007",
        "house_id": cast.house_a.id,
        "relation": "family",
        "move_in": "2025-03-01",
    }
    response = post(client, "/residents", data)
    assert response.status_code == 201, response.content
    resident = Resident.objects.get(pk=response.json()["id"])
    assert resident.company_id == cast.company.id and resident.user is not None
    tie = Residency.objects.get(resident=resident)
    assert tie.house_id == cast.house_a.id and tie.move_in == datetime.date(2025, 3, 1)
    assert response.json()["mobile"] == "137****0007"  # dispatcher: masked


def test_community_staff_must_give_a_house(cast):
    response = post(cast.client("dispatcher"), "/residents", {"name": "无房"})
    assert response.status_code == 400
    assert "house" in response.json()["detail"]
    assert not Resident.objects.filter(name="无房").exists()
    response = post(cast.client("company_admin"), "/residents", {"name": "无房"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"name": "甲", "mobile": "12345"}, 400, "mobile"),
        ({"name": "甲", "id_number": "!!"}, 400, "id_number"),
        ({"name": "甲", "mobile": "13800000001"}, 400, None),  # duplicate mobile in company
        ({"name": "", "mobile": "13600000006"}, 400, "name"),
        ({"name": "甲", "house_id": "abc"}, 422, None),
        ({"name": "甲", "relation": "cousin"}, 422, None),
        ({"mobile": "13600000006"}, 422, None),
    ],
)
def test_bad_resident_input(cast, data, status, field):
    before = Resident.objects.count()
    response = post(cast.client("company_admin"), "/residents", data)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["detail"]
    assert Resident.objects.count() == before


def test_register_into_other_company_house_is_refused(cast):
    data = {"name": "越界", "house_id": cast.other_house.id, "relation": "owner"}
    response = post(cast.client("company_admin"), "/residents", data)
    assert response.status_code == 400 and "house_id" in response.json()["detail"]
    assert not Resident.objects.filter(name="越界").exists()


def test_update_resident(cast):
    client = cast.client("dispatcher")
    response = patch(client, f"/residents/{cast.resident_a.id}", {"note": "VIP"})
    assert response.status_code == 200
    cast.resident_a.refresh_from_db()
    assert cast.resident_a.note == "VIP"
    # Residents and view-only staff cannot edit; other tenants get 404.
    response = patch(cast.client("resident_a"), f"/residents/{cast.resident_a.id}", {"note": "x"})
    assert response.status_code == 403
    response = patch(cast.client("other_admin"), f"/residents/{cast.resident_a.id}", {"note": "x"})
    assert response.status_code == 404
    response = patch(client, f"/residents/{cast.resident_a.id}", {"mobile": "abc"})
    assert response.status_code == 400
    cast.resident_a.refresh_from_db()
    assert cast.resident_a.note == "VIP" and cast.resident_a.mobile == "13800000001"


def test_residency_list_and_detail(cast):
    tie_a = Residency.objects.get(resident=cast.resident_a)
    tie_b = Residency.objects.get(resident=cast.resident_b)
    assert ids(get(cast.client("dispatcher"), "/residencies")) == {tie_a.id, tie_b.id}
    assert ids(get(cast.client("resident_a"), "/residencies")) == {tie_a.id}
    assert ids(get(cast.client("manager_y"), "/residencies")) == set()
    assert get(cast.client("resident_a"), f"/residencies/{tie_b.id}").status_code == 404
    body = get(cast.client("dispatcher"), f"/residencies/{tie_a.id}").json()
    assert body["resident_name"] == "张伟" and body["house_address"].endswith("0101")
    client = cast.client("dispatcher")
    assert ids(get(client, "/residencies", {"house": cast.house_b.id})) == {tie_b.id}
    assert ids(get(client, "/residencies", {"active": "false"})) == set()


def test_move_in_and_move_out(cast):
    client = cast.client("dispatcher")
    data = {
        "resident_id": cast.resident_a.id,
        "house_id": cast.house_b.id,
        "relation": "tenant",
        "on": "2025-01-01",
    }
    response = post(client, "/residencies", data)
    assert response.status_code == 201, response.content
    tie_id = response.json()["id"]
    assert response.json()["relation"] == "tenant"
    # Same resident in the same house again: refused, nothing new.
    again = post(client, "/residencies", data)
    assert again.status_code == 400
    assert Residency.objects.filter(resident=cast.resident_a, house=cast.house_b).count() == 1
    assert tie_id in ids(get(client, "/residencies", {"active": "true"}))
    response = post(client, f"/residencies/{tie_id}/move-out", {"on": "2025-06-30"})
    assert response.status_code == 200, response.content
    assert response.json()["move_out"] == "2025-06-30"
    assert post(client, f"/residencies/{tie_id}/move-out", {}).status_code == 400
    assert ids(get(client, "/residencies", {"active": "false"})) == {tie_id}
    assert tie_id not in ids(get(client, "/residencies", {"active": "true"}))


def test_move_out_before_move_in_is_refused(cast):
    tie = Residency.objects.get(resident=cast.resident_a)
    response = post(
        cast.client("dispatcher"), f"/residencies/{tie.id}/move-out", {"on": "2000-01-01"}
    )
    assert response.status_code == 400
    tie.refresh_from_db()
    assert tie.move_out is None


def test_move_in_denials_change_nothing(cast):
    before = Residency.objects.count()
    data = {"resident_id": cast.resident_a.id, "house_id": cast.house_y.id, "relation": "owner"}
    # The dispatcher cannot see community Y's house.
    response = post(cast.client("dispatcher"), "/residencies", data)
    assert response.status_code == 400 and "house_id" in response.json()["detail"]
    # manager_y sees the house but not resident A.
    response = post(cast.client("manager_y"), "/residencies", data)
    assert response.status_code == 400 and "resident_id" in response.json()["detail"]
    # Another company's resident.
    data = {"resident_id": cast.other_resident.id, "house_id": cast.house_a.id, "relation": "owner"}
    assert post(cast.client("company_admin"), "/residencies", data).status_code == 400
    # Residents cannot move people in.
    data = {"resident_id": cast.resident_a.id, "house_id": cast.house_a.id, "relation": "family"}
    assert post(cast.client("resident_a"), "/residencies", data).status_code in (400, 403)
    tie = Residency.objects.get(resident=cast.resident_b)
    assert post(cast.client("other_admin"), f"/residencies/{tie.id}/move-out").status_code == 404
    assert post(cast.client("resident_b"), f"/residencies/{tie.id}/move-out").status_code == 403
    assert Residency.objects.count() == before
    tie.refresh_from_db()
    assert tie.move_out is None
