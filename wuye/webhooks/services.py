"""Outbound webhooks: endpoints (company administrators only), the delivery of each
event to each subscribed endpoint, retries with back-off, and the admin's resends.

Delivery rules (documented for integrators in ``docs/webhooks.md``):

- an event is recorded once per active endpoint of its company subscribed to its type
  (``record_deliveries``; the unique ``(endpoint, event_id)`` makes a rerun harmless);
- every attempt is one POST of the event as JSON, signed with
  ``sha256=HMAC-SHA256(secret, f"{timestamp}.{body}")``; a 2xx answer within
  ``transport.TIMEOUT`` seconds is a success; anything else is retried after 1, 5, 30,
  120 and 720 minutes, and after the 6th failed attempt the delivery has failed;
- a delivery is sent by whoever *claims* it: a conditional UPDATE moving its
  ``next_attempt_at`` from due to a lease in the future, which only one worker can win.
  A worker that dies mid-send leaves the lease to expire, and the sweep tries again.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import time
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.webhooks import transport
from wuye.webhooks.events import EVENT_TYPES
from wuye.webhooks.models import DeliveryStatus, Endpoint, WebhookDelivery, new_secret

MANAGE = "company.manage"
PING = "ping"
USER_AGENT = "Wuye-Webhooks/1"
# Minutes to wait after the 1st, 2nd… failed attempt; the attempt after the last wait is
# the final one (6 attempts in all, the last about 14½ hours after the first).
BACKOFF_MINUTES = (1, 5, 30, 120, 720)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
LEASE = datetime.timedelta(minutes=5)  # a claim outlives any one send (5 s timeout)
EXCERPT = 500
DUE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
SWEEP_LIMIT = 200
SWEEP_BUDGET = 45.0  # seconds: a tick stops claiming before the next one starts


# --- who may ---------------------------------------------------------------------------
def _require_admin(actor, endpoint: Endpoint | None = None) -> None:
    if not actor.is_authenticated or not actor.staff or not actor.has_perm(MANAGE):
        raise PermissionDenied(MANAGE)
    if endpoint is not None and endpoint.company_id != actor.staff.company_id:
        raise PermissionDenied(MANAGE)


# --- validation ------------------------------------------------------------------------
def _private_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    address = transport.numeric_address(host)
    return address is not None and not transport.is_public(address)


def clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": _("Enter the URL to send events to.")})
    if len(url) > 500:
        raise ValidationError({"url": _("Use a URL of at most 500 characters.")})
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValidationError({"url": _("Use an http:// or https:// URL.")})
    try:
        URLValidator(schemes=["http", "https"])(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except (ValidationError, ValueError):
        raise ValidationError({"url": _("Enter a valid URL.")}) from None
    if parts.username or parts.password:
        raise ValidationError({"url": _("Leave user names and passwords out of the URL.")})
    if not transport.allow_private() and _private_host(host):
        raise ValidationError(
            {"url": _("Use a public address: local and private networks cannot be reached.")}
        )
    return url


def clean_event_types(event_types) -> list[str]:
    chosen = list(dict.fromkeys(event_types or ()))
    if not chosen:
        raise ValidationError({"event_types": _("Choose at least one event.")})
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown event: %(names)s.") % {"names": ", ".join(unknown)}}
        )
    return [name for name in EVENT_TYPES if name in chosen]  # the documented order


def _description(value) -> str:
    value = (value or "").strip()
    if len(value) > 200:
        raise ValidationError({"description": _("Write at most 200 characters.")})
    return value


# --- endpoints -------------------------------------------------------------------------
@transaction.atomic
def create_endpoint(*, actor, url: str, event_types, description: str = "") -> Endpoint:
    _require_admin(actor)
    return Endpoint.objects.create(
        company_id=actor.staff.company_id,
        url=clean_url(url),
        event_types=clean_event_types(event_types),
        description=_description(description),
        created_by=actor.user,
    )


def _give_up_outstanding(endpoint: Endpoint, reason: str) -> int:
    return WebhookDelivery.objects.filter(endpoint=endpoint, status__in=DUE).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=reason[:500]
    )


@transaction.atomic
def update_endpoint(
    *,
    actor,
    endpoint: Endpoint,
    url: str | None = None,
    event_types=None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Endpoint:
    """Change what is given; switching an endpoint off gives up its waiting deliveries
    (they would be stale by the time it is switched on again)."""
    _require_admin(actor, endpoint)
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if url is not None:
        locked.url = clean_url(url)
    if event_types is not None:
        locked.event_types = clean_event_types(event_types)
    if description is not None:
        locked.description = _description(description)
    if is_active is not None:
        if locked.is_active and not is_active:
            _give_up_outstanding(locked, _("The webhook was switched off."))
        locked.is_active = bool(is_active)
    locked.save()
    return locked


@transaction.atomic
def delete_endpoint(*, actor, endpoint: Endpoint) -> None:
    """Remove the endpoint and its delivery log."""
    _require_admin(actor, endpoint)
    Endpoint.objects.filter(pk=endpoint.pk).delete()


@transaction.atomic
def rotate_secret(*, actor, endpoint: Endpoint) -> Endpoint:
    """A new signing secret, used from the next attempt on (waiting retries included)."""
    _require_admin(actor, endpoint)
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.secret = new_secret()
    locked.save(update_fields=["secret"])
    return locked


# --- recording and sending ---------------------------------------------------------------
def record_deliveries(*, event: dict) -> list[int]:
    """One delivery per active endpoint of the event's company subscribed to its type;
    returns their ids (those recorded by an earlier run of the same event included)."""
    endpoints = [
        endpoint.id
        for endpoint in Endpoint.objects.filter(
            company_id=event["company_id"], is_active=True
        ).only("id", "event_types")
        if event["type"] in (endpoint.event_types or ())
    ]
    if not endpoints:
        return []
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=event["id"],
                event_type=event["type"],
                payload=event,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint_id in endpoints
        ],
        ignore_conflicts=True,
    )
    return list(
        WebhookDelivery.objects.filter(endpoint_id__in=endpoints, event_id=event["id"])
        .order_by("id")
        .values_list("id", flat=True)
    )


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed by the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def _claim(delivery_id: int, now) -> datetime.datetime | None:
    """Take the delivery if it is due and nobody else holds it; returns the lease."""
    lease = now + LEASE
    won = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=DUE, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    return lease if won else None


def _attempt(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """POST once: (response status, response excerpt, error); error empty on a 2xx."""
    endpoint = delivery.endpoint
    body = body_of(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Wuye-Event": delivery.event_type,
        "X-Wuye-Delivery": str(delivery.event_id),
        "X-Wuye-Timestamp": timestamp,
        "X-Wuye-Signature": signature(endpoint.secret, timestamp, body),
    }
    try:
        answer = transport.post(endpoint.url, body, headers)
    except transport.BlockedAddress as exc:
        return None, "", _("Refused: %(reason)s") % {"reason": exc}
    except TimeoutError:
        return None, "", _("No answer within %(s)d seconds.") % {"s": transport.TIMEOUT}
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, "", f"{type(exc).__name__}: {exc}"
    excerpt = answer.text[:EXCERPT]
    if 200 <= answer.status < 300:
        return answer.status, excerpt, ""
    return answer.status, excerpt, _("HTTP %(status)d") % {"status": answer.status}


def send_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """Claim and send one due delivery, then record the outcome. Returns the delivery,
    or None when it was not due or another worker holds it. Call outside a transaction:
    the claim must be visible to other workers while the request is on the wire."""
    lease = _claim(delivery_id, timezone.now())
    if lease is None:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        WebhookDelivery.objects.filter(pk=delivery_id, next_attempt_at=lease).update(
            status=DeliveryStatus.FAILED,
            next_attempt_at=None,
            last_error=_("The webhook was switched off."),
        )
        delivery.refresh_from_db()
        return delivery
    status, excerpt, error = _attempt(delivery)
    finished = timezone.now()
    attempts = delivery.attempts + 1
    changes = {
        "attempts": attempts,
        "response_status": status,
        "response_excerpt": excerpt,
        "last_error": error[:500],
    }
    if not error:
        changes.update(status=DeliveryStatus.SUCCEEDED, next_attempt_at=None, delivered_at=finished)
    elif attempts >= MAX_ATTEMPTS:
        changes.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        wait = datetime.timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
        changes.update(status=DeliveryStatus.RETRYING, next_attempt_at=finished + wait)
    # Only while our lease stands: an admin's resend meanwhile takes precedence.
    WebhookDelivery.objects.filter(pk=delivery_id, next_attempt_at=lease).update(**changes)
    delivery.refresh_from_db()
    return delivery


def due_ids(now=None, limit: int = SWEEP_LIMIT) -> list[int]:
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status__in=DUE, next_attempt_at__lte=now, endpoint__is_active=True
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def send_due_deliveries(*, limit: int = SWEEP_LIMIT, budget: float = SWEEP_BUDGET) -> int:
    """The sweep: send the deliveries whose time has come, oldest first, each claimed
    before it is sent (another sweep running at the same time skips it). Stops after
    ``budget`` seconds; the next tick goes on. Returns how many were sent."""
    started = time.monotonic()
    sent = 0
    for delivery_id in due_ids(limit=limit):
        if time.monotonic() - started > budget:
            break
        sent += send_delivery(delivery_id=delivery_id) is not None
    return sent


def _send_soon(delivery_id: int) -> None:
    def enqueue():
        from wuye.webhooks.tasks import send_webhook

        send_webhook.enqueue(delivery_id=delivery_id)

    # The sweep sends it within a minute anyway if the task cannot be queued.
    transaction.on_commit(enqueue, robust=True)


@transaction.atomic
def redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """The admin sends a delivery again now (same event id, so a receiver that already
    has it can drop it), with a fresh set of retries."""
    locked = (
        WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    )
    _require_admin(actor, locked.endpoint)
    if not locked.endpoint.is_active:
        raise ValidationError(_("This webhook is switched off; switch it on first."))
    if locked.status == DeliveryStatus.PENDING:
        raise ValidationError(_("This delivery is already waiting to be sent."))
    locked.status = DeliveryStatus.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.response_status = None
    locked.response_excerpt = ""
    locked.last_error = ""
    locked.delivered_at = None
    locked.save()
    _send_soon(locked.pk)
    return locked


@transaction.atomic
def send_test_event(*, actor, endpoint: Endpoint) -> WebhookDelivery:
    """A ``ping`` event to the endpoint (whatever it subscribes to), to check the URL
    and the receiver's signature check."""
    _require_admin(actor, endpoint)
    endpoint = Endpoint.objects.get(pk=endpoint.pk)  # its current state
    if not endpoint.is_active:
        raise ValidationError(_("This webhook is switched off; switch it on first."))
    now = timezone.now()
    event_id = str(uuid.uuid4())
    event = {
        "id": event_id,
        "type": PING,
        "company_id": endpoint.company_id,
        "created_at": now.astimezone(datetime.UTC).isoformat(),
        "data": {"endpoint_id": endpoint.pk, "message": "ping"},
    }
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event_type=PING,
        payload=event,
        next_attempt_at=now,
        created_at=now,
    )
    _send_soon(delivery.pk)
    return delivery


def event_label(event_type: str) -> str:
    if event_type == PING:
        return _("Test event (ping)")
    return str(EVENT_TYPES.get(event_type, event_type))
