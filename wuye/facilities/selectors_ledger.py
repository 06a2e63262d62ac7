"""Reads of the equipment ledger shared by its console pages and exports: which
certificates count, how close to expiry they are, and what an asset's QR label shows."""

import datetime

from wuye.facilities.models import Certificate

EXPIRED, EXPIRING, VALID = "expired", "expiring", "valid"


def due_certificates(*, today: datetime.date, days: int):
    """Current certificates expired or expiring within ``days``."""
    return Certificate.objects.current().filter(
        expires_on__lte=today + datetime.timedelta(days=days)
    )


def certificate_state(certificate, today: datetime.date) -> str:
    """expired, expiring (its reminder window has opened) or valid."""
    if certificate.expires_on < today:
        return EXPIRED
    if certificate.expires_on - datetime.timedelta(days=certificate.remind_days) <= today:
        return EXPIRING
    return VALID
