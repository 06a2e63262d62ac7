"""``/api/v1/billing/dunning`` — 催缴: the houses owing overdue bills, reminding them, and
the reminders sent.

The same rules as the console (``wuye.billing.dunning``): ``billing.view`` sees the list of
its communities' houses, ``billing.collect`` sends reminders (houses outside the caller's
communities are refused, nothing is written). The list pages on the selector's own keyset
cursor (oldest due date, house id), not on ids. Every POST honours ``Idempotency-Key``.
"""

import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.billing import dunning
from wuye.billing.models import DunningNotice
from wuye.billing.schemas import MAX_MONEY, Money
from wuye.core.apitools import (
    LIST_ERRORS,
    NO_NUL,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    choices_literal,
)
from wuye.core.idempotency import idempotent
from wuye.core.services import require

router = Router(tags=["billing"])

ChannelValue = choices_literal(DunningNotice.Channel)
BucketValue = Literal[tuple(dunning.BUCKET_KEYS)]


# --- the list ---------------------------------------------------------------------------
class DunningFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    building: Id | None = Field(None, description="Building id.")
    bucket: BucketValue | None = Field(
        None, description="Aging bucket of the house's oldest overdue bill."
    )
    min_amount: Decimal | None = Field(
        None, ge=0, le=MAX_MONEY, description="Houses owing at least this much (yuan)."
    )
    not_reminded_days: int | None = Field(
        None, ge=1, le=3650, description="Houses not reminded in the last N days."
    )
    after: str | None = Field(
        None, max_length=40, description="Cursor: `next` of the previous page."
    )


class DunningRowOut(Schema):
    house_id: int
    address: str
    community_id: int
    residents: list[str] = Field(description="Current residents, owners first.")
    owed: Money = Field(description="Σ balance of the house's overdue bills.")
    bills: int = Field(description="Overdue bills (open or partly paid, due before today).")
    oldest_due_date: datetime.date
    days_overdue: int
    bucket: BucketValue
    bucket_label: str
    reminders: int = Field(description="Reminders the house had.")
    last_reminded_at: datetime.datetime | None
    last_channel: ChannelValue | None


class DunningTotalsOut(Schema):
    houses: int
    bills: int
    owed: Money


class DunningPageOut(Schema):
    as_of: datetime.date = Field(description="Today: bills due before it are overdue.")
    items: list[DunningRowOut]
    next: str | None = Field(description="Cursor of the next page (pass as `after`), or null.")
    totals: DunningTotalsOut = Field(description="Of every matching house, not just this page.")


def _row(row: dict) -> dict:
    last = row["last"]
    return {
        "house_id": row["house_id"],
        "address": row["house"].address,
        "community_id": row["house"].community_id,
        "residents": row["residents"],
        "owed": row["owed"],
        "bills": row["bills"],
        "oldest_due_date": row["oldest"],
        "days_overdue": row["days"],
        "bucket": row["bucket"],
        "bucket_label": str(row["bucket_label"]),
        "reminders": row["reminders"],
        "last_reminded_at": last.sent_at if last else None,
        "last_channel": last.channel if last else None,
    }


@router.get(
    "/billing/dunning",
    response={200: DunningPageOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Houses owing overdue bills (催缴)",
    description="billing.view; the caller's communities only. Longest overdue first "
    f"(oldest due date, then house id), {dunning.PAGE_SIZE} a page: pass `next` as `after` "
    "for the next page.",
)
def list_dunning(request, filters: Query[DunningFilters]):
    who = actor(request)
    require(who, "billing.view")
    if filters.after and not dunning.valid_cursor(filters.after):
        raise ValidationError({"after": _("This page link is not valid; start again.")})
    today = timezone.localdate()
    rows = dunning.dunning_houses(
        who,
        as_of=today,
        community=filters.community,
        building=filters.building,
        bucket=filters.bucket or "",
        min_amount=filters.min_amount,
        quiet_days=filters.not_reminded_days,
    )
    page = dunning.page_of(rows, after=filters.after or None, query=None)
    items = dunning.describe(who, page.items, today)
    return {
        "as_of": today,
        "items": [_row(row) for row in items],
        "next": page.next_after,
        "totals": dunning.totals(rows),
    }


# --- reminders --------------------------------------------------------------------------
class DunningNoticeOut(Schema):
    id: int
    house_id: int
    address: str
    community_id: int
    channel: ChannelValue
    amount_due: Money = Field(description="What the house owed overdue when reminded.")
    bills_count: int
    oldest_due_date: datetime.date | None
    recipients_count: int = Field(description="Residents the notice or SMS went to.")
    batch: str = Field(description="Reminders sent together share it.")
    note: str
    sent_by_name: str | None
    sent_at: datetime.datetime

    @staticmethod
    def resolve_address(obj) -> str:
        return obj.house.address

    @staticmethod
    def resolve_sent_by_name(obj) -> str | None:
        return obj.sent_by.display_name if obj.sent_by is not None else None


class RemindersIn(InputSchema):
    house_ids: list[Id] = Field(
        max_length=dunning.MAX_BATCH, description=f"At most {dunning.MAX_BATCH} houses."
    )
    channel: ChannelValue = Field(
        description="notice / sms: notify the residents; letter: a printable 催缴函; "
        "phone / visit: the record only (note required)."
    )
    note: str = Field("", max_length=200, pattern=NO_NUL)


class RemindersOut(Schema):
    batch: str
    channel: ChannelValue
    notices: list[DunningNoticeOut]
    skipped: int = Field(description="Houses chosen that owe nothing overdue any more.")
    recipients: int = Field(description="Residents notified.")


def _notices(who):
    return (
        DunningNotice.objects.visible_to(who)
        .select_related("house__community", "house__building", "house__unit", "sent_by")
        .order_by("-sent_at", "-id")
    )


@router.post(
    "/billing/dunning/reminders",
    response={201: RemindersOut, **WRITE_ERRORS},
    summary="Remind houses of what they owe",
    description="billing.collect; every house in the caller's communities. One reminder "
    "per house that still owes something overdue (the others are skipped); when none "
    "does, nothing is written (400).",
)
@idempotent
def send_reminders(request, payload: RemindersIn):
    who = actor(request)
    sent = dunning.send_reminders(
        actor=who, house_ids=payload.house_ids, channel=payload.channel, note=payload.note
    )
    notices = _notices(who).filter(batch=sent.batch).order_by("house_id")
    return Status(
        201,
        {
            "batch": sent.batch,
            "channel": sent.channel,
            "notices": list(notices),
            "skipped": sent.skipped,
            "recipients": sent.recipients,
        },
    )


class NoticeFilters(Schema):
    house: Id | None = Field(None, description="House id.")
    community: Id | None = Field(None, description="Community id.")
    channel: ChannelValue | None = None
    batch: str | None = Field(None, max_length=32, pattern=NO_NUL)


@router.get(
    "/billing/dunning/notices",
    response={200: list[DunningNoticeOut], **LIST_ERRORS},
    summary="Reminders sent (催缴记录)",
    description="Newest first (keyset-paginated on id, descending). Billing staff see "
    "their communities' reminders; others nothing.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_notices(request, filters: Query[NoticeFilters]):
    qs = _notices(actor(request))
    if filters.house:
        qs = qs.filter(house_id=filters.house)
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.batch:
        qs = qs.filter(batch=filters.batch)
    return qs
