"""Reads of notices: what staff see, read rates (overall and per building), receipts,
and what a resident sees (urgent unread first, then pinned, then newest).

Read counts are DB-side aggregates over ``NoticeReceipt``'s ``(notice, read_at)`` and
``(notice, building_id, read_at)`` indexes: ``COUNT(*)`` and ``COUNT(read_at)`` need no
table rows, so a 100,000-household notice is counted from the index alone.
A notice counts as read by a household when anyone living there opened it.
"""

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from wuye.accounts.actor import NOTHING
from wuye.estates.models import Building
from wuye.notices.models import NOTICE_PERMISSIONS, Notice, NoticeReceipt


# --- staff ------------------------------------------------------------------------------
def staff_q(actor) -> Q:
    perm = next((p for p in NOTICE_PERMISSIONS if actor.has_perm(p)), None)
    if perm is None:
        return NOTHING
    return actor.staff_q(community="community_id", company="company_id", perm=perm)


def staff_notices(actor):
    """The notices the actor sees as staff (never as a resident of a house)."""
    return Notice.objects.filter(staff_q(actor))


def read_counts(notice) -> dict:
    """{"households", "read", "unread", "rate"} of a published notice (rate None
    before any receipt is written)."""
    counts = NoticeReceipt.objects.filter(notice_id=notice.pk).aggregate(
        households=Count("*"), read=Count("read_at")
    )
    total, read = counts["households"], counts["read"]
    return {
        "households": total,
        "read": read,
        "unread": total - read,
        "rate": read / total if total else None,
    }


def building_counts(notice) -> list[dict]:
    """Per building: {"building_id", "name", "households", "read", "rate"}, by name."""
    rows = list(
        NoticeReceipt.objects.filter(notice_id=notice.pk)
        .values("building_id")
        .annotate(households=Count("*"), read=Count("read_at"))
        .order_by("building_id")
    )
    names = dict(
        Building.objects.filter(id__in=[r["building_id"] for r in rows]).values_list("id", "name")
    )
    for row in rows:
        row["name"] = names.get(row["building_id"], "")
        row["rate"] = row["read"] / row["households"] if row["households"] else None
    rows.sort(key=lambda r: (len(r["name"]), r["name"], r["building_id"]))
    return rows


def with_read_counts(notices):
    """Annotate ``read_households`` (``Notice.read_rate`` then works) on a list page."""
    read = (
        NoticeReceipt.objects.filter(notice_id=OuterRef("pk"), read_at__isnull=False)
        .order_by()
        .values("notice_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return notices.annotate(
        read_households=Coalesce(Subquery(read, output_field=IntegerField()), Value(0))
    )


def receipts(notice, *, building_id=None, read: bool | None = None):
    """The receipts of a notice (house, read or not, by whom), filtered."""
    qs = NoticeReceipt.objects.filter(notice_id=notice.pk)
    if building_id:
        qs = qs.filter(building_id=building_id)
    if read is True:
        qs = qs.filter(read_at__isnull=False)
    elif read is False:
        qs = qs.filter(read_at__isnull=True)
    return qs.select_related("house__building", "house__unit", "house__community", "read_by")


def timeline(notice):
    return notice.events.select_related("actor").order_by("id")


def sending(notice) -> bool:
    """Published and the fan-out has not finished yet."""
    if notice.status != "published":
        return False
    event = notice.events.filter(kind="published").order_by("-id").first()
    return event is not None and "sent_at" not in (event.payload or {})


# --- residents --------------------------------------------------------------------------
def _my_receipts(actor):
    return NoticeReceipt.objects.filter(actor.resident_q("house_id"))


def resident_notices(actor):
    """Live notices that reached one of the actor's current houses, with ``unread``
    (no household of the actor's has opened it) and ordered: urgent unread first,
    then pinned, then newest."""
    if not actor.is_authenticated or not actor.resident_house_ids:
        # The same annotations as below, so that callers may filter on them.
        return Notice.objects.none().annotate(
            unread=Value(False, output_field=BooleanField()),
            urgent_unread=Value(0, output_field=IntegerField()),
        )
    mine = _my_receipts(actor)
    unread = mine.filter(notice_id=OuterRef("pk"), read_at__isnull=True)
    return (
        Notice.objects.live()
        .filter(id__in=mine.values("notice_id"))
        .annotate(unread=Exists(unread))
        .annotate(
            urgent_unread=Case(
                When(Q(is_emergency=True) & Q(unread=True), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .select_related("community")
        .order_by("-urgent_unread", "-is_pinned", "-published_at", "-id")
    )


def urgent_unread(actor, limit: int = 3) -> list:
    """The urgent notices the actor's household has not opened (home page banner)."""
    return list(resident_notices(actor).filter(is_emergency=True, unread=True)[:limit])


def unread_count(actor) -> int:
    return resident_notices(actor).filter(unread=True).count()


# --- who may see a notice's files ---------------------------------------------------------
def may_see(actor, notice) -> bool:
    if not actor.is_authenticated:
        return False
    if staff_notices(actor).filter(pk=notice.pk).exists():
        return True
    return resident_notices(actor).filter(pk=notice.pk).exists()


def photo_visible(actor, photo_id: int) -> bool:
    """For ``wuye.core.photos.ATTACHMENT_CHECKS``: a notice image is seen by whoever
    sees the notice."""
    through = Notice.photos.through.objects.filter(photo_id=photo_id)
    ids = list(through.values_list("notice_id", flat=True)[:20])
    if not ids:
        return False
    return (
        staff_notices(actor).filter(pk__in=ids).exists()
        or resident_notices(actor).filter(pk__in=ids).exists()
    )
