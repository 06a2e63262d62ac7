"""The events integrators can subscribe to, and ``emit`` for the domains that raise them.

A domain service calls, inside its own transaction::

    from wuye.webhooks.events import emit

    emit(company_id=notice.company_id, event_type="notice.published", data={...})

Nothing is sent unless that transaction commits; then one task records a delivery for
each active endpoint subscribed to the type and sends it (``wuye.webhooks.tasks``).
"""

import datetime
import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext_lazy as _

EVENT_TYPES = {
    "workorder.created": _("Service request recorded"),
    "workorder.status_changed": _("Service request changed status"),
    "workorder.rated": _("Service request rated by the resident"),
    "incident.reported": _("Emergency reported"),
    "bill.issued": _("Bills issued by a bill run"),
    "payment.received": _("Payment received"),
    "notice.published": _("Notice published"),
    "activity.signed_up": _("Household signed up for an activity"),
    "activity.cancelled": _("Activity cancelled"),
    "survey.opened": _("Survey or vote opened"),
    "survey.closed": _("Survey or vote closed"),
}


def emit(*, company_id: int, event_type: str, data: dict) -> None:
    """Send ``data`` to the company's endpoints subscribed to ``event_type`` once the
    current transaction commits. ``data`` must be JSON-serialisable (Decimals, dates
    and UUIDs are fine); a mistake here is a programming error and raises now."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {event_type!r}.")
    event = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "company_id": company_id,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "data": data,
    }
    event = json.loads(json.dumps(event, cls=DjangoJSONEncoder))
    if not subscribed(company_id, event_type):
        return  # most companies have no webhooks: no callback, no task

    def enqueue():
        from wuye.webhooks.tasks import dispatch_event

        dispatch_event.enqueue(event=event)

    # robust: the change is committed either way; a refused task is logged, not raised.
    transaction.on_commit(enqueue, robust=True)


def subscribed(company_id: int, event_type: str) -> bool:
    """Whether any active endpoint of the company takes ``event_type`` (one small query
    on the company's few endpoints)."""
    from wuye.webhooks.models import Endpoint

    subscriptions = Endpoint.objects.filter(company_id=company_id, is_active=True).values_list(
        "event_types", flat=True
    )
    return any(event_type in (types or ()) for types in subscriptions)
