"""Reads about staff that other domains (dispatch, inspections) rely on."""

import datetime

from django.db.models import F, Q
from django.utils import timezone

from wuye.staff.models import RosterEntry, StaffMember


def on_shift(*, community_id: int, at: datetime.datetime):
    """Staff rostered in a community at a moment and on duty (在岗).

    A shift whose end is not after its start crosses midnight and counts on the
    next day too until it ends.
    """
    local = timezone.localtime(at)
    day, now = local.date(), local.time()
    crosses_midnight = Q(shift__end_time__lte=F("shift__start_time"))
    same_day = Q(date=day, shift__start_time__lte=now) & (
        Q(shift__end_time__gt=now) | crosses_midnight
    )
    from_yesterday = Q(date=day - datetime.timedelta(days=1), shift__end_time__gt=now) & (
        crosses_midnight
    )
    entries = RosterEntry.objects.filter(community_id=community_id).filter(
        same_day | from_yesterday
    )
    return StaffMember.objects.filter(
        id__in=entries.values("staff_id"), is_active=True, status=StaffMember.Status.ON_DUTY
    )
