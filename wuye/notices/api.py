"""``/api/v1/notices`` — notices (公告) for staff: list, one notice, write, edit a draft,
publish, withdraw, receipts and read figures; ``/api/v1/resident/notices`` for residents:
the live notices of their houses, one notice, and marking it read.

Staff reads are scoped with ``selectors.staff_notices`` (``engagement.view`` or
``manage`` in the notice's community); resident reads with
``selectors.resident_notices`` (live notices that reached one of their current houses).
Every write calls ``wuye.notices.services``; a refusal is a 400 naming the field and
writes nothing. POSTs take an Idempotency-Key.
"""

import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    api_field_names,
    choices_literal,
    filter_by,
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates.audience import Audience
from wuye.estates.models import Building, Community, House, Unit
from wuye.notices import selectors, services
from wuye.notices.models import Kind, Notice
from wuye.notices.models import Status as NoticeStatus

router = Router(tags=["engagement"])

KindValue = choices_literal(Kind)
StatusValue = choices_literal(NoticeStatus)
AudienceValue = choices_literal(Audience)
API_FIELDS = {
    "community": "community_id",
    "buildings": "building_ids",
    "units": "unit_ids",
    "houses": "house_ids",
}


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int


class NoticeOut(Schema):
    id: int
    company_id: int
    community_id: int | None = Field(description="None for a company-wide notice.")
    kind: KindValue
    title: str
    body: str
    audience: AudienceValue
    building_ids: list[int]
    unit_ids: list[int]
    house_ids: list[int]
    is_emergency: bool
    is_pinned: bool
    event_starts_at: datetime.datetime | None
    event_ends_at: datetime.datetime | None
    publish_at: datetime.datetime | None
    expires_at: datetime.datetime | None
    status: StatusValue
    households: int = Field(description="Households reached (filled in by the fan-out).")
    recipients: int = Field(description="Residents notified.")
    published_at: datetime.datetime | None
    withdrawn_at: datetime.datetime | None
    photo_ids: list[int]
    attachments: list[AttachmentOut]
    created_at: datetime.datetime

    @staticmethod
    def resolve_building_ids(obj) -> list[int]:
        return sorted(b.pk for b in obj.buildings.all())

    @staticmethod
    def resolve_unit_ids(obj) -> list[int]:
        return sorted(u.pk for u in obj.units.all())

    @staticmethod
    def resolve_house_ids(obj) -> list[int]:
        return sorted(h.pk for h in obj.houses.all())

    @staticmethod
    def resolve_photo_ids(obj) -> list[int]:
        return sorted(p.pk for p in obj.photos.all())

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())


class NoticeListOut(Schema):
    id: int
    community_id: int | None
    kind: KindValue
    title: str
    audience: AudienceValue
    is_emergency: bool
    is_pinned: bool
    status: StatusValue
    publish_at: datetime.datetime | None
    published_at: datetime.datetime | None
    expires_at: datetime.datetime | None
    households: int
    read_households: int = 0
    created_at: datetime.datetime


class NoticeFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    kind: KindValue | None = None
    status: StatusValue | None = None
    q: str | None = Field(None, max_length=60, description="Part of the title.")


class NoticeIn(InputSchema):
    community_id: Id | None = Field(None, description="Empty only for audience 'company'.")
    audience: AudienceValue = "community"
    building_ids: list[Id] = Field(default_factory=list, max_length=500)
    unit_ids: list[Id] = Field(default_factory=list, max_length=500)
    house_ids: list[Id] = Field(default_factory=list, max_length=500)
    kind: KindValue = "notice"
    title: str = Field(max_length=120)
    body: str = Field(max_length=10000)
    is_emergency: bool = False
    is_pinned: bool = False
    event_starts_at: datetime.datetime | None = None
    event_ends_at: datetime.datetime | None = None
    publish_at: datetime.datetime | None = Field(
        None, description="In the future: publishing schedules it for that time."
    )
    expires_at: datetime.datetime | None = None


class NoticePatch(InputSchema):
    community_id: Id | None = None
    audience: AudienceValue | None = None
    building_ids: list[Id] | None = Field(None, max_length=500)
    unit_ids: list[Id] | None = Field(None, max_length=500)
    house_ids: list[Id] | None = Field(None, max_length=500)
    kind: KindValue | None = None
    title: str | None = Field(None, max_length=120)
    body: str | None = Field(None, max_length=10000)
    is_emergency: bool | None = None
    is_pinned: bool | None = None
    event_starts_at: datetime.datetime | None = None
    event_ends_at: datetime.datetime | None = None
    publish_at: datetime.datetime | None = None
    expires_at: datetime.datetime | None = None


class WithdrawIn(InputSchema):
    note: str = Field("", max_length=200)


class ReceiptOut(Schema):
    id: int
    house_id: int
    house: str = Field(description="The house's address.")
    building_id: int
    read_at: datetime.datetime | None
    read_by_name: str | None

    @staticmethod
    def resolve_house(obj) -> str:
        return obj.house.address

    @staticmethod
    def resolve_read_by_name(obj) -> str | None:
        return obj.read_by.display_name if obj.read_by_id else None


class ReceiptFilters(Schema):
    building: Id | None = Field(None, description="Building id.")
    read: bool | None = None


class BuildingStatsOut(Schema):
    building_id: int
    name: str
    households: int
    read: int
    rate: float | None


class ReadStatsOut(Schema):
    households: int
    read: int
    unread: int
    rate: float | None = Field(description="read / households; None before the fan-out.")
    recipients: int
    sending: bool = Field(description="The fan-out is still writing receipts.")
    buildings: list[BuildingStatsOut]


class ResidentNoticeOut(Schema):
    id: int
    community_id: int | None
    kind: KindValue
    title: str
    body: str
    is_emergency: bool
    is_pinned: bool
    event_starts_at: datetime.datetime | None
    event_ends_at: datetime.datetime | None
    published_at: datetime.datetime | None
    expires_at: datetime.datetime | None
    unread: bool = Field(description="No one of the caller's households has opened it.")
    photo_ids: list[int]
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_photo_ids(obj) -> list[int]:
        return sorted(p.pk for p in obj.photos.all())

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())


class ResidentFilters(Schema):
    unread: bool | None = None
    urgent: bool | None = Field(None, description="Only urgent notices (or only others).")


class MarkReadOut(Schema):
    changed: int = Field(description="Household receipts marked read now (0 if already).")


def _full():
    return Notice.objects.prefetch_related("buildings", "units", "houses", "photos", "attachments")


def _staff_notice(request, notice_id):
    who = actor(request)
    return get_visible_or_404(selectors.staff_notices(who), who, pk=notice_id)


def _targets(who, building_ids, unit_ids, house_ids) -> dict:
    return {
        "buildings": visible_refs(Building.objects, who, building_ids, "building_ids"),
        "units": visible_refs(Unit.objects, who, unit_ids, "unit_ids"),
        "houses": visible_refs(House.objects, who, house_ids, "house_ids"),
    }


@router.get(
    "/notices",
    response={200: list[NoticeListOut], **LIST_ERRORS},
    summary="List notices (公告)",
    description="Newest first. engagement.view or engagement.manage, the notices of the "
    "caller's communities (company-wide ones: company-wide staff).",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_notices(request, filters: Query[NoticeFilters]):
    qs = selectors.with_read_counts(selectors.staff_notices(actor(request)))
    qs = filter_by(qs, filters, community="community_id", kind="kind", status="status")
    if filters.q:
        qs = qs.filter(title__icontains=filters.q.strip())
    return qs


@router.post(
    "/notices",
    response={201: NoticeOut, **WRITE_ERRORS},
    summary="Write a notice (draft)",
    description="engagement.manage in the community; targets (buildings, units or "
    "houses) must be of that community. Publish it with /publish.",
)
@idempotent
def create_notice(request, payload: NoticeIn):
    who = actor(request)
    community = visible_ref(Community.objects, who, payload.community_id, "community_id")
    targets = _targets(who, payload.building_ids, payload.unit_ids, payload.house_ids)
    fields = payload.dict(exclude={"community_id", "building_ids", "unit_ids", "house_ids"})
    with api_field_names(API_FIELDS):
        notice = services.create_notice(actor=who, community=community, **fields, **targets)
    return Status(201, _full().get(pk=notice.pk))


@router.get("/notices/{notice_id}", response={200: NoticeOut, **READ_ERRORS})
def get_notice(request, notice_id: Id):
    """One notice with its targets, images and files."""
    notice = _staff_notice(request, notice_id)
    return _full().get(pk=notice.pk)


@router.patch(
    "/notices/{notice_id}",
    response={200: NoticeOut, **WRITE_ERRORS},
    summary="Edit a draft or scheduled notice",
    description="Only the fields given change. A published notice cannot be edited.",
)
def update_notice(request, notice_id: Id, payload: NoticePatch):
    who = actor(request)
    notice = _staff_notice(request, notice_id)
    given = payload.dict(exclude_unset=True)
    changes = {}
    if "community_id" in given:
        changes["community"] = visible_ref(
            Community.objects, who, given.pop("community_id"), "community_id"
        )
    for api_name, name, model in (
        ("building_ids", "buildings", Building),
        ("unit_ids", "units", Unit),
        ("house_ids", "houses", House),
    ):
        if api_name in given:
            changes[name] = visible_refs(model.objects, who, given.pop(api_name) or [], api_name)
    changes.update({k: v for k, v in given.items() if v is not None or k.endswith("_at")})
    with api_field_names(API_FIELDS):
        services.update_notice(actor=who, notice=notice, **changes)
    return _full().get(pk=notice.pk)


@router.post(
    "/notices/{notice_id}/publish",
    response={200: NoticeOut, **WRITE_ERRORS},
    summary="Publish (or schedule) a notice",
    description="A draft with publish_at in the future becomes scheduled; otherwise it "
    "is published now and fanned out in the background (receipts per household, in-app "
    "notifications, SMS when urgent).",
)
@idempotent
def publish_notice(request, notice_id: Id):
    notice = _staff_notice(request, notice_id)
    services.publish_notice(actor=actor(request), notice=notice)
    return _full().get(pk=notice.pk)


@router.post(
    "/notices/{notice_id}/withdraw",
    response={200: NoticeOut, **WRITE_ERRORS},
    summary="Withdraw a notice",
    description="A scheduled or published notice; residents no longer see it.",
)
@idempotent
def withdraw_notice(request, notice_id: Id, payload: WithdrawIn):
    notice = _staff_notice(request, notice_id)
    services.withdraw_notice(actor=actor(request), notice=notice, note=payload.note)
    return _full().get(pk=notice.pk)


@router.get(
    "/notices/{notice_id}/receipts",
    response={200: list[ReceiptOut], **LIST_ERRORS, 404: ErrorOut},
    summary="Read receipts of a notice",
    description="One row per household reached; filter by building and read.",
)
@paginate(IdCursorPagination)
def list_receipts(request, notice_id: Id, filters: Query[ReceiptFilters]):
    notice = _staff_notice(request, notice_id)
    return selectors.receipts(notice, building_id=filters.building, read=filters.read)


@router.get(
    "/notices/{notice_id}/read-stats",
    response={200: ReadStatsOut, **READ_ERRORS},
    summary="Read rate of a notice",
    description="Households reached and read, overall and per building.",
)
def read_stats(request, notice_id: Id):
    notice = _staff_notice(request, notice_id)
    counts = selectors.read_counts(notice)
    return {
        **counts,
        "recipients": notice.recipients,
        "sending": selectors.sending(notice),
        "buildings": selectors.building_counts(notice),
    }


# --- residents ------------------------------------------------------------------------------
def _resident_notice(request, notice_id):
    notice = (
        selectors.resident_notices(actor(request))
        .prefetch_related("photos", "attachments")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        raise Http404
    return notice


@router.get(
    "/resident/notices",
    response={200: list[ResidentNoticeOut], **LIST_ERRORS},
    summary="My notices",
    description="Live notices that reached one of the caller's houses, newest first. "
    "Ask with unread=true&urgent=true first to show urgent ones on opening.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_my_notices(request, filters: Query[ResidentFilters]):
    qs = selectors.resident_notices(actor(request)).prefetch_related("photos", "attachments")
    if filters.unread is not None:
        qs = qs.filter(unread=filters.unread)
    if filters.urgent is not None:
        qs = qs.filter(is_emergency=filters.urgent)
    return qs


@router.get("/resident/notices/{notice_id}", response={200: ResidentNoticeOut, **READ_ERRORS})
def get_my_notice(request, notice_id: Id):
    """One notice of the caller's houses (reading it here does not mark it read)."""
    return _resident_notice(request, notice_id)


@router.post(
    "/resident/notices/{notice_id}/read",
    response={200: MarkReadOut, **WRITE_ERRORS},
    summary="Mark a notice read",
    description="The caller's households' receipts get read now (once).",
)
@idempotent
def mark_my_notice_read(request, notice_id: Id):
    notice = _resident_notice(request, notice_id)
    return {"changed": services.mark_read(actor=actor(request), notice=notice)}
