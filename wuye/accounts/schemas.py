"""API shapes for sign-in, the current actor and API tokens."""

import datetime

from django.utils import timezone
from ninja import Field, Schema
from pydantic import field_validator

from wuye.core.apitools import NO_NUL, InputSchema

MOBILE_PATTERN = r"^1[3-9]\d{9}$"


class TokenRequest(InputSchema):
    """Either (username or mobile) + password, or mobile + SMS code."""

    username: str | None = Field(
        None, max_length=150, pattern=NO_NUL, description="Username or mobile."
    )
    mobile: str | None = Field(None, pattern=MOBILE_PATTERN)
    password: str | None = Field(None, max_length=128)
    code: str | None = Field(None, max_length=12, description="SMS login code.")
    name: str = Field(
        "API", max_length=64, pattern=NO_NUL, description="A label for the token, e.g. 小程序."
    )


class IssuedToken(Schema):
    token: str = Field(
        description="The bearer secret; shown only once. Send `Authorization: Bearer …`."
    )
    token_id: int
    expires_at: datetime.datetime | None
    user_id: int


class SmsCodeRequest(InputSchema):
    mobile: str = Field(pattern=MOBILE_PATTERN)


class Message(Schema):
    detail: str


class UserOut(Schema):
    id: int
    username: str
    name: str
    mobile: str | None


class StaffProfile(Schema):
    id: int
    company_id: int
    company_name: str
    employee_no: str
    name: str
    status: str
    company_wide: bool
    roles: list[str]
    permissions: list[str]
    community_ids: list[int]


class ResidentHouse(Schema):
    house_id: int
    address: str
    community_id: int
    relation: str


class MeOut(Schema):
    user: UserOut
    home: str = Field(description="Which surface this actor lands on: console, field or resident.")
    staff: StaffProfile | None
    houses: list[ResidentHouse] = Field(description="Houses the actor currently lives in.")


class ApiTokenOut(Schema):
    id: int
    name: str
    key_prefix: str
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    is_active: bool


class ApiTokenIn(InputSchema):
    name: str = Field(max_length=64, pattern=NO_NUL)
    expires_at: datetime.datetime | None = Field(
        None,
        description="Without a UTC offset: server time zone (default Asia/Shanghai).",
    )

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value):
        if value is not None and timezone.is_naive(value):
            return timezone.make_aware(value)
        return value


class ApiTokenCreated(ApiTokenOut):
    token: str = Field(description="The bearer secret; shown only once.")
