"""Notifications: ``notify`` for every other domain, and marking them read.

Other apps call, inside their own transaction::

    from wuye.notifications.services import notify

    notify(
        recipients=[member.user_id],
        kind="workorder.dispatched",
        title=format_lazy(gettext_lazy("Work order {no} was dispatched to you"), no=order.no),
        url=reverse("workorders:detail", args=[order.pk]),
        obj=order,
        dedupe_key=f"workorder.dispatched:{order.pk}:{event.pk}",
    )

Nothing happens until that transaction commits; then the task ``deliver_notifications``
stores one row per recipient and calls each configured channel. A rolled-back change
notifies nobody; a task that runs twice notifies nobody twice.
"""

import logging
import re
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation

from wuye.notifications.channels import configured_channels
from wuye.notifications.models import KIND_PATTERN, Notification

logger = logging.getLogger("wuye.notifications")

BATCH_SIZE = 1000
TITLE_LENGTH = Notification._meta.get_field("title").max_length
KEY_LENGTH = Notification._meta.get_field("dedupe_key").max_length


def _user_id(recipient) -> int:
    if isinstance(recipient, int) and not isinstance(recipient, bool):
        return recipient
    pk = getattr(recipient, "pk", None)
    if isinstance(pk, int):
        return pk
    raise TypeError(f"A recipient is a user or a user id, not {recipient!r}.")


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title,
    body="",
    url: str = "",
    obj=None,
    dedupe_key: str = "",
) -> None:
    """Notify users (or user ids) once the current transaction commits.

    ``title`` and ``body`` may be lazy translations: they are rendered now in the site's
    default language (Chinese), whatever language the current request uses, because
    one stored row serves every reader. ``url`` is an in-app path. ``dedupe_key`` names
    the event; give one built from the event's id so a repeated call is harmless too
    (without one, only the task's own retries are deduplicated).

    Mistakes here are programming errors (a bad kind or link) and raise ``ValueError``.
    """
    recipient_ids = sorted({_user_id(r) for r in recipients})
    if not re.fullmatch(KIND_PATTERN, kind or "") or len(kind) > 64:
        raise ValueError(f"Notification kind must be a dotted lowercase slug, not {kind!r}.")
    if url and not (url.startswith("/") and not url.startswith("//")):
        raise ValueError(f"Notification links are in-app paths starting with /, not {url!r}.")
    dedupe_key = dedupe_key or f"{kind}:{uuid.uuid4().hex}"
    if len(dedupe_key) > KEY_LENGTH:
        raise ValueError(f"dedupe_key is longer than {KEY_LENGTH} characters.")
    if not recipient_ids:
        return
    with translation.override(settings.LANGUAGE_CODE):
        title = str(title).strip()
        body = str(body)
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1] + "…"
    if not title:
        raise ValueError("A notification needs a title.")
    arguments = {
        "recipient_ids": recipient_ids,
        "kind": kind,
        "title": title,
        "body": body,
        "url": url,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": obj.pk if obj is not None else None,
        "dedupe_key": dedupe_key,
    }

    def enqueue():
        from wuye.notifications.tasks import deliver_notifications

        deliver_notifications.enqueue(**arguments)

    # robust: the change that caused the notification is committed either way; a queue
    # that refuses the task is logged rather than turned into an error for the user.
    transaction.on_commit(enqueue, robust=True)


def deliver(
    *,
    recipient_ids: list[int],
    kind: str,
    title: str,
    body: str,
    url: str,
    object_type: str,
    object_id: int | None,
    dedupe_key: str,
) -> int:
    """Store the rows not stored yet (per recipient and ``dedupe_key``), in batches,
    then give each new row to every channel. Returns the number of rows created.

    Inactive or deleted users are skipped. Channels only see rows this run created, so
    a second run sends nothing again."""
    fields = {
        "kind": kind,
        "title": title,
        "body": body,
        "url": url,
        "object_type": object_type,
        "object_id": object_id,
        "dedupe_key": dedupe_key,
    }
    channels = configured_channels()
    ids = sorted(set(recipient_ids))
    created = 0
    for start in range(0, len(ids), BATCH_SIZE):
        rows = _store(ids[start : start + BATCH_SIZE], fields)
        created += len(rows)
        for channel in channels:
            for row in rows:
                try:
                    channel.send(row)
                except Exception:  # one failing provider must not stop the others
                    logger.exception(
                        "Channel %s failed for notification %s", type(channel).__name__, row.pk
                    )
    return created


@transaction.atomic
def _store(batch: list[int], fields: dict) -> list[Notification]:
    key = fields["dedupe_key"]
    stored = set(
        Notification.objects.filter(dedupe_key=key, recipient_id__in=batch).values_list(
            "recipient_id", flat=True
        )
    )
    wanted = list(
        get_user_model()
        .objects.filter(pk__in=[pk for pk in batch if pk not in stored], is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not wanted:
        return []
    now = timezone.now()
    Notification.objects.bulk_create(
        [Notification(recipient_id=pk, created_at=now, **fields) for pk in wanted],
        ignore_conflicts=True,  # a concurrent run got there first: theirs stands
    )
    # Rows this run inserted carry its timestamp; a concurrent run's rows do not.
    return list(
        Notification.objects.filter(
            dedupe_key=key, recipient_id__in=wanted, created_at=now
        ).order_by("id")
    )


@transaction.atomic
def mark_read(*, actor, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read (again is harmless)."""
    if not actor.is_authenticated or notification.recipient_id != actor.user.pk:
        raise PermissionDenied
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_read(*, actor, up_to_id: int | None = None) -> int:
    """Mark the actor's unread notifications read; with ``up_to_id``, only those up to
    that id (the newest one the reader saw), so one arriving meanwhile stays unread.
    Returns how many changed."""
    if not actor.is_authenticated:
        raise PermissionDenied
    qs = Notification.objects.visible_to(actor).unread()
    if up_to_id is not None:
        qs = qs.filter(id__lte=up_to_id)
    return qs.update(read_at=timezone.now())
