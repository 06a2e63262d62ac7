"""``/api/v1/quality/care`` — the household care score (业主关怀指数): the ranked list
of households at risk on the latest day, one house's trend and reasons, and sending a
proactive visit (上门回访) as a service request.

quality.view in the house's community reads; quality.manage (and the permission to
record service requests) sends a visit. The score is defined in ``wuye.quality.care``.
"""

import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
)
from wuye.core.idempotency import idempotent
from wuye.quality import care

router = Router(tags=["quality"])


class ReasonOut(Schema):
    code: str = Field(description="Signal code, see the care score's definition.")
    label: str
    count: int
    points: int


class CareRowOut(Schema):
    id: int = Field(description="The snapshot's id.")
    house_id: int
    house: str = Field(description="The house's address.")
    community_id: int
    day: datetime.date
    score: int = Field(description="0–100.")
    reasons: list[ReasonOut]
    visit_order_id: int | None = Field(description="Proactive visit linked on this day.")

    @staticmethod
    def resolve_house(obj) -> str:
        return obj.house.address

    @staticmethod
    def resolve_reasons(obj) -> list[dict]:
        return care.labelled(obj.reasons)


class CareFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    threshold: int | None = Field(
        None, ge=1, le=100, description="Lowest score listed (default: the company's setting)."
    )
    q: str | None = Field(None, max_length=32, pattern=r"^[^\x00]*$", description="House number.")


class PointOut(Schema):
    day: datetime.date
    score: int


class CareVisitOut(Schema):
    id: int
    number: str
    status: str
    submitted_at: datetime.datetime


class CareHouseOut(Schema):
    house_id: int
    house: str
    community_id: int
    threshold: int
    day: datetime.date | None = Field(description="Day of the latest score; None: no signal.")
    score: int
    reasons: list[ReasonOut]
    trend: list[PointOut] = Field(description="Daily scores of the last 180 days with a signal.")
    visits: list[CareVisitOut] = Field(description="Proactive visits, newest first.")


class VisitIn(InputSchema):
    note: str = Field("", max_length=500)


def _house(request, house_id):
    found = (
        care.visible_houses(actor(request))
        .select_related("community", "building", "unit")
        .filter(pk=house_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


@router.get(
    "/quality/care",
    response={200: list[CareRowOut], **LIST_ERRORS},
    summary="Households at risk (care score)",
    description="The latest day's care scores at or above the threshold, highest first; "
    "quality.view, the caller's communities.",
)
@paginate(IdCursorPagination, ordering=("-score", "id"))
def care_list(request, filters: Query[CareFilters]):
    who = actor(request)
    threshold = filters.threshold or (care.care_threshold(who.staff.company_id) if who.staff else 1)
    snapshots, _day = care.ranked(
        who, community_id=filters.community, threshold=threshold, q=(filters.q or "").strip()
    )
    return snapshots.select_related("house__community", "house__building", "house__unit")


@router.get(
    "/quality/care/houses/{house_id}",
    response={200: CareHouseOut, **READ_ERRORS},
    summary="One household's care score",
)
def care_house(request, house_id: Id):
    """The latest score with its reasons, the daily trend and the proactive visits."""
    who = actor(request)
    place = _house(request, house_id)
    latest = care.latest_snapshot(place)
    return {
        "house_id": place.pk,
        "house": place.address,
        "community_id": place.community_id,
        "threshold": care.care_threshold(place.company_id),
        "day": latest.day if latest else None,
        "score": latest.score if latest else 0,
        "reasons": care.labelled(latest.reasons) if latest else [],
        "trend": [{"day": d, "score": s} for d, s in care.house_history(place)],
        "visits": list(care.house_visits(who, place)),
    }


@router.post(
    "/quality/care/houses/{house_id}/visit",
    response={201: CareVisitOut, **WRITE_ERRORS},
    summary="Send a proactive visit (上门回访)",
    description="Records a service request of category 上门回访 for the house; 400 while "
    "an earlier visit to it is still open. quality.manage and workorders.create.",
)
@idempotent
def care_visit(request, house_id: Id, payload: VisitIn):
    order = care.create_proactive_visit(
        actor=actor(request), house=_house(request, house_id), note=payload.note
    )
    return Status(201, order)
