"""催缴 (dunning): which houses owe overdue bills, and reminding them.

Reads
-----
``dunning_houses(actor, as_of=…, …)`` is one grouped query over the actor's overdue bills
(open or partly paid, due before ``as_of``; ``selectors.overdue``), a row per house:
``owed`` (Σ balance), ``bills``, ``oldest`` (the oldest due date). The aging bucket of a
house is the bucket of its oldest overdue bill (``selectors.BUCKETS``: 1–30, 31–60, 61–90,
91–180, over 180 days). Filters: community, building, bucket, minimum amount owed, and
"not reminded in the last N days". Rows come longest overdue first (oldest due date, then
house id), in keyset pages. ``describe`` adds, for one page of rows, the house, its current
residents and its reminders (last date and channel, how many) in three more queries.

Writes
------
``send_reminders(actor=…, house_ids=…, channel=…, note=…)`` records one ``DunningNotice``
per house that still owes something overdue, with what it owed at that moment, all
under one ``batch``; at most ``MAX_BATCH`` houses at a time. ``billing.collect`` (the
people who collect the money chase it; viewers with ``billing.view`` see the list).

- ``notice`` and ``sms``: an in-app notification to the house's current residents who
  have a login (``wuye.notifications.services.notify``, dedupe key ``billing.dunning:<id>``).
  SMS is a notification of kind ``billing.dunning.sms``, one of the kinds that always go
  by text message (``wuye.notifications.channels.SMS_KINDS``): with ``SmsChannel`` in
  ``NOTIFICATION_CHANNELS`` each resident with a mobile (who has not switched SMS off
  for bills) gets one through the SMS provider, logged and retried as a ``Delivery``;
  with the default, in-app only, it stays in the notification centre.
- ``letter``: the printable 催缴函 (``wuye.billing.dunning_letters``), one page per house.
- ``phone`` and ``visit``: the record only, with a note of what was said (required).
"""

import dataclasses
import datetime
import re
import uuid
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import Count, Max, Min, Q, Sum, Value
from django.db.models.functions import Coalesce, Round
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.billing.models import Bill, DunningNotice
from wuye.billing.selectors import BALANCE, BUCKETS, MONEY, overdue
from wuye.core.services import require
from wuye.estates.models import House
from wuye.notifications.services import delivered_together, notify
from wuye.people.models import Residency

COLLECT = "billing.collect"
MAX_BATCH = 500
PAGE_SIZE = 50
NOTIFY_KIND = "billing.dunning"
SMS_KIND = "billing.dunning.sms"
NOTE_REQUIRED = (DunningNotice.Channel.PHONE, DunningNotice.Channel.VISIT)
BUCKET_KEYS = [key for key, *_rest in BUCKETS]
CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d+)$")
ZERO = Decimal("0.00")


def billing_communities(actor) -> list[int]:
    return sorted(actor.community_ids)


def _overdue_bills(actor, as_of: datetime.date):
    bills = Bill.objects.visible_to(actor).filter(community_id__in=billing_communities(actor))
    return overdue(bills, as_of)


def bucket_of(oldest: datetime.date, as_of: datetime.date):
    """(key, label) of the aging bucket of a house whose oldest overdue bill was due
    ``oldest``."""
    days = (as_of - oldest).days
    for key, label, fewest, most in BUCKETS:
        if days >= fewest and (most is None or days <= most):
            return key, label
    return None, ""


def _bucket_q(bucket: str, as_of: datetime.date) -> Q:
    for key, _label, fewest, most in BUCKETS:
        if key == bucket:
            q = Q(oldest__lte=as_of - datetime.timedelta(days=fewest))
            if most is not None:
                q &= Q(oldest__gte=as_of - datetime.timedelta(days=most))
            return q
    raise ValueError(f"unknown aging bucket {bucket!r}")


def dunning_houses(
    actor,
    *,
    as_of: datetime.date,
    community=None,
    building=None,
    bucket: str = "",
    min_amount: Decimal | None = None,
    quiet_days: int | None = None,
):
    """Houses owing overdue bills: ``values`` rows ``house_id``, ``owed``, ``bills``,
    ``oldest``, longest overdue first (filters in the module docstring)."""
    bills = _overdue_bills(actor, as_of)
    if community is not None:
        bills = bills.filter(community=community)
    if building is not None:
        bills = bills.filter(house__building=building)
    if quiet_days:
        since = timezone.now() - datetime.timedelta(days=quiet_days)
        reminded = DunningNotice.objects.filter(
            community_id__in=billing_communities(actor), sent_at__gte=since
        )
        bills = bills.exclude(house_id__in=reminded.values("house_id"))
    rows = (
        bills.order_by()
        .values("house_id")
        .annotate(
            # Rounded in the database so the amount compares exactly on SQLite too.
            owed=Round(Coalesce(Sum(BALANCE, output_field=MONEY), Value(ZERO)), 2),
            bills=Count("id"),
            oldest=Min("due_date"),
        )
    )
    if bucket:
        rows = rows.filter(_bucket_q(bucket, as_of))
    if min_amount:
        rows = rows.filter(owed__gte=min_amount)
    return rows.order_by("oldest", "house_id")


@dataclasses.dataclass
class Page:
    """A keyset page of dunning rows; ``after``/``next_after`` are ``<oldest>_<house id>``
    cursors (the console pager's ``next_query``/``first_query`` work on it)."""

    items: list
    after: str | None
    next_after: str | None
    query: object = None

    @property
    def has_next(self) -> bool:
        return self.next_after is not None

    def next_query(self) -> str:
        params = self.query.copy()
        params["after"] = self.next_after
        return params.urlencode()

    def first_query(self) -> str:
        params = self.query.copy()
        params.pop("after", None)
        return params.urlencode()


def valid_cursor(value: str) -> bool:
    return bool(CURSOR.match(value or ""))


def page_of(rows, *, after: str | None, query, size: int = PAGE_SIZE) -> Page:
    if after:
        match = CURSOR.match(after)
        if match is None:
            raise ValueError(f"bad cursor {after!r}")
        oldest, house_id = datetime.date.fromisoformat(match[1]), int(match[2])
        rows = rows.filter(Q(oldest__gt=oldest) | Q(oldest=oldest, house_id__gt=house_id))
    found = list(rows[: size + 1])
    next_after = None
    if len(found) > size:
        last = found[size - 1]
        next_after = f"{last['oldest']:%Y-%m-%d}_{last['house_id']}"
    return Page(items=found[:size], after=after, next_after=next_after, query=query)


def totals(rows) -> dict:
    """Houses, bills and money of all the rows (not just a page), in one query over the
    grouped rows: ``SELECT COUNT(*), SUM(bills), SUM(owed) FROM (<rows>)``."""
    sql, params = rows.order_by().query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), SUM(bills), SUM(owed) FROM ({sql}) dunning", params)
        houses, bills, owed = cursor.fetchone()
    return {
        "houses": houses or 0,
        "bills": int(bills or 0),
        "owed": Decimal(str(owed or 0)).quantize(Decimal("0.01")),
    }


def describe(actor, rows, as_of: datetime.date) -> list[dict]:
    """The rows of one page with their house, residents, bucket and reminders."""
    ids = [row["house_id"] for row in rows]
    houses = House.objects.select_related("community", "building", "unit").in_bulk(ids)
    names = residents_of(ids)
    reminders = reminder_summary(actor, ids)
    described = []
    for row in rows:
        key, label = bucket_of(row["oldest"], as_of)
        described.append(
            {
                **row,
                "owed": Decimal(row["owed"]).quantize(Decimal("0.01")),
                "house": houses[row["house_id"]],
                "residents": names.get(row["house_id"], []),
                "days": (as_of - row["oldest"]).days,
                "bucket": key,
                "bucket_label": label,
                **reminders.get(row["house_id"], {"reminders": 0, "last": None}),
            }
        )
    return described


def residents_of(house_ids) -> dict[int, list[str]]:
    """Names of the current residents of each house, owners first."""
    ties = (
        Residency.objects.active()
        .filter(house_id__in=list(house_ids))
        .order_by("house_id", "relation", "id")
        .values_list("house_id", "resident__name", "relation")
    )
    found = defaultdict(list)
    for house_id, name, _relation in sorted(
        ties, key=lambda t: (t[0], t[2] != Residency.Relation.OWNER)
    ):
        if name not in found[house_id]:
            found[house_id].append(name)
    return found


def reminder_summary(actor, house_ids) -> dict[int, dict]:
    """For each house: how many reminders it had, and the last one (a DunningNotice)."""
    notices = DunningNotice.objects.visible_to(actor).filter(house_id__in=list(house_ids))
    counts = notices.order_by().values("house_id").annotate(n=Count("id"), last=Max("id"))
    last = DunningNotice.objects.in_bulk([row["last"] for row in counts])
    return {row["house_id"]: {"reminders": row["n"], "last": last[row["last"]]} for row in counts}


def house_overdue(actor, house, as_of: datetime.date):
    """The house's overdue bills (fee item loaded), oldest due first."""
    return list(
        _overdue_bills(actor, as_of)
        .filter(house=house)
        .select_related("fee_item")
        .order_by("due_date", "id")
    )


# --- sending --------------------------------------------------------------------------------


def new_batch() -> str:
    return f"{timezone.localtime():%Y%m%d%H%M%S}{uuid.uuid4().hex[:8]}"


def _clean_request(actor, house_ids, channel: str, note: str) -> tuple[list[int], str]:
    require(actor, COLLECT)
    if channel not in DunningNotice.Channel.values:
        raise ValidationError({"channel": _("Choose how to remind: %s.") % _channel_names()})
    ids = sorted({int(pk) for pk in house_ids or []})
    if not ids:
        raise ValidationError({"houses": _("Choose at least one house.")})
    if len(ids) > MAX_BATCH:
        raise ValidationError(
            {
                "houses": _(
                    "%(n)d houses chosen; send at most %(max)d at a time (narrow the filters)."
                )
                % {"n": len(ids), "max": MAX_BATCH}
            }
        )
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("Keep the note under 200 characters.")})
    if channel in NOTE_REQUIRED and not note:
        raise ValidationError({"note": _("Say what was agreed on the call or visit.")})
    known = set(
        House.objects.filter(
            id__in=ids,
            company_id__in=sorted(actor.company_ids),
            community_id__in=billing_communities(actor),
        ).values_list("id", flat=True)
    )
    if known != set(ids):
        raise ValidationError({"houses": _("Some of the houses are not in your communities.")})
    return ids, note


def _channel_names() -> str:
    return ", ".join(str(label) for label in DunningNotice.Channel.labels)


@dataclasses.dataclass
class Sent:
    batch: str
    channel: str
    notices: list[DunningNotice]
    skipped: int  # houses chosen that owe nothing overdue any more
    recipients: int


@transaction.atomic
def send_reminders(*, actor, house_ids, channel: str, note: str = "") -> Sent:
    """Remind the houses (see the module docstring). Houses that owe nothing overdue by now
    are skipped; when none of them owes anything, nothing is written."""
    ids, note = _clean_request(actor, house_ids, channel, note)
    now = timezone.now()
    as_of = timezone.localdate(now)
    owing = {
        row["house_id"]: row
        for row in _overdue_bills(actor, as_of)
        .filter(house_id__in=ids)
        .order_by()
        .values("house_id", "company_id", "community_id")
        .annotate(owed=Sum(BALANCE, output_field=MONEY), bills=Count("id"), oldest=Min("due_date"))
    }
    if not owing:
        raise ValidationError(
            {"houses": _("None of the chosen houses owes anything overdue any more.")}
        )
    notify_residents = channel in (DunningNotice.Channel.NOTICE, DunningNotice.Channel.SMS)
    recipients = _recipients(owing) if notify_residents else {}
    batch = new_batch()
    notices = [
        DunningNotice(
            company_id=row["company_id"],
            community_id=row["community_id"],
            house_id=house_id,
            channel=channel,
            amount_due=Decimal(row["owed"]).quantize(Decimal("0.01")),
            bills_count=row["bills"],
            oldest_due_date=row["oldest"],
            recipients_count=len(recipients.get(house_id, ())),
            batch=batch,
            note=note,
            sent_by=actor.user,
            sent_at=now,
        )
        for house_id, row in sorted(owing.items())
    ]
    DunningNotice.objects.bulk_create(notices)
    if notify_residents:
        if any(notice.pk is None for notice in notices):  # a backend without RETURNING
            notices = list(DunningNotice.objects.filter(batch=batch).order_by("house_id"))
        _notify(notices, recipients, channel)
    return Sent(
        batch=batch,
        channel=channel,
        notices=notices,
        skipped=len(ids) - len(owing),
        recipients=sum(notice.recipients_count for notice in notices),
    )


def _recipients(owing) -> dict[int, list[int]]:
    ties = (
        Residency.objects.active()
        .filter(
            house_id__in=list(owing),
            resident__user__isnull=False,
            resident__user__is_active=True,
        )
        .values_list("house_id", "resident__user_id")
    )
    found = defaultdict(set)
    for house_id, user_id in ties:
        found[house_id].add(user_id)
    return {house_id: sorted(users) for house_id, users in found.items()}


def _notify(notices, recipients, channel) -> None:
    houses = House.objects.select_related("community", "building", "unit").in_bulk(
        [notice.house_id for notice in notices]
    )
    url = reverse("billing_resident:bill_list")
    kind = SMS_KIND if channel == DunningNotice.Channel.SMS else NOTIFY_KIND
    with delivered_together():
        for notice in notices:
            users = recipients.get(notice.house_id)
            if not users:
                continue
            body = format_lazy(
                gettext_lazy(
                    "{house}: {count} overdue bills, the oldest due {date}. Please pay at the "
                    "service centre or online under My bills; if you have paid already, "
                    "thank you and please ignore this reminder."
                ),
                house=houses[notice.house_id].address,
                count=notice.bills_count,
                date=f"{notice.oldest_due_date:%Y-%m-%d}",
            )
            if notice.note:
                body = format_lazy("{body}\n{note}", body=body, note=notice.note)
            notify(
                recipients=users,
                kind=kind,
                title=format_lazy(
                    gettext_lazy("Payment reminder: {amount} overdue"),
                    amount=f"¥{notice.amount_due:,.2f}",
                ),
                body=body,
                url=url,
                obj=notice,
                dedupe_key=f"billing.dunning:{notice.pk}",
            )


def batch_notices(actor, batch: str):
    """The reminders of one batch the actor may see (in their billing communities)."""
    return (
        DunningNotice.objects.visible_to(actor)
        .filter(batch=batch, community_id__in=billing_communities(actor))
        .select_related("house__community", "house__building", "house__unit", "sent_by")
        .order_by("house__community__name", "house__building__name", "house__number", "id")
    )
