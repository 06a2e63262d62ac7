"""Email, SMS and WeChat: the delivery log (``Delivery``) and its sender.

Planning (``plan``): when a delivery run stores new notifications, one ``Delivery`` per
notification and outside channel that applies to its recipient is written in bulk, in
the same transaction:

- email: the user has an email address; SMS: the user has a mobile and the notification
  is urgent or of a kind in ``channels.SMS_KINDS`` (``billing.dunning.sms``); WeChat: the
  user bound an OpenID (``DeliverySettings.wechat_openid``);
- the user has not switched the channel off for the topic (``ChannelPreference``; the
  topic is the kind's first word) — urgent notifications cannot be switched off;
- in the user's quiet hours (``DeliverySettings.quiet_from``/``quiet_until``, local time
  of ``NOTIFICATION_TIME_ZONE``, Asia/Shanghai by default; a span may cross midnight)
  a non-urgent delivery waits: ``next_attempt_at`` is the end of the quiet hours.

Sending (``send_due``): deliveries due now are claimed in batches of ``SEND_BATCH``
through the partial index ``delivery_due_idx`` — ``SELECT … FOR UPDATE SKIP LOCKED``
where the database has it, and on every database a conditional UPDATE moving
``next_attempt_at`` to a lease stamp only this claim uses — so two workers never send
the same delivery; a worker that dies mid-batch leaves its claims to be picked up again
after ``LEASE``. Each delivery then ends ``sent`` (with the provider's reference),
``retrying`` after ``BACKOFF`` (1, 5, 30, 120, 600 minutes), or ``failed`` after
``MAX_ATTEMPTS`` attempts or a permanent refusal; ``skipped`` when its channel was
switched off meanwhile. One failing delivery or provider never stops the others.

New deliveries due now are sent by one task per stored batch (``send_deliveries``),
enqueued after commit; deferred and retried ones by the every-minute job
``send_due_deliveries``.
"""

import dataclasses
import datetime
import logging
import secrets
import time
import zoneinfo
from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import require
from wuye.notifications import wording
from wuye.notifications.channels import outside_channels
from wuye.notifications.models import (
    ChannelPreference,
    Delivery,
    DeliverySettings,
    DeliveryStatus,
    Topic,
)
from wuye.notifications.providers import DeliveryError

logger = logging.getLogger("wuye.notifications")

MANAGE = "company.manage"
BACKOFF = tuple(datetime.timedelta(minutes=m) for m in (1, 5, 30, 120, 600))
MAX_ATTEMPTS = 6
SEND_BATCH = 200
LEASE = datetime.timedelta(minutes=10)
SWEEP_SECONDS = 50  # the every-minute job stops claiming after this long
ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
ERROR_LENGTH = Delivery._meta.get_field("last_error").max_length
REF_LENGTH = Delivery._meta.get_field("provider_ref").max_length
ADDRESS_LENGTH = Delivery._meta.get_field("address").max_length


def topic_of(kind: str) -> str:
    """The preference topic of an event kind: its first word, or ``other``."""
    first = kind.split(".", 1)[0]
    return first if first in Topic.values else Topic.OTHER


def local_zone():
    return zoneinfo.ZoneInfo(getattr(settings, "NOTIFICATION_TIME_ZONE", "Asia/Shanghai"))


def quiet_end(now: datetime.datetime, quiet_from, quiet_until) -> datetime.datetime | None:
    """When the quiet hours around ``now`` end, or ``None`` outside them (or none set).
    ``22:00``–``07:00`` spans midnight; equal ends mean no quiet hours."""
    if quiet_from is None or quiet_until is None or quiet_from == quiet_until:
        return None
    zone = local_zone()
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    day = local.date()
    if quiet_from < quiet_until:
        if not quiet_from <= clock < quiet_until:
            return None
    elif clock >= quiet_from:
        day += datetime.timedelta(days=1)
    elif clock >= quiet_until:
        return None
    return datetime.datetime.combine(day, quiet_until, tzinfo=zone).astimezone(datetime.UTC)


@dataclasses.dataclass
class Recipients:
    """What planning and sending need to know about a batch's recipients (4–5 queries)."""

    users: dict
    settings: dict
    switched_off: set  # (user_id, topic, channel)
    companies: dict  # user_id -> (company_id, company name)

    @classmethod
    def load(cls, user_ids, *, with_companies=False):
        from wuye.people.models import Resident
        from wuye.staff.models import StaffMember

        ids = sorted(set(user_ids))
        users = get_user_model().objects.only("id", "email", "mobile", "is_active").in_bulk(ids)
        found = {row.user_id: row for row in DeliverySettings.objects.filter(user_id__in=ids)}
        off = set(
            ChannelPreference.objects.filter(user_id__in=ids, enabled=False).values_list(
                "user_id", "topic", "channel"
            )
        )
        companies = {}
        if with_companies:
            for user_id, company_id, name in (
                Resident.objects.filter(user_id__in=ids)
                .order_by("-id")
                .values_list("user_id", "company_id", "company__name")
            ):
                companies[user_id] = (company_id, name)
            for user_id, company_id, name in StaffMember.objects.filter(
                user_id__in=ids, is_active=True
            ).values_list("user_id", "company_id", "company__name"):
                companies[user_id] = (company_id, name)  # staff wording wins
        return cls(users=users, settings=found, switched_off=off, companies=companies)

    def allows(self, notification, channel: str) -> bool:
        if notification.urgent:
            return True
        topic = topic_of(notification.kind)
        return (notification.recipient_id, topic, channel) not in self.switched_off

    def quiet_end(self, notification, now) -> datetime.datetime | None:
        if notification.urgent:
            return None
        found = self.settings.get(notification.recipient_id)
        if found is None:
            return None
        return quiet_end(now, found.quiet_from, found.quiet_until)


def plan(rows, channels: dict, *, now=None) -> list[int]:
    """Write the deliveries of freshly stored notifications ``rows`` on the outside
    ``channels`` (code -> channel); returns the ids of those due now (not held back by
    quiet hours). Call inside the transaction that stored the rows."""
    if not rows or not channels:
        return []
    now = now or timezone.now()
    who = Recipients.load([row.recipient_id for row in rows])
    planned = []
    for row in rows:
        user = who.users.get(row.recipient_id)
        if user is None:
            continue
        found = who.settings.get(row.recipient_id)
        for code, channel in channels.items():
            address = channel.address(user=user, delivery_settings=found, notification=row)
            if not address or len(address) > ADDRESS_LENGTH or not who.allows(row, code):
                continue
            planned.append(
                Delivery(
                    notification_id=row.pk,
                    channel=code,
                    address=address,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=who.quiet_end(row, now) or now,
                    created_at=now,
                )
            )
    if not planned:
        return []
    Delivery.objects.bulk_create(planned, batch_size=1000, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(
            notification_id__in=[row.pk for row in rows],
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def enqueue_sending(ids: list[int]) -> None:
    """After commit, one task per ``SEND_BATCH`` ids sends them."""
    if not ids:
        return

    def enqueue():
        from wuye.notifications.tasks import send_deliveries

        for start in range(0, len(ids), SEND_BATCH):
            send_deliveries.enqueue(delivery_ids=ids[start : start + SEND_BATCH])

    transaction.on_commit(enqueue, robust=True)


# --- sending ------------------------------------------------------------------------------
def claim(*, ids=None, limit: int = SEND_BATCH, now=None) -> list[Delivery]:
    """Take up to ``limit`` due deliveries (of ``ids`` if given) for this worker."""
    now = now or timezone.now()
    due = Delivery.objects.filter(status__in=ACTIVE, next_attempt_at__lte=now)
    if ids is not None:
        due = due.filter(id__in=list(ids))
    with transaction.atomic():
        qs = due.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        picked = list(qs.values_list("id", flat=True)[:limit])
        if not picked:
            return []
        # A stamp no other claim uses: the rows this UPDATE moved are ours.
        stamp = now + LEASE + datetime.timedelta(microseconds=secrets.randbelow(10**6))
        Delivery.objects.filter(id__in=picked, status__in=ACTIVE, next_attempt_at__lte=now).update(
            next_attempt_at=stamp
        )
    return list(
        Delivery.objects.filter(id__in=picked, status__in=ACTIVE, next_attempt_at=stamp)
        .select_related("notification")
        .order_by("id")
    )


def _record(delivery: Delivery, **fields) -> None:
    Delivery.objects.filter(pk=delivery.pk, status__in=ACTIVE).update(**fields)


def _failure(delivery: Delivery, exc: Exception, now) -> str:
    attempts = delivery.attempts + 1
    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    error = error[:ERROR_LENGTH]
    if getattr(exc, "permanent", False) or attempts >= MAX_ATTEMPTS:
        _record(
            delivery,
            status=DeliveryStatus.FAILED,
            attempts=attempts,
            last_error=error,
            next_attempt_at=None,
        )
        return DeliveryStatus.FAILED
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    _record(
        delivery,
        status=DeliveryStatus.RETRYING,
        attempts=attempts,
        last_error=error,
        next_attempt_at=now + wait,
    )
    return DeliveryStatus.RETRYING


def send_claimed(deliveries: list[Delivery]) -> Counter:
    """Send claimed deliveries; returns a count per outcome."""
    outcomes = Counter()
    if not deliveries:
        return outcomes
    channels = outside_channels()
    who = Recipients.load([d.notification.recipient_id for d in deliveries], with_companies=True)
    book = wording.TemplateBook(company for company, _name in who.companies.values())
    try:
        for delivery in deliveries:
            outcomes[_send_one(delivery, channels, who, book)] += 1
    finally:
        for channel in channels.values():
            channel.close()
    return outcomes


def _send_one(delivery, channels, who: Recipients, book) -> str:
    now = timezone.now()
    notification = delivery.notification
    channel = channels.get(delivery.channel)
    if channel is None or not who.allows(notification, delivery.channel):
        reason = (
            "Channel not enabled on this site."
            if channel is None
            else "Switched off by the recipient."
        )
        _record(delivery, status=DeliveryStatus.SKIPPED, last_error=reason, next_attempt_at=None)
        return DeliveryStatus.SKIPPED
    later = who.quiet_end(notification, now)
    if later is not None:  # quiet hours began since it was planned (or a retry fell in them)
        _record(delivery, next_attempt_at=later)
        return "deferred"
    found = who.settings.get(notification.recipient_id)
    company_id, site_name = who.companies.get(notification.recipient_id, (None, ""))
    language = wording.language_of(found)
    try:
        message = wording.render(
            notification,
            channel=delivery.channel,
            language=language,
            site_name=site_name,
            template=book.find(company_id, notification.kind, delivery.channel, language),
        )
        ref = channel.deliver(delivery.address, message)
    except Exception as exc:  # every failure is recorded, the batch goes on
        logger.warning(
            "Delivery %s (%s to %s) failed: %s",
            delivery.pk,
            delivery.channel,
            delivery.address,
            exc,
            exc_info=not isinstance(exc, DeliveryError),  # a bug, not a provider's answer
        )
        return _failure(delivery, exc, now)
    _record(
        delivery,
        status=DeliveryStatus.SENT,
        attempts=delivery.attempts + 1,
        sent_at=now,
        provider_ref=(ref or "")[:REF_LENGTH],
        last_error="",
        next_attempt_at=None,
    )
    return DeliveryStatus.SENT


def send_due(*, ids=None, limit: int = SEND_BATCH) -> Counter:
    """Claim and send one batch of due deliveries (of ``ids`` if given)."""
    return send_claimed(claim(ids=ids, limit=limit))


def sweep(*, seconds: float = SWEEP_SECONDS) -> Counter:
    """Send due deliveries batch after batch until none is due or ``seconds`` passed."""
    total = Counter()
    started = time.monotonic()
    while True:
        claimed = claim()
        if not claimed:
            return total
        total.update(send_claimed(claimed))
        if time.monotonic() - started > seconds:
            return total


# --- the console's retry button ----------------------------------------------------------
@transaction.atomic
def retry_delivery(*, actor, delivery: Delivery) -> Delivery:
    """Send a failed delivery once more, now (one attempt: failing again, it stays
    failed). ``company.manage``; the caller found ``delivery`` through ``visible_to``."""
    require(actor, MANAGE)
    if not actor.staff:
        raise PermissionDenied(MANAGE)
    now = timezone.now()
    changed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.RETRYING, next_attempt_at=now
    )
    if not changed:
        raise ValidationError(
            {"status": _("Only a failed delivery can be sent again.")}, code="not_failed"
        )
    delivery.refresh_from_db()
    enqueue_sending([delivery.pk])
    return delivery
