"""Complaint analytics in the console (``quality.view``, the reader's communities): the
headline figures, the complaint iceberg, charts by month, root cause, category,
community and party, the staff complained about and the repeat complainants, and the
same as one Excel workbook (投诉统计表)."""

from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from wuye.core.console import console_view
from wuye.core.replica import reads_from_replica
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.quality import complaint_exports, complaints, figures
from wuye.quality.forms_complaints import ComplaintFilterForm

VIEW = "quality.view"


def _filters(request) -> ComplaintFilterForm:
    return ComplaintFilterForm(request.GET, actor=request.actor)


def _settings_url() -> str | None:
    """The quality settings page, where the iceberg factor is changed (when built)."""
    try:
        return reverse("quality:settings")
    except NoReverseMatch:
        return None


def _board_query(form) -> str:
    """The dispatch board's filters for these complaints (every status)."""
    data = form.cleaned_data
    params = {
        "request_type": "complaint",
        "status": "all",
        "date_from": data["date_from"].isoformat(),
        "date_to": data["date_to"].isoformat(),
    }
    if data["community"] is not None:
        params["community"] = data["community"].pk
    return urlencode(params)


def _charts(analytics) -> dict:
    """The series the page's charts draw (``json_script``)."""

    def series(slices):
        return {
            "labels": [s.label for s in slices],
            "complaints": [s.complaints for s in slices],
            "resolved": [s.resolved for s in slices],
        }

    return {
        "month": series(analytics.by_month),
        "root_cause": series(analytics.by_root_cause),
        "category": series(analytics.by_category),
        "community": series(analytics.by_community),
        "party": series(analytics.by_party),
        "names": {"complaints": _("Complaints"), "resolved": _("Resolved")},
    }


@reads_from_replica
@console_view(VIEW)
def overview(request):
    actor = request.actor
    form = _filters(request)
    context = {"form": form, "query": request.GET.urlencode()}
    if form.is_valid():
        analytics = complaints.complaint_analytics(figures.scope_for(actor, **form.scope_kwargs()))
        context.update(
            analytics=analytics,
            charts=_charts(analytics),
            settings_url=_settings_url(),
            can_change_factor=actor.company_wide and actor.has_perm("quality.manage"),
            board_query=_board_query(form) if actor.has_perm("workorders.view") else None,
            can_see_orders=actor.has_perm("workorders.view"),
            can_see_houses=actor.has_perm("estates.view"),
            iceberg_source=complaints.ICEBERG_SOURCE,
            retention_facts=complaints.RETENTION_FACTS,
            definitions=complaints.DEFINITIONS,
        )
    return render(request, "quality/complaints/overview.html", context)


@reads_from_replica
@console_view(VIEW)
def export(request):
    form = _filters(request)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Correct the filters: %s") % form.problems())
    analytics = complaints.complaint_analytics(
        figures.scope_for(request.actor, **form.scope_kwargs()), limit=None
    )
    out = spooled_file()
    complaint_exports.write_workbook(
        analytics, filters=complaint_exports.describe_filters(form), out=out
    )
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-complaints-{stamp}.xlsx",
        content_type=XLSX_TYPE,
    )
