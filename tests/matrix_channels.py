"""Access-matrix rows for notification channels: preferences (everyone their own), the
delivery log, its retry and message templates (company administrators, own company)."""


def _failed_delivery(cast):
    """A failed SMS to resident A (company A): only A's administrator sees or retries it."""
    from wuye.notifications.models import Delivery, Notification

    note, _ = Notification.objects.get_or_create(
        recipient=cast.users["resident_a"],
        dedupe_key="matrix-channels",
        defaults={"kind": "billing.dunning.sms", "title": "矩阵催缴短信"},
    )
    delivery, _ = Delivery.objects.get_or_create(
        notification=note,
        channel="sms",
        defaults={
            "address": "13800000001",
            "status": "failed",
            "attempts": 6,
            "last_error": "HTTP 500",
        },
    )
    return delivery


def _template(cast):
    from wuye.notifications.models import MessageTemplate

    row, _ = MessageTemplate.objects.get_or_create(
        company=cast.company,
        kind="notice.matrix",
        channel="sms",
        language="zh-hans",
        defaults={"body": "【{{ site_name }}】{{ title }}"},
    )
    return row


def _template_fields(m, name):
    return {
        "kind": f"notice.m{m._n(name)}",
        "channel": "email",
        "language": "zh-hans",
        "subject": "{{ title }}",
        "body": "{{ title }} {{ link }}",
        "provider_template": "",
    }


def _preference_fields(m, name):
    return {
        "quiet_from": "22:00",
        "quiet_until": "07:00",
        "wechat_openid": "",
        "language": "en",
        "notice__email": "on",
    }


def rows(m):
    admin_a = m.only("company_admin")
    pages = {
        "notifications:preferences": m.page(
            "notifications:preferences",
            m.anyone_signed_in,
            data=lambda c, n: _preference_fields(m, n),
        ),
        "notifications:delivery_log": m.page(
            "notifications:delivery_log",
            admin_a,
            target=lambda c: _failed_delivery(c).address,
        ),
        "notifications:delivery_retry": m.page(
            "notifications:delivery_retry",
            admin_a,
            args=lambda c: [_failed_delivery(c).id],
            data=lambda c, n: {},
        ),
        "notifications:template_list": m.page(
            "notifications:template_list", admin_a, target=lambda c: _template(c).kind
        ),
        "notifications:template_create": m.page(
            "notifications:template_create",
            m.only("company_admin", "other_admin"),
            data=lambda c, n: _template_fields(m, n),
        ),
        "notifications:template_edit": m.page(
            "notifications:template_edit",
            admin_a,
            args=lambda c: [_template(c).id],
            data=lambda c, n: {**_template_fields(m, n), "kind": "notice.matrix"},
        ),
        "notifications:template_delete": m.page(
            "notifications:template_delete",
            admin_a,
            args=lambda c: [_template(c).id],
            data=lambda c, n: {},
        ),
    }
    api = {
        "wuye_notifications_api_channels_get_preferences": m.op(
            "GET", m._api(lambda c: "/notifications/preferences"), m.anyone_signed_in
        ),
        "wuye_notifications_api_channels_put_preferences": m.op(
            "PUT",
            m._api(lambda c: "/notifications/preferences"),
            m.anyone_signed_in,
            data=lambda c, n: {
                "switches": [{"topic": "notice", "channel": "email", "enabled": False}],
                "quiet_from": "22:00:00",
                "quiet_until": "07:00:00",
            },
        ),
        "wuye_notifications_api_channels_list_deliveries": m.op(
            "GET",
            m._api(lambda c: "/notifications/deliveries"),
            admin_a,
            target=lambda c: _failed_delivery(c).id,
        ),
        "wuye_notifications_api_channels_retry_delivery": m.op(
            "POST",
            m._api(lambda c: f"/notifications/deliveries/{_failed_delivery(c).id}/retry"),
            admin_a,
            data=lambda c, n: {},
        ),
    }
    return pages, api
