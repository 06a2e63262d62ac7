"""``/api/v1`` — sign-in for API clients (``auth``), the current actor, and own tokens."""

import datetime

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate
from ninja.throttling import AnonRateThrottle

from wuye.accounts import services
from wuye.accounts.actor import Actor
from wuye.accounts.models import ApiToken
from wuye.accounts.schemas import (
    ApiTokenCreated,
    ApiTokenIn,
    ApiTokenOut,
    IssuedToken,
    MeOut,
    Message,
    SmsCodeRequest,
    TokenRequest,
)
from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    actor,
)
from wuye.core.scoping import get_visible_or_404

# Tokens issued by signing in expire; long-lived ones are created explicitly.
SIGN_IN_TOKEN_LIFETIME = datetime.timedelta(days=30)

auth_router = Router(tags=["auth"])
tokens_router = Router(tags=["tokens"])


class SignInThrottle(AnonRateThrottle):
    scope = "sign_in"


class SmsThrottle(AnonRateThrottle):
    scope = "sms_code"


@auth_router.post(
    "/auth/token",
    auth=None,
    throttle=[SignInThrottle("20/m")],
    response={201: IssuedToken, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Sign in and get a bearer token",
    description=(
        "Username or mobile with a password, or mobile with an SMS code from "
        "`POST /api/v1/auth/sms-code`. The token expires after 30 days."
    ),
)
def issue_token(request, payload: TokenRequest):
    if payload.password:
        identifier = payload.username or payload.mobile
        if not identifier:
            raise ValidationError({"username": _("Give a username or mobile.")})
        user = authenticate(request, username=identifier, password=payload.password)
    elif payload.code and payload.mobile:
        user = services.verify_login_code(mobile=payload.mobile, code=payload.code)
    else:
        raise ValidationError(
            _("Give a username or mobile with a password, or a mobile with an SMS code.")
        )
    if user is None:
        return Status(401, {"detail": _("Wrong credentials or expired code.")})
    token, secret = services.create_api_token(
        actor=Actor(user),
        name=payload.name,
        expires_at=timezone.now() + SIGN_IN_TOKEN_LIFETIME,
    )
    return Status(
        201,
        {"token": secret, "token_id": token.id, "expires_at": token.expires_at, "user_id": user.pk},
    )


@auth_router.post(
    "/auth/sms-code",
    auth=None,
    throttle=[SmsThrottle("5/m")],
    response={202: Message, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Send an SMS login code",
    description="Always answers 202, whether or not the mobile belongs to an account.",
)
def request_sms_code(request, payload: SmsCodeRequest):
    services.send_login_code(mobile=payload.mobile)
    return Status(202, {"detail": _("If this mobile is registered, a code has been sent.")})


@auth_router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="The signed-in actor")
def me(request):
    from wuye.people.models import Residency

    who = actor(request)
    user = who.user
    staff = None
    if who.staff:
        member = who.staff
        staff = {
            "id": member.id,
            "company_id": member.company_id,
            "company_name": member.company.name,
            "employee_no": member.employee_no,
            "name": member.name,
            "status": member.status,
            "company_wide": who.company_wide,
            "roles": sorted(who.role_codes),
            "permissions": sorted(who.permissions),
            "community_ids": sorted(who.community_ids),
        }
    ties = (
        Residency.objects.visible_to(who)
        .active()
        .filter(resident__user_id=user.pk)
        .select_related("house__community", "house__building", "house__unit")
    )
    return {
        "user": {
            "id": user.pk,
            "username": user.username,
            "name": user.display_name,
            "mobile": user.mobile,
        },
        "home": who.home,
        "staff": staff,
        "houses": [
            {
                "house_id": tie.house_id,
                "address": tie.house.address,
                "community_id": tie.house.community_id,
                "relation": tie.relation,
            }
            for tie in ties
        ],
    }


# --- own API tokens -----------------------------------------------------------
@tokens_router.get(
    "/tokens", response={200: list[ApiTokenOut], **LIST_ERRORS}, summary="List own API tokens"
)
@paginate(IdCursorPagination)
def list_tokens(request):
    return ApiToken.objects.visible_to(actor(request))


@tokens_router.post(
    "/tokens",
    response={201: ApiTokenCreated, **WRITE_ERRORS},
    summary="Create an API token",
    description=(
        "The secret is in the response only. No Idempotency-Key here: replaying would "
        "mean storing the secret; on a lost response, revoke and create another."
    ),
)
def create_token(request, payload: ApiTokenIn):
    token, secret = services.create_api_token(
        actor=actor(request), name=payload.name, expires_at=payload.expires_at
    )
    data = ApiTokenOut.from_orm(token).model_dump()
    return Status(201, {**data, "token": secret})


@tokens_router.get("/tokens/{token_id}", response={200: ApiTokenOut, **READ_ERRORS})
def get_token(request, token_id: Id):
    return get_visible_or_404(ApiToken.objects, actor(request), pk=token_id)


@tokens_router.post(
    "/tokens/{token_id}/revoke",
    response={200: ApiTokenOut, **WRITE_ERRORS},
    summary="Revoke an API token",
)
def revoke_token(request, token_id: Id):
    who = actor(request)
    token = get_visible_or_404(ApiToken.objects, who, pk=token_id)
    return services.revoke_api_token(actor=who, token=token)
