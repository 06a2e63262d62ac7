"""Background work of webhooks (run by ``wuye worker``)."""

from django_tasks import task


@task()
def dispatch_event(event: dict) -> dict:
    """An event committed by a domain service (``wuye.webhooks.events.emit``): record a
    delivery per subscribed endpoint and try each once now; failures wait for the
    sweep. Safe to run twice: the deliveries are recorded once, and one already sent
    (or being sent by someone else) is not claimed again."""
    from wuye.webhooks import services

    ids = services.record_deliveries(event=event)
    sent = sum(services.send_delivery(delivery_id=pk) is not None for pk in ids)
    return {"deliveries": len(ids), "sent": sent}


@task()
def send_webhook(delivery_id: int) -> bool:
    """Send one delivery now (a resend or a test event); False if it was not due or
    another worker had it."""
    from wuye.webhooks import services

    return services.send_delivery(delivery_id=delivery_id) is not None


@task()
def send_due_webhooks() -> int:
    """Every minute: send the retries whose back-off has passed (and anything a lost
    task left waiting). Two sweeps at once never send one delivery twice."""
    from wuye.webhooks import services

    return services.send_due_deliveries()
