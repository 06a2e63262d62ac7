"""Resident H5 pages of notices: the list (urgent unread first, then pinned, newest),
one notice (opening it marks the household's receipt read), its images and files.

Only the live notices that reached one of the resident's current houses are found;
anything else (withdrawn, expired, another house's) is the same 404."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wuye.notices import selectors, services
from wuye.notices.models import NoticeAttachment
from wuye.notices.views_console import send_attachment, send_photo

LIST_SIZE = 100


def _notice_or_404(request, pk):
    notice = selectors.resident_notices(request.actor).filter(pk=pk).first()
    if notice is None:
        raise Http404
    return notice


@login_required
@require_GET
def notice_list(request):
    notices = list(selectors.resident_notices(request.actor)[: LIST_SIZE + 1])
    return render(
        request,
        "notices/h5/list.html",
        {"notices": notices[:LIST_SIZE], "more": len(notices) > LIST_SIZE},
    )


@login_required
@require_GET
def notice_detail(request, pk):
    notice = _notice_or_404(request, pk)
    was_unread = notice.unread
    services.mark_read(actor=request.actor, notice=notice)
    return render(
        request,
        "notices/h5/detail.html",
        {
            "notice": notice,
            "was_unread": was_unread,
            "photos": list(notice.photos.order_by("id")),
            "attachments": list(notice.attachments.all()),
        },
    )


@login_required
@require_GET
def attachment_download(request, pk):
    attachment = NoticeAttachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise Http404
    _notice_or_404(request, attachment.notice_id)
    return send_attachment(attachment)


@login_required
@require_GET
def notice_image(request, pk, photo_id):
    notice = _notice_or_404(request, pk)
    return send_photo(notice, photo_id, thumb="thumb" in request.GET)
