"""Idempotency-Key on create endpoints: replay, mismatch, per-user keys, atomicity."""

import datetime

from api_helpers import post
from django.db import IntegrityError
from django.utils import timezone

from wuye.api import api
from wuye.core.idempotency import purge_old_keys
from wuye.core.models import IdempotencyKey
from wuye.estates.models import House
from wuye.people.models import Resident

KEY = "Idempotency-Key"


def house_data(cast, number="0301"):
    return {
        "building_id": cast.building_x1.id,
        "unit_id": cast.unit_x1.id,
        "number": number,
        "floor": 3,
        "built_area": "89.50",
    }


def test_same_key_same_body_replays_the_first_response(cast):
    client = cast.client("company_admin")
    first = post(client, "/houses", house_data(cast), **{KEY: "k-1"})
    assert first.status_code == 201
    again = post(client, "/houses", house_data(cast), **{KEY: "k-1"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert House.objects.filter(number="0301").count() == 1


def test_same_key_different_body_is_422_and_writes_nothing(cast):
    client = cast.client("company_admin")
    assert post(client, "/houses", house_data(cast), **{KEY: "k-2"}).status_code == 201
    response = post(client, "/houses", house_data(cast, "0302"), **{KEY: "k-2"})
    assert response.status_code == 422
    assert KEY in response.json()["detail"]
    assert not House.objects.filter(number="0302").exists()
    # The same key on another endpoint is a different request too.
    response = post(client, "/residents", {"name": "甲"}, **{KEY: "k-2"})
    assert response.status_code == 422
    assert not Resident.objects.filter(name="甲").exists()


def test_keys_belong_to_one_user(cast):
    data = {"name": "新城", "code": "xc"}
    assert post(cast.client("company_admin"), "/communities", data, **{KEY: "k"}).status_code == 201
    response = post(cast.client("other_admin"), "/communities", data, **{KEY: "k"})
    assert response.status_code == 201  # not company A's replayed response
    assert response.json()["company_id"] == cast.other_company.id


def test_without_a_key_nothing_is_stored(cast):
    client = cast.client("company_admin")
    assert post(client, "/houses", house_data(cast)).status_code == 201
    assert post(client, "/houses", house_data(cast)).status_code == 400  # duplicate number
    assert not IdempotencyKey.objects.exists()


def test_failed_requests_are_not_stored(cast):
    client = cast.client("dispatcher")  # may not create houses
    assert post(client, "/houses", house_data(cast), **{KEY: "k-3"}).status_code == 403
    assert not IdempotencyKey.objects.exists()
    bad = {**house_data(cast), "built_area": "-3"}
    admin = cast.client("company_admin")
    assert post(admin, "/houses", bad, **{KEY: "k-4"}).status_code == 400
    # After fixing the body the client may reuse the key: nothing was stored.
    assert post(admin, "/houses", house_data(cast), **{KEY: "k-4"}).status_code == 201


def test_bad_keys(cast):
    client = cast.client("company_admin")
    assert post(client, "/houses", house_data(cast), **{KEY: "x" * 256}).status_code == 400
    assert post(client, "/houses", house_data(cast), **{KEY: "   "}).status_code == 400
    assert not House.objects.filter(number="0301").exists()


def test_losing_the_key_race_rolls_the_write_back(cast, monkeypatch):
    """Another request with the same key commits while ours runs (on PostgreSQL our
    insert of the key then fails): our house must be rolled back, not created twice."""

    def concurrent_winner(**kwargs):
        raise IntegrityError("duplicate key value violates idempotency_key_once")

    monkeypatch.setattr(IdempotencyKey.objects, "create", concurrent_winner)
    response = post(cast.client("company_admin"), "/houses", house_data(cast), **{KEY: "race"})
    assert response.status_code == 409
    assert KEY in response.json()["detail"]
    assert not House.objects.filter(number="0301").exists()


def test_purge_forgets_day_old_keys(cast):
    client = cast.client("company_admin")
    post(client, "/houses", house_data(cast), **{KEY: "old"})
    assert purge_old_keys() == 0
    later = timezone.now() + datetime.timedelta(hours=25)
    assert purge_old_keys(now=later) == 1
    assert not IdempotencyKey.objects.exists()


ACTIONS_AND_AUTH = {
    # Actions on an existing row, naturally safe to repeat or refused the second time.
    "/api/v1/residencies/{residency_id}/move-out",
    "/api/v1/staff/{staff_id}/duty",
    "/api/v1/tokens/{token_id}/revoke",
    "/api/v1/notifications/{notification_id}/read",
    "/api/v1/notifications/read-all",
    # Work-order actions: they act on an existing order, checked against its status.
    *(
        f"/api/v1/work-orders/{{order_id}}/{action}"
        for action in (
            "accept",
            "dispatch",
            "grab",
            "take",
            "return",
            "transfer",
            "arrive",
            "pause",
            "resume",
            "complete",
            "rate",
            "return-visit",
            "reopen",
            "cancel",
            "reject",
            "urge",
            "resolve",
            "root-cause",
            "reply",
        )
    ),
    # Facilities and emergency actions: checked against the row's status, refused twice.
    "/api/v1/facilities/assets/{asset_id}/status",
    "/api/v1/facilities/tasks/{task_id}/finish",
    "/api/v1/facilities/tasks/{task_id}/accept",
    "/api/v1/incidents/{incident_id}/transitions",
    # Issuing a previewed run commits batch by batch; a second call finds it issued.
    "/api/v1/billing/runs/{run_id}/issue",
    # A repeat sets the same attendance, or remakes the month's report over its files.
    "/api/v1/quality/training/sessions/{session_id}/attendance",
    "/api/v1/quality/reports",
    # Anonymous sign-in (no user to key on), and tokens (replay would store the secret).
    "/api/v1/auth/token",
    "/api/v1/auth/sms-code",
    "/api/v1/tokens",
}


def test_every_create_endpoint_accepts_the_header():
    schema = api.get_openapi_schema(path_prefix="/api/")
    creates = [
        path
        for path, operations in schema["paths"].items()
        if "post" in operations and path not in ACTIONS_AND_AUTH
    ]
    assert len(creates) >= 9
    for path in creates:
        names = {p["name"] for p in schema["paths"][path]["post"].get("parameters", [])}
        assert KEY in names, path
