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

Code that notifies about many things in one transaction (the SLA sweep) wraps the calls
in ``delivered_together()``: the same ``notify`` calls then enqueue one task
(``deliver_notification_batch``) at commit instead of one per call, and that task
stores the rows of all of them with a few bulk queries.
"""

import contextlib
import logging
import re
import uuid
from collections.abc import Iterable
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation

from wuye.notifications import deliveries
from wuye.notifications.channels import configured_channels, split_channels
from wuye.notifications.models import KIND_PATTERN, Notification

logger = logging.getLogger("wuye.notifications")

BATCH_SIZE = 1000
# The notices of one delivered_together() block; None outside one.
_together: ContextVar[list[dict] | None] = ContextVar("notify_together", default=None)
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
    urgent: bool = False,
) -> None:
    """Notify users (or user ids) once the current transaction commits.

    ``title`` and ``body`` may be lazy translations: they are rendered now in the site's
    default language (Chinese), whatever language the current request uses, because
    one stored row serves every reader. ``url`` is an in-app path. ``dedupe_key`` names
    the event; give one built from the event's id so a repeated call is harmless too
    (without one, only the task's own retries are deduplicated). ``urgent`` ones also
    go by SMS and ignore quiet hours.

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
        "urgent": urgent,
    }

    together = _together.get()
    if together is not None:
        together.append(arguments)
        return

    def enqueue():
        from wuye.notifications.tasks import deliver_notifications

        deliver_notifications.enqueue(**arguments)

    # robust: the change that caused the notification is committed either way; a queue
    # that refuses the task is logged rather than turned into an error for the user.
    transaction.on_commit(enqueue, robust=True)


@contextlib.contextmanager
def delivered_together():
    """Within the block, ``notify`` collects its notices; leaving the block registers
    one task for all of them to run after the surrounding transaction commits (so open
    the block inside that transaction). Validation still happens in each ``notify``
    call. Nested blocks join the outer one."""
    if _together.get() is not None:
        yield
        return
    notices: list[dict] = []
    token = _together.set(notices)
    try:
        yield
    finally:
        _together.reset(token)
        if notices:

            def enqueue():
                from wuye.notifications.tasks import deliver_notification_batch

                deliver_notification_batch.enqueue(notices=notices)

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
    urgent: bool = False,
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
        "urgent": urgent,
    }
    return _deliver_items([(pk, fields) for pk in sorted(set(recipient_ids))])


def deliver_batch(notices: list[dict]) -> int:
    """``deliver`` for many notices at once (the arguments of ``notify`` calls made in
    a ``delivered_together()`` block): the same rows and channel calls, stored with a
    few queries per ``BATCH_SIZE`` rows instead of per notice. Returns rows created."""
    items = []
    for notice in notices:
        fields = {name: notice[name] for name in _FIELDS}
        fields["urgent"] = notice.get("urgent", False)  # batches queued before it existed
        items.extend((pk, fields) for pk in sorted(set(notice["recipient_ids"])))
    return _deliver_items(items)


_FIELDS = ("kind", "title", "body", "url", "object_type", "object_id", "dedupe_key")


def _deliver_items(items: list[tuple[int, dict]]) -> int:
    inline, outside = split_channels(configured_channels())
    created = 0
    for start in range(0, len(items), BATCH_SIZE):
        with transaction.atomic():
            inserted = _store(items[start : start + BATCH_SIZE])
            if not (inline or outside):  # in-app only: the stored rows are the message
                created += inserted.count()
                continue
            rows = list(inserted)
            # Email, SMS, WeChat: delivery rows in the same transaction, sent by one
            # task per batch after commit (wuye.notifications.deliveries).
            due = deliveries.plan(rows, outside) if outside else []
            deliveries.enqueue_sending(due)
        created += len(rows)
        for channel in inline:
            for row in rows:
                try:
                    channel.send(row)
                except Exception:  # one failing provider must not stop the others
                    logger.exception(
                        "Channel %s failed for notification %s", type(channel).__name__, row.pk
                    )
    return created


def _store(items: list[tuple[int, dict]]):
    """Insert the (recipient, fields) rows not stored yet; returns a queryset of those
    this call inserted, by id. The caller holds the transaction (the rows and their
    deliveries are committed together)."""
    keys = {fields["dedupe_key"] for _, fields in items}
    ids = {pk for pk, _ in items}
    stored = set(
        Notification.objects.filter(dedupe_key__in=keys, recipient_id__in=ids).values_list(
            "recipient_id", "dedupe_key"
        )
    )
    pending = {}  # (recipient, key) -> fields; a pair given twice counts once
    for pk, fields in items:
        pending.setdefault((pk, fields["dedupe_key"]), fields)
    for pair in stored:
        pending.pop(pair, None)
    active = set(
        get_user_model()
        .objects.filter(pk__in={pk for pk, _ in pending}, is_active=True)
        .values_list("pk", flat=True)
    )
    wanted = sorted(pair for pair in pending if pair[0] in active)
    if not wanted:
        return Notification.objects.none()
    now = timezone.now()
    Notification.objects.bulk_create(
        [Notification(recipient_id=pk, created_at=now, **pending[pk, key]) for pk, key in wanted],
        ignore_conflicts=True,  # a concurrent run got there first: theirs stands
    )
    # Rows this run inserted carry its timestamp; a concurrent run's rows do not.
    return Notification.objects.filter(
        dedupe_key__in={key for _, key in wanted},
        recipient_id__in={pk for pk, _ in wanted},
        created_at=now,
    ).order_by("id")


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
