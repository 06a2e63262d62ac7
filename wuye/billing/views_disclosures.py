"""收支公示 pages: the fees console (/console/billing/disclosures/: list, new, the report
with its income and expense tables, expense lines, publish and withdraw, Excel and the
notice-board PDF) and the residents' H5 (/h5/bills/disclosures/: the published reports of
the communities they live in, and the PDF).

``billing.view`` sees, ``billing.manage`` (in the report's community) changes. Every change
is one call to ``wuye.billing.disclosures``; its ValidationErrors are shown where they
belong. Residents reach only published reports of their own communities (404 otherwise).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.billing import disclosures, disclosures_print
from wuye.billing.forms_disclosures import (
    CATEGORY_LIST,
    DisclosureEditForm,
    DisclosureFilterForm,
    DisclosureForm,
    ExpenseForm,
    WithdrawForm,
)
from wuye.billing.models import Disclosure, DisclosureLine
from wuye.billing.views_resident import resident_view
from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.labels import pdf_response
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file

VIEW = "billing.view"
MANAGE = "billing.manage"
STATE_BADGE = {
    Disclosure.State.DRAFT: "warning",
    Disclosure.State.PUBLISHED: "success",
    Disclosure.State.WITHDRAWN: "muted",
}
# The service names the period's bounds; the form asks for months.
FORM_FIELDS = {"period_start": "first_month", "period_end": "last_month"}


def _crumbs(*items):
    return [
        (_("Fees"), reverse("billing:bill_list")),
        (_("Income & expense"), reverse("billing:disclosure_list")),
        *items,
    ]


def _service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        exc = ValidationError(
            {FORM_FIELDS.get(field, field): errors for field, errors in exc.error_dict.items()}
        )
    add_service_errors(form, exc)


def _disclosure(actor, pk) -> Disclosure:
    return get_visible_or_404(
        Disclosure.objects.select_related("community", "created_by", "published_by"),
        actor,
        pk=pk,
    )


def _may_manage(actor, disclosure) -> bool:
    return actor.has_perm(MANAGE) and disclosure.community_id in actor.community_ids


# --- console ------------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def disclosure_list(request):
    actor = request.actor
    form = DisclosureFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        reports = form.filter(Disclosure.objects.visible_to(actor)).select_related("community")
        page = newest_first_page(
            disclosures.with_totals(reports), before=after_param(request), query=request.GET
        )
        for report in page.items:
            report.badge = STATE_BADGE.get(report.state, "")
            report.period = disclosures.period_label(report.period_start, report.period_end)
    return render(
        request,
        "billing/console/disclosure_list.html",
        {"form": form, "page": page, "can_manage": actor.has_perm(MANAGE), "tab": "disclosures"},
    )


@console_view(MANAGE)
def disclosure_create(request):
    actor = request.actor
    form = DisclosureForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            report = disclosures.create_draft(actor=actor, **form.service_args())
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(
                request, _("Draft created; its income is the money received in the period.")
            )
            return redirect("billing:disclosure_detail", pk=report.pk)
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "heading": _("New income and expense report"),
            "submit": _("Create draft"),
            "intro": _(
                "The income is taken from the payments received in these months (net of "
                "refunds, with prepaid deposits as their own line). You add the expenses, "
                "then publish the report to the community's residents."
            ),
            "breadcrumbs": _crumbs((_("New report"), None)),
        },
    )


def _detail_page(request, report, *, expense_form=None, withdraw_form=None, error=None):
    actor = request.actor
    bound = [form for form in (expense_form, withdraw_form) if form is not None and form.is_bound]
    lines = list(report.lines.order_by("side", "position", "id"))
    can_manage = _may_manage(actor, report)
    is_draft = report.state == Disclosure.State.DRAFT
    if can_manage and is_draft and expense_form is None:
        expense_form = ExpenseForm(prefix="expense")
    if can_manage and report.state != Disclosure.State.WITHDRAWN and withdraw_form is None:
        withdraw_form = WithdrawForm(prefix="withdraw")
    received_now = (
        disclosures.income_changed(report) if report.state != Disclosure.State.WITHDRAWN else None
    )
    return render(
        request,
        "billing/console/disclosure_detail.html",
        {
            "report": report,
            "badge": STATE_BADGE.get(report.state, ""),
            "period": disclosures.period_label(report.period_start, report.period_end),
            "income": [line for line in lines if line.side == DisclosureLine.Side.INCOME],
            "expenses": [line for line in lines if line.side == DisclosureLine.Side.EXPENSE],
            "totals": disclosures.totals(lines),
            "received_now": received_now,
            # Same total, other split: a credit after payment moved money to 预存.
            "resplit": received_now is not None
            and received_now == disclosures.totals(lines).income,
            "can_manage": can_manage,
            "can_edit": can_manage and is_draft,
            "period_open": report.period_end >= timezone.localdate(),
            "expense_form": expense_form if can_manage and is_draft else None,
            "withdraw_form": withdraw_form,
            "category_list": CATEGORY_LIST,
            "categories": disclosures.expense_categories(),
            "error": error,
            "breadcrumbs": _crumbs((report.title, None)),
        },
        status=400 if error or any(f is not None and f.errors for f in bound) else 200,
    )


@require_GET
@console_view(VIEW)
def disclosure_detail(request, pk):
    return _detail_page(request, _disclosure(request.actor, pk))


@console_view(MANAGE)
def disclosure_edit(request, pk):
    actor = request.actor
    report = _disclosure(actor, pk)
    initial = {"title": report.title, "note": report.note}
    form = DisclosureEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            disclosures.update_draft(actor=actor, disclosure=report, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Report saved."))
            return redirect("billing:disclosure_detail", pk=report.pk)
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "heading": _("Edit the report"),
            "breadcrumbs": _crumbs(
                (report.title, reverse("billing:disclosure_detail", args=[report.pk])),
                (_("Edit"), None),
            ),
        },
        status=400 if form.errors else 200,
    )


def _act(request, pk, action, success: str):
    """A draft's one-button change; a refusal is shown on the report's page."""
    actor = request.actor
    report = _disclosure(actor, pk)
    try:
        action(actor=actor, disclosure=report)
    except ValidationError as exc:
        return _detail_page(request, report, error=exc.messages)
    messages.success(request, success)
    return redirect("billing:disclosure_detail", pk=report.pk)


@require_POST
@console_view(MANAGE)
def disclosure_refresh(request, pk):
    return _act(
        request,
        pk,
        disclosures.refresh_income,
        _("Income recomputed from the money received in the period."),
    )


@require_POST
@console_view(MANAGE)
def disclosure_publish(request, pk):
    return _act(
        request,
        pk,
        disclosures.publish,
        _("Report published; the community's residents have been notified."),
    )


@require_POST
@console_view(MANAGE)
def disclosure_withdraw(request, pk):
    actor = request.actor
    report = _disclosure(actor, pk)
    form = WithdrawForm(request.POST, prefix="withdraw")
    if form.is_valid():
        try:
            disclosures.withdraw(actor=actor, disclosure=report, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Report withdrawn; residents no longer see it."))
            return redirect("billing:disclosure_detail", pk=report.pk)
    return _detail_page(request, report, withdraw_form=form, error=form.non_field_errors())


@require_POST
@console_view(MANAGE)
def disclosure_expense_add(request, pk):
    actor = request.actor
    report = _disclosure(actor, pk)
    form = ExpenseForm(request.POST, prefix="expense")
    if form.is_valid():
        try:
            disclosures.add_expense(actor=actor, disclosure=report, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Expense added."))
            return redirect(reverse("billing:disclosure_detail", args=[report.pk]) + "#expenses")
    error = form.non_field_errors() or None
    if error is None and report.state != Disclosure.State.DRAFT:
        error = [_("This report can no longer be changed.")]
    return _detail_page(request, report, expense_form=form, error=error)


def _expense(actor, pk, line_pk) -> DisclosureLine:
    report = _disclosure(actor, pk)
    line = report.lines.filter(pk=line_pk, side=DisclosureLine.Side.EXPENSE).first()
    if line is None:
        raise Http404
    line.disclosure = report
    return line


@require_http_methods(["GET", "POST"])
@console_view(MANAGE)
def disclosure_expense_edit(request, pk, line_pk):
    actor = request.actor
    line = _expense(actor, pk, line_pk)
    report = line.disclosure
    initial = {"category": line.category, "amount": line.amount, "note": line.note}
    form = ExpenseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            disclosures.update_expense(actor=actor, line=line, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Expense saved."))
            return redirect(reverse("billing:disclosure_detail", args=[report.pk]) + "#expenses")
    return render(
        request,
        "billing/console/disclosure_expense_form.html",
        {
            "form": form,
            "report": report,
            "category_list": CATEGORY_LIST,
            "categories": disclosures.expense_categories(),
            "heading": _("Edit an expense"),
            "breadcrumbs": _crumbs(
                (report.title, reverse("billing:disclosure_detail", args=[report.pk])),
                (_("Edit an expense"), None),
            ),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@console_view(MANAGE)
def disclosure_expense_remove(request, pk, line_pk):
    actor = request.actor
    line = _expense(actor, pk, line_pk)
    try:
        disclosures.remove_expense(actor=actor, line=line)
    except ValidationError as exc:
        return _detail_page(request, line.disclosure, error=exc.messages)
    messages.success(request, _("Expense removed."))
    return redirect(reverse("billing:disclosure_detail", args=[pk]) + "#expenses")


@require_GET
@console_view(VIEW)
def disclosure_export(request, pk):
    report = _disclosure(request.actor, pk)
    out = spooled_file()
    disclosures_print.write_workbook(report, out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-disclosure-{report.pk}-{report.period_start:%Y%m}.xlsx",
        content_type=XLSX_TYPE,
    )


def _pdf(request, report):
    # The QR code on the notice opens the residents' page of the report.
    url = request.build_absolute_uri(
        reverse("billing_resident:disclosure_detail", args=[report.pk])
    )
    content = disclosures_print.render_pdf(report, url=url)
    return pdf_response(content, f"disclosure-{report.pk}-{report.period_start:%Y%m}.pdf")


@require_GET
@console_view(VIEW)
def disclosure_pdf(request, pk):
    return _pdf(request, _disclosure(request.actor, pk))


# --- residents (H5) -----------------------------------------------------------------------
def _published_for(actor):
    """The published reports of the communities the resident lives in (a staff member
    who also lives somewhere sees only their home's here)."""
    return Disclosure.objects.visible_to(actor).filter(
        state=Disclosure.State.PUBLISHED, community_id__in=actor.resident_community_ids()
    )


@require_GET
@resident_view(unlinked_page=True)
def resident_list(request):
    actor = request.actor
    reports = disclosures.with_totals(_published_for(actor).select_related("community"))
    reports = list(reports.order_by("-period_end", "-id")[:60])
    for report in reports:
        report.period = disclosures.period_label(report.period_start, report.period_end)
    return render(
        request,
        "billing/h5/disclosure_list.html",
        {
            "reports": reports,
            "many_communities": len(actor.resident_community_ids()) > 1,
        },
    )


def _resident_report(request, pk) -> Disclosure:
    return get_visible_or_404(
        _published_for(request.actor).select_related("community", "company"),
        request.actor,
        pk=pk,
    )


@require_GET
@resident_view()
def resident_detail(request, pk):
    report = _resident_report(request, pk)
    lines = list(report.lines.order_by("side", "position", "id"))
    return render(
        request,
        "billing/h5/disclosure_detail.html",
        {
            "report": report,
            "period": disclosures.period_label(report.period_start, report.period_end),
            "income": [line for line in lines if line.side == DisclosureLine.Side.INCOME],
            "expenses": [line for line in lines if line.side == DisclosureLine.Side.EXPENSE],
            "totals": disclosures.totals(lines),
        },
    )


@require_GET
@resident_view()
def resident_pdf(request, pk):
    return _pdf(request, _resident_report(request, pk))
