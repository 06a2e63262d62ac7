"""Office pages of the facilities reports: round completion (by plan, person or
community), what the rounds found, overdue and missed tasks, equipment reliability,
and all of them as one Excel workbook. Figures come from ``wuye.facilities.reports``
over the reader's visible tasks and assets (``facilities.view``)."""

from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.core.console import console_view
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.facilities import report_exports, reports
from wuye.facilities.forms_reports import ReportFilterForm
from wuye.facilities.models import Asset, Task

VIEW = "facilities.view"
SHOWN_ROWS = 100  # longer tables are cut on the page; the workbook has every row
DOWN = (Asset.Status.STOPPED, Asset.Status.REPAIRING)
GOOD_RATE, FAIR_RATE = 95, 80  # completion rates shown green, amber, else red
GROUP_LABELS = {
    "plan": gettext_lazy("By plan"),
    "person": gettext_lazy("By person"),
    "community": gettext_lazy("By community"),
}


def _filters(request) -> ReportFilterForm:
    return ReportFilterForm(request.GET, actor=request.actor)


def _tasks(request, form):
    return reports.tasks_in(
        Task.objects.visible_to(request.actor),
        form.period,
        community=form.cleaned_data["community"],
        kind=form.cleaned_data["kind"],
    )


def _assets(request, form):
    assets = Asset.objects.visible_to(request.actor)
    if form.cleaned_data["community"] is not None:
        assets = assets.filter(community=form.cleaned_data["community"])
    return assets


def _page(request, current, form, **context):
    query = request.GET.copy()
    query.pop("group", None)
    terms = reports.EQUIPMENT_TERMS if current == "assets" else reports.COMPLETION_TERMS
    return render(
        request,
        f"facilities/reports/{current}.html",
        {
            "form": form,
            "current": current,
            "query": query.urlencode(),
            "definitions": terms,
            **context,
        },
    )


def _rate_badge(rate) -> str:
    if rate is None or rate >= GOOD_RATE:
        return "success"
    return "warning" if rate >= FAIR_RATE else "danger"


@console_view(VIEW)
def completion(request):
    form = _filters(request)
    context = {}
    if form.is_valid():
        group = form.cleaned_data["group"] or "plan"
        tasks = _tasks(request, form)
        now = timezone.now()
        rows = reports.completion_by(tasks, group, now=now)
        for row in rows[:SHOWN_ROWS]:
            row["badge"] = _rate_badge(row["rate"])
        context = {
            "group": group,
            "groups": list(GROUP_LABELS.items()),
            "summary": reports.completion_summary(tasks, now=now),
            "rows": rows[:SHOWN_ROWS],
            "row_count": len(rows),
        }
    return _page(request, "completion", form, **context)


@console_view(VIEW)
def anomalies(request):
    form = _filters(request)
    context = {}
    if form.is_valid():
        tasks = _tasks(request, form)
        summary = reports.anomaly_summary(tasks)
        answers = list(reports.anomalies(tasks)[:SHOWN_ROWS])
        for answer in answers:
            answer.shown_value = reports.answer_text(answer)
        context = {
            "summary": summary,
            "answers": answers,
            "can_see_orders": request.actor.has_perm("workorders.view"),
        }
    return _page(request, "anomalies", form, **context)


@console_view(VIEW)
def overdue(request):
    form = _filters(request)
    context = {}
    if form.is_valid():
        now = timezone.now()
        tasks = _tasks(request, form)
        context = {
            "summary": reports.completion_summary(tasks, now=now),
            "tasks": list(reports.overdue_and_missed(tasks, now=now)[:SHOWN_ROWS]),
        }
    return _page(request, "overdue", form, **context)


@console_view(VIEW)
def assets(request):
    form = _filters(request)
    context = {}
    if form.is_valid():
        figures = reports.asset_figures(_assets(request, form), form.period)
        context = {
            "figures": figures[:SHOWN_ROWS],
            "row_count": len(figures),
            "failed": sum(1 for f in figures if f.failures),
            "failures": sum(f.failures for f in figures),
            "downtime_hours": sum((f.downtime_hours for f in figures), 0),
            "down_now": sum(1 for f in figures if f.asset.status in DOWN),
        }
    return _page(request, "assets", form, **context)


@console_view(VIEW)
def export(request):
    form = _filters(request)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Correct the filters: %s") % form.problems())
    out = spooled_file()
    report_exports.export_reports(
        actor=request.actor,
        period=form.period,
        tasks=_tasks(request, form),
        assets=_assets(request, form),
        filters=report_exports.describe_filters(form),
        out=out,
    )
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-facility-reports-{stamp}.xlsx",
        content_type=XLSX_TYPE,
    )
