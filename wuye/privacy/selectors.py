"""Reading the privacy app: the audit log, deletion requests, a resident's own data."""

import datetime

from django.db.models import Q
from django.utils import timezone

from wuye.privacy.models import AccessLog, DeletionRequest


def access_log(actor, *, action="", who="", date_from=None, date_to=None):
    """The actor's company's audit log (privacy.view_audit), filtered. ``who`` is exact:
    a username, mobile or staff/user name (indexed lookups, no LIKE scans)."""
    qs = AccessLog.objects.visible_to(actor).select_related("actor", "actor__staff_profile")
    if action:
        qs = qs.filter(action=action)
    zone = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(at__gte=datetime.datetime.combine(date_from, datetime.time.min, zone))
    if date_to:
        end = date_to + datetime.timedelta(days=1)
        qs = qs.filter(at__lt=datetime.datetime.combine(end, datetime.time.min, zone))
    who = (who or "").strip()
    if who:
        qs = qs.filter(
            Q(actor__username=who)
            | Q(actor__mobile=who)
            | Q(actor__first_name=who)
            | Q(actor__staff_profile__name=who)
        )
    return qs


def deletion_requests(actor, *, state=""):
    qs = DeletionRequest.objects.visible_to(actor).select_related(
        "resident", "community", "decided_by", "decided_by__staff_profile"
    )
    if state:
        qs = qs.filter(state=state)
    return qs


def own_deletion_requests(actor):
    if not actor.is_authenticated:
        return DeletionRequest.objects.none()
    return DeletionRequest.objects.filter(user_id=actor.user.pk).select_related("community")
