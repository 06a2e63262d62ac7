"""Excel workbooks of the service reports:

- ``monthly_workbook``: the monthly service report's figures (summary against the month
  before, per category, the twelve-month trend, complaints per root cause);
- ``export_repairs`` (报修汇总表): repair orders of a range per category, status and
  technician with their durations, from the rollups (``figures.measure_sums``) and,
  per technician, the same measure expressions over the orders (``rollups.order_measures``);
- ``export_charges`` (收费报表): billed, collected and the collection rate per building
  and month, from ``wuye.billing.selectors``.

The inspection report (巡检报表) is the facilities workbook and the complaint statistics
(投诉统计表) the complaints export; the reports page links to them.
"""

import io

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.billing import selectors as billing
from wuye.billing.money import add_months
from wuye.core.services import require
from wuye.core.xlsx import MONEY_FORMAT, ONE_DECIMAL, bold_row, time_cell, typed_cell
from wuye.quality import figures
from wuye.quality.figures import measure_sums, percent, percentile
from wuye.quality.rollups import annotate_orders, order_measures
from wuye.workorders.models import Category, RequestType, Status, WorkOrder

FORMATS = {"%": ONE_DECIMAL, "h": ONE_DECIMAL, "/5": "0.00"}


def _cell(sheet, value, unit=""):
    if isinstance(value, float):
        return typed_cell(sheet, value, ONE_DECIMAL)
    return typed_cell(sheet, value, FORMATS.get(unit))


def _about(sheet, title: str, rows: list[tuple[str, object]], now) -> None:
    sheet.append(bold_row(sheet, [title]))
    for label, value in rows:
        sheet.append([label, value])
    sheet.append(
        [_("Generated at (%(zone)s)") % {"zone": settings.TIME_ZONE}, time_cell(sheet, now)]
    )
    sheet.append([])


# --- the monthly report ---------------------------------------------------------------
def monthly_workbook(content) -> bytes:
    """The figures of ``content`` (``wuye.quality.reports.ReportContent``) as xlsx bytes."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Summary"))
    _about(
        sheet,
        content.title,
        [
            (_("Company"), content.company),
            (_("Community"), content.community),
            (_("Month"), f"{content.month:%Y-%m}"),
        ],
        content.generated_at,
    )
    sheet.append(bold_row(sheet, [_("Figure"), _("This month"), _("Month before"), _("Unit")]))
    for figure in content.headline:
        sheet.append(
            [
                figure.label,
                _cell(sheet, figure.value, figure.unit),
                _cell(sheet, figure.previous, figure.unit),
                figure.unit or None,
            ]
        )
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Definitions")]))
    for term, meaning in content.definitions:
        sheet.append([term, meaning])

    sheet = book.create_sheet(_("By category"))
    sheet.append(
        bold_row(
            sheet,
            [
                _("Category"),
                _("Orders"),
                _("Completed"),
                _("Completion rate (%)"),
                _("Resolution on time (%)"),
                _("Average rating"),
            ],
        )
    )
    for row in content.categories:
        sheet.append(
            [
                row["name"],
                row["created"],
                row["completed"],
                _cell(sheet, row["completion"], "%"),
                _cell(sheet, row["on_time"], "%"),
                _cell(sheet, row["rating"], "/5"),
            ]
        )

    sheet = book.create_sheet(_("Trend"))
    sheet.append(
        bold_row(
            sheet,
            [
                _("Month"),
                _("Orders"),
                _("Completed"),
                _("Resolution on time (%)"),
                _("Satisfaction (%)"),
            ],
        )
    )
    for row in content.trend:
        sheet.append(
            [
                f"{row['month']:%Y-%m}",
                row["created"],
                row["completed"],
                _cell(sheet, row["on_time"], "%"),
                _cell(sheet, row["satisfaction"], "%"),
            ]
        )

    sheet = book.create_sheet(_("Complaints"))
    sheet.append(bold_row(sheet, [_("Figure"), _("This month"), _("Unit")]))
    for figure in content.complaint_figures:
        sheet.append([figure.label, _cell(sheet, figure.value, figure.unit), figure.unit or None])
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Root cause"), _("Complaints")]))
    for cause, count in content.complaints:
        sheet.append([cause, count])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- 报修汇总表 -----------------------------------------------------------------------
DURATION_HEADERS = (
    "Orders",
    "Completed",
    "Cancelled",
    "Reopened",
    "First-time fix rate (%)",
    "Resolution on time (%)",
    "Median response (h)",
    "Mean resolution (h)",
    "Median resolution (h)",
    "p90 resolution (h)",
    "Average rating",
)


def _hours(duration):
    return None if duration is None else round(duration.hours, 1)


def _measure_cells(sheet, sums) -> list:
    met, missed = sums["resolution_met"], sums["resolution_missed"]
    return [
        sums["created"],
        sums["completed"],
        sums["cancelled"],
        sums["reopened"],
        _cell(sheet, percent(sums["first_time_fixed"], sums["completed"]), "%"),
        _cell(sheet, percent(met, met + missed), "%"),
        _cell(sheet, _hours(percentile(sums, "response", 0.5)), "h"),
        _cell(sheet, _hours(figures.mean_duration(sums, "resolution")), "h"),
        _cell(sheet, _hours(percentile(sums, "resolution", 0.5)), "h"),
        _cell(sheet, _hours(percentile(sums, "resolution", 0.9)), "h"),
        _cell(sheet, figures.mean(sums["rating_sum"], sums["rated"]), "/5"),
    ]


def _repair_orders(actor, scope):
    orders = WorkOrder.objects.visible_to(actor).filter(
        company_id=scope.company_id,
        request_type=RequestType.REPAIR,
        submitted_at__gte=scope.starts_at,
        submitted_at__lt=scope.ends_at,
    )
    if scope.community_ids is not None:
        orders = orders.filter(community_id__in=scope.community_ids)
    return orders


def export_repairs(*, actor, scope, filters, out, now=None) -> None:
    """报修汇总表 of ``scope`` (from ``figures.scope_for``) to ``out``."""
    require(actor, "quality.view")
    now = now or timezone.now()
    rows = [
        row
        for row in measure_sums(scope, by=("request_type", "category_id"), now=now)
        if row["request_type"] == RequestType.REPAIR
    ]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Summary"))
    _about(sheet, _("Repair summary"), filters, now)
    sheet.append(bold_row(sheet, ["", *map(_, DURATION_HEADERS)]))
    sheet.append([_("All repairs"), *_measure_cells(sheet, figures.total(rows))])

    names = {
        c.id: str(c)
        for c in Category.objects.filter(id__in=[r["category_id"] for r in rows]).select_related(
            "parent"
        )
    }
    sheet = book.create_sheet(_("By category"))
    sheet.append(bold_row(sheet, [_("Category"), *map(_, DURATION_HEADERS)]))
    for row in sorted(rows, key=lambda r: (-r["created"], names.get(r["category_id"], ""))):
        sheet.append([names.get(row["category_id"], "?"), *_measure_cells(sheet, row)])

    orders = _repair_orders(actor, scope)
    sheet = book.create_sheet(_("By status"))
    sheet.append(bold_row(sheet, [_("Status"), _("Orders")]))
    counts = dict(orders.order_by().values_list("status").annotate(n=Count("id")))
    for status, label in Status.choices:
        if counts.get(status):
            sheet.append([str(label), counts[status]])

    sheet = book.create_sheet(_("By technician"))
    sheet.append(bold_row(sheet, [_("Technician"), *map(_, DURATION_HEADERS)]))
    by_person = (
        annotate_orders(orders)
        .values("assignee_id", "assignee__name")
        .annotate(**order_measures(now=now))
        .order_by("assignee__name", "assignee_id")
    )
    for row in by_person:
        name = row["assignee__name"] if row["assignee_id"] else _("Unassigned")
        sheet.append([name, *_measure_cells(sheet, figures._no_nulls(row))])
    book.save(out)


# --- 收费报表 -------------------------------------------------------------------------
def export_charges(*, actor, bills, first_month, last_month, filters, out, now=None) -> None:
    """收费报表: ``bills`` (scoped to the actor, filtered to a community) due in the
    months: billed, collected and the collection rate per building, per month, and per
    building and month."""
    require(actor, "billing.view")
    now = now or timezone.now()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Summary"))
    _about(sheet, _("Charges report"), filters, now)
    _rate_rows(sheet, _("All"), [billing.collection_rate(bills, first_month, last_month)], None)
    for title, by in ((_("By building"), "building"), (_("By month"), "month")):
        sheet = book.create_sheet(title)
        rows = billing.collection_rate_by(bills, first_month, last_month, by=by)
        _rate_rows(sheet, _("Building") if by == "building" else _("Month due"), rows, "name")
    sheet = book.create_sheet(_("Building and month"))
    month = first_month
    header = True
    while month <= last_month:
        rows = billing.collection_rate_by(bills, month, month, by="building")
        _rate_rows(sheet, _("Building"), rows, "name", month=month, header=header)
        header = False
        month = add_months(month, 1)
    book.save(out)


def _rate_rows(sheet, label, rows, key, *, month=None, header=True) -> None:
    if header:
        sheet.append(
            bold_row(
                sheet,
                [
                    *([_("Month due")] if month else []),
                    label,
                    _("Bills"),
                    _("Billed (¥)"),
                    _("Collected (¥)"),
                    _("Owed (¥)"),
                    _("Collection rate (%)"),
                ],
            )
        )
    for row in rows:
        sheet.append(
            [
                *([f"{month:%Y-%m}"] if month else []),
                row[key] if key else label,
                row["bills"],
                typed_cell(sheet, row["payable"], MONEY_FORMAT),
                typed_cell(sheet, row["paid"], MONEY_FORMAT),
                typed_cell(sheet, row["owed"], MONEY_FORMAT),
                typed_cell(sheet, row["rate"], ONE_DECIMAL),
            ]
        )
