"""Office pages of the service reports: the monthly reports of the reader's communities
(newest first, filtered by community and month) with their PDF and Excel served one by
one to those who may see them (never as public media), "generate now"
(``quality.manage``), and the Excel reports of a range: 报修汇总表 and 收费报表 here,
投诉统计表 and 巡检报表 from the complaint analytics and the facilities reports."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.billing.models import Bill
from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.quality import report_xlsx, reports
from wuye.quality.figures import scope_for
from wuye.quality.forms_reports import ExcelReportForm, GenerateForm, ReportListForm
from wuye.quality.models import MonthlyReport

VIEW, MANAGE = reports.VIEW, reports.MANAGE


def _page(request, *, generate_form=None, status=200):
    actor = request.actor
    form = ReportListForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        page = newest_first_page(
            form.filter(MonthlyReport.objects.visible_to(actor)).select_related("community"),
            before=after_param(request),
            query=request.GET,
        )
    can_generate = actor.has_perm(MANAGE)
    if can_generate and generate_form is None:
        generate_form = GenerateForm(actor=actor)
    excel = ExcelReportForm(request.GET, actor=actor)
    excel.is_valid()
    return render(
        request,
        "quality/reports/monthly.html",
        {
            "form": form,
            "page": page,
            "generate_form": generate_form if can_generate else None,
            "excel_form": excel,
            "can_repairs": actor.has_perm(VIEW),
            "can_charges": actor.has_perm("billing.view"),
            "can_inspections": actor.has_perm("facilities.view"),
        },
        status=status,
    )


@require_GET
@console_view(VIEW)
def monthly(request):
    return _page(request)


@require_POST
@console_view(MANAGE)
def generate(request):
    actor = request.actor
    form = GenerateForm(request.POST, actor=actor)
    if form.is_valid():
        try:
            report = reports.generate_report(
                actor=actor,
                community=form.cleaned_data["community"],
                month=form.cleaned_data["month"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The report of %(community)s for %(month)s is ready.")
                % {"community": report.community.name, "month": f"{report.month:%Y-%m}"},
            )
            return redirect("quality_reports:monthly")
    return _page(request, generate_form=form, status=400)


def _download(request, pk, kind: str):
    report = get_visible_or_404(
        MonthlyReport.objects.select_related("community"), request.actor, pk=pk
    )
    return reports.file_response(report, kind)


@require_GET
@console_view(VIEW)
def pdf(request, pk):
    return _download(request, pk, "pdf")


@require_GET
@console_view(VIEW)
def xlsx(request, pk):
    return _download(request, pk, "xlsx")


def _excel_form(request):
    form = ExcelReportForm(request.GET, actor=request.actor)
    if not form.is_valid():
        return None, HttpResponseBadRequest(_("Correct the filters: %s") % form.problems())
    return form, None


def _workbook(write, name: str) -> FileResponse:
    out = spooled_file()
    write(out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out, as_attachment=True, filename=f"wuye-{name}-{stamp}.xlsx", content_type=XLSX_TYPE
    )


@require_GET
@console_view(VIEW)
def repairs(request):
    """报修汇总表 of the range and community."""
    actor = request.actor
    form, bad = _excel_form(request)
    if bad:
        return bad
    data = form.cleaned_data
    scope = scope_for(
        actor, first=data["date_from"], last=data["date_to"], community=data["community"]
    )
    return _workbook(
        lambda out: report_xlsx.export_repairs(
            actor=actor, scope=scope, filters=form.describe(), out=out
        ),
        "repairs",
    )


@require_GET
@console_view("billing.view")
def charges(request):
    """收费报表: bills due in the range's months, per building and month."""
    actor = request.actor
    form, bad = _excel_form(request)
    if bad:
        return bad
    data = form.cleaned_data
    bills = Bill.objects.visible_to(actor)
    if data["community"] is not None:
        bills = bills.filter(community=data["community"])
    else:
        bills = bills.filter(community_id__in=sorted(actor.community_ids))
    first, last = data["date_from"].replace(day=1), data["date_to"].replace(day=1)
    return _workbook(
        lambda out: report_xlsx.export_charges(
            actor=actor,
            bills=bills,
            first_month=first,
            last_month=last,
            filters=form.describe(),
            out=out,
        ),
        "charges",
    )
