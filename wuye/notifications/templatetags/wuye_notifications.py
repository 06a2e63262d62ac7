"""The unread badge of the layouts: ``{% notification_link "topbar" %}`` (console) and
``{% notification_link "tab" %}`` (mobile tab bar). The count is one indexed COUNT,
computed at most once per request."""

from django import template
from django.urls import reverse

from wuye.notifications.selectors import badge_text, unread_count

register = template.Library()


def _unread(request) -> int:
    count = getattr(request, "_wuye_unread_notifications", None)
    if count is None:
        count = unread_count(request.actor)
        request._wuye_unread_notifications = count
    return count


@register.inclusion_tag("notifications/badge_link.html", takes_context=True)
def notification_link(context, style="topbar"):
    request = context["request"]
    url = reverse("notifications:list")
    count = _unread(request)
    return {
        "style": style,
        "url": url,
        "count": count,
        "text": badge_text(count),
        "current": request.path.startswith(url),
    }


@register.inclusion_tag("notifications/badge.html", takes_context=True)
def notification_badge(context, oob=False):
    """The badge alone, for HTMX out-of-band updates after marking read."""
    count = _unread(context["request"])
    return {"text": badge_text(count), "count": count, "oob": oob}
