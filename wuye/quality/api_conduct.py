"""``/api/v1/quality/spot-checks``, ``/api/v1/quality/conduct-items`` and
``/api/v1/quality/scorecard`` (tag ``quality``): conduct spot checks (品质巡查), the
company's checklist and the staff scorecard.

Reads are scoped like the console: spot checks with ``SpotCheck.objects.visible_to``
(quality viewers of the community, and the staff member checked), the scorecard with
``wuye.quality.scorecard.scorecard_members``. A create calls
``wuye.quality.spot_checks.record_spot_check``; a refusal is a 400 naming the field and
writes nothing. The create takes an Idempotency-Key.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
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
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.models import Photo
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.estates.models import Community
from wuye.quality import scorecard as cards
from wuye.quality import spot_checks as service
from wuye.quality.forms_conduct import MAX_DAYS
from wuye.quality.models import ConductAspect, SpotCheck
from wuye.staff.models import StaffMember

router = Router(tags=["quality"])

AspectValue = choices_literal(ConductAspect)
API_FIELDS = {"community": "community_id", "subject": "subject_id", "photos": "photo_ids"}


class MarkOut(Schema):
    item_id: int
    aspect: AspectValue
    text: str = Field(description="The item's text when checked.")
    points: int
    kept: bool
    note: str


class AspectScoreOut(Schema):
    aspect: AspectValue
    checked: int = Field(description="Points checked.")
    kept: int = Field(description="Points kept.")
    failed: int = Field(description="Lines failed.")
    score: Decimal


class SpotCheckListOut(Schema):
    id: int
    community_id: int
    subject_id: int
    subject_name: str
    inspector_id: int
    inspector_name: str
    place: str
    checked_at: datetime.datetime
    score: Decimal = Field(description="Points kept ÷ points checked × 100, one decimal.")

    @staticmethod
    def resolve_subject_name(obj) -> str:
        return obj.subject.name

    @staticmethod
    def resolve_inspector_name(obj) -> str:
        return obj.inspector.display_name


class SpotCheckOut(SpotCheckListOut):
    company_id: int
    note: str
    photo_ids: list[int]
    marks: list[MarkOut]
    aspects: list[AspectScoreOut]

    @staticmethod
    def resolve_photo_ids(obj) -> list[int]:
        return sorted(photo.pk for photo in obj.photos.all())

    @staticmethod
    def resolve_marks(obj) -> list:
        return list(obj.marks.order_by("id"))

    @staticmethod
    def resolve_aspects(obj) -> list:
        return service.check_aspects(obj)


class SpotCheckFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    subject: Id | None = Field(None, description="Staff member id.")
    failing_aspect: AspectValue | None = Field(None, description="A line of it failed.")
    date_from: datetime.date | None = Field(None, description="Checked on or after (local).")
    date_to: datetime.date | None = Field(None, description="Checked on or before (local).")
    score_below: Decimal | None = Field(None, ge=0, le=100, max_digits=4, decimal_places=1)


class MarkIn(InputSchema):
    item_id: Id = Field(description="An active conduct item of the company.")
    kept: bool = Field(True, description="符合 (true) or 不符合 (false).")
    note: str = Field("", max_length=200)


class SpotCheckIn(InputSchema):
    community_id: Id
    subject_id: Id = Field(description="The staff member checked (of that community).")
    marks: list[MarkIn] = Field(max_length=200, description="The checklist lines scored.")
    place: str = Field("", max_length=100)
    note: str = Field("", max_length=1000)
    photo_ids: list[Id] = Field(
        default_factory=list, max_length=9, description="Your uploads (POST /photos)."
    )


class ConductItemOut(Schema):
    id: int
    aspect: AspectValue
    rule_set: str
    text: str
    points: int
    is_active: bool
    sort_order: int


class ConductItemFilters(Schema):
    active: bool | None = Field(None, description="Only active (or only inactive) items.")


class ScorecardPartsOut(Schema):
    rating: Decimal | None
    sla: Decimal | None
    conduct: Decimal | None
    training: Decimal | None


class ScorecardOut(Schema):
    staff_id: int
    name: str
    employee_no: str
    rated: int
    rating_average: Decimal | None
    response_met: int
    response_missed: int
    resolution_met: int
    resolution_missed: int
    spot_checks: int
    conduct_average: Decimal | None
    courses_passed: int
    courses_active: int
    sessions_attended: int
    sessions_listed: int
    parts: ScorecardPartsOut = Field(description="Each part's score, 0–100; None: no data.")
    combined: Decimal | None = Field(
        description="Rating 40 %, SLA 30 %, conduct 20 %, training 10 %; parts without "
        "data left out and the rest re-weighted."
    )


class ScorecardFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    date_from: datetime.date | None = Field(None, description="Default: 90 days ago.")
    date_to: datetime.date | None = Field(None, description="Default: today.")
    q: str | None = Field(None, max_length=50, pattern=r"^[^\x00]*$", description="Name part.")
    sort: cards.Sort = "combined"


# --- spot checks ----------------------------------------------------------------------------
@router.get(
    "/quality/spot-checks",
    response={200: list[SpotCheckListOut], **LIST_ERRORS},
    summary="List conduct spot checks",
    description="Newest first. quality.view: the checks of the caller's communities; any "
    "staff member: the checks of themselves.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def conduct_list_spot_checks(request, filters: Query[SpotCheckFilters]):
    who = actor(request)
    checks = service.filter_spot_checks(
        service.visible_spot_checks(who),
        subject_id=filters.subject,
        failing_aspect=filters.failing_aspect or "",
        date_from=filters.date_from,
        date_to=filters.date_to,
        score_below=filters.score_below,
    )
    if filters.community:
        checks = checks.filter(community_id=filters.community)
    return checks.select_related("subject", "inspector")


@router.post(
    "/quality/spot-checks",
    response={201: SpotCheckOut, **WRITE_ERRORS},
    summary="Record a conduct spot check",
    description="quality.inspect in the community; the staff member must work there. "
    "The score is worked out from the marks (points kept ÷ points checked × 100).",
)
@idempotent
def conduct_create_spot_check(request, payload: SpotCheckIn):
    who = actor(request)
    require(who, "quality.inspect")
    community = visible_ref(Community.objects, who, payload.community_id, "community_id")
    subject = visible_ref(StaffMember.objects, who, payload.subject_id, "subject_id")
    photos = visible_refs(Photo.objects, who, payload.photo_ids, "photo_ids")
    with api_field_names(API_FIELDS):
        check = service.record_spot_check(
            actor=who,
            community=community,
            subject=subject,
            marks=[
                {"item": mark.item_id, "kept": mark.kept, "note": mark.note}
                for mark in payload.marks
            ],
            place=payload.place,
            note=payload.note,
            photos=photos,
        )
    return Status(201, _full().get(pk=check.pk))


def _full():
    return SpotCheck.objects.select_related("subject", "inspector").prefetch_related("photos")


@router.get("/quality/spot-checks/{check_id}", response={200: SpotCheckOut, **READ_ERRORS})
def conduct_get_spot_check(request, check_id: Id):
    """One spot check with its lines, score per aspect and photos."""
    who = actor(request)
    return get_visible_or_404(_full(), who, pk=check_id)


# --- the checklist --------------------------------------------------------------------------
@router.get(
    "/quality/conduct-items",
    response={200: list[ConductItemOut], **LIST_ERRORS, 403: ErrorOut},
    summary="List the conduct checklist",
    description="The company's checklist items in their order (quality.view or quality.inspect).",
)
@paginate(IdCursorPagination, ordering=("sort_order", "id"))
def conduct_list_items(request, filters: Query[ConductItemFilters]):
    who = actor(request)
    if not (who.has_perm("quality.view") or who.has_perm("quality.inspect")):
        raise PermissionDenied("quality.view")
    items = service.ordered_items(who.staff.company_id)
    if filters.active is not None:
        items = items.filter(is_active=filters.active)
    return items


# --- the scorecard --------------------------------------------------------------------------
@router.get(
    "/quality/scorecard",
    response={200: list[ScorecardOut], 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Staff scorecard",
    description="One row per active staff member of the caller's communities (quality.view) "
    "for a range of days (default the last 90, at most 366): resident ratings, SLA on their "
    "orders, spot checks, training and the combined score; sorted by combined score.",
)
def scorecard_list(request, filters: Query[ScorecardFilters]):
    who = actor(request)
    require(who, "quality.view")
    first, last = cards.default_range()
    first, last = filters.date_from or first, filters.date_to or last
    if last < first or (last - first).days >= MAX_DAYS:
        raise ValidationError(
            {"date_to": _("The range must end on or after its first day, within a year.")}
        )
    community = visible_ref(Community.objects, who, filters.community, "community")
    members = cards.scorecard_members(who, community=community, query=filters.q or "")
    rows = cards.scorecards(who, members, first, last, community=community, sort=filters.sort)
    return [
        {
            **{
                name: getattr(card, name)
                for name in ScorecardOut.model_fields
                if hasattr(card, name) and name not in ("parts", "combined")
            },
            "staff_id": card.member.pk,
            "name": card.member.name,
            "employee_no": card.member.employee_no,
            "parts": card.parts,
            "combined": card.combined,
        }
        for card in rows
    ]
