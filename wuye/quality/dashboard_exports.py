"""The quality dashboard as one Excel workbook: a summary sheet (filters, headline
figures with the previous period, definitions), the breakdowns, the monthly trend,
durations and SLAs, the backlog, complaints, rounds and the service quality index.
Every figure is already computed (``wuye.quality.dashboard``); this only writes it."""

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.core.xlsx import ONE_DECIMAL, bold_row, time_cell, typed_cell
from wuye.quality.dashboard import DEFINITIONS, INDEX_DEFINITIONS


def _hours(duration):
    return None if duration is None else round(duration.hours, 1)


def export_dashboard(board, index, *, filters, out) -> None:
    book = Workbook(write_only=True)
    _summary(book, board, filters)
    for title, rows in (
        (_("By request type"), board.by_type),
        (_("By category"), board.by_category),
        (_("By channel"), board.by_channel),
        (_("Complaints by category"), board.complaints.by_category),
        (_("Complaints by root cause"), board.complaints.by_root_cause),
    ):
        _breakdown(book, title, rows)
    _trend(book, board)
    _clocks(book, board)
    _index(book, index)
    book.save(out)


def _summary(book, board, filters) -> None:
    sheet = book.create_sheet(_("Summary"))
    sheet.append(bold_row(sheet, [_("Service quality dashboard")]))
    for label, value in filters:
        sheet.append([label, value])
    sheet.append(
        [
            _("Generated at (%(zone)s)") % {"zone": settings.TIME_ZONE},
            time_cell(sheet, board.generated_at),
        ]
    )
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Figure"), _("This period"), _("Previous period"), _("Unit")]))
    for kpi in board.kpis:
        sheet.append(
            [
                str(kpi.label),
                typed_cell(sheet, kpi.value),
                typed_cell(sheet, kpi.previous),
                kpi.unit,
            ]
        )
    satisfaction, complaints = board.satisfaction, board.complaints
    for label, value in (
        (_("Completed"), board.completed),
        (_("Cancelled or rejected"), board.cancelled),
        (_("Reopened (%)"), board.reopen_rate),
        (_("Rated"), satisfaction.rated),
        (_("Rated 4–5 (%)"), satisfaction.good_share),
        (_("Rated 1–2 (%)"), satisfaction.low_share),
        (_("Rating response rate (%)"), satisfaction.response_rate),
        (_("Complaints"), complaints.count),
        (_("Households"), complaints.households),
        (_("Repeat complaints"), complaints.repeat),
        (_("Silently dissatisfied (estimate)"), complaints.silent_estimate),
        (_("Open orders now"), board.backlog_total),
        *((_("Open: %(age)s") % {"age": label}, n) for _key, label, n in board.backlog),
        (_("Rounds due"), board.rounds.due),
        (_("Rounds done"), board.rounds.done),
        (_("Round anomaly rate (%)"), board.rounds.anomaly_rate),
        (_("Maintenance due"), board.maintenance.due),
        (_("Maintenance compliance (%)"), board.maintenance.rate),
        (_("Bills payable"), board.collection["payable"]),
        (_("Bills paid"), board.collection["paid"]),
    ):
        sheet.append([str(label), typed_cell(sheet, value)])
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Definitions")]))
    for term, meaning in DEFINITIONS + INDEX_DEFINITIONS:
        sheet.append([str(term), str(meaning)])


def _breakdown(book, title, rows) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(
        bold_row(
            sheet,
            [
                _("Name"),
                _("Requests"),
                _("Share (%)"),
                _("Completed"),
                _("Resolution SLA met (%)"),
                _("Satisfaction (1–5)"),
            ],
        )
    )
    for row in rows:
        sheet.append(
            [
                row.label,
                row.created,
                typed_cell(sheet, row.share, ONE_DECIMAL),
                row.completed,
                typed_cell(sheet, row.sla_rate, ONE_DECIMAL),
                typed_cell(sheet, row.satisfaction),
            ]
        )


def _trend(book, board) -> None:
    sheet = book.create_sheet(_("Monthly trend"))
    sheet.append(
        bold_row(
            sheet,
            [
                _("Month"),
                _("Requests"),
                _("Complaints"),
                _("Completed"),
                _("Resolution SLA met (%)"),
                _("First-time fix (%)"),
                _("Satisfaction (1–5)"),
            ],
        )
    )
    for point in board.trend:
        sheet.append(
            [
                point.month.strftime("%Y-%m"),
                point.created,
                point.complaints,
                point.completed,
                typed_cell(sheet, point.resolution_sla_rate, ONE_DECIMAL),
                typed_cell(sheet, point.first_time_fix_rate, ONE_DECIMAL),
                typed_cell(sheet, point.satisfaction),
            ]
        )


def _clocks(book, board) -> None:
    sheet = book.create_sheet(_("Durations and SLA"))
    sheet.append(
        bold_row(
            sheet,
            [
                _("Clock"),
                _("Stopped"),
                _("Median (h, estimated)"),
                _("p90 (h, estimated)"),
                _("Mean (h)"),
                _("Met"),
                _("Missed"),
                _("SLA met (%)"),
            ],
        )
    )
    for clock in board.clocks:
        sheet.append(
            [
                str(clock.label),
                clock.stopped,
                typed_cell(sheet, _hours(clock.median), ONE_DECIMAL),
                typed_cell(sheet, _hours(clock.p90), ONE_DECIMAL),
                typed_cell(sheet, _hours(clock.mean), ONE_DECIMAL),
                clock.met,
                clock.missed,
                typed_cell(sheet, clock.rate, ONE_DECIMAL),
            ]
        )


def _index(book, index) -> None:
    sheet = book.create_sheet(_("Quality index"))
    sheet.append([_("Index (0–100)"), typed_cell(sheet, index.index, ONE_DECIMAL)])
    sheet.append([_("Gap index (0–100)"), typed_cell(sheet, index.gap_index, ONE_DECIMAL)])
    sheet.append(
        bold_row(
            sheet,
            [
                _("Dimension"),
                _("Weight (%)"),
                _("Ratings"),
                _("Rating mean (1–5)"),
                _("Ratings (0–100)"),
                _("Survey answers"),
                _("Surveys (0–100)"),
                _("Score (0–100)"),
                _("Gap answers"),
                _("Gap (survey scale)"),
                _("Gap (0–100)"),
            ],
        )
    )
    for d in index.dimensions:
        sheet.append(
            [
                str(d.label),
                typed_cell(sheet, d.weight_percent, ONE_DECIMAL),
                d.ratings,
                typed_cell(sheet, d.rating_mean),
                typed_cell(sheet, d.rating_score, ONE_DECIMAL),
                d.answers,
                typed_cell(sheet, d.survey_score, ONE_DECIMAL),
                typed_cell(sheet, d.score, ONE_DECIMAL),
                d.gap_answers,
                typed_cell(sheet, d.gap),
                typed_cell(sheet, d.gap_score, ONE_DECIMAL),
            ]
        )
