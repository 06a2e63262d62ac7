"""Template tags for the layouts: navigation links that know when they are active."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("includes/nav_link.html", takes_context=True)
def nav_link(context, url_name, label, icon="", exact=False, not_under=""):
    """A navigation link, marked current when the page is at (``exact``) or below its
    URL — but not below ``not_under``, a section of its own nested inside this one."""
    url = reverse(url_name)
    request = context.get("request")
    path = request.path if request else ""
    current = path == url or (not exact and path.startswith(url))
    if current and not_under and path.startswith(reverse(not_under)):
        current = False
    return {"url": url, "label": label, "icon": icon, "current": current}
