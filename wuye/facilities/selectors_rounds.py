"""Reads of routine rounds shared beyond the console pages."""

from wuye.facilities.models import Answer, Task


def photo_visible(actor, photo_id: int) -> bool:
    """A photo taken for a checklist answer is seen by whoever sees the round task it
    was taken on (``wuye.core.photos.ATTACHMENT_CHECKS``)."""
    if not actor.is_authenticated:
        return False
    return Answer.objects.filter(
        photos=photo_id, visit__task__in=Task.objects.visible_to(actor)
    ).exists()
