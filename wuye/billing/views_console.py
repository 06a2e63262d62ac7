"""Office console of fees (收费): fee items and their prices, bill runs (preview, issue),
bills with how each amount came about and their adjustments, arrears aging and the
collection rate, meter readings; Excel exports of bills and arrears.

``billing.view`` sees, ``billing.manage`` changes. Views are thin: inputs are forms
(``wuye.billing.forms``), reads go through ``visible_to(actor)`` and
``wuye.billing.selectors``, every change is one call to ``services``, ``runs`` or
``meters``, whose ValidationErrors are shown on the form they came from.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.billing import exports_console as exports
from wuye.billing import meters, runs, selectors, services
from wuye.billing.forms import (
    AdjustmentForm,
    ArrearsForm,
    BillFilterForm,
    FeeItemForm,
    PriceChangeForm,
    ReadingFilterForm,
    ReadingForm,
    RunForm,
    tier_text,
)
from wuye.billing.models import (
    Bill,
    BillRun,
    FeeItem,
    MeterReading,
)
from wuye.core.console import (
    add_service_errors,
    after_param,
    console_view,
    keyset_page,
    newest_first_page,
)
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.core.xlsx import XLSX_TYPE, spooled_file

VIEW = "billing.view"
MANAGE = "billing.manage"
METERS = "billing.meters"
STATUS_BADGE = {
    Bill.Status.OPEN: "warning",
    Bill.Status.PARTIALLY_PAID: "info",
    Bill.Status.PAID: "success",
    Bill.Status.VOID: "muted",
}
RUN_BADGE = {
    BillRun.State.PREVIEWED: "info",
    BillRun.State.QUEUED: "warning",
    BillRun.State.ISSUING: "warning",
    BillRun.State.ISSUED: "success",
    BillRun.State.FAILED: "danger",
}


def _crumbs(*items):
    return [(_("Fees"), reverse("billing:bill_list")), *items]


def _may_manage(actor, community_id) -> bool:
    return actor.has_perm(MANAGE) and community_id in actor.community_ids


def _list_query(request) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()


def _xlsx(write, name: str) -> FileResponse:
    out = spooled_file()
    write(out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-{name}-{stamp}.xlsx",
        content_type=XLSX_TYPE,
    )


def _bad_filters(form) -> HttpResponseBadRequest:
    problems = "; ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}"
        for f, e in form.errors.items()
    )
    return HttpResponseBadRequest(_("Correct the filters: %s") % problems)


# --- fee items ------------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def fee_item_list(request):
    actor = request.actor
    items = FeeItem.objects.visible_to(actor).filter(community_id__in=sorted(actor.community_ids))
    items = selectors.fee_items_with_figures(
        items.select_related("community"), on=timezone.localdate()
    ).order_by("community__name", "community_id", "code")
    return render(
        request,
        "billing/console/fee_item_list.html",
        {"items": items, "can_manage": actor.has_perm(MANAGE), "tab": "items"},
    )


@console_view(MANAGE)
def fee_item_create(request):
    actor = request.actor
    form = FeeItemForm(request.POST or None, actor=actor, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            item = services.create_fee_item(actor=actor, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Fee item %s created.") % item.name)
            return redirect("billing:fee_item_detail", pk=item.pk)
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "heading": _("New fee item"),
            "breadcrumbs": _crumbs(
                (_("Fee items"), reverse("billing:fee_item_list")), (_("New fee item"), None)
            ),
        },
    )


def _fee_item_page(request, item, price_form=None):
    actor = request.actor
    can_manage = _may_manage(actor, item.community_id)
    if price_form is None and can_manage:
        price_form = PriceChangeForm(fee_item=item, prefix="price")
    rates = list(item.rates.select_related("created_by").order_by("-effective_from"))
    for rate in rates:
        rate.tier_rows = tier_text(rate.tiers).splitlines() if rate.tiers else []
    figures = selectors.fee_items_with_figures(
        FeeItem.objects.filter(pk=item.pk), on=timezone.localdate()
    ).get()
    return render(
        request,
        "billing/console/fee_item_detail.html",
        {
            "item": item,
            "figures": figures,
            "rates": rates,
            "price_form": price_form,
            "can_manage": can_manage,
            "breadcrumbs": _crumbs(
                (_("Fee items"), reverse("billing:fee_item_list")), (item.name, None)
            ),
        },
    )


@require_GET
@console_view(VIEW)
def fee_item_detail(request, pk):
    item = get_visible_or_404(FeeItem.objects.select_related("community"), request.actor, pk=pk)
    return _fee_item_page(request, item)


@require_POST
@console_view(MANAGE)
def fee_item_price(request, pk):
    actor = request.actor
    item = get_visible_or_404(FeeItem.objects.select_related("community"), actor, pk=pk)
    form = PriceChangeForm(request.POST, fee_item=item, prefix="price")
    if form.is_valid():
        try:
            services.change_price(actor=actor, fee_item=item, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("New price saved."))
            return redirect("billing:fee_item_detail", pk=item.pk)
    return _fee_item_page(request, item, price_form=form)


# --- bill runs ------------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def run_list(request):
    actor = request.actor
    page = newest_first_page(
        BillRun.objects.visible_to(actor).select_related("community"),
        before=after_param(request),
        query=request.GET,
    )
    for run in page.items:
        run.badge = RUN_BADGE.get(run.state, "")
    return render(
        request,
        "billing/console/run_list.html",
        {"page": page, "can_manage": actor.has_perm(MANAGE), "tab": "runs"},
    )


@console_view(MANAGE)
def run_create(request):
    """The new-run form; submitting it previews the run (nothing is billed yet)."""
    actor = request.actor
    form = RunForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        community = form.cleaned_data["community"]
        try:
            run = runs.preview_run(
                actor=actor,
                period_kind=form.cleaned_data["period_kind"],
                period_start=form.cleaned_data["period_start"],
                community=community,
                company=actor.staff.company if community is None else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("billing:run_detail", pk=run.pk)
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "heading": _("New bill run"),
            "submit": _("Preview"),
            "intro": _(
                "The preview shows every bill the run would write, per fee item and in "
                "total. Nothing is billed until you issue it."
            ),
            "breadcrumbs": _crumbs(
                (_("Bill runs"), reverse("billing:run_list")), (_("New bill run"), None)
            ),
        },
    )


def _run_progress(run) -> dict:
    """What the progress bar shows. While the worker issues (or after it failed), the
    bills written so far are counted from the bills themselves (the run's totals are set
    when it finishes)."""
    busy = run.state in runs.IN_PROGRESS
    if busy or run.state == BillRun.State.FAILED:
        written = Bill.objects.filter(run=run).aggregate(n=Count("id"), amount=Sum("amount"))
        created, amount = written["n"], written["amount"] or Decimal(0)
    else:
        created, amount = run.bills_created, run.amount_issued
    done = min(run.lines_done, run.bills_planned)
    percent = round(done * 100 / run.bills_planned) if run.bills_planned else 0
    if run.state == BillRun.State.ISSUED:
        percent = 100
    return {
        "run": run,
        "badge": RUN_BADGE.get(run.state, ""),
        "polling": busy,
        "progress": percent,
        "lines_shown": done,
        "created": created,
        "amount": amount,
    }


def _run_page(request, run, issue_error=None, status=200):
    actor = request.actor
    manage = actor.has_perm(MANAGE) and (
        run.community_id in actor.community_ids
        if run.community_id
        else actor.company_wide and actor.staff.company_id == run.company_id
    )
    items = [
        {"name": row["name"], "code": row["code"], "bills": row["bills"], "amount": row["amount"]}
        for row in run.preview.get("items", {}).values()
    ]
    return render(
        request,
        "billing/console/run_detail.html",
        {
            **_run_progress(run),
            "items": items,
            "events": run.events.select_related("actor").order_by("id"),
            "can_issue": manage and run.state in runs.QUEUEABLE,
            "issue_error": issue_error,
            "breadcrumbs": _crumbs((_("Bill runs"), reverse("billing:run_list")), (str(run), None)),
        },
        status=status,
    )


@require_GET
@console_view(VIEW)
def run_detail(request, pk):
    run = get_visible_or_404(
        BillRun.objects.select_related("community", "company"), request.actor, pk=pk
    )
    return _run_page(request, run)


@require_GET
@console_view(VIEW)
def run_progress(request, pk):
    """The progress bar alone, polled by the run's page every 2 s while it issues. Once
    the run is issued or failed, the page reloads itself to show the result."""
    run = get_visible_or_404(BillRun.objects.all(), request.actor, pk=pk)
    response = render(request, "billing/console/_run_progress.html", _run_progress(run))
    if request.headers.get("HX-Request") and run.state not in runs.IN_PROGRESS:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@console_view(MANAGE)
def run_issue(request, pk):
    """Queue a previewed run (or resume a failed one) for the worker to issue; the page
    then shows its progress. A refusal is shown on the run's page."""
    actor = request.actor
    run = get_visible_or_404(BillRun.objects.select_related("community", "company"), actor, pk=pk)
    try:
        run = runs.queue_run(actor=actor, run=run)
    except ValidationError as exc:
        run.refresh_from_db()
        return _run_page(request, run, issue_error=" ".join(exc.messages), status=400)
    messages.success(request, _("Bill run queued: the bills are being issued in the background."))
    return redirect("billing:run_detail", pk=run.pk)


# --- bills ----------------------------------------------------------------------------------
def _bills(actor):
    return Bill.objects.visible_to(actor).filter(community_id__in=sorted(actor.community_ids))


@require_GET
@console_view(VIEW)
def bill_list(request):
    actor = request.actor
    form = BillFilterForm(request.GET, actor=actor)
    page = totals = None
    today = timezone.localdate()
    if form.is_valid():
        bills = form.filter(_bills(actor), today=today)
        totals = selectors.bill_totals(bills)
        page = keyset_page(
            bills.select_related("community", "house__building", "house__unit", "fee_item"),
            after=form.cleaned_data["after"],
            query=request.GET,
        )
        for bill in page.items:
            bill.badge = STATUS_BADGE.get(bill.status, "")
            bill.overdue = bill.status in Bill.UNSETTLED and bill.due_date < today
    return render(
        request,
        "billing/console/bill_list.html",
        {
            "form": form,
            "page": page,
            "totals": totals,
            "list_query": _list_query(request),
            "tab": "bills",
        },
    )


@require_GET
@console_view(VIEW)
def bill_export(request):
    actor = request.actor
    form = BillFilterForm(request.GET, actor=actor)
    if not form.is_valid():
        return _bad_filters(form)
    bills = form.filter(_bills(actor), today=timezone.localdate())
    return _xlsx(lambda out: exports.export_bills(actor=actor, bills=bills, out=out), "bills")


def _bill_page(request, bill, adjustment_form=None, decide_error=None):
    actor = request.actor
    can_manage = _may_manage(actor, bill.community_id)
    if adjustment_form is None and can_manage and bill.status != Bill.Status.VOID:
        adjustment_form = AdjustmentForm(prefix="adj")
    return render(
        request,
        "billing/console/bill_detail.html",
        {
            "bill": bill,
            "badge": STATUS_BADGE.get(bill.status, ""),
            "how": selectors.explain(bill),
            "adjustments": bill.adjustments.select_related("created_by", "approved_by").order_by(
                "id"
            ),
            "adjustment_form": adjustment_form,
            "decide_error": decide_error,
            "can_manage": can_manage,
            "user_id": actor.user.pk,
            "breadcrumbs": _crumbs(
                (_("Bills"), reverse("billing:bill_list")), (f"#{bill.pk}", None)
            ),
        },
    )


def _bill(actor, pk):
    return get_visible_or_404(
        Bill.objects.select_related(
            "community", "house__building", "house__unit", "fee_item", "run"
        ),
        actor,
        pk=pk,
    )


@require_GET
@console_view(VIEW)
def bill_detail(request, pk):
    return _bill_page(request, _bill(request.actor, pk))


@require_POST
@console_view(MANAGE)
def adjustment_propose(request, pk):
    actor = request.actor
    bill = _bill(actor, pk)
    form = AdjustmentForm(request.POST, prefix="adj")
    if form.is_valid():
        try:
            services.propose_adjustment(actor=actor, bill=bill, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Adjustment proposed; someone else must approve it."))
            return redirect("billing:bill_detail", pk=bill.pk)
    return _bill_page(request, bill, adjustment_form=form)


@require_POST
@console_view(MANAGE)
def adjustment_decide(request, pk, adjustment_pk, decision):
    actor = request.actor
    bill = _bill(actor, pk)
    adjustment = get_object_or_404(bill.adjustments.all(), pk=adjustment_pk)
    decide = {"approve": services.approve_adjustment, "reject": services.reject_adjustment}
    if decision not in decide:
        raise Http404
    try:
        decide[decision](actor=actor, adjustment=adjustment)
    except ValidationError as exc:
        return _bill_page(request, bill, decide_error=exc.messages)
    messages.success(
        request,
        _("Adjustment approved.") if decision == "approve" else _("Adjustment rejected."),
    )
    return redirect("billing:bill_detail", pk=bill.pk)


# --- arrears --------------------------------------------------------------------------------
def _arrears_figures(actor, form) -> dict:
    data = form.cleaned_data
    bills = form.scope(_bills(actor))
    first, last = data["month_from"], data["month_to"]
    return {
        "as_of": data["as_of"],
        "first": first,
        "last": last,
        "aging_total": selectors.aging_total(bills, as_of=data["as_of"]),
        "aging_community": selectors.aging(bills, as_of=data["as_of"], by="community"),
        "aging_building": selectors.aging(bills, as_of=data["as_of"], by="building"),
        "rate_total": selectors.collection_rate(bills, first, last),
        "rate_community": selectors.collection_rate_by(bills, first, last, by="community"),
        "rate_building": selectors.collection_rate_by(bills, first, last, by="building"),
        "rate_month": selectors.collection_rate_by(bills, first, last, by="month"),
    }


@require_GET
@console_view(VIEW)
def arrears(request):
    form = ArrearsForm(request.GET, actor=request.actor)
    context = {"form": form, "buckets": selectors.BUCKETS, "tab": "arrears"}
    if form.is_valid():
        context |= _arrears_figures(request.actor, form)
    context["list_query"] = request.GET.urlencode()
    return render(request, "billing/console/arrears.html", context)


@require_GET
@console_view(VIEW)
def arrears_export(request):
    actor = request.actor
    form = ArrearsForm(request.GET, actor=actor)
    if not form.is_valid():
        return _bad_filters(form)
    figures = _arrears_figures(actor, form)
    return _xlsx(
        lambda out: exports.export_arrears(actor=actor, figures=figures, out=out), "arrears"
    )


# --- meter readings ---------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def reading_list(request):
    actor = request.actor
    form = ReadingFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        readings = form.filter(
            MeterReading.objects.visible_to(actor).filter(
                community_id__in=sorted(actor.community_ids)
            )
        )
        page = keyset_page(
            readings.select_related("house__building", "house__unit", "fee_item", "recorded_by"),
            after=form.cleaned_data["after"],
            query=request.GET,
        )
    return render(
        request,
        "billing/console/reading_list.html",
        {
            "form": form,
            "page": page,
            "can_record": actor.has_perm(METERS),
            "can_confirm": actor.has_perm(MANAGE),
            "tab": "readings",
        },
    )


@console_view(VIEW)
def reading_create(request):
    actor = request.actor
    require(actor, METERS)
    if request.method == "POST":
        form = ReadingForm(request.POST, actor=actor)
    else:  # GET parameters preselect the community (and re-render when it changes)
        form = ReadingForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            reading = meters.record_reading(actor=actor, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if reading.needs_review:
                messages.warning(request, reading.review_note + " " + _("Held for review."))
            else:
                messages.success(request, _("Reading recorded."))
            return redirect("billing:reading_list")
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "cascade": True,
            "heading": _("Record a meter reading"),
            "breadcrumbs": _crumbs(
                (_("Meter readings"), reverse("billing:reading_list")), (_("Record"), None)
            ),
        },
    )


@require_POST
@console_view(MANAGE)
def reading_confirm(request, pk):
    actor = request.actor
    reading = get_visible_or_404(MeterReading.objects, actor, pk=pk)
    try:
        meters.confirm_reading(actor=actor, reading=reading)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Reading confirmed; the next bill run counts it."))
    return redirect(reverse("billing:reading_list") + "?held=on")
