"""Office console of the equipment ledger (设备台账): assets with their status, downtime,
certificates, documents, work orders and round visits; vendors; certificates across
assets; the Excel exports and the QR label sheets.

Views are thin: filters and inputs are forms (``forms_ledger``), reads go through
``visible_to(actor)``, every change is one call to ``wuye.facilities.services``; a
service's ValidationError is shown on the form it came from and nothing is written.
"""

import copy
import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import KeysetPage, add_service_errors, after_param, console_view, keyset_page
from wuye.core.labels import render_sheet
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.facilities import exports, labels, services
from wuye.facilities.forms_ledger import (
    EXPIRING_DAYS,
    AssetCreateForm,
    AssetEditForm,
    AssetFilterForm,
    AttachmentForm,
    CertificateFilterForm,
    CertificateForm,
    LabelsForm,
    StatusForm,
    VendorFilterForm,
    VendorForm,
    layout_choices,
)
from wuye.facilities.models import (
    Answer,
    Asset,
    AssetAttachment,
    Certificate,
    Downtime,
    Vendor,
    Visit,
)
from wuye.facilities.rounds import shown_value
from wuye.facilities.selectors_ledger import (
    certificate_state,
    due_certificates,
)
from wuye.workorders import selectors as order_selectors

VIEW = "facilities.view"
MANAGE = "facilities.manage"
RECENT = 10
STATUS_BADGE = {
    Asset.Status.RUNNING: "success",
    Asset.Status.STOPPED: "warning",
    Asset.Status.REPAIRING: "danger",
    Asset.Status.SCRAPPED: "muted",
}
CERTIFICATE_BADGE = {"expired": "danger", "expiring": "warning", "valid": "success"}


def _crumbs(*items):
    return [(_("Equipment ledger"), reverse("ledger:asset_list")), *items]


def _assets():
    return Asset.objects.select_related("community", "building", "common_area", "category")


def _may_manage(actor, asset) -> bool:
    return actor.has_perm(MANAGE) and asset.community_id in actor.community_ids


def _list_query(request) -> str:
    """The list's filters without its page cursor (for exports, labels and going back)."""
    query = request.GET.copy()
    for key in ("after", "ids", "all", "layout"):
        query.pop(key, None)
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


def _filter_problems(form) -> HttpResponseBadRequest:
    problems = "; ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}"
        for f, e in form.errors.items()
    )
    return HttpResponseBadRequest(_("Correct the filters: %s") % problems)


# --- assets ------------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def asset_list(request):
    actor = request.actor
    form = AssetFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        due = due_certificates(today=timezone.localdate(), days=EXPIRING_DAYS)
        assets = form.filter(Asset.objects.visible_to(actor)).select_related(
            "community", "building", "common_area", "category", "vendor"
        )
        assets = assets.annotate(certificate_due=Exists(due.filter(asset_id=OuterRef("pk"))))
        page = keyset_page(assets, after=form.cleaned_data["after"], query=request.GET)
        for asset in page.items:
            asset.status_badge = STATUS_BADGE.get(asset.status, "")
    query = _list_query(request)
    return render(
        request,
        "facilities/ledger/asset_list.html",
        {
            "form": form,
            "page": page,
            "list_query": query,
            "hidden_filters": [(k, v) for k, v in request.GET.items() if k != "after" and v],
            "layouts": layout_choices(),
            "label_cap": labels.LABEL_CAP,
            "can_manage": actor.has_perm(MANAGE),
        },
    )


@require_GET
@console_view(VIEW)
def asset_export(request):
    form = AssetFilterForm(request.GET, actor=request.actor)
    if not form.is_valid():
        return _filter_problems(form)
    assets = form.filter(Asset.objects.visible_to(request.actor))
    return _xlsx(
        lambda out: exports.export_assets(actor=request.actor, assets=assets, out=out),
        "equipment-ledger",
    )


@require_GET
@console_view(VIEW)
def asset_labels(request):
    """QR labels of the ticked assets, or of all that match the list's filters."""
    actor = request.actor
    return labels.label_sheet(
        request,
        places=Asset.objects.visible_to(actor).select_related(
            "community", "building", "common_area"
        ),
        filters=AssetFilterForm(request.GET, actor=actor),
        back=f"{reverse('ledger:asset_list')}?{_list_query(request)}",
        order_by=("community_id", "code"),
        name="asset-labels",
    )


@console_view(MANAGE)
def asset_create(request):
    actor = request.actor
    if request.method == "POST":
        form = AssetCreateForm(request.POST, actor=actor)
    else:  # GET parameters preselect the community (and re-render when it changes)
        form = AssetCreateForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            asset = services.create_asset(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Asset %s registered.") % asset.code)
            return redirect("ledger:asset_detail", pk=asset.pk)
    return render(
        request,
        "facilities/ledger/form.html",
        {
            "form": form,
            "cascade": True,
            "heading": _("New asset"),
            "breadcrumbs": _crumbs((_("New asset"), None)),
        },
    )


@console_view(MANAGE)
def asset_edit(request, pk):
    actor = request.actor
    asset = get_visible_or_404(_assets(), actor, pk=pk)
    data = request.POST if request.method == "POST" else None
    form = AssetEditForm(data, instance=copy.copy(asset))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_asset(actor=actor, asset=asset, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Asset %s saved.") % asset.code)
            return redirect("ledger:asset_detail", pk=asset.pk)
    return render(
        request,
        "facilities/ledger/form.html",
        {
            "form": form,
            "heading": _("Edit %s") % asset,
            "breadcrumbs": _crumbs(
                (str(asset), reverse("ledger:asset_detail", args=[asset.pk])), (_("Edit"), None)
            ),
        },
    )


def _duration(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


def _recent_visits(asset):
    """The last round visits at this asset with their answers (four queries)."""
    answers = Answer.objects.select_related("item", "work_order").order_by("item__position")
    visits = list(
        Visit.objects.filter(stop__asset_id=asset.pk)
        .select_related("task__plan", "task__assignee")
        .prefetch_related(Prefetch("answers", queryset=answers))
        .order_by("-scanned_at")[:RECENT]
    )
    for visit in visits:
        for answer in visit.answers.all():
            answer.text = shown_value(answer.item, answer.value)
    return visits


def _detail_context(
    request, asset, *, status_form=None, certificate_form=None, attachment_form=None
):
    actor = request.actor
    now = timezone.now()
    today = timezone.localdate()
    downtimes = list(
        Downtime.objects.filter(asset=asset)
        .select_related("work_order", "recorded_by")
        .order_by("-started_at")
    )
    for downtime in downtimes:
        downtime.length = _duration((downtime.ended_at or now) - downtime.started_at)
    certificates = list(asset.certificates.order_by("-expires_on", "-id"))
    current = set(Certificate.objects.current().filter(asset=asset).values_list("id", flat=True))
    for certificate in certificates:
        certificate.current = certificate.pk in current
        certificate.state = certificate_state(certificate, today) if certificate.current else ""
        certificate.badge = CERTIFICATE_BADGE.get(certificate.state, "muted")
    orders = []
    if actor.has_perm("workorders.view"):
        visible = order_selectors.orders().visible_to(actor).filter(asset_id=asset.pk)
        orders = list(visible.order_by("-id")[:RECENT])
    can_edit = _may_manage(actor, asset)
    if status_form is None and can_edit and asset.status != Asset.Status.SCRAPPED:
        status_form = StatusForm(asset=asset, prefix="status")
    if certificate_form is None and can_edit:
        certificate_form = CertificateForm(prefix="cert")
    return {
        "asset": asset,
        "status_badge": STATUS_BADGE.get(asset.status, ""),
        "downtimes": downtimes,
        "certificates": certificates,
        "orders": orders,
        "visits": _recent_visits(asset),
        "layouts": layout_choices(),
        "can_edit": can_edit,
        "status_form": status_form,
        "certificate_form": certificate_form,
        "breadcrumbs": _crumbs((str(asset), None)),
        **_attachments_context(asset, can_edit=can_edit, form=attachment_form),
    }


def _attachments_context(asset, *, can_edit: bool, form=None) -> dict:
    """What the page's attachments card shows (alone after a delete from the page)."""
    if form is None and can_edit:
        form = AttachmentForm(prefix="attachment")
    return {
        "asset": asset,
        "attachments": asset.attachments.select_related("uploaded_by"),
        "can_edit": can_edit,
        "attachment_form": form,
    }


@require_GET
@console_view(VIEW)
def asset_detail(request, pk):
    asset = get_visible_or_404(_assets().select_related("vendor"), request.actor, pk=pk)
    return render(request, "facilities/ledger/asset_detail.html", _detail_context(request, asset))


@require_POST
@console_view(MANAGE)
def asset_status(request, pk):
    actor = request.actor
    asset = get_visible_or_404(_assets().select_related("vendor"), actor, pk=pk)
    form = StatusForm(request.POST, asset=asset, prefix="status")
    if form.is_valid():
        try:
            asset = services.change_status(actor=actor, asset=asset, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(asset)s is now %(status)s.")
                % {"asset": asset.code, "status": asset.get_status_display()},
            )
            return redirect("ledger:asset_detail", pk=asset.pk)
    context = _detail_context(request, asset, status_form=form)
    return render(request, "facilities/ledger/asset_detail.html", context, status=400)


@require_POST
@console_view(MANAGE)
def certificate_add(request, pk):
    actor = request.actor
    asset = get_visible_or_404(_assets().select_related("vendor"), actor, pk=pk)
    form = CertificateForm(request.POST, prefix="cert")
    if form.is_valid():
        try:
            services.add_certificate(actor=actor, asset=asset, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Certificate added to %s.") % asset.code)
            return redirect(f"{reverse('ledger:asset_detail', args=[asset.pk])}#certificates")
    context = _detail_context(request, asset, certificate_form=form)
    return render(request, "facilities/ledger/asset_detail.html", context, status=400)


# --- documents kept with an asset ---------------------------------------------------------
@require_POST
@console_view(MANAGE)
def attachment_upload(request, pk):
    actor = request.actor
    asset = get_visible_or_404(_assets().select_related("vendor"), actor, pk=pk)
    form = AttachmentForm(request.POST, request.FILES, prefix="attachment")
    if form.is_valid():
        try:
            attachment = services.add_attachment(
                actor=actor,
                asset=asset,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("“%(name)s” kept with %(asset)s.")
                % {"name": attachment.name, "asset": asset.code},
            )
            return redirect(f"{reverse('ledger:asset_detail', args=[asset.pk])}#attachments")
    context = _detail_context(request, asset, attachment_form=form)
    return render(request, "facilities/ledger/asset_detail.html", context, status=400)


@require_GET
@console_view(VIEW)
def attachment_download(request, pk):
    """The document under its original name, always as a download (never shown inline
    from our origin, whatever its content)."""
    attachment = get_visible_or_404(AssetAttachment.objects, request.actor, pk=pk)
    try:
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
@console_view(MANAGE)
def attachment_delete(request, pk):
    actor = request.actor
    attachment = get_visible_or_404(
        AssetAttachment.objects.select_related("asset__community"), actor, pk=pk
    )
    services.remove_attachment(actor=actor, attachment=attachment)
    if request.htmx:  # the page asked: send its card again, without the file
        context = _attachments_context(attachment.asset, can_edit=True)
        return render(request, "facilities/ledger/asset_detail.html#attachments", context)
    messages.success(request, _("“%s” deleted.") % attachment.name)
    return redirect(f"{reverse('ledger:asset_detail', args=[attachment.asset_id])}#attachments")


@require_GET
@console_view(VIEW)
def asset_label_pdf(request, pk):
    asset = get_visible_or_404(_assets(), request.actor, pk=pk)
    form = LabelsForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose one of the label sheets."))
    layout = form.cleaned_data["layout"]
    pdf = render_sheet([labels.place_label(request, asset)], layout=layout)
    return labels.pdf_response(pdf, f"{asset.code}-{layout}.pdf")


# --- vendors -------------------------------------------------------------------------------
def _vendor_crumbs(*items):
    return [(_("Vendors"), reverse("ledger:vendor_list")), *items]


@require_GET
@console_view(VIEW)
def vendor_list(request):
    actor = request.actor
    form = VendorFilterForm(request.GET)
    page = None
    if form.is_valid():
        mine = Q(assets__community_id__in=sorted(actor.community_ids))
        vendors = form.filter(Vendor.objects.visible_to(actor)).annotate(
            asset_count=Count("assets", filter=mine)
        )
        page = keyset_page(vendors, after=form.cleaned_data["after"], query=request.GET)
    return render(
        request,
        "facilities/ledger/vendor_list.html",
        {"form": form, "page": page, "can_manage": actor.has_perm(MANAGE)},
    )


def _vendor_form_page(request, form, heading, crumbs):
    return render(
        request,
        "facilities/ledger/form.html",
        {"form": form, "heading": heading, "breadcrumbs": _vendor_crumbs(*crumbs)},
    )


@console_view(MANAGE)
def vendor_create(request):
    form = VendorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            vendor = services.create_vendor(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Vendor “%s” created.") % vendor.name)
            return redirect("ledger:vendor_detail", pk=vendor.pk)
    return _vendor_form_page(request, form, _("New vendor"), [(_("New vendor"), None)])


@console_view(MANAGE)
def vendor_edit(request, pk):
    vendor = get_visible_or_404(Vendor.objects, request.actor, pk=pk)
    data = request.POST if request.method == "POST" else None
    form = VendorForm(data, instance=copy.copy(vendor))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_vendor(actor=request.actor, vendor=vendor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Vendor “%s” saved.") % form.cleaned_data["name"])
            return redirect("ledger:vendor_detail", pk=vendor.pk)
    crumbs = [(vendor.name, reverse("ledger:vendor_detail", args=[vendor.pk])), (_("Edit"), None)]
    return _vendor_form_page(request, form, _("Edit vendor %s") % vendor.name, crumbs)


@require_GET
@console_view(VIEW)
def vendor_detail(request, pk):
    actor = request.actor
    vendor = get_visible_or_404(Vendor.objects, actor, pk=pk)
    assets = Asset.objects.visible_to(actor).filter(vendor=vendor)
    page = keyset_page(
        assets.select_related("community", "building", "common_area", "category"),
        after=after_param(request),
        query=request.GET,
    )
    for asset in page.items:
        asset.status_badge = STATUS_BADGE.get(asset.status, "")
    today = timezone.localdate()
    contract_over = vendor.contract_end is not None and vendor.contract_end < today
    return render(
        request,
        "facilities/ledger/vendor_detail.html",
        {
            "vendor": vendor,
            "page": page,
            "contract_over": contract_over,
            "can_manage": actor.has_perm(MANAGE),
            "breadcrumbs": _vendor_crumbs((vendor.name, None)),
        },
    )


# --- certificates --------------------------------------------------------------------------
def _visible_certificates(actor):
    return Certificate.objects.current().filter(
        asset__in=Asset.objects.visible_to(actor).values("id")
    )


def _certificate_page(certificates, *, after: str, query, size=50) -> KeysetPage:
    """Keyset pages by expiry (soonest first): the cursor is ``date_id`` of the last row."""
    certificates = certificates.order_by("expires_on", "id")
    if after:
        day, last_id = after.split("_")
        certificates = certificates.filter(
            Q(expires_on__gt=day) | Q(expires_on=day, id__gt=int(last_id))
        )
    rows = list(certificates[: size + 1])
    next_after = None
    if len(rows) > size:
        last = rows[size - 1]
        next_after = f"{last.expires_on.isoformat()}_{last.id}"
    return KeysetPage(items=rows[:size], after=after or None, next_after=next_after, query=query)


@require_GET
@console_view(VIEW)
def certificate_list(request):
    actor = request.actor
    today = timezone.localdate()
    form = CertificateFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        certificates = form.filter(_visible_certificates(actor), today=today)
        certificates = certificates.select_related("asset__community")
        page = _certificate_page(certificates, after=form.cleaned_data["after"], query=request.GET)
        for certificate in page.items:
            certificate.state = certificate_state(certificate, today)
            certificate.badge = CERTIFICATE_BADGE[certificate.state]
            certificate.days_left = (certificate.expires_on - today).days
            certificate.days_ago = -certificate.days_left
    return render(
        request,
        "facilities/ledger/certificate_list.html",
        {"form": form, "page": page, "list_query": _list_query(request)},
    )


@require_GET
@console_view(VIEW)
def certificate_export(request):
    actor = request.actor
    form = CertificateFilterForm(request.GET, actor=actor)
    if not form.is_valid():
        return _filter_problems(form)
    certificates = form.filter(_visible_certificates(actor), today=timezone.localdate())
    return _xlsx(
        lambda out: exports.export_certificates(actor=actor, certificates=certificates, out=out),
        "certificates",
    )
