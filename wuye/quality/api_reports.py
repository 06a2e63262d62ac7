"""``/api/v1/quality/reports`` — the monthly service reports: the list of the caller's
communities (quality.view), each one's PDF and Excel, and generating one now
(quality.manage; regenerating replaces the files). See ``wuye.quality.reports``."""

import datetime

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
)
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.estates.models import Community
from wuye.quality import reports
from wuye.quality.models import MonthlyReport

router = Router(tags=["quality"])
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class ReportOut(Schema):
    id: int
    community_id: int
    community: str
    month: str = Field(description="YYYY-MM.")
    generated_at: datetime.datetime
    emailed_to: list[str] = Field(description="Addresses the report was emailed to.")

    @staticmethod
    def resolve_community(obj) -> str:
        return obj.community.name

    @staticmethod
    def resolve_month(obj) -> str:
        return f"{obj.month:%Y-%m}"


class ReportFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    month: str | None = Field(None, pattern=MONTH, description="YYYY-MM.")


class GenerateIn(InputSchema):
    community_id: Id
    month: str = Field(pattern=MONTH, description="YYYY-MM: this month so far, or a past one.")


def _month(text: str) -> datetime.date:
    return datetime.date.fromisoformat(f"{text}-01")


def _file(kind: str, mime: str) -> dict:
    return {
        "responses": {
            200: {
                "description": f"The report's {kind}, {mime} (as a download).",
                "content": {mime: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


@router.get(
    "/quality/reports",
    response={200: list[ReportOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Monthly service reports",
    description="The reports of the caller's communities, newest first; quality.view.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def reports_list(request, filters: Query[ReportFilters]):
    who = actor(request)
    require(who, reports.VIEW)
    found = MonthlyReport.objects.visible_to(who).select_related("community")
    if filters.community:
        found = found.filter(community_id=filters.community)
    if filters.month:
        found = found.filter(month=_month(filters.month))
    return found


@router.get(
    "/quality/reports/{report_id}/pdf",
    response=READ_ERRORS,
    summary="A monthly report's PDF",
    openapi_extra=_file("PDF", "application/pdf"),
)
def reports_pdf(request, report_id: Id):
    report = get_visible_or_404(
        MonthlyReport.objects.select_related("community"), actor(request), pk=report_id
    )
    return reports.file_response(report, "pdf")


@router.get(
    "/quality/reports/{report_id}/xlsx",
    response=READ_ERRORS,
    summary="A monthly report's Excel workbook",
    openapi_extra=_file("workbook", reports.CONTENT_TYPES["xlsx"]),
)
def reports_xlsx(request, report_id: Id):
    report = get_visible_or_404(
        MonthlyReport.objects.select_related("community"), actor(request), pk=report_id
    )
    return reports.file_response(report, "xlsx")


@router.post(
    "/quality/reports",
    response={201: ReportOut, **WRITE_ERRORS},
    summary="Generate a monthly report now",
    description="Makes (or remakes, replacing the files) a community's report of a month; "
    "a future month is a 400. quality.manage in the community. Not emailed.",
)
def reports_generate(request, payload: GenerateIn):
    who = actor(request)
    require(who, reports.MANAGE)
    community = Community.objects.filter(pk=payload.community_id).first()
    if community is None:
        raise Http404
    report = reports.generate_report(actor=who, community=community, month=_month(payload.month))
    return Status(201, report)
