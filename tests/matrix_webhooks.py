"""Access-matrix rows for webhooks (see the loader at the end of test_access_matrix.py).

Webhooks are company settings: company A's administrator sees and changes company A's
endpoints; company B's administrator may create their own but sees nothing of A's;
everyone else is refused (403) or sees nothing (404, empty lists)."""

from django.urls import reverse

MATRIX_URL = "http://127.0.0.1:9/matrix-hook"  # refused at send time: not a public address


def _endpoint(cast):
    """Company A's endpoint (made once per cell), switched on, taking payments."""
    from wuye.webhooks.models import Endpoint

    endpoint, _ = Endpoint.objects.get_or_create(
        company=cast.company,
        url=MATRIX_URL,
        defaults={
            "event_types": ["payment.received"],
            "created_by": cast.users["company_admin"],
            "description": "矩阵集成",
        },
    )
    return endpoint


def _delivery(cast):
    """A failed delivery of that endpoint (may be sent again)."""
    from wuye.webhooks.models import WebhookDelivery

    endpoint = _endpoint(cast)
    found = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    if found is not None:
        return found
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="6f1c1f44-5d7b-4c43-9d7e-1f1f2a3b4c5d",
        event_type="payment.received",
        payload={"id": "6f1c1f44-5d7b-4c43-9d7e-1f1f2a3b4c5d", "type": "payment.received"},
        status="failed",
        attempts=6,
        last_error="HTTP 500",
    )


def _new_endpoint(cast, name):
    return {
        "url": f"https://hooks.example.com/{name}",
        "event_types": ["payment.received", "bill.issued"],
        "description": "新集成",
        "is_active": "on",
    }


def rows(m):
    admin_a = m.only("company_admin")
    any_admin = m.only("company_admin", "other_admin")

    def endpoint_args(c):
        return [_endpoint(c).id]

    def delivery_args(c):
        return [_delivery(c).id]

    pages = {
        "webhooks:list": m.page("webhooks:list", admin_a, target=lambda c: _endpoint(c).url),
        "webhooks:create": m.page("webhooks:create", any_admin, data=_new_endpoint),
        "webhooks:detail": m.page("webhooks:detail", admin_a, args=endpoint_args),
        "webhooks:edit": m.page(
            "webhooks:edit",
            admin_a,
            args=endpoint_args,
            data=lambda c, n: {
                "url": "https://hooks.example.com/edited",
                "event_types": ["payment.received", "workorder.created"],
                "description": "改过",
                "is_active": "on",
            },
        ),
        "webhooks:secret": m.page("webhooks:secret", admin_a, args=endpoint_args),
        "webhooks:rotate": m.page(
            "webhooks:rotate", admin_a, args=endpoint_args, data=lambda c, n: {}
        ),
        "webhooks:test": m.page("webhooks:test", admin_a, args=endpoint_args, data=lambda c, n: {}),
        "webhooks:delete": m.page(
            "webhooks:delete", admin_a, args=endpoint_args, data=lambda c, n: {}
        ),
        "webhooks:deliveries": m.page(
            "webhooks:deliveries",
            admin_a,
            target=lambda c: reverse("webhooks:delivery", args=[_delivery(c).id]),
        ),
        "webhooks:delivery": m.page("webhooks:delivery", admin_a, args=delivery_args),
        "webhooks:redeliver": m.page(
            "webhooks:redeliver", admin_a, args=delivery_args, data=lambda c, n: {}
        ),
    }

    def endpoint_path(suffix=""):
        return m._api(lambda c: f"/webhooks/endpoints/{_endpoint(c).id}{suffix}")

    def delivery_path(suffix=""):
        return m._api(lambda c: f"/webhooks/deliveries/{_delivery(c).id}{suffix}")

    api = {
        "wuye_webhooks_api_list_webhook_endpoints": m.op(
            "GET",
            m._api(lambda c: "/webhooks/endpoints"),
            admin_a,
            target=lambda c: _endpoint(c).id,
        ),
        "wuye_webhooks_api_create_webhook_endpoint": m.op(
            "POST",
            m._api(lambda c: "/webhooks/endpoints"),
            any_admin,
            data=lambda c, n: {
                "url": f"https://hooks.example.com/{n}",
                "event_types": ["payment.received"],
            },
        ),
        "wuye_webhooks_api_get_webhook_endpoint": m.op("GET", endpoint_path(), admin_a),
        "wuye_webhooks_api_update_webhook_endpoint": m.op(
            "PATCH", endpoint_path(), admin_a, data=lambda c, n: {"description": "改过"}
        ),
        "wuye_webhooks_api_delete_webhook_endpoint": m.op(
            "DELETE", endpoint_path(), admin_a, data=lambda c, n: {}
        ),
        "wuye_webhooks_api_get_webhook_secret": m.op("GET", endpoint_path("/secret"), admin_a),
        "wuye_webhooks_api_rotate_webhook_secret": m.op(
            "POST", endpoint_path("/rotate-secret"), admin_a, data=lambda c, n: {}
        ),
        "wuye_webhooks_api_test_webhook_endpoint": m.op(
            "POST", endpoint_path("/test"), admin_a, data=lambda c, n: {}
        ),
        "wuye_webhooks_api_list_webhook_deliveries": m.op(
            "GET",
            m._api(lambda c: "/webhooks/deliveries"),
            admin_a,
            target=lambda c: _delivery(c).id,
        ),
        "wuye_webhooks_api_get_webhook_delivery": m.op("GET", delivery_path(), admin_a),
        "wuye_webhooks_api_redeliver_webhook": m.op(
            "POST", delivery_path("/redeliver"), admin_a, data=lambda c, n: {}
        ),
    }
    return pages, api
