"""Workbook imports of the fees console: opening balances (期初欠费, ``billing.manage``)
and meter readings (抄表, ``billing.meters``), each with its template to download.

Importing is all or nothing and happens in the request (a community's file is a few
thousand rows): the page answers with what was written, or with every bad row by row
number and column and nothing written. A file that is not a workbook, too large or
without the columns is an error on the form, never a 500.
"""

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from wuye.billing import imports, reading_imports
from wuye.billing.forms_imports import ImportForm, TemplateForm
from wuye.billing.sheets import COLUMN_LABELS, ImportInvalid
from wuye.core import xlsx
from wuye.core.console import add_service_errors, console_view

MANAGE = "billing.manage"
METERS = "billing.meters"
SHOWN_ERRORS = 500


def _crumbs(*items):
    return [(_("Fees"), reverse("billing:bill_list")), *items]


def _download(write, name: str) -> FileResponse:
    out = xlsx.spooled_file()
    write(out)
    out.seek(0)
    return FileResponse(
        out, as_attachment=True, filename=f"{name}.xlsx", content_type=xlsx.XLSX_TYPE
    )


def _import_page(request, *, run, template: str, context: dict):
    """The upload form; on POST, ``run(community, file)`` and the result or its errors."""
    actor = request.actor
    form = ImportForm(request.POST or None, request.FILES or None, actor=actor)
    result, row_errors, status = None, [], 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = run(form.cleaned_data["community"], form.cleaned_data["file"])
            except ImportInvalid as exc:
                row_errors = exc.row_errors
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                status = 200
                form = ImportForm(
                    initial={"community": form.cleaned_data["community"]}, actor=actor
                )
    shown = [
        {
            "row": e.row,
            "column": e.column,
            "label": COLUMN_LABELS.get(e.column, ""),
            "message": e.message,
        }
        for e in row_errors[:SHOWN_ERRORS]
    ]
    return render(
        request,
        template,
        {
            **context,
            "form": form,
            "result": result,
            "row_errors": shown,
            "error_count": len(row_errors),
            "hidden_errors": max(0, len(row_errors) - SHOWN_ERRORS),
        },
        status=status,
    )


# --- opening balances -----------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@console_view(MANAGE)
def opening_import(request):
    def run(community, file):
        return imports.import_opening_balances(actor=request.actor, community=community, file=file)

    return _import_page(
        request,
        run=run,
        template="billing/console/opening_import.html",
        context={
            "breadcrumbs": _crumbs(
                (_("Bills"), reverse("billing:bill_list")), (_("Opening balances"), None)
            ),
        },
    )


@require_GET
@console_view(MANAGE)
def opening_template(request):
    return _download(imports.write_template, "wuye-opening-balances-template")


# --- meter readings -------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@console_view(METERS)
def reading_import(request):
    def run(community, file):
        return reading_imports.import_readings(actor=request.actor, community=community, file=file)

    return _import_page(
        request,
        run=run,
        template="billing/console/reading_import.html",
        context={
            "template_form": TemplateForm(actor=request.actor),
            "spike_factor": reading_imports.meters.SPIKE_FACTOR,
            "can_list": request.actor.has_perm("billing.view"),
            "breadcrumbs": _crumbs(
                (_("Meter readings"), reverse("billing:reading_list")), (_("Import"), None)
            ),
        },
    )


@require_GET
@console_view(METERS)
def reading_template(request):
    """The reading template; for a community (``?community=``) it lists its metered
    houses with their last readings. Another community's id answers 404."""
    form = TemplateForm(request.GET, actor=request.actor)
    if not form.is_valid():
        raise Http404
    community = form.cleaned_data["community"]
    today = timezone.localdate()
    name = "wuye-meter-readings-template"
    if community is not None:
        name = f"wuye-meter-readings-{community.code}-{today:%Y%m%d}"
    return _download(
        lambda out: reading_imports.write_template(out, community=community, on=today), name
    )
