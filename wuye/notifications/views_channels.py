"""Notification settings pages.

- ``preferences``: every signed-in user's own switches per topic and channel, quiet
  hours, WeChat OpenID and message language (console or mobile layout by who they are).
- ``delivery_log`` (+ ``?export=xlsx``), ``delivery_retry``: the company's email, SMS and
  WeChat deliveries for its administrators (``company.manage``).
- ``template_list``, ``template_create``, ``template_edit``, ``template_delete``: the
  company's message templates (``company.manage``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, new_book, spooled_file, text_cell, time_cell
from wuye.notifications import deliveries, preferences, selectors
from wuye.notifications.channels import SMS_KINDS, enabled_codes
from wuye.notifications.forms import DeliveryFilterForm, PreferencesForm, TemplateForm
from wuye.notifications.models import ChannelCode, DeliveryStatus
from wuye.notifications.views import _layout

MANAGE = "company.manage"
STATUS_BADGE = {
    DeliveryStatus.PENDING: "muted",
    DeliveryStatus.SENT: "success",
    DeliveryStatus.RETRYING: "warning",
    DeliveryStatus.FAILED: "danger",
    DeliveryStatus.SKIPPED: "muted",
}
EXPORT_LIMIT = 50_000


# --- preferences --------------------------------------------------------------------------
@login_required
def preferences_page(request):
    actor = request.actor
    current = preferences.preferences_of(actor.user)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                preferences.update_preferences(actor=actor, **form.service_args())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Notification settings saved."))
                return redirect("notifications:preferences")
    else:
        form = PreferencesForm(preferences=current)
    enabled = enabled_codes()
    return render(
        request,
        "notifications/preferences.html",
        {
            "layout": _layout(actor),
            "form": form,
            "channels": [(code, label, code in enabled) for code, label in ChannelCode.choices],
            "sms_kinds": sorted(SMS_KINDS),
            "has_email": bool(actor.user.email),
            "has_mobile": bool(actor.user.mobile),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- delivery log -------------------------------------------------------------------------
def _filtered(request):
    form = DeliveryFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, selectors.delivery_log(request.actor, **form.service_args())


@require_GET
@console_view(MANAGE)
def delivery_log(request):
    form, rows = _filtered(request)
    if request.GET.get("export") == "xlsx":
        if rows is None:
            return HttpResponseBadRequest(_("Correct the filters to export."))
        return _export(rows)
    page = None
    if rows is not None:
        page = newest_first_page(rows, before=after_param(request), query=request.GET)
        for row in page.items:
            row.badge = STATUS_BADGE.get(row.status, "")
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("export", None)
    return render(
        request,
        "notifications/delivery_log.html",
        {
            "form": form,
            "page": page,
            "list_query": query.urlencode(),
            "enabled": sorted(enabled_codes()),
        },
    )


def _export(rows):
    headers = [
        _("Id"),
        _("Created at"),
        pgettext("delivery", "Channel"),
        _("Recipient"),
        _("Sent to"),
        _("Kind"),
        _("Title"),
        _("Status"),
        _("Attempts"),
        _("Sent at"),
        _("Next attempt at"),
        _("Last error"),
        _("Provider reference"),
    ]
    book, sheet = new_book(_("Deliveries"), headers)
    for row in rows.order_by("-id")[:EXPORT_LIMIT].iterator(chunk_size=2000):
        note = row.notification
        sheet.append(
            [
                row.pk,
                time_cell(sheet, row.created_at),
                row.get_channel_display(),
                note.recipient.display_name,
                text_cell(sheet, row.address),
                note.kind,
                note.title,
                row.get_status_display(),
                row.attempts,
                time_cell(sheet, row.sent_at),
                time_cell(sheet, row.next_attempt_at),
                row.last_error,
                row.provider_ref,
            ]
        )
    out = spooled_file()
    book.save(out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out, as_attachment=True, filename=f"wuye-deliveries-{stamp}.xlsx", content_type=XLSX_TYPE
    )


@require_POST
@console_view(MANAGE)
def delivery_retry(request, pk: int):
    actor = request.actor
    delivery = get_visible_or_404(selectors.deliveries(), actor, pk=pk)
    try:
        deliveries.retry_delivery(actor=actor, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Delivery #%(id)s will be sent again.") % {"id": pk})
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("notifications:delivery_log")


# --- message templates --------------------------------------------------------------------
@require_GET
@console_view(MANAGE)
def template_list(request):
    rows = (
        selectors.message_templates()
        .visible_to(request.actor)
        .order_by("kind", "channel", "language", "id")
    )
    return render(request, "notifications/template_list.html", {"templates": rows})


def _template_page(request, form, heading, template=None):
    return render(
        request,
        "notifications/template_form.html",
        {
            "form": form,
            "heading": heading,
            "template": template,
            "breadcrumbs": [
                (_("Message templates"), reverse("notifications:template_list")),
                (heading, None),
            ],
        },
        status=400 if request.method == "POST" else 200,
    )


@console_view(MANAGE)
def template_create(request):
    actor = request.actor
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            preferences.save_template(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Message template saved."))
            return redirect("notifications:template_list")
    return _template_page(request, form, _("New message template"))


@console_view(MANAGE)
def template_edit(request, pk: int):
    actor = request.actor
    template = get_visible_or_404(selectors.message_templates(), actor, pk=pk)
    initial = {
        name: getattr(template, name)
        for name in ("kind", "channel", "language", "subject", "body", "provider_template")
    }
    data = request.POST if request.method == "POST" else None
    form = TemplateForm(data, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            preferences.save_template(actor=actor, template=template, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Message template saved."))
            return redirect("notifications:template_list")
    return _template_page(request, form, template.kind, template)


@require_POST
@console_view(MANAGE)
def template_delete(request, pk: int):
    actor = request.actor
    template = get_visible_or_404(selectors.message_templates(), actor, pk=pk)
    preferences.delete_template(actor=actor, template=template)
    messages.success(request, _("Message template deleted."))
    return redirect("notifications:template_list")
