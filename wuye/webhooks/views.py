"""Console pages of webhooks (company administrators only): the endpoints, their form,
one endpoint with its secret (revealed on click, shown once after a rotation) and its
latest deliveries, and the delivery log with filters, payload and response, resend and
test event. Reads go through ``visible_to``; every change is one service call."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404
from wuye.webhooks import services
from wuye.webhooks.events import EVENT_TYPES
from wuye.webhooks.forms import DeliveryFilterForm, EndpointForm
from wuye.webhooks.models import DeliveryStatus, Endpoint, WebhookDelivery

ADMIN = services.MANAGE
STATUS_BADGE = {
    DeliveryStatus.PENDING: "muted",
    DeliveryStatus.SUCCEEDED: "success",
    DeliveryStatus.RETRYING: "warning",
    DeliveryStatus.FAILED: "danger",
}
RECENT = 10


def _crumbs(*trail):
    return [(_("Webhooks"), reverse("webhooks:list")), *trail]


def _decorate(delivery):
    delivery.badge = STATUS_BADGE.get(delivery.status, "")
    delivery.event_label = services.event_label(delivery.event_type)
    return delivery


# --- endpoints -------------------------------------------------------------------------
@require_GET
@console_view(ADMIN)
def endpoint_list(request):
    actor = request.actor
    endpoints = list(
        Endpoint.objects.visible_to(actor)
        .annotate(
            failing=Count(
                "deliveries",
                filter=Q(deliveries__status__in=[DeliveryStatus.RETRYING, DeliveryStatus.FAILED]),
            ),
            last_delivery=Max("deliveries__created_at"),
        )
        .order_by("id")
    )
    for endpoint in endpoints:
        endpoint.event_labels = [
            str(EVENT_TYPES[t]) for t in endpoint.event_types if t in EVENT_TYPES
        ]
    return render(request, "webhooks/endpoint_list.html", {"endpoints": endpoints})


def _form_page(request, form, heading, endpoint=None, status=200):
    trail = [(heading, None)]
    if endpoint is not None:
        trail = [(endpoint.url, reverse("webhooks:detail", args=[endpoint.pk])), (_("Edit"), None)]
    return render(
        request,
        "webhooks/endpoint_form.html",
        {"form": form, "heading": heading, "endpoint": endpoint, "breadcrumbs": _crumbs(*trail)},
        status=status,
    )


@console_view(ADMIN)
def endpoint_create(request):
    actor = request.actor
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint = services.create_endpoint(
                actor=actor,
                url=data["url"],
                event_types=data["event_types"],
                description=data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook created. Copy its signing secret below."))
            return _detail_page(request, endpoint, fresh_secret=True)
    return _form_page(request, form, _("New webhook"), status=400 if form.errors else 200)


@console_view(ADMIN)
def endpoint_edit(request, pk):
    actor = request.actor
    endpoint = get_visible_or_404(Endpoint.objects, actor, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "is_active": endpoint.is_active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(actor=actor, endpoint=endpoint, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("webhooks:detail", pk=endpoint.pk)
    status = 400 if form.errors else 200
    return _form_page(request, form, _("Edit webhook"), endpoint, status=status)


def _detail_page(request, endpoint, *, fresh_secret=False):
    recent = [
        _decorate(d)
        for d in WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")[:RECENT]
    ]
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "event_labels": [(t, EVENT_TYPES[t]) for t in endpoint.event_types if t in EVENT_TYPES],
            "recent": recent,
            "fresh_secret": fresh_secret,
            "breadcrumbs": _crumbs((endpoint.url, None)),
        },
    )


@require_GET
@console_view(ADMIN)
def endpoint_detail(request, pk):
    endpoint = get_visible_or_404(Endpoint.objects, request.actor, pk=pk)
    return _detail_page(request, endpoint)


@require_GET
@never_cache
@console_view(ADMIN)
def endpoint_secret(request, pk):
    """The secret, for the detail page's Reveal button (an HTMX fragment)."""
    endpoint = get_visible_or_404(Endpoint.objects, request.actor, pk=pk)
    return HttpResponse(
        format_html('<code class="secret" id="webhook-secret">{}</code>', endpoint.secret)
    )


@require_POST
@console_view(ADMIN)
def endpoint_rotate(request, pk):
    endpoint = get_visible_or_404(Endpoint.objects, request.actor, pk=pk)
    endpoint = services.rotate_secret(actor=request.actor, endpoint=endpoint)
    messages.success(
        request, _("New signing secret made. Give it to the receiver: the next event uses it.")
    )
    return _detail_page(request, endpoint, fresh_secret=True)


@require_POST
@console_view(ADMIN)
def endpoint_delete(request, pk):
    endpoint = get_visible_or_404(Endpoint.objects, request.actor, pk=pk)
    services.delete_endpoint(actor=request.actor, endpoint=endpoint)
    messages.success(
        request, _("Webhook %(url)s deleted with its delivery log.") % {"url": endpoint.url}
    )
    return redirect("webhooks:list")


def _sent_message(request, delivery):
    """Send now (the claim makes the queued task a no-op) and say how it went."""
    sent = services.send_delivery(delivery_id=delivery.pk) or delivery
    sent.refresh_from_db()
    if sent.status == DeliveryStatus.SUCCEEDED:
        answer = _("Delivered: the receiver answered %(code)s.")
        messages.success(request, answer % {"code": sent.response_status})
    elif sent.status == DeliveryStatus.RETRYING:
        problem = _("Not delivered (%(error)s); it will be retried.")
        messages.error(request, problem % {"error": sent.last_error})
    elif sent.status == DeliveryStatus.FAILED:
        messages.error(request, _("Not delivered: %(error)s.") % {"error": sent.last_error})
    else:
        messages.info(request, _("Queued; it is sent within a minute."))
    return sent


@require_POST
@console_view(ADMIN)
def endpoint_test(request, pk):
    endpoint = get_visible_or_404(Endpoint.objects, request.actor, pk=pk)
    try:
        delivery = services.send_test_event(actor=request.actor, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("webhooks:detail", pk=endpoint.pk)
    _sent_message(request, delivery)
    return redirect("webhooks:delivery", pk=delivery.pk)


# --- deliveries ------------------------------------------------------------------------
@require_GET
@console_view(ADMIN)
def delivery_list(request):
    actor = request.actor
    endpoints = list(Endpoint.objects.visible_to(actor).order_by("id"))
    form = DeliveryFilterForm(request.GET, endpoints=endpoints)
    page = None
    if form.is_valid():
        page = newest_first_page(
            form.filter(WebhookDelivery.objects.visible_to(actor)).select_related("endpoint"),
            before=after_param(request),
            query=request.GET,
        )
        for delivery in page.items:
            _decorate(delivery)
    return render(
        request,
        "webhooks/delivery_list.html",
        {"form": form, "page": page, "breadcrumbs": _crumbs((_("Delivery log"), None))},
    )


@require_GET
@console_view(ADMIN)
def delivery_detail(request, pk):
    delivery = _decorate(
        get_visible_or_404(WebhookDelivery.objects.select_related("endpoint"), request.actor, pk=pk)
    )
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "delivery": delivery,
            "payload": json.dumps(delivery.payload, ensure_ascii=False, indent=2),
            "can_redeliver": delivery.endpoint.is_active
            and delivery.status != DeliveryStatus.PENDING,
            "breadcrumbs": _crumbs(
                (_("Delivery log"), reverse("webhooks:deliveries")), (f"#{delivery.pk}", None)
            ),
        },
    )


@require_POST
@console_view(ADMIN)
def delivery_redeliver(request, pk):
    delivery = get_visible_or_404(WebhookDelivery.objects, request.actor, pk=pk)
    try:
        delivery = services.redeliver(actor=request.actor, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _sent_message(request, delivery)
    return redirect("webhooks:delivery", pk=delivery.pk)
