"""SMS gateway adapters. Production plugs in a provider; development logs the text."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("wuye.sms")


class SmsGateway:
    def send(self, *, mobile: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class LoggingGateway(SmsGateway):
    """Development backend: writes the message (and so the code) to the log."""

    def send(self, *, mobile: str, text: str) -> None:
        logger.info("SMS to %s: %s", mobile, text)


def get_gateway() -> SmsGateway:
    return import_string(settings.SMS_GATEWAY)()
