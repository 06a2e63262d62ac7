"""Provider adapters for text messages (SMS) and WeChat template messages.

Each adapter has one method, ``send(address, message) -> provider_ref``. It raises
``DeliveryError`` for a failure worth retrying (network error, timeout, a 5xx, 408 or
429 answer) and ``PermanentDeliveryError`` for one that will fail again the same way
(the provider refused the number or the request: other 4xx answers).

- ``LoggingSmsProvider`` / ``LoggingWeChatProvider``: development defaults, they write
  the message to the log (logger ``wuye.notifications``) and send nothing.
- ``HttpSmsProvider`` / ``HttpWeChatProvider``: POST JSON to a gateway URL (the company's
  SMS platform or its WeChat relay), with the API key in ``X-Api-Key`` and an HMAC-SHA256
  of ``"<timestamp>.<body>"`` under the secret in ``X-Signature`` (timestamp in
  ``X-Timestamp``, Unix seconds). The answer's ``id`` (or ``message_id``/``msgid``) is
  kept as the provider reference.

Settings (``getattr(settings, NAME, default)``):
``NOTIFICATION_SMS_PROVIDER`` (dotted path, default the logging one),
``NOTIFICATION_SMS_URL``, ``NOTIFICATION_SMS_API_KEY``, ``NOTIFICATION_SMS_SECRET``,
``NOTIFICATION_WECHAT_PROVIDER``, ``NOTIFICATION_WECHAT_URL``,
``NOTIFICATION_WECHAT_API_KEY``, ``NOTIFICATION_WECHAT_SECRET``,
``NOTIFICATION_HTTP_TIMEOUT`` (seconds, default 10).
"""

import dataclasses
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("wuye.notifications")

DEFAULT_SMS_PROVIDER = "wuye.notifications.providers.LoggingSmsProvider"
DEFAULT_WECHAT_PROVIDER = "wuye.notifications.providers.LoggingWeChatProvider"
# Answers worth retrying although they are 4xx.
RETRYABLE_4XX = {408, 425, 429}


class DeliveryError(Exception):
    """Sending failed; another attempt later may succeed."""

    permanent = False


class PermanentDeliveryError(DeliveryError):
    """Sending failed for good (a refused address or request): no retry."""

    permanent = True


@dataclasses.dataclass
class Message:
    """One rendered message for one channel."""

    subject: str
    text: str
    link: str = ""
    provider_template: str = ""
    params: dict = dataclasses.field(default_factory=dict)


def _setting(name: str, default=""):
    return getattr(settings, name, default)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) of ``"<timestamp>.<body>"``: what ``X-Signature`` carries."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post_json(url: str, payload: dict, *, api_key: str, secret: str, timeout: float) -> str:
    """POST ``payload`` signed; returns the provider's reference (may be empty)."""
    if not url:
        raise PermanentDeliveryError("No provider URL is configured.")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Api-Key": api_key,
            "X-Timestamp": timestamp,
            "X-Signature": sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace").strip()
        message = f"HTTP {exc.code}: {detail}" if detail else f"HTTP {exc.code}"
        if 400 <= exc.code < 500 and exc.code not in RETRYABLE_4XX:
            raise PermanentDeliveryError(message) from exc
        raise DeliveryError(message) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, timeout, DNS
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {reason}") from exc
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    ref = data.get("id") or data.get("message_id") or data.get("msgid") or ""
    return str(ref)[:100]


# --- SMS ------------------------------------------------------------------------------
class SmsProvider:
    def send(self, mobile: str, message: Message) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class LoggingSmsProvider(SmsProvider):
    """Development: the text goes to the log, nothing leaves the machine."""

    def send(self, mobile: str, message: Message) -> str:
        logger.info("SMS to %s: %s", mobile, message.text)
        return ""


class HttpSmsProvider(SmsProvider):
    """POST ``{mobile, template, params, text}`` to ``NOTIFICATION_SMS_URL``."""

    def send(self, mobile: str, message: Message) -> str:
        return post_json(
            _setting("NOTIFICATION_SMS_URL"),
            {
                "mobile": mobile,
                "template": message.provider_template,
                "params": message.params,
                "text": message.text,
            },
            api_key=_setting("NOTIFICATION_SMS_API_KEY"),
            secret=_setting("NOTIFICATION_SMS_SECRET"),
            timeout=float(_setting("NOTIFICATION_HTTP_TIMEOUT", 10)),
        )


def sms_provider() -> SmsProvider:
    return import_string(_setting("NOTIFICATION_SMS_PROVIDER", DEFAULT_SMS_PROVIDER))()


# --- WeChat -----------------------------------------------------------------------------
class WeChatProvider:
    def send(self, openid: str, message: Message) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def wechat_payload(openid: str, message: Message) -> dict:
    """A template message: ``data`` maps the template's fields to ``{"value": …}``."""
    return {
        "touser": openid,
        "template_id": message.provider_template,
        "url": message.link,
        "data": {name: {"value": value} for name, value in message.params.items()},
    }


class LoggingWeChatProvider(WeChatProvider):
    def send(self, openid: str, message: Message) -> str:
        logger.info("WeChat to %s: %s", openid, message.text)
        return ""


class HttpWeChatProvider(WeChatProvider):
    """POST ``{touser, template_id, url, data}`` to ``NOTIFICATION_WECHAT_URL``."""

    def send(self, openid: str, message: Message) -> str:
        return post_json(
            _setting("NOTIFICATION_WECHAT_URL"),
            wechat_payload(openid, message),
            api_key=_setting("NOTIFICATION_WECHAT_API_KEY"),
            secret=_setting("NOTIFICATION_WECHAT_SECRET"),
            timeout=float(_setting("NOTIFICATION_HTTP_TIMEOUT", 10)),
        )


def wechat_provider() -> WeChatProvider:
    return import_string(_setting("NOTIFICATION_WECHAT_PROVIDER", DEFAULT_WECHAT_PROVIDER))()
