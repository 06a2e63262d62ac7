"""Reads of the equipment ledger shared by its console pages and exports: which
certificates count, how close to expiry they are, and what an asset's QR label shows."""

import datetime

from django.urls import reverse

from wuye.core.labels import Label
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


def qr_path(token: str) -> str:
    """What a QR label encodes: the landing page of its token, ``/q/<token>/``."""
    return reverse("qr:landing", args=[token])


def asset_label(request, asset) -> Label:
    """What the asset's sticker shows. ``asset`` needs ``community``, ``building`` and
    ``common_area`` loaded."""
    place = " ".join(
        part.name for part in (asset.community, asset.building, asset.common_area) if part
    )
    return Label(
        url=request.build_absolute_uri(qr_path(asset.qr_token)),
        title=asset.name,
        subtitle=f"{place} · {asset.code}",
        code=asset.code,
    )
