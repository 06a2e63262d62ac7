"""The complaint analytics as one Excel workbook (投诉统计表): a summary sheet (filters,
headline figures, the iceberg estimate with its factor and source, definitions) and
one sheet per breakdown — month, root cause, category, community, party, the staff
complained about, repeat houses and repeat contact mobiles (every row, not only the
page's first ones). Times are local wall-clock times (the zone is in the headers),
durations are hours with one decimal, shares are percentages."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.core.xlsx import ONE_DECIMAL, bold_row, text_cell, time_cell, typed_cell
from wuye.quality import complaints


def describe_filters(form) -> list[tuple[str, str]]:
    data = form.cleaned_data
    return [
        (_("From"), data["date_from"].isoformat()),
        (_("Until"), data["date_to"].isoformat()),
        (_("Community"), str(data["community"] or _("All communities"))),
    ]


def _hours(duration) -> float | None:
    return None if duration is None else round(duration.hours, 1)


def write_workbook(analytics, *, filters, out) -> None:
    book = Workbook(write_only=True)
    _summary(book, analytics, filters)
    for title, slices in (
        (_("By month"), analytics.by_month),
        (_("By root cause"), analytics.by_root_cause),
        (_("By category"), analytics.by_category),
        (_("By community"), analytics.by_community),
        (_("By party"), analytics.by_party),
    ):
        _slices(book, title, slices)
    _staff(book, analytics.staff)
    _complainants(book, _("Repeat houses"), _("House"), analytics.repeat_houses)
    _complainants(book, _("Repeat complainants"), _("Contact"), analytics.repeat_mobiles)
    book.save(out)


def _summary(book, a, filters) -> None:
    sheet = book.create_sheet(_("Summary"))
    sheet.append(bold_row(sheet, [_("Complaint statistics")]))
    for label, value in filters:
        sheet.append([label, value])
    now = timezone.now()
    sheet.append(
        [_("Generated at (%(zone)s)") % {"zone": settings.TIME_ZONE}, time_cell(sheet, now)]
    )
    sheet.append([])
    for label, value, number_format in (
        (_("Complaints"), a.complaints, None),
        (_("Households (residences)"), a.households, None),
        (_("Complaints per 1,000 households"), a.per_thousand, ONE_DECIMAL),
        (_("Resolved"), a.resolved, None),
        (_("Resolved (%)"), a.resolved_share, ONE_DECIMAL),
        (_("Resolved within 24 h"), a.within_day, None),
        (_("Resolved within 24 h (%)"), a.within_day_share, ONE_DECIMAL),
        (_("Median handling time (h, estimated)"), _hours(a.median), ONE_DECIMAL),
        (_("P90 handling time (h, estimated)"), _hours(a.p90), ONE_DECIMAL),
        (_("Repeat complaints"), a.repeat_complaints, None),
    ):
        sheet.append([label, typed_cell(sheet, value, number_format)])
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Complaint iceberg (an estimate)")]))
    sheet.append([_("Factor: dissatisfied households per complaint"), a.iceberg.factor])
    sheet.append([_("Estimated dissatisfied households"), a.iceberg.estimate])
    sheet.append([_("Source"), str(complaints.ICEBERG_SOURCE)])
    for fact in complaints.RETENTION_FACTS:
        sheet.append(["", str(fact)])
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Definitions")]))
    for term, meaning in complaints.DEFINITIONS:
        sheet.append([str(term), str(meaning)])


def _slices(book, title, slices) -> None:
    sheet = book.create_sheet(title)
    sheet.append(
        bold_row(
            sheet,
            [
                title,
                _("Complaints"),
                _("Resolved"),
                _("Resolved (%)"),
                _("Resolved within 24 h"),
                _("Median handling time (h)"),
            ],
        )
    )
    for s in slices:
        sheet.append(
            [
                s.label,
                s.complaints,
                s.resolved,
                typed_cell(sheet, s.resolved_share, ONE_DECIMAL),
                s.within_day,
                typed_cell(sheet, _hours(s.median), ONE_DECIMAL),
            ]
        )


def _staff(book, rows) -> None:
    sheet = book.create_sheet(_("Staff complained about"))
    zone = settings.TIME_ZONE
    sheet.append(
        bold_row(
            sheet,
            [
                _("Staff member"),
                _("Complaints"),
                _("Resolved"),
                _("Last complaint (%(zone)s)") % {"zone": zone},
            ],
        )
    )
    for row in rows:
        sheet.append([row.name, row.complaints, row.resolved, time_cell(sheet, row.last_at)])


def _complainants(book, title, who, rows) -> None:
    sheet = book.create_sheet(title)
    zone = settings.TIME_ZONE
    sheet.append(
        bold_row(
            sheet,
            [
                who,
                _("Complaints"),
                _("Last complaint (%(zone)s)") % {"zone": zone},
                _("Last order"),
            ],
        )
    )
    for row in rows:
        sheet.append(
            [
                row.label,
                row.complaints,
                time_cell(sheet, row.last_at),
                text_cell(sheet, row.last_order_number),
            ]
        )
