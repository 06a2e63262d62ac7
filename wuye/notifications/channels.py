"""Delivery channels. The setting ``NOTIFICATION_CHANNELS`` lists them by dotted path
(default: the in-app channel only); email, SMS and WeChat adapters implement ``Channel``.
"""

import abc

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_CHANNELS = ["wuye.notifications.channels.InAppChannel"]


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


def configured_channels() -> list[Channel]:
    paths = getattr(settings, "NOTIFICATION_CHANNELS", DEFAULT_CHANNELS)
    return [import_string(path)() for path in paths]
