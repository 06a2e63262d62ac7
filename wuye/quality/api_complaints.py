"""``/api/v1/quality/complaints`` (tag ``quality``): the complaint analytics of the
console page as JSON, with the same filters (a range of local days, a community) and
the same scope (``quality.view``, the caller's communities). Bad filters are a 400
naming the field; a community outside the caller's scope is refused the same way."""

import datetime

from django.core.exceptions import ValidationError
from django.http import QueryDict
from ninja import Field, Query, Router, Schema

from wuye.core.apitools import READ_ERRORS, ErrorOut, Id, actor
from wuye.core.replica import reads_from_replica
from wuye.core.services import require
from wuye.quality import complaints, figures
from wuye.quality.forms_complaints import ComplaintFilterForm

router = Router(tags=["quality"])


class ComplaintFilters(Schema):
    date_from: datetime.date | None = Field(
        None,
        description="First local day (Asia/Shanghai); default: 1st of the month 11 months ago.",
    )
    date_to: datetime.date | None = Field(None, description="Last local day; default: today.")
    community: Id | None = Field(None, description="Community id; default: all of yours.")
    rows: int = Field(
        complaints.SHOWN,
        ge=1,
        le=500,
        description="Rows of the staff and repeat-complainant lists (totals are given).",
    )


class SliceOut(Schema):
    key: str = Field(description="Month (YYYY-MM-DD, its first day), code or id.")
    label: str
    complaints: int
    resolved: int
    resolved_share: float | None = Field(description="Percent of complaints resolved.")
    within_day: int = Field(description="Resolved within 24 h of submission.")
    median_hours: float | None = Field(description="Estimated inside duration bands.")


class ComplaintStaffOut(Schema):
    staff_id: int
    name: str
    complaints: int
    resolved: int
    last_at: datetime.datetime


class ComplainantOut(Schema):
    house_id: int | None
    label: str = Field(description="The house's address, or a contact and masked mobile.")
    complaints: int
    last_at: datetime.datetime
    last_order_id: int
    last_order_number: str


class IcebergOut(Schema):
    factor: int = Field(description="Dissatisfied households per complaint (company setting).")
    default_factor: int
    estimate: int = Field(description="Complaints × factor: an estimate, not a count.")
    source: str
    retention: list[str]


class ComplaintAnalyticsOut(Schema):
    date_from: datetime.date
    date_to: datetime.date
    community_ids: list[int] | None = Field(description="None: every community of the company.")
    complaints: int
    households: int = Field(description="Houses of the kind residence in scope.")
    per_thousand: float | None = Field(description="Complaints per 1,000 households.")
    resolved: int
    resolved_share: float | None
    within_day: int
    within_day_share: float | None
    median_hours: float | None
    p90_hours: float | None
    p90_open_ended: bool = Field(description="The p90 lies in the last band (over a week).")
    repeat_complaints: int = Field(description="Same house complained in the 90 days before.")
    iceberg: IcebergOut
    by_month: list[SliceOut]
    by_root_cause: list[SliceOut]
    by_category: list[SliceOut]
    by_community: list[SliceOut]
    by_party: list[SliceOut]
    staff: list[ComplaintStaffOut]
    staff_count: int
    repeat_houses: list[ComplainantOut]
    repeat_house_count: int
    repeat_mobiles: list[ComplainantOut]
    repeat_mobile_count: int


def _number(value) -> float | None:
    return None if value is None else float(value)


def _hours(duration) -> float | None:
    return None if duration is None else round(duration.hours, 2)


def _slices(slices) -> list[dict]:
    return [
        {
            "key": s.key.isoformat() if isinstance(s.key, datetime.date) else str(s.key),
            "label": s.label,
            "complaints": s.complaints,
            "resolved": s.resolved,
            "resolved_share": _number(s.resolved_share),
            "within_day": s.within_day,
            "median_hours": _hours(s.median),
        }
        for s in slices
    ]


@router.get(
    "/quality/complaints",
    response={200: ComplaintAnalyticsOut, 400: ErrorOut, 403: ErrorOut, **READ_ERRORS},
    summary="Complaint analytics",
    description=(
        "Complaints by month, root cause, category, community and party; handling times "
        "(medians estimated inside duration bands); the staff complained about; repeat "
        "complainants; the complaint-iceberg estimate. Counts by month, root cause, "
        "category and community come from rollups refreshed every 10 minutes."
    ),
)
@reads_from_replica
def complaints_analytics(request, filters: Query[ComplaintFilters]):
    who = actor(request)
    require(who, "quality.view")
    data = QueryDict(mutable=True)
    for name in ("date_from", "date_to", "community"):
        value = getattr(filters, name)
        if value is not None:
            data[name] = str(value)
    form = ComplaintFilterForm(data, actor=who)
    if not form.is_valid():
        raise ValidationError(
            {field: [str(e) for e in errors] for field, errors in form.errors.items()}
        )
    a = complaints.complaint_analytics(
        figures.scope_for(who, **form.scope_kwargs()), limit=filters.rows
    )
    scope = a.scope
    return {
        "date_from": scope.first,
        "date_to": scope.last,
        "community_ids": None if scope.community_ids is None else list(scope.community_ids),
        "complaints": a.complaints,
        "households": a.households,
        "per_thousand": _number(a.per_thousand),
        "resolved": a.resolved,
        "resolved_share": _number(a.resolved_share),
        "within_day": a.within_day,
        "within_day_share": _number(a.within_day_share),
        "median_hours": _hours(a.median),
        "p90_hours": _hours(a.p90),
        "p90_open_ended": bool(a.p90 and a.p90.open_ended),
        "repeat_complaints": a.repeat_complaints,
        "iceberg": {
            "factor": a.iceberg.factor,
            "default_factor": a.iceberg.default_factor,
            "estimate": a.iceberg.estimate,
            "source": str(complaints.ICEBERG_SOURCE),
            "retention": [str(fact) for fact in complaints.RETENTION_FACTS],
        },
        "by_month": _slices(a.by_month),
        "by_root_cause": _slices(a.by_root_cause),
        "by_category": _slices(a.by_category),
        "by_community": _slices(a.by_community),
        "by_party": _slices(a.by_party),
        "staff": [vars(row) for row in a.staff],
        "staff_count": a.staff_count,
        "repeat_houses": [vars(row) for row in a.repeat_houses],
        "repeat_house_count": a.repeat_house_count,
        "repeat_mobiles": [vars(row) for row in a.repeat_mobiles],
        "repeat_mobile_count": a.repeat_mobile_count,
    }
