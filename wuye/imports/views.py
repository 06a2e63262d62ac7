"""Console pages: upload a registry workbook, follow the job, download workbooks."""

from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from wuye.core.console import add_service_errors, console_view
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.estates.models import Community
from wuye.imports import exports, services
from wuye.imports.forms import ExportForm, UploadForm
from wuye.imports.models import ImportJob

PAGE_SIZE = 50
SHOWN_ERRORS = 500


def _xlsx_response(write, filename: str) -> FileResponse:
    """Build the workbook in a spooled temp file and stream it out in chunks."""
    out = spooled_file()
    write(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


@require_GET
@console_view("estates.view")
def job_list(request):
    jobs = ImportJob.objects.visible_to(request.actor).select_related("community", "actor")
    before = request.GET.get("before", "")
    if before.isdigit():
        jobs = jobs.filter(id__lt=int(before))
    rows = list(jobs.order_by("-id")[: PAGE_SIZE + 1])
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render(
        request,
        "imports/job_list.html",
        {
            "jobs": rows[:PAGE_SIZE],
            "next_before": next_before,
            "paged": before.isdigit(),
            "can_import": all(map(request.actor.has_perm, ("estates.manage", "people.manage"))),
            "can_export": request.actor.has_perm("people.view"),
        },
    )


@require_http_methods(["GET", "POST"])
@console_view("estates.manage")
def upload(request):
    require(request.actor, "people.manage")
    form = UploadForm(request.POST or None, request.FILES or None, actor=request.actor)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.create_import_job(
                actor=request.actor,
                community=form.cleaned_data["community"],
                upload=form.cleaned_data["file"],
                language=get_language(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("imports:job_detail", pk=job.pk)
    status = 400 if form.is_bound else 200
    return render(request, "imports/upload.html", {"form": form}, status=status)


@require_GET
@console_view("estates.manage")
def job_detail(request, pk):
    job = get_visible_or_404(
        ImportJob.objects.select_related("community", "actor"), request.actor, pk=pk
    )
    context = {"job": job, "shown_errors": job.errors[:SHOWN_ERRORS]}
    if request.htmx:
        return render(request, "imports/job_detail.html#progress", context)
    return render(request, "imports/job_detail.html", context)


@require_GET
@console_view("estates.manage")
def job_errors(request, pk):
    job = get_visible_or_404(ImportJob.objects, request.actor, pk=pk)
    return _xlsx_response(
        lambda out: exports.write_error_report(job=job, out=out),
        f"import-{job.pk}-errors.xlsx",
    )


@require_GET
@console_view("estates.view")
def template(request):
    return _xlsx_response(exports.write_template, "wuye-houses-template.xlsx")


@require_GET
@console_view("people.view")
def export(request):
    form = ExportForm(request.GET or None, actor=request.actor)
    form.is_valid()
    return render(request, "imports/export.html", {"form": form})


@require_GET
@console_view("people.view")
def export_houses(request, community_id):
    community = get_visible_or_404(Community.objects, request.actor, pk=community_id)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(
        lambda out: exports.export_houses(actor=request.actor, community=community, out=out),
        f"houses-{community.code}-{stamp}.xlsx",
    )


@require_GET
@console_view("people.view")
def export_residents(request, community_id):
    community = get_visible_or_404(Community.objects, request.actor, pk=community_id)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(
        lambda out: exports.export_residents(actor=request.actor, community=community, out=out),
        f"residents-{community.code}-{stamp}.xlsx",
    )
