"""Reading notifications: always the actor's own."""

from wuye.notifications.models import Notification

BADGE_CAP = 99


def notifications_for(actor, *, unread_only: bool = False):
    qs = Notification.objects.visible_to(actor)
    return qs.unread() if unread_only else qs


def unread_count(actor) -> int:
    """One COUNT over the (recipient, read_at, id) index."""
    if not actor.is_authenticated:
        return 0
    return notifications_for(actor, unread_only=True).count()


def badge_text(count: int) -> str:
    """What a badge shows: nothing for 0, the number, or ``99+``."""
    if count <= 0:
        return ""
    return f"{BADGE_CAP}+" if count > BADGE_CAP else str(count)
