"""The notification centre (``/notifications/``) for every signed-in user: office staff
see it in the console, residents and field staff in the mobile layout."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from wuye.core.console import KeysetPage
from wuye.core.scoping import get_visible_or_404
from wuye.notifications import selectors, services
from wuye.notifications.models import Notification

PAGE_SIZE = 30
LAYOUTS = {"console": "console/base.html", "field": "mobile/base.html"}


def _layout(actor) -> str:
    return LAYOUTS.get(actor.home, "mobile/base.html")


def _cursor(request, name: str) -> int | None:
    """A positive id from the query or form, or ``None``; anything else is bad input."""
    raw = request.GET.get(name) if request.method == "GET" else request.POST.get(name)
    if raw in (None, ""):
        return None
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise ValueError(name)
    return int(raw)


def newest_first(queryset, *, before: int | None, query, size: int) -> KeysetPage:
    """Keyset page in descending id order: ``after`` in the pager means "older than"."""
    qs = queryset.order_by("-id")
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: size + 1])
    next_after = rows[size - 1].id if len(rows) > size else None
    return KeysetPage(items=rows[:size], after=before, next_after=next_after, query=query)


@login_required
def notification_list(request):
    actor = request.actor
    unread_only = request.GET.get("show") == "unread"
    try:
        before = _cursor(request, "after")
    except ValueError:
        return HttpResponseBadRequest(_("The page cursor “after” is not a valid id."))
    page = newest_first(
        selectors.notifications_for(actor, unread_only=unread_only),
        before=before,
        query=request.GET,
        size=PAGE_SIZE,
    )
    newest = page.items[0].id if page.items and not before else None
    return render(
        request,
        "notifications/list.html",
        {
            "layout": _layout(actor),
            "page": page,
            "unread_only": unread_only,
            "newest_id": newest,
        },
    )


@login_required
@require_POST
def mark_read(request, pk: int):
    actor = request.actor
    notification = get_visible_or_404(Notification.objects, actor, pk=pk)
    services.mark_read(actor=actor, notification=notification)
    if request.htmx:
        return render(
            request,
            "notifications/list.html#marked",
            {"notification": notification},
        )
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    actor = request.actor
    try:
        up_to = _cursor(request, "up_to")
    except ValueError:
        return HttpResponseBadRequest(_("The field “up_to” is not a valid id."))
    count = services.mark_all_read(actor=actor, up_to_id=up_to)
    if count:
        messages.success(
            request,
            ngettext(
                "Marked %(count)d notification as read.",
                "Marked %(count)d notifications as read.",
                count,
            )
            % {"count": count},
        )
    return redirect("notifications:list")
