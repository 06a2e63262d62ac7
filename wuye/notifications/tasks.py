from django_tasks import task

from wuye.notifications import deliveries, services


@task()
def deliver_notifications(
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
    """Store one notification per recipient and hand the new ones to each channel.
    Safe to run twice: ``dedupe_key`` makes the second run create nothing."""
    return services.deliver(
        recipient_ids=recipient_ids,
        kind=kind,
        title=title,
        body=body,
        url=url,
        object_type=object_type,
        object_id=object_id,
        dedupe_key=dedupe_key,
        urgent=urgent,
    )


@task()
def deliver_notification_batch(*, notices: list[dict]) -> int:
    """``deliver_notifications`` for many notices (the ``notify`` calls of one
    ``delivered_together()`` block) in one task; as safe to run twice."""
    return services.deliver_batch(notices)


@task()
def send_deliveries(*, delivery_ids: list[int]) -> dict:
    """Send these deliveries if they are still due (one task per stored batch). Safe to
    run twice or beside the sweep: each delivery is claimed before it is sent."""
    return dict(deliveries.send_due(ids=delivery_ids, limit=len(delivery_ids) or 1))


@task()
def send_due_deliveries() -> dict:
    """Every minute: deliveries due now — retries after back-off, those held back by
    quiet hours, any a dead worker left claimed — batch after batch."""
    return dict(deliveries.sweep())
