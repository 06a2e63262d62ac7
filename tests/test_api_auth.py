"""/api/v1 sign-in, /me, own API tokens, bearer vs session (CSRF)."""

import datetime
import re

import pytest
from api_helpers import bearer_client, get, ids, post
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from wuye.accounts.models import ApiToken, SmsCode
from wuye.estates.models import Community
from wuye.people.models import Residency

PASSWORD = "test-pass-123"  # tests/conftest.py


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def sign_in(data):
    return post(Client(), "/auth/token", data)


def test_password_sign_in_gives_a_working_bearer_token(cast):
    response = sign_in({"username": "dispatcher", "password": PASSWORD, "name": "调度台"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token"].startswith("wy_") and body["expires_at"]
    token = ApiToken.objects.get(pk=body["token_id"])
    assert token.user == cast.users["dispatcher"] and token.name == "调度台"
    client = Client(headers={"Authorization": f"Bearer {body['token']}"})
    me = get(client, "/me").json()
    assert me["staff"]["roles"] == ["dispatcher"]
    assert me["staff"]["community_ids"] == [cast.community_x.id]
    assert "people.manage" in me["staff"]["permissions"]
    assert me["home"] == "console" and me["houses"] == []


def test_resident_signs_in_with_mobile_and_password(cast):
    user = cast.users["resident_a"]
    response = sign_in({"mobile": user.mobile, "password": PASSWORD})
    assert response.status_code == 201, response.content
    client = Client(headers={"Authorization": f"Bearer {response.json()['token']}"})
    me = get(client, "/me").json()
    assert me["staff"] is None and me["home"] == "resident"
    assert [h["house_id"] for h in me["houses"]] == [cast.house_a.id]
    assert me["houses"][0]["relation"] == "owner"
    assert ids(get(client, "/houses")) == {cast.house_a.id}


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"username": "dispatcher", "password": "wrong"}, 401),
        ({"username": "ghost", "password": PASSWORD}, 401),
        ({"mobile": "13800000001", "code": "000000"}, 401),
        ({"username": "dispatcher"}, 400),
        ({}, 400),
        ({"password": PASSWORD}, 400),
        ({"mobile": "not-a-mobile", "code": "123456"}, 422),
        ({"username": "dispatcher", "password": 123}, 422),
    ],
)
def test_failed_sign_in_issues_nothing(cast, data, status):
    response = sign_in(data)
    assert response.status_code == status, response.content
    assert not ApiToken.objects.exists()


def test_sms_code_sign_in(cast, caplog):
    mobile = cast.users["resident_b"].mobile
    with caplog.at_level("INFO", logger="wuye.notifications"):
        response = post(Client(), "/auth/sms-code", {"mobile": mobile})
    assert response.status_code == 202
    code = re.search(r"\b(\d{6})\b", caplog.text).group(1)
    wrong = "999999" if code != "999999" else "000000"
    assert sign_in({"mobile": mobile, "code": wrong}).status_code == 401
    response = sign_in({"mobile": mobile, "code": code})
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == cast.users["resident_b"].pk
    # A code works once.
    assert sign_in({"mobile": mobile, "code": code}).status_code == 401


def test_sms_code_for_unknown_mobile_answers_the_same(cast):
    response = post(Client(), "/auth/sms-code", {"mobile": "13012345678"})
    assert response.status_code == 202
    # no SMS, but a row all the same: the per-mobile limit answers alike for everyone
    assert SmsCode.objects.filter(mobile="13012345678").count() == 1
    assert post(Client(), "/auth/sms-code", {"mobile": "123"}).status_code == 422


def test_sms_code_requests_are_throttled(cast):
    mobile = cast.users["resident_a"].mobile
    client = Client(REMOTE_ADDR="203.0.113.7")  # its own throttle bucket
    statuses = [post(client, "/auth/sms-code", {"mobile": mobile}).status_code for _ in range(6)]
    assert statuses == [202] * 5 + [429]
    assert SmsCode.objects.filter(mobile=mobile).count() == 5


def test_token_create_use_revoke(cast):
    session = cast.client("technician")
    response = post(session, "/tokens", {"name": "巡检 App"})
    assert response.status_code == 201, response.content
    secret, token_id = response.json()["token"], response.json()["id"]
    assert response.json()["is_active"] is True
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    assert get(api, "/me").status_code == 200
    assert ids(get(session, "/tokens")) == {token_id}
    assert "token" not in get(session, f"/tokens/{token_id}").json()
    response = post(session, f"/tokens/{token_id}/revoke")
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert get(api, "/me").status_code == 401
    assert get(api, "/houses").status_code == 401


def test_tokens_are_private(cast):
    bearer_client(cast.users["dispatcher"])
    theirs = ApiToken.objects.get(user=cast.users["dispatcher"])
    other = cast.client("company_admin")
    assert ids(get(other, "/tokens")) == set()
    assert get(other, f"/tokens/{theirs.id}").status_code == 404
    assert post(other, f"/tokens/{theirs.id}/revoke").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_bad_token_input(cast):
    client = cast.client("technician")
    assert post(client, "/tokens", {"name": "  "}).status_code == 400
    response = post(client, "/tokens", {"name": "x", "expires_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 400 and "expires_at" in response.json()["detail"]
    assert post(client, "/tokens", {"name": "x", "expires_at": "soon"}).status_code == 422
    # A time without an offset is local (Asia/Shanghai), not an error.
    response = post(client, "/tokens", {"name": "x", "expires_at": "2099-01-01T08:00:00"})
    assert response.status_code == 201, response.content
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.expires_at == datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
    token.delete()
    assert post(client, "/tokens", {"name": "x" * 65}).status_code == 422
    assert not ApiToken.objects.exists()


def test_garbage_bearer_is_401(cast):
    for header in ("Bearer nope", "Bearer wy_forged", "Basic abc", "Bearer "):
        assert get(Client(headers={"Authorization": header}), "/me").status_code == 401


def test_session_posts_need_csrf_bearer_posts_do_not(cast):
    data = {"name": "新城", "code": "xc"}
    session = Client(enforce_csrf_checks=True)
    session.force_login(cast.users["company_admin"])
    response = post(session, "/communities", data)
    assert response.status_code == 403
    assert not Community.objects.filter(code="xc").exists()
    # With the CSRF cookie and the matching header, the session POST goes through.
    csrf = "c" * 32
    session.cookies[settings.CSRF_COOKIE_NAME] = csrf
    response = post(session, "/communities", data, **{"X-CSRFToken": csrf})
    assert response.status_code == 201, response.content
    # A bearer client never needs CSRF.
    bearer = bearer_client(cast.users["company_admin"])
    bearer.handler.enforce_csrf_checks = True
    response = post(bearer, "/communities", {"name": "新区", "code": "xq"})
    assert response.status_code == 201, response.content


def test_me_for_users_without_roles(cast):
    me = get(cast.client("nobody"), "/me").json()
    assert me["staff"] is None and me["houses"] == []
    assert get(Client(), "/me").status_code == 401


def test_moved_out_resident_has_no_houses_in_me(cast):
    Residency.objects.filter(resident=cast.resident_a).update(move_out=datetime.date(2024, 6, 30))
    me = get(cast.client("resident_a"), "/me").json()
    assert me["houses"] == []
