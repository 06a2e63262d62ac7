"""The facilities reports as one Excel workbook: a summary sheet (filters, totals,
definitions), completion by plan, by person and by community, the abnormal answers
with their work orders, overdue and missed tasks, and equipment reliability.

Written with openpyxl's write-only mode; the long lists (answers, tasks) come from
the database in chunks. Times are local wall-clock times of the project's time zone
(named in the headers); rates and availability are percentages, hours have one decimal.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.core.services import require
from wuye.core.xlsx import ONE_DECIMAL, bold_row, date_cell, time_cell, typed_cell
from wuye.facilities import reports

CHUNK = 2000


def describe_filters(form) -> list[tuple[str, str]]:
    """(label, chosen value) of the report filters, for the summary sheet."""
    data = form.cleaned_data
    return [
        (_("From"), data["date_from"].isoformat()),
        (_("Until"), data["date_to"].isoformat()),
        (_("Community"), str(data["community"] or _("All communities"))),
        (_("Round kind"), str(dict(form.fields["kind"].choices)[data["kind"]])),
    ]


def export_reports(*, actor, period, tasks, assets, filters, out) -> None:
    """Write every report over ``tasks`` and ``assets`` (already filtered and scoped to
    the actor) for ``period`` to ``out``."""
    require(actor, "facilities.view")
    now = timezone.now()
    book = Workbook(write_only=True)
    _summary_sheet(book, tasks, filters, now)
    for group, title in (
        ("plan", _("By plan")),
        ("person", _("By person")),
        ("community", _("By community")),
    ):
        _completion_sheet(book, title, group, reports.completion_by(tasks, group, now=now))
    _anomaly_sheet(book, tasks)
    _overdue_sheet(book, tasks, now)
    _asset_sheet(book, reports.asset_figures(assets, period, now=now))
    book.save(out)


def _summary_sheet(book, tasks, filters, now) -> None:
    sheet = book.create_sheet(_("Summary"))
    sheet.append(bold_row(sheet, [_("Facilities reports")]))
    for label, value in filters:
        sheet.append([label, value])
    sheet.append(
        [_("Generated at (%(zone)s)") % {"zone": settings.TIME_ZONE}, time_cell(sheet, now)]
    )
    sheet.append([])
    summary = reports.completion_summary(tasks, now=now)
    found = reports.anomaly_summary(tasks)
    for label, value in (
        (_("Due"), summary["due"]),
        (_("Done"), summary["done"]),
        (_("Awaiting acceptance"), summary["awaiting"]),
        (_("Missed"), summary["missed"]),
        (_("Open"), summary["open"]),
        (_("Late"), summary["late"]),
        (_("Not yet due"), summary["upcoming"]),
        (_("Rate (%)"), summary["rate"]),
        (_("Abnormal answers"), found["answers"]),
        (_("Work orders opened"), found["orders"]),
        (_("Of which still open"), found["open_orders"]),
    ):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Definitions")]))
    for term, meaning in reports.DEFINITIONS:
        sheet.append([str(term), str(meaning)])


def _completion_sheet(book, title, group, rows) -> None:
    sheet = book.create_sheet(title)
    names = {"plan": _("Plan"), "person": _("Assignee"), "community": _("Community")}
    header = [names[group]]
    if group == "plan":
        header.append(_("Community"))
    header += [
        _("Due"),
        _("Done"),
        _("Awaiting acceptance"),
        _("Missed"),
        _("Open"),
        _("Late"),
        _("Rate (%)"),
        _("Not yet due"),
        _("Abnormal answers"),
    ]
    sheet.append(bold_row(sheet, header))
    for row in rows:
        name = row["name"] if row["name"] is not None else _("Unassigned")
        values = [name, row["community"]] if group == "plan" else [name]
        sheet.append(
            [
                *values,
                row["due"],
                row["done"],
                row["awaiting"],
                row["missed"],
                row["open"],
                row["late"],
                typed_cell(sheet, row["rate"], ONE_DECIMAL),
                row["upcoming"],
                row["abnormal"],
            ]
        )


def _anomaly_sheet(book, tasks) -> None:
    sheet = book.create_sheet(_("Abnormal answers"))
    zone = settings.TIME_ZONE
    sheet.append(
        bold_row(
            sheet,
            [
                _("Date"),
                _("Checked at (%(zone)s)") % {"zone": zone},
                _("Community"),
                _("Plan"),
                _("Place"),
                _("Item"),
                _("Answer"),
                _("Assignee"),
                _("Work order"),
                _("Work-order status"),
            ],
        )
    )
    for answer in reports.anomalies(tasks).iterator(chunk_size=CHUNK):
        task, order = answer.visit.task, answer.work_order
        sheet.append(
            [
                date_cell(sheet, task.date),
                time_cell(sheet, answer.visit.scanned_at),
                task.community.name,
                task.plan.name,
                str(answer.visit.stop),
                answer.item.label,
                reports.answer_text(answer),
                task.assignee.name if task.assignee_id else None,
                order.number if order else None,
                order.get_status_display() if order else None,
            ]
        )


def _overdue_sheet(book, tasks, now) -> None:
    sheet = book.create_sheet(_("Overdue and missed"))
    zone = settings.TIME_ZONE
    sheet.append(
        bold_row(
            sheet,
            [
                _("Date"),
                _("Window opens (%(zone)s)") % {"zone": zone},
                _("Window closes (%(zone)s)") % {"zone": zone},
                _("Community"),
                _("Plan"),
                _("Assignee"),
                _("Status"),
            ],
        )
    )
    for task in reports.overdue_and_missed(tasks, now=now).iterator(chunk_size=CHUNK):
        sheet.append(
            [
                date_cell(sheet, task.date),
                time_cell(sheet, task.opens_at),
                time_cell(sheet, task.closes_at),
                task.community.name,
                task.plan.name,
                task.assignee.name if task.assignee_id else None,
                _("Overdue") if task.status != task.Status.MISSED else task.get_status_display(),
            ]
        )


def _asset_sheet(book, figures) -> None:
    sheet = book.create_sheet(_("Equipment"))
    sheet.append(
        bold_row(
            sheet,
            [
                _("Asset code"),
                _("Name"),
                _("Community"),
                _("Category"),
                _("Status"),
                _("Span (h)"),
                _("Downtime (h)"),
                _("Operating (h)"),
                _("Availability (%)"),
                _("Failures"),
                _("Finished repairs"),
                _("Repair time (h)"),
                _("MTBF (h)"),
                _("MTTR (h)"),
            ],
        )
    )
    for f in figures:
        asset = f.asset
        sheet.append(
            [
                asset.code,
                asset.name,
                asset.community.name,
                asset.category.name,
                asset.get_status_display(),
                typed_cell(sheet, f.span_hours, ONE_DECIMAL),
                typed_cell(sheet, f.downtime_hours, ONE_DECIMAL),
                typed_cell(sheet, f.operating_hours, ONE_DECIMAL),
                typed_cell(sheet, f.availability, ONE_DECIMAL),
                f.failures,
                f.repairs,
                typed_cell(sheet, f.repair_hours, ONE_DECIMAL),
                _hours_or_dash(sheet, f.mtbf_hours),
                _hours_or_dash(sheet, f.mttr_hours),
            ]
        )


def _hours_or_dash(sheet, hours):
    return "—" if hours is None else typed_cell(sheet, hours, ONE_DECIMAL)
