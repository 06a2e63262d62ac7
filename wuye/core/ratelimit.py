"""Per-user and per-mobile limits counted from the database (no cache needed, so every
web process, API worker and surface shares one count).

``RateLimited`` is a ``ValidationError``: HTML views that show a service's validation
errors show it as a form error or message unchanged; the API answers it with **429** and a
``Retry-After`` header (``wuye/api.py``)."""

import datetime
import math

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


class RateLimited(ValidationError):
    """Too many of something in a time window; ``retry_after`` is in whole seconds."""

    def __init__(self, message, *, retry_after: int | float, code: str = "rate_limited"):
        super().__init__(message, code=code)
        self.retry_after = max(1, math.ceil(retry_after))


def check_windows(
    queryset: QuerySet,
    *,
    field: str,
    limits: list[tuple[int, datetime.timedelta, str]],
    now: datetime.datetime | None = None,
) -> None:
    """Raise ``RateLimited`` when ``queryset`` already holds ``limit`` rows whose ``field``
    falls in the last ``window``, for any (limit, window, message) of ``limits``. The
    message may use ``%(limit)d`` (or ``%(n)d``); a limit of 0 is no limit.
    ``retry_after`` is when the oldest row that counts leaves the window, i.e. when one
    more is allowed again."""
    now = now or timezone.now()
    for limit, window, message in limits:
        if limit <= 0:  # 0 switches a limit off
            continue
        since = now - window
        recent = queryset.filter(**{f"{field}__gt": since})
        count = recent.count()
        if count < limit:
            continue
        # The (count - limit + 1)-th oldest must leave the window before one more fits.
        times = recent.order_by(field).values_list(field, flat=True)
        frees_at = times[count - limit] + window
        raise RateLimited(
            message % {"limit": limit, "n": limit},
            retry_after=(frees_at - now).total_seconds(),
        )
