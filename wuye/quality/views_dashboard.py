"""Office pages of the service-quality dashboard: the KPI dashboard, the service
quality index, the company's quality settings and the dashboard as an Excel workbook.
Figures come from ``wuye.quality.dashboard`` over the reader's scope (``quality.view``)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.console import console_view
from wuye.core.replica import reads_from_replica
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.quality import dashboard as quality_dashboard
from wuye.quality import dashboard_exports, figures
from wuye.quality.forms_dashboard import DashboardFilterForm, QualitySettingsForm
from wuye.quality.services import update_quality_settings
from wuye.workorders.models import RequestType

VIEW, MANAGE = "quality.view", "quality.manage"


def _page(request, template, form, **context):
    return render(
        request,
        f"quality/dashboard/{template}.html",
        {"form": form, "query": request.GET.urlencode(), **context},
    )


def _chart_names() -> dict:
    """The translated words the charts show (series, axes)."""
    return {
        "types": {value: str(label) for value, label in RequestType.choices},
        "median": _("Median (h)"),
        "p90": _("p90 (h)"),
        "hours": _("Hours"),
        "sla": _("Resolution SLA met (%)"),
        "ftf": _("First-time fix (%)"),
        "satisfaction": _("Average rating (1–5)"),
        "good": _("Rated 4–5 (%)"),
        "orders": _("Orders"),
        "complaints": _("Complaints"),
        "score": _("Score (0–100)"),
        "ratings": _("Ratings (0–100)"),
        "surveys": _("Surveys (0–100)"),
        "gap": _("Gap (0–100)"),
    }


@reads_from_replica
@console_view(VIEW)
def dashboard(request):
    form = DashboardFilterForm(request.GET, actor=request.actor)
    context = {"definitions": quality_dashboard.DEFINITIONS}
    if form.is_valid():
        board = quality_dashboard.build(form.scope())
        context |= {
            "board": board,
            "data": quality_dashboard.as_data(board),
            "chart_names": _chart_names(),
            "round_rows": [
                (_("Rounds (inspection, patrol, cleaning, greening)"), board.rounds),
                (_("Maintenance"), board.maintenance),
            ],
        }
    return _page(request, "dashboard", form, **context)


@reads_from_replica
@console_view(VIEW)
def index(request):
    form = DashboardFilterForm(request.GET, actor=request.actor)
    context = {"definitions": quality_dashboard.INDEX_DEFINITIONS}
    if form.is_valid():
        found = quality_dashboard.service_quality_index(form.scope())
        context |= {
            "found": found,
            "data": quality_dashboard.as_data(found),
            "chart_names": _chart_names(),
        }
    return _page(request, "index", form, **context)


@console_view(MANAGE)
def settings(request):
    """Company-wide quality managers only: the weights, iceberg factor, care threshold."""
    if not request.actor.company_wide:
        raise PermissionDenied(MANAGE)
    current = figures.settings_of(request.actor.staff.company_id)
    form = QualitySettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            update_quality_settings(actor=request.actor, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Quality settings saved."))
            return redirect("quality:settings")
    return render(request, "quality/dashboard/settings.html", {"form": form})


@reads_from_replica
@console_view(VIEW)
def dashboard_export(request):
    form = DashboardFilterForm(request.GET, actor=request.actor)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Correct the filters: %s") % form.problems())
    scope = form.scope()
    out = spooled_file()
    dashboard_exports.export_dashboard(
        quality_dashboard.build(scope),
        quality_dashboard.service_quality_index(scope),
        filters=form.describe(),
        out=out,
    )
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-quality-dashboard-{stamp}.xlsx",
        content_type=XLSX_TYPE,
    )
