"""Delivery channels. The setting ``NOTIFICATION_CHANNELS`` lists them by dotted path
(default: the in-app channel only).

Two kinds:

- ``Channel`` (the in-app centre, or any custom hook): ``send(notification)`` is called
  for each row a delivery run created, right after it is stored.
- ``OutsideChannel`` (``EmailChannel``, ``SmsChannel``, ``WeChatChannel``): listed in the
  setting, they get a ``Delivery`` row per notification and recipient they apply to
  (``wuye.notifications.deliveries``), sent by a task in batches with retries. With none
  of them listed, no ``Delivery`` row is written.
"""

import abc
import contextlib
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

from wuye.notifications.models import ChannelCode
from wuye.notifications.providers import (
    DeliveryError,
    Message,
    PermanentDeliveryError,
    sms_provider,
    wechat_provider,
)

DEFAULT_CHANNELS = ["wuye.notifications.channels.InAppChannel"]
# Kinds that always go by text message too (besides urgent notifications), for
# recipients with a mobile who have not switched SMS off for the topic.
SMS_KINDS = frozenset({"billing.dunning.sms"})


class Channel(abc.ABC):
    """Sends one stored notification somewhere.

    ``send`` is called once for each row a delivery run created, after that row is
    committed, outside any transaction. It may raise: the error is logged and the other
    recipients and channels still get theirs.
    """

    @abc.abstractmethod
    def send(self, notification) -> None: ...


class InAppChannel(Channel):
    """The notification centre: the stored row is the message, there is nothing to send."""

    def send(self, notification) -> None:
        return None


class OutsideChannel(abc.ABC):
    """A channel that leaves the system: one ``Delivery`` per notification it applies to.

    ``address`` names where a recipient gets it (empty: not on this channel);
    ``deliver`` sends one rendered message and returns the provider's reference, raising
    ``DeliveryError`` (retry later) or ``PermanentDeliveryError`` (give up)."""

    code: str

    @abc.abstractmethod
    def address(self, *, user, delivery_settings, notification) -> str: ...

    @abc.abstractmethod
    def deliver(self, address: str, message: Message) -> str: ...

    def close(self) -> None:  # noqa: B027 - most channels hold nothing open
        """Called after a batch (an email connection is reused within one)."""


class EmailChannel(OutsideChannel):
    """Email through Django's mail backend (``EMAIL_HOST``, ``EMAIL_PORT``, …), sent from
    ``NOTIFICATION_EMAIL_FROM`` (default ``DEFAULT_FROM_EMAIL``). One SMTP connection
    serves a batch; an SMTP 5xx answer is a permanent failure, anything else retried."""

    code = ChannelCode.EMAIL

    def __init__(self):
        self._conn = None

    def address(self, *, user, delivery_settings, notification) -> str:
        return (user.email or "").strip()

    def _connection(self):
        if self._conn is None:
            self._conn = get_connection(
                fail_silently=False, timeout=getattr(settings, "EMAIL_TIMEOUT", None) or 10
            )
            self._conn.open()
        return self._conn

    def deliver(self, address: str, message: Message) -> str:
        sender = getattr(settings, "NOTIFICATION_EMAIL_FROM", "") or settings.DEFAULT_FROM_EMAIL
        try:
            connection = self._connection()
            EmailMessage(
                subject=message.subject,
                body=message.text,
                from_email=sender,
                to=[address],
                connection=connection,
            ).send()
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            raise PermanentDeliveryError(f"Recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentDeliveryError(text) from exc
            raise DeliveryError(text) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        return ""

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a broken connection is dropped anyway
                self._conn.close()
            self._conn = None


class SmsChannel(OutsideChannel):
    """Text messages through ``NOTIFICATION_SMS_PROVIDER``; only for urgent
    notifications and the kinds in ``SMS_KINDS``."""

    code = ChannelCode.SMS

    def __init__(self):
        self.provider = sms_provider()

    def address(self, *, user, delivery_settings, notification) -> str:
        if not (notification.urgent or notification.kind in SMS_KINDS):
            return ""
        return (user.mobile or "").strip()

    def deliver(self, address: str, message: Message) -> str:
        return self.provider.send(address, message)


class WeChatChannel(OutsideChannel):
    """WeChat template messages through ``NOTIFICATION_WECHAT_PROVIDER`` to users who
    bound an OpenID on their preferences page."""

    code = ChannelCode.WECHAT

    def __init__(self):
        self.provider = wechat_provider()

    def address(self, *, user, delivery_settings, notification) -> str:
        return getattr(delivery_settings, "wechat_openid", "") or ""

    def deliver(self, address: str, message: Message) -> str:
        return self.provider.send(address, message)


def configured_channels() -> list:
    paths = getattr(settings, "NOTIFICATION_CHANNELS", DEFAULT_CHANNELS)
    return [import_string(path)() for path in paths]


def split_channels(channels) -> tuple[list[Channel], dict[str, OutsideChannel]]:
    """(in-app style channels with something to do, outside channels by code). The
    in-app channel itself is left out: the stored row is its message."""
    inline = [c for c in channels if not isinstance(c, OutsideChannel | InAppChannel)]
    outside = {c.code: c for c in channels if isinstance(c, OutsideChannel)}
    return inline, outside


def outside_channels() -> dict[str, OutsideChannel]:
    return split_channels(configured_channels())[1]


def enabled_codes() -> set[str]:
    """Codes of the outside channels this site has switched on (no provider built)."""
    codes = set()
    for path in getattr(settings, "NOTIFICATION_CHANNELS", DEFAULT_CHANNELS):
        cls = import_string(path)
        if isinstance(cls, type) and issubclass(cls, OutsideChannel):
            codes.add(str(cls.code))
    return codes
