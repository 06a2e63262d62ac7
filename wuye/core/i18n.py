"""Text stored once and read by everyone is written in the site's language."""

from django.conf import settings
from django.utils import translation


def site_text(text, params: dict | None = None) -> str:
    """``text`` (lazy or not) in the site's language (Chinese), whatever language the
    acting user's page is in: notifications, report lines and adjustment reasons are
    stored once for every reader. ``params`` fill its ``%(name)s`` placeholders inside
    the same override, so lazy labels among them come out in that language too."""
    with translation.override(settings.LANGUAGE_CODE):
        if params is None:
            return str(text)
        return str(text) % {key: str(value) for key, value in params.items()}
