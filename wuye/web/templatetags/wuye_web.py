"""Template tags for the layouts: navigation links that know when they are active."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.inclusion_tag("includes/nav_link.html", takes_context=True)
def nav_link(context, url_name, label, icon="", exact=False):
    """A navigation link, marked current when the page is at (``exact``) or below its URL.

    A URL that does not exist (yet) renders nothing, so the layout never breaks.
    """
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return {"url": None}
    request = context.get("request")
    path = request.path if request else ""
    current = path == url or (not exact and path.startswith(url))
    return {"url": url, "label": label, "icon": icon, "current": current}
