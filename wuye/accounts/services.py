"""Accounts: resident logins, API tokens, SMS one-time codes."""

import datetime
import logging
import secrets

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.accounts.models import ApiToken, SmsCode, User, hash_secret
from wuye.core.ratelimit import DAY, HOUR, check_windows
from wuye.notifications.providers import DeliveryError, Message, sms_provider

logger = logging.getLogger("wuye.accounts")


def get_or_create_mobile_user(*, mobile: str, name: str = "") -> User:
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        user = User(username=mobile, mobile=mobile, first_name=name[:150])
        user.set_unusable_password()
        user.save()
    return user


def get_or_create_mobile_users(*, names_by_mobile: dict[str, str]) -> dict[str, int]:
    """Bulk ``get_or_create_mobile_user``: user id by mobile, creating missing logins
    (no usable password) in batches. A mobile whose username is already taken by
    another account gets no login rather than someone else's."""
    found: dict[str, int] = {}
    mobiles = sorted(names_by_mobile)
    for start in range(0, len(mobiles), 2000):
        chunk = mobiles[start : start + 2000]
        found.update(User.objects.filter(mobile__in=chunk).values_list("mobile", "id"))
    missing = [m for m in mobiles if m not in found]
    taken: set[str] = set()
    for start in range(0, len(missing), 2000):
        chunk = missing[start : start + 2000]
        taken.update(User.objects.filter(username__in=chunk).values_list("username", flat=True))
    users = []
    for mobile in missing:
        if mobile in taken:
            continue
        # What set_unusable_password() stores, with one fast random call per user
        # instead of one per character (thousands of residents per import).
        users.append(
            User(
                username=mobile,
                mobile=mobile,
                first_name=names_by_mobile[mobile][:150],
                password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
            )
        )
    User.objects.bulk_create(users, batch_size=1000)
    found.update((user.mobile, user.pk) for user in users)
    return found


# --- API tokens -------------------------------------------------------------
@transaction.atomic
def create_api_token(
    *, actor, name: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for the actor; returns it with the secret, shown only once."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the token a name.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=actor.user,
        name=name[:64],
        key_prefix=secret[:10],
        key_hash=hash_secret(secret),
        expires_at=expires_at,
    )
    return token, secret


@transaction.atomic
def revoke_api_token(*, actor, token: ApiToken) -> ApiToken:
    updated = ApiToken.objects.filter(
        pk=token.pk, user_id=actor.user.pk, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    token.refresh_from_db()
    if not updated and token.revoked_at is None:
        raise ValidationError({"token": _("This token cannot be revoked.")})
    return token


def user_for_token(secret: str) -> User | None:
    """The active user behind a bearer secret, or None."""
    if not secret or not secret.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(key_hash=hash_secret(secret))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # Touch last-used at most once a minute to keep reads cheap.
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- SMS one-time codes -----------------------------------------------------
def send_login_code(*, mobile: str) -> None:
    """Send a 6-digit login code; sends nothing for unknown mobiles (the response must
    not reveal who is a resident). At most SMS_CODES_PER_HOUR / SMS_CODES_PER_DAY codes per
    mobile (web form and API together), counted from the stored codes: raises
    ``RateLimited``. Unknown mobiles get a row too (a code nobody receives), so the limit
    answers the same whether or not the mobile has an account."""
    check_windows(
        SmsCode.objects.filter(mobile=mobile),
        field="created_at",
        limits=[
            (
                settings.SMS_CODES_PER_HOUR,
                HOUR,
                _("%(limit)d codes were sent to this mobile in the last hour. Try again later."),
            ),
            (
                settings.SMS_CODES_PER_DAY,
                DAY,
                _(
                    "%(limit)d codes were sent to this mobile in the last 24 hours. "
                    "Try again tomorrow."
                ),
            ),
        ],
    )
    user = User.objects.filter(mobile=mobile, is_active=True).first()
    code = f"{secrets.randbelow(10**6):06d}"
    SmsCode.objects.create(
        mobile=mobile,
        code_hash=hash_secret(code),
        expires_at=timezone.now() + datetime.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    if user is None:
        return
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    text = _("Your Wuye login code is %(code)s, valid for %(minutes)d minutes.") % {
        "code": code,
        "minutes": minutes,
    }
    message = Message(subject="", text=text, params={"code": code, "minutes": minutes})
    try:
        sms_provider().send(mobile, message)
    except DeliveryError:
        # Said to nobody: an error only for registered mobiles would tell who lives here.
        # The person asks again after a minute; the log keeps the provider's answer.
        logger.warning("Login code SMS to %s failed", mobile, exc_info=True)


@transaction.atomic
def verify_login_code(*, mobile: str, code: str) -> User | None:
    """The user for a valid unused code; each wrong try counts against the latest code."""
    latest = (
        SmsCode.objects.select_for_update()
        .filter(mobile=mobile, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )
    if latest is None or latest.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
        return None
    if not secrets.compare_digest(latest.code_hash, hash_secret((code or "").strip())):
        SmsCode.objects.filter(pk=latest.pk).update(attempts=F("attempts") + 1)
        return None
    SmsCode.objects.filter(pk=latest.pk).update(used_at=timezone.now())
    return User.objects.filter(mobile=mobile, is_active=True).first()


def purge_expired_sms_codes() -> int:
    cutoff = timezone.now() - datetime.timedelta(days=1)
    deleted, _per_model = SmsCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted
