"""``/api/v1/notifications/preferences`` and ``/api/v1/notifications/deliveries`` —
where a user's notifications go (their own, read and replaced with PUT), and the
company's email/SMS/WeChat delivery log for its administrators (``company.manage``),
with a retry of a failed delivery (Idempotency-Key accepted: a repeat returns the
first answer)."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    InputSchema,
    LocalTime,
    actor,
    choices_literal,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.notifications import deliveries, preferences, selectors
from wuye.notifications.channels import enabled_codes
from wuye.notifications.models import ChannelCode, DeliveryStatus, Topic

router = Router(tags=["engagement"])

TopicValue = choices_literal(Topic)
ChannelValue = choices_literal(ChannelCode)
StatusValue = choices_literal(DeliveryStatus)


class SwitchOut(Schema):
    topic: TopicValue
    channel: ChannelValue
    enabled: bool


class PreferencesOut(Schema):
    switches: list[SwitchOut] = Field(
        description="Every topic × channel pair; urgent notifications ignore them."
    )
    quiet_from: LocalTime | None = Field(description="Beijing time; may span midnight.")
    quiet_until: LocalTime | None
    wechat_openid: str
    language: str = Field(description="Message language; empty: the site's language.")
    channels_enabled: list[ChannelValue] = Field(
        description="Channels this site sends on (besides the in-app centre)."
    )


class SwitchIn(InputSchema):
    topic: TopicValue
    channel: ChannelValue
    enabled: bool


class PreferencesIn(InputSchema):
    switches: list[SwitchIn] = Field(
        [], max_length=100, description="Pairs not listed are on (the default)."
    )
    quiet_from: LocalTime | None = None
    quiet_until: LocalTime | None = None
    wechat_openid: str = Field("", max_length=64)
    language: str = Field("", max_length=10)


class DeliveryOut(Schema):
    id: int
    notification_id: int
    recipient_id: int
    recipient_name: str
    kind: str
    title: str
    urgent: bool
    channel: ChannelValue
    address: str
    status: StatusValue
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_error: str
    provider_ref: str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None

    @staticmethod
    def resolve_recipient_id(obj) -> int:
        return obj.notification.recipient_id

    @staticmethod
    def resolve_recipient_name(obj) -> str:
        return obj.notification.recipient.display_name

    @staticmethod
    def resolve_kind(obj) -> str:
        return obj.notification.kind

    @staticmethod
    def resolve_title(obj) -> str:
        return obj.notification.title

    @staticmethod
    def resolve_urgent(obj) -> bool:
        return obj.notification.urgent


class DeliveryFilters(Schema):
    channel: ChannelValue | None = None
    status: StatusValue | None = None
    date_from: datetime.date | None = Field(None, description="Created on or after (local).")
    date_to: datetime.date | None = Field(None, description="Created on or before (local).")
    q: str = Field(
        "", max_length=254, description="Recipient: exact mobile, email, username or name."
    )


def _out(found) -> dict:
    return {
        "switches": [
            {"topic": t, "channel": c, "enabled": found.enabled(t, c)} for t, c in preferences.PAIRS
        ],
        "quiet_from": found.settings.quiet_from,
        "quiet_until": found.settings.quiet_until,
        "wechat_openid": found.settings.wechat_openid,
        "language": found.settings.language,
        "channels_enabled": sorted(enabled_codes()),
    }


@router.get(
    "/notifications/preferences",
    response={200: PreferencesOut, 401: READ_ERRORS[401]},
    summary="My notification preferences",
)
def get_preferences(request):
    return _out(preferences.preferences_of(actor(request).user))


@router.put(
    "/notifications/preferences",
    response={200: PreferencesOut, **WRITE_ERRORS},
    summary="Replace my notification preferences",
    description="Switches per topic and channel, quiet hours (both ends or neither), "
    "WeChat OpenID, message language. Safe to repeat.",
)
def put_preferences(request, payload: PreferencesIn):
    who = actor(request)
    preferences.update_preferences(
        actor=who,
        switched_off=[(s.topic, s.channel) for s in payload.switches if not s.enabled],
        quiet_from=payload.quiet_from,
        quiet_until=payload.quiet_until,
        wechat_openid=payload.wechat_openid,
        language=payload.language,
    )
    return _out(preferences.preferences_of(who.user))


@router.get(
    "/notifications/deliveries",
    response={200: list[DeliveryOut], **LIST_ERRORS, 400: ErrorOut},
    summary="Delivery log",
    description="Email, SMS and WeChat deliveries to the company's staff and residents, "
    "newest first; company.manage (others get an empty list).",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_deliveries(request, filters: Query[DeliveryFilters]):
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    return selectors.delivery_log(
        actor(request),
        channel=filters.channel or "",
        status=filters.status or "",
        date_from=filters.date_from,
        date_to=filters.date_to,
        query=filters.q,
    )


@router.post(
    "/notifications/deliveries/{delivery_id}/retry",
    response={200: DeliveryOut, **WRITE_ERRORS},
    summary="Send a failed delivery again",
    description="company.manage; only a failed delivery (one more attempt, now).",
)
@idempotent
def retry_delivery(request, delivery_id: Id):
    who = actor(request)
    delivery = get_visible_or_404(selectors.deliveries(), who, pk=delivery_id)
    deliveries.retry_delivery(actor=who, delivery=delivery)
    return selectors.deliveries().select_related("notification__recipient").get(pk=delivery.pk)
