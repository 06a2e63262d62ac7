"""Template tags for the layouts: navigation links that know when they are active."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("includes/nav_link.html", takes_context=True)
def nav_link(context, url_name, label, icon="", exact=False):
    """A navigation link, marked current when the page is at (``exact``) or below its URL."""
    url = reverse(url_name)
    request = context.get("request")
    path = request.path if request else ""
    current = path == url or (not exact and path.startswith(url))
    return {"url": url, "label": label, "icon": icon, "current": current}
