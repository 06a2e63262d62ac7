"""``/api/v1/webhooks`` — outbound webhooks for integrators: endpoints (list, create,
read, change, delete, signing secret, new secret, test event) and the delivery log
(list, read, send again). Company administrators only (``company.manage``); everyone
else sees empty lists and 404s, and is refused writes.

Creates and actions take an Idempotency-Key. Secrets are never in those responses (a
replayed response is stored): read it with ``GET …/secret``.
See ``docs/webhooks.md`` for the events, their payloads and the signature.
"""

import datetime
import uuid

from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    choices_literal,
    filter_by,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.webhooks import services
from wuye.webhooks.events import EVENT_TYPES
from wuye.webhooks.models import DeliveryStatus, Endpoint, WebhookDelivery

router = Router(tags=["engagement"])

DeliveryStatusValue = choices_literal(DeliveryStatus)
EVENTS_DOC = "Event types: " + ", ".join(EVENT_TYPES) + "."


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: datetime.datetime


class EndpointIn(InputSchema):
    url: str = Field(max_length=500, description="http(s) URL on a public address.")
    event_types: list[str] = Field(min_length=1, max_length=50, description=EVENTS_DOC)
    description: str = Field("", max_length=200)


class EndpointPatch(InputSchema):
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = Field(None, max_length=50, description=EVENTS_DOC)
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = Field(
        None, description="false switches it off and gives up its waiting deliveries."
    )


class SecretOut(Schema):
    secret: str = Field(
        description='Key of X-Wuye-Signature: "sha256=" + hex HMAC-SHA256 of '
        '"{X-Wuye-Timestamp}.{body}".'
    )


class WebhookDeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: uuid.UUID = Field(description="Sent as X-Wuye-Delivery; the same on every attempt.")
    event_type: str
    status: DeliveryStatusValue
    attempts: int
    next_attempt_at: datetime.datetime | None
    response_status: int | None
    response_excerpt: str = Field(description="The first 500 characters of the answer.")
    last_error: str
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None
    payload: dict = Field(description="The JSON body that is POSTed.")


class DeliveryFilters(Schema):
    endpoint: Id | None = Field(None, description="Endpoint id.")
    status: DeliveryStatusValue | None = None
    event_type: str | None = Field(None, max_length=64)


def _endpoint(request, endpoint_id) -> Endpoint:
    return get_visible_or_404(Endpoint.objects, actor(request), pk=endpoint_id)


@router.get(
    "/webhooks/endpoints",
    response={200: list[EndpointOut], **LIST_ERRORS},
    summary="List webhook endpoints",
    description="The company's endpoints; company administrators only.",
)
@paginate(IdCursorPagination)
def list_webhook_endpoints(request):
    return Endpoint.objects.visible_to(actor(request))


@router.post(
    "/webhooks/endpoints",
    response={201: EndpointOut, **WRITE_ERRORS},
    summary="Create a webhook endpoint",
    description="A URL subscribed to event types; a signing secret is made for it "
    "(read it with GET /webhooks/endpoints/{id}/secret).",
)
@idempotent
def create_webhook_endpoint(request, payload: EndpointIn):
    endpoint = services.create_endpoint(actor=actor(request), **payload.model_dump())
    return Status(201, endpoint)


@router.get(
    "/webhooks/endpoints/{endpoint_id}",
    response={200: EndpointOut, **READ_ERRORS},
    summary="Read a webhook endpoint",
)
def get_webhook_endpoint(request, endpoint_id: Id):
    return _endpoint(request, endpoint_id)


@router.patch(
    "/webhooks/endpoints/{endpoint_id}",
    response={200: EndpointOut, **WRITE_ERRORS},
    summary="Change a webhook endpoint",
)
def update_webhook_endpoint(request, endpoint_id: Id, payload: EndpointPatch):
    endpoint = _endpoint(request, endpoint_id)
    changes = payload.model_dump(exclude_unset=True)
    return services.update_endpoint(actor=actor(request), endpoint=endpoint, **changes)


@router.delete(
    "/webhooks/endpoints/{endpoint_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a webhook endpoint",
    description="Removes the endpoint and its delivery log.",
)
def delete_webhook_endpoint(request, endpoint_id: Id):
    endpoint = _endpoint(request, endpoint_id)
    services.delete_endpoint(actor=actor(request), endpoint=endpoint)
    return Status(204, None)


@router.get(
    "/webhooks/endpoints/{endpoint_id}/secret",
    response={200: SecretOut, **READ_ERRORS},
    summary="Read a webhook endpoint's signing secret",
)
def get_webhook_secret(request, endpoint_id: Id):
    return {"secret": _endpoint(request, endpoint_id).secret}


@router.post(
    "/webhooks/endpoints/{endpoint_id}/rotate-secret",
    response={200: EndpointOut, **WRITE_ERRORS},
    summary="Make a new signing secret",
    description="The next attempt is signed with it; read it with GET …/secret.",
)
@idempotent
def rotate_webhook_secret(request, endpoint_id: Id):
    endpoint = _endpoint(request, endpoint_id)
    return services.rotate_secret(actor=actor(request), endpoint=endpoint)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/test",
    response={201: WebhookDeliveryOut, **WRITE_ERRORS},
    summary="Send a test event (ping)",
    description='Queues a "ping" event to the endpoint, whatever it subscribes to; the '
    "delivery's status shows the outcome a moment later.",
)
@idempotent
def test_webhook_endpoint(request, endpoint_id: Id):
    endpoint = _endpoint(request, endpoint_id)
    return Status(201, services.send_test_event(actor=actor(request), endpoint=endpoint))


@router.get(
    "/webhooks/deliveries",
    response={200: list[WebhookDeliveryOut], **LIST_ERRORS},
    summary="List webhook deliveries",
    description="The delivery log, newest first: one row per event and endpoint with "
    "the last attempt's outcome.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_webhook_deliveries(request, filters: Query[DeliveryFilters]):
    qs = WebhookDelivery.objects.visible_to(actor(request))
    return filter_by(qs, filters, endpoint="endpoint_id", status="status", event_type="event_type")


@router.get(
    "/webhooks/deliveries/{delivery_id}",
    response={200: WebhookDeliveryOut, **READ_ERRORS},
    summary="Read a webhook delivery",
)
def get_webhook_delivery(request, delivery_id: Id):
    return get_visible_or_404(WebhookDelivery.objects, actor(request), pk=delivery_id)


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    response={200: WebhookDeliveryOut, **WRITE_ERRORS},
    summary="Send a delivery again",
    description="Same event id, a fresh set of retries; refused while it is waiting "
    "to be sent or when the endpoint is switched off.",
)
@idempotent
def redeliver_webhook(request, delivery_id: Id):
    who = actor(request)
    delivery = get_visible_or_404(WebhookDelivery.objects, who, pk=delivery_id)
    return services.redeliver(actor=who, delivery=delivery)
