"""Sign-in (password and SMS code), sign-out, password, and the API-token page."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import PASSWORD
from wuye.accounts.forms import LoginForm
from wuye.accounts.models import ApiToken, SmsCode, User
from wuye.accounts.services import create_api_token
from wuye.notifications.providers import LoggingSmsProvider

LOGIN = reverse("accounts:login")
SMS_LOGIN = reverse("accounts:sms_login")
WRONG = str(LoginForm.error_messages["invalid_login"])


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


# --- password sign-in ----------------------------------------------------------
def test_login_page_renders(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="username"' in response.text and 'name="password"' in response.text
    assert SMS_LOGIN in response.text


@pytest.mark.parametrize(
    ("who", "identifier", "home"),
    [
        ("dispatcher", "dispatcher", "/console/"),
        ("technician", "technician", "/m/"),
        ("resident_a", "13800000001", "/h5/"),  # residents sign in with their mobile
    ],
)
def test_login_success_lands_on_role_home(cast, client, who, identifier, home):
    response = client.post(LOGIN, {"username": identifier, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200
    assert signed_in_user_id(client) == str(cast.users[who].pk)


def test_login_respects_safe_next_only(cast, client):
    response = client.post(
        LOGIN + "?next=/accounts/tokens/",
        {"username": "dispatcher", "password": PASSWORD, "next": "/accounts/tokens/"},
    )
    assert response.url == "/accounts/tokens/"
    client.logout()
    response = client.post(
        LOGIN, {"username": "dispatcher", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.url == "/"


@pytest.mark.parametrize(
    ("identifier", "password"),
    [
        ("dispatcher", "wrong-password"),  # wrong password
        ("13800000001", "wrong-password"),  # wrong password by mobile
        ("nosuchuser", PASSWORD),  # unknown username
        ("13700000000", PASSWORD),  # unknown mobile: same answer as a wrong password
    ],
)
def test_login_failure_shows_one_message(cast, client, identifier, password):
    response = client.post(LOGIN, {"username": identifier, "password": password})
    assert response.status_code == 200
    assert WRONG in response.text
    assert signed_in_user_id(client) is None


def test_login_inactive_user_refused_with_same_message(cast, client):
    user = cast.users["dispatcher"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.post(LOGIN, {"username": "dispatcher", "password": PASSWORD})
    assert response.status_code == 200
    assert WRONG in response.text
    assert signed_in_user_id(client) is None


def test_login_missing_fields_named(cast, client):
    response = client.post(LOGIN, {"username": "", "password": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"username", "password"}


def test_signed_in_user_visiting_login_goes_home(cast):
    response = cast.client("dispatcher").get(LOGIN)
    assert response.status_code == 302 and response.url == "/"


def test_logout_is_post_only(cast):
    client = cast.client("dispatcher")
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert signed_in_user_id(client) is not None
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response.url == LOGIN
    assert signed_in_user_id(client) is None


# --- SMS code sign-in ----------------------------------------------------------
@pytest.fixture
def sms_outbox(monkeypatch):
    sent = []

    def capture(self, mobile, message):
        sent.append((mobile, message.text))

    monkeypatch.setattr(LoggingSmsProvider, "send", capture)
    return sent


def _code(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def test_sms_login_sends_code_and_signs_in(cast, client, sms_outbox):
    response = client.post(SMS_LOGIN, {"mobile": "13800000001", "action": "send"})
    assert response.status_code == 200
    assert response.context["code_sent"]
    assert len(sms_outbox) == 1 and sms_outbox[0][0] == "13800000001"
    code = _code(sms_outbox[0][1])

    response = client.post(
        SMS_LOGIN, {"mobile": "13800000001", "code": code, "action": "verify"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/h5/"
    assert signed_in_user_id(client) == str(cast.users["resident_a"].pk)
    assert SmsCode.objects.get(mobile="13800000001").used_at is not None


def test_sms_login_wrong_code_is_a_form_error(cast, client, sms_outbox):
    client.post(SMS_LOGIN, {"mobile": "13800000001", "action": "send"})
    code = _code(sms_outbox[0][1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = client.post(SMS_LOGIN, {"mobile": "13800000001", "code": wrong, "action": "verify"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["code"]
    assert signed_in_user_id(client) is None
    assert SmsCode.objects.get(mobile="13800000001").attempts == 1


def test_sms_login_missing_code_is_a_form_error(cast, client):
    response = client.post(SMS_LOGIN, {"mobile": "13800000001", "action": "verify"})
    assert list(response.context["form"].errors) == ["code"]
    assert signed_in_user_id(client) is None


def test_sms_unknown_mobile_looks_the_same(cast, client, sms_outbox):
    known = client.post(SMS_LOGIN, {"mobile": "13800000001", "action": "send"})
    unknown = client.post(SMS_LOGIN, {"mobile": "13700000000", "action": "send"})
    assert unknown.status_code == known.status_code == 200
    messages = [[str(m) for m in r.context["messages"]] for r in (known, unknown)]
    assert messages[0] == messages[1] and messages[0]
    assert [mobile for mobile, _text in sms_outbox] == ["13800000001"]
    # a row all the same (a code nobody receives): the per-mobile limit counts it, so the
    # limit answers alike for both (tests/test_rate_limits.py)
    assert SmsCode.objects.filter(mobile="13700000000").count() == 1


def test_sms_resend_is_throttled(cast, client, sms_outbox):
    client.post(SMS_LOGIN, {"mobile": "13800000001", "action": "send"})
    client.post(SMS_LOGIN, {"mobile": "13800000001", "action": "send"})
    assert len(sms_outbox) == 1
    assert SmsCode.objects.filter(mobile="13800000001").count() == 1


@pytest.mark.parametrize("mobile", ["", "12345", "1380000000x", "23800000001"])
def test_sms_bad_mobile_is_a_form_error(cast, client, sms_outbox, mobile):
    response = client.post(SMS_LOGIN, {"mobile": mobile, "action": "send"})
    assert response.status_code == 200
    assert "mobile" in response.context["form"].errors
    assert sms_outbox == []


# --- password ------------------------------------------------------------------
def test_resident_without_password_sets_one(cast, client):
    user = cast.users["resident_a"]
    user.set_unusable_password()
    user.save()
    client.force_login(user)
    page = client.get(reverse("accounts:password"))
    assert page.status_code == 200
    assert "old_password" not in page.text
    response = client.post(
        reverse("accounts:password"),
        {"new_password1": "Cuihu-2026-home", "new_password2": "Cuihu-2026-home"},
    )
    assert response.status_code == 302 and response.url == reverse("accounts:profile")
    assert signed_in_user_id(client) == str(user.pk)  # still signed in
    client.logout()
    client.post(LOGIN, {"username": "13800000001", "password": "Cuihu-2026-home"})
    assert signed_in_user_id(client) == str(user.pk)


def test_change_password_needs_the_old_one(cast):
    client = cast.client("dispatcher")
    response = client.post(
        reverse("accounts:password"),
        {
            "old_password": "not-it",
            "new_password1": "Another-pass-99",
            "new_password2": "Another-pass-99",
        },
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    assert User.objects.get(pk=cast.users["dispatcher"].pk).check_password(PASSWORD)


def test_change_password_mismatch_is_an_error(cast):
    client = cast.client("dispatcher")
    response = client.post(
        reverse("accounts:password"),
        {"old_password": PASSWORD, "new_password1": "Another-pass-99", "new_password2": "x"},
    )
    assert "new_password2" in response.context["form"].errors
    assert User.objects.get(pk=cast.users["dispatcher"].pk).check_password(PASSWORD)


def test_profile_shows_masked_mobile(cast):
    response = cast.client("resident_a").get(reverse("accounts:profile"))
    assert response.status_code == 200
    assert "138****0001" in response.text
    assert "13800000001" not in response.text


# --- API tokens ----------------------------------------------------------------
TOKENS = reverse("accounts:tokens")


def test_tokens_page_needs_sign_in(db, client):
    response = client.get(TOKENS)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_create_token_shows_secret_once(cast):
    client = cast.client("dispatcher")
    response = client.post(TOKENS, {"name": "报表脚本", "expires_on": ""})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=cast.users["dispatcher"])
    secret = response.context["secret"]
    assert secret.startswith("wy_") and secret in response.text
    assert token.name == "报表脚本" and token.key_prefix == secret[:10]
    assert secret not in token.key_hash  # only a hash is stored
    again = client.get(TOKENS)
    assert secret not in again.text
    assert token.key_prefix in again.text and "报表脚本" in again.text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "ok", "expires_on": "2000-01-01"}, "expires_on"),
        ({"name": "ok", "expires_on": "not-a-date"}, "expires_on"),
    ],
)
def test_create_token_bad_input_names_the_field(cast, data, field):
    response = cast.client("dispatcher").post(TOKENS, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_tokens_list_only_own(cast):
    create_api_token(actor=cast.actor("technician"), name="技工的")
    create_api_token(actor=cast.actor("dispatcher"), name="调度的")
    response = cast.client("dispatcher").get(TOKENS)
    assert "调度的" in response.text and "技工的" not in response.text


def test_revoke_token_with_htmx(cast):
    token, _secret = create_api_token(actor=cast.actor("dispatcher"), name="mini")
    client = cast.client("dispatcher")
    url = reverse("accounts:token_revoke", args=[token.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and f'id="token-{token.pk}"' in response.text
    token.refresh_from_db()
    assert token.revoked_at is not None
    # Revoking again is harmless; without HTMX it redirects back to the list.
    response = client.post(url)
    assert response.status_code == 302 and response.url == TOKENS


def test_revoke_other_users_token_is_404(cast):
    token, _secret = create_api_token(actor=cast.actor("technician"), name="theirs")
    client = cast.client("dispatcher")
    for pk in (token.pk, 999999):
        response = client.post(reverse("accounts:token_revoke", args=[pk]))
        assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_repeated_failures_pause_that_username_from_that_address(cast, client):
    from wuye.accounts.forms import MAX_LOGIN_FAILURES

    throttled = str(LoginForm.error_messages["throttled"])
    for _ in range(MAX_LOGIN_FAILURES):
        response = client.post(LOGIN, {"username": "dispatcher", "password": "guess"})
        assert WRONG in response.text
    # Even the right password is refused now, from this address, for this username.
    response = client.post(LOGIN, {"username": "dispatcher", "password": PASSWORD})
    assert throttled in response.text
    assert signed_in_user_id(client) is None
    # Another user from the same address, and the same user from elsewhere, still sign in.
    client.post(LOGIN, {"username": "technician", "password": PASSWORD})
    assert signed_in_user_id(client) == str(cast.users["technician"].pk)
    client.logout()
    client.post(LOGIN, {"username": "dispatcher", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert signed_in_user_id(client) == str(cast.users["dispatcher"].pk)
