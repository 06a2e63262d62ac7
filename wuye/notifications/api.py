"""``/api/v1/notifications`` — the signed-in user's own notifications."""

from ninja import Query, Router
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    MAX_ID,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    actor,
)
from wuye.core.scoping import get_visible_or_404
from wuye.notifications import selectors, services
from wuye.notifications.models import Notification
from wuye.notifications.schemas import NotificationOut, ReadAllOut, UnreadCountOut

router = Router(tags=["notifications"])


@router.get(
    "/notifications",
    response={200: list[NotificationOut], **LIST_ERRORS},
    summary="My notifications",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_notifications(request, unread: bool = Query(False, description="Only the unread ones.")):
    """Newest first."""
    return selectors.notifications_for(actor(request), unread_only=unread)


@router.get(
    "/notifications/unread-count",
    response={200: UnreadCountOut, 401: READ_ERRORS[401]},
    summary="Unread count",
)
def unread_count(request):
    count = selectors.unread_count(actor(request))
    return {"count": count, "display": selectors.badge_text(count)}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **WRITE_ERRORS},
    summary="Mark one read",
)
def mark_read(request, notification_id: Id):
    who = actor(request)
    notification = get_visible_or_404(Notification.objects, who, pk=notification_id)
    return services.mark_read(actor=who, notification=notification)


@router.post(
    "/notifications/read-all",
    response={200: ReadAllOut, **WRITE_ERRORS},
    summary="Mark all read",
)
def mark_all_read(
    request,
    up_to_id: int | None = Query(
        None,
        ge=1,
        le=MAX_ID,
        description="Only notifications up to this id (the newest one the client showed); "
        "omit to mark every unread notification.",
    ),
):
    return {"marked": services.mark_all_read(actor=actor(request), up_to_id=up_to_id)}
