"""Console pages of notices (公告): the list, the form (new and edit), one notice with
its read rate (overall and per building), receipts (filtered, exported to Excel),
images, files and timeline, and the publish/withdraw actions.

``engagement.view`` sees; ``engagement.manage`` writes. Views are thin: reads are
scoped with ``selectors.staff_notices`` + ``get_visible_or_404``, every change is one
call to ``wuye.notices.services``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core import photos
from wuye.core.console import (
    KeysetPage,
    add_service_errors,
    after_param,
    console_view,
    newest_first_page,
)
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.notices import exports, selectors, services
from wuye.notices.forms import (
    AttachmentForm,
    NoticeFilterForm,
    NoticeForm,
    PhotoForm,
    ReceiptFilterForm,
    WithdrawForm,
    notice_initial,
)
from wuye.notices.models import NoticeAttachment, Status

VIEW = services.VIEW
MANAGE = services.MANAGE
RECEIPTS_PAGE = 30
STATUS_BADGE = {
    Status.DRAFT: "muted",
    Status.SCHEDULED: "warning",
    Status.PUBLISHED: "success",
    Status.WITHDRAWN: "muted",
}


def _notice_or_404(request, pk):
    return get_visible_or_404(
        selectors.staff_notices(request.actor).select_related("community", "created_by"),
        request.actor,
        pk=pk,
    )


def _crumbs(*items):
    return [(_("Notices"), reverse("notices:list")), *items]


@require_GET
@console_view(VIEW)
def notice_list(request):
    actor = request.actor
    form = NoticeFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        notices = selectors.with_read_counts(
            form.filter(selectors.staff_notices(actor)).select_related("community")
        )
        page = newest_first_page(notices, before=after_param(request), query=request.GET)
        for notice in page.items:
            notice.badge = STATUS_BADGE.get(notice.status, "")
    return render(
        request,
        "notices/console/list.html",
        {"form": form, "page": page, "can_manage": actor.has_perm(MANAGE)},
    )


def _form_page(request, form, heading, notice=None, status=200):
    return render(
        request,
        "notices/console/form.html",
        {
            "form": form,
            "heading": heading,
            "notice": notice,
            "breadcrumbs": _crumbs((heading, None)),
        },
        status=status,
    )


@console_view(MANAGE)
def notice_create(request):
    actor = request.actor
    if request.method == "POST":
        form = NoticeForm(request.POST, actor=actor)
    else:
        form = NoticeForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            notice = services.create_notice(actor=actor, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Draft saved. Add images or files, then publish it."),
            )
            return redirect("notices:detail", notice.pk)
    status = 400 if request.method == "POST" else 200
    return _form_page(request, form, _("New notice"), status=status)


@console_view(MANAGE)
def notice_edit(request, pk):
    actor = request.actor
    notice = _notice_or_404(request, pk)
    if request.method == "POST":
        form = NoticeForm(request.POST, actor=actor)
    elif request.GET:  # the form re-rendering after a change of community/audience
        form = NoticeForm(initial=notice_initial(notice) | request.GET.dict(), actor=actor)
    else:
        form = NoticeForm(initial=notice_initial(notice), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_notice(actor=actor, notice=notice, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Notice saved."))
            return redirect("notices:detail", notice.pk)
    status = 400 if request.method == "POST" else 200
    return _form_page(request, form, notice.title, notice=notice, status=status)


def _receipt_page(request, notice, filters: dict) -> KeysetPage:
    return _keyset(
        selectors.receipts(notice, **filters), after_param(request), request.GET, RECEIPTS_PAGE
    )


def _keyset(queryset, after, query, size) -> KeysetPage:
    qs = queryset.order_by("id")
    if after:
        qs = qs.filter(id__gt=after)
    rows = list(qs[: size + 1])
    next_after = rows[size - 1].id if len(rows) > size else None
    return KeysetPage(items=rows[:size], after=after, next_after=next_after, query=query)


def _detail_context(request, notice, **forms) -> dict:
    actor = request.actor
    can_manage = services.may_manage(actor, notice)
    editable = notice.status in services.EDITABLE
    buildings = selectors.building_counts(notice) if notice.status != Status.DRAFT else []
    receipt_form = ReceiptFilterForm(request.GET, buildings=buildings)
    context = {
        "notice": notice,
        "badge": STATUS_BADGE.get(notice.status, ""),
        "can_manage": can_manage,
        "editable": editable and can_manage,
        "can_publish": can_manage and editable,
        "can_withdraw": can_manage and notice.status in (Status.SCHEDULED, Status.PUBLISHED),
        "counts": selectors.read_counts(notice),
        "buildings": buildings,
        "sending": selectors.sending(notice),
        "targets": _targets(notice),
        "photos": list(notice.photos.order_by("id")),
        "attachments": list(notice.attachments.select_related("uploaded_by")),
        "events": selectors.timeline(notice),
        "receipt_form": receipt_form,
        "receipt_query": request.GET.urlencode(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "photo_form": forms.get("photo_form") or PhotoForm(),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "action_errors": forms.get("action_errors"),
        "breadcrumbs": _crumbs((notice.title, None)),
    }
    if notice.status != Status.DRAFT:
        context["receipts"] = _receipt_page(request, notice, receipt_form.values())
    return context


def _targets(notice) -> list[str]:
    if notice.audience == "buildings":
        return [b.name for b in notice.buildings.all()]
    if notice.audience == "units":
        return [f"{u.building.name} {u.name}" for u in notice.units.select_related("building")]
    if notice.audience == "houses":
        houses = notice.houses.select_related("building", "unit").order_by("building_id", "number")
        return [f"{h.building.name} {h.number}" for h in houses[:200]]
    return []


@require_GET
@console_view(VIEW)
def notice_detail(request, pk):
    notice = _notice_or_404(request, pk)
    return render(request, "notices/console/detail.html", _detail_context(request, notice))


def _action_failed(request, notice, exc, **forms):
    context = _detail_context(request, notice, action_errors=exc.messages, **forms)
    return render(request, "notices/console/detail.html", context, status=400)


@require_POST
@console_view(MANAGE)
def notice_publish(request, pk):
    notice = _notice_or_404(request, pk)
    try:
        notice = services.publish_notice(actor=request.actor, notice=notice)
    except ValidationError as exc:
        return _action_failed(request, notice, exc)
    if notice.status == Status.SCHEDULED:
        messages.success(
            request,
            _("Scheduled: it is published at %(when)s.")
            % {"when": timezone.localtime(notice.publish_at).strftime("%Y-%m-%d %H:%M")},
        )
    else:
        messages.success(request, _("Published. Residents are being notified."))
    return redirect("notices:detail", notice.pk)


@require_POST
@console_view(MANAGE)
def notice_withdraw(request, pk):
    notice = _notice_or_404(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _action_failed(
            request, notice, ValidationError(_("Check the reason.")), withdraw_form=form
        )
    try:
        services.withdraw_notice(actor=request.actor, notice=notice, note=form.cleaned_data["note"])
    except ValidationError as exc:
        return _action_failed(request, notice, exc, withdraw_form=form)
    messages.success(request, _("Withdrawn: residents no longer see it."))
    return redirect("notices:detail", notice.pk)


@require_GET
@console_view(VIEW)
def receipts_export(request, pk):
    notice = _notice_or_404(request, pk)
    form = ReceiptFilterForm(request.GET, buildings=selectors.building_counts(notice))
    out = spooled_file()
    exports.export_receipts(
        actor=request.actor,
        notice=notice,
        receipts=selectors.receipts(notice, **form.values()),
        out=out,
    )
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-notice-{notice.pk}-receipts-{stamp}.xlsx",
        content_type=XLSX_TYPE,
    )


# --- files and images ---------------------------------------------------------------------
def send_attachment(attachment) -> FileResponse:
    """The file under its original name, always as a download."""
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


def send_photo(notice, photo_id: int, thumb: bool) -> FileResponse:
    photo = notice.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    try:
        name = photos.thumbnail(photo) if thumb else photo.file.name
        handle = photo.file.storage.open(name, "rb")
    except OSError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@console_view(VIEW)
def attachment_download(request, pk):
    attachment = NoticeAttachment.objects.filter(pk=pk).select_related("notice").first()
    if attachment is None:
        raise Http404
    _notice_or_404(request, attachment.notice_id)
    return send_attachment(attachment)


@require_GET
@console_view(VIEW)
def notice_image(request, pk, photo_id):
    notice = _notice_or_404(request, pk)
    return send_photo(notice, photo_id, thumb="thumb" in request.GET)


@require_POST
@console_view(MANAGE)
def attachment_upload(request, pk):
    notice = _notice_or_404(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = services.add_attachment(
                actor=request.actor, notice=notice, upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("“%s” added.") % attachment.name)
            return redirect(reverse("notices:detail", args=[notice.pk]) + "#files")
    context = _detail_context(request, notice, attachment_form=form)
    return render(request, "notices/console/detail.html", context, status=400)


@require_POST
@console_view(MANAGE)
def attachment_delete(request, pk):
    attachment = NoticeAttachment.objects.filter(pk=pk).select_related("notice").first()
    if attachment is None:
        raise Http404
    notice = _notice_or_404(request, attachment.notice_id)
    try:
        services.remove_attachment(actor=request.actor, attachment=attachment)
    except ValidationError as exc:
        return _action_failed(request, notice, exc)
    messages.success(request, _("“%s” deleted.") % attachment.name)
    return redirect(reverse("notices:detail", args=[notice.pk]) + "#files")


@require_POST
@console_view(MANAGE)
def photo_upload(request, pk):
    notice = _notice_or_404(request, pk)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_photo(
                actor=request.actor, notice=notice, uploaded=form.cleaned_data["photo"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Image added."))
            return redirect(reverse("notices:detail", args=[notice.pk]) + "#images")
    context = _detail_context(request, notice, photo_form=form)
    return render(request, "notices/console/detail.html", context, status=400)


@require_POST
@console_view(MANAGE)
def photo_delete(request, pk, photo_id):
    notice = _notice_or_404(request, pk)
    try:
        services.remove_photo(actor=request.actor, notice=notice, photo_id=photo_id)
    except ValidationError as exc:
        return _action_failed(request, notice, exc)
    messages.success(request, _("Image removed."))
    return redirect(reverse("notices:detail", args=[notice.pk]) + "#images")
