"""Notices (公告): writing, scheduling, publishing (the fan-out), withdrawing, read receipts.

Status transitions (each appends a ``NoticeEvent`` in the same transaction)::

    draft ──publish (publish_at in the future)──▶ scheduled ──sweep / publish now──▶ published
    draft ──publish──▶ published
    scheduled, published ──withdraw──▶ withdrawn

Drafts and scheduled notices can be edited (text, targets, times, images, files); a
published notice cannot: withdraw it and write a new one.

Publishing commits the status first and fans out in the background
(``wuye.notices.tasks.fan_out_notice``): one ``NoticeReceipt`` per targeted house,
written in chunks of ``CHUNK`` house ids (never all of them in memory), and one in-app
notification per current resident of those houses (urgent ones also by SMS). The task
is safe to run twice: receipts are unique per house and notifications per resident and
``notice:<id>``. When it is done, ``households``/``recipients`` hold the totals and the
publishing event's payload says when it finished (``sent_at``).

Rules enforced here (a refusal writes nothing):

- ``engagement.manage`` in the notice's community (a company-wide notice: a company-wide
  role); targets inside that community (``wuye.estates.audience.check_audience``);
- a title and a text; the affected period ends after it starts; a notice expires after
  it is published and not in the past when it is published.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.core import uploads
from wuye.core.images import save_photo
from wuye.core.services import full_clean, require
from wuye.estates.audience import Audience, audience_houses, check_audience
from wuye.estates.models import Building, House, Unit
from wuye.notices.models import (
    EventKind,
    Notice,
    NoticeAttachment,
    NoticeEvent,
    NoticeReceipt,
    Status,
)
from wuye.webhooks import payloads

VIEW = "engagement.view"
MANAGE = "engagement.manage"
CHUNK = 2000  # house ids per fan-out step
MAX_CHOSEN = 500  # chosen houses (buildings and units are few anyway)
MAX_PHOTOS = 9
MAX_ATTACHMENTS = 10
EDITABLE = (Status.DRAFT, Status.SCHEDULED)
NOTIFICATION_KIND = "notice.published"
URGENT = gettext_lazy("Urgent")
FIELDS = (
    "community",
    "kind",
    "title",
    "body",
    "audience",
    "buildings",
    "units",
    "houses",
    "is_emergency",
    "is_pinned",
    "event_starts_at",
    "event_ends_at",
    "publish_at",
    "expires_at",
)
TARGETS = {"buildings": Audience.BUILDINGS, "units": Audience.UNITS, "houses": Audience.HOUSES}


def dedupe_key(notice) -> str:
    return f"notice:{notice.pk}"


# --- scope ------------------------------------------------------------------------------
def may_manage(actor, notice: Notice) -> bool:
    if not actor.is_authenticated or not actor.has_perm(MANAGE) or not actor.staff:
        return False
    if notice.company_id != actor.staff.company_id:
        return False
    if notice.community_id is None:
        return actor.company_wide
    return notice.community_id in actor.community_ids


def _require_manage(actor, notice: Notice) -> None:
    require(actor, MANAGE)
    if not may_manage(actor, notice):
        raise PermissionDenied(MANAGE)


# --- writing ----------------------------------------------------------------------------
def _clean_text(fields: dict) -> None:
    errors = {}
    for name, limit in (("title", 120), ("body", 10000)):
        value = (fields.get(name) or "").strip()
        fields[name] = value
        if not value:
            errors[name] = _("This field cannot be empty.")
        elif len(value) > limit:
            errors[name] = _("Keep it under %(n)d characters.") % {"n": limit}
    if errors:
        raise ValidationError(errors)


def _targets(fields: dict) -> dict:
    """The chosen buildings/units/houses as lists; only the kind the audience uses."""
    audience = fields.get("audience")
    out = {}
    for name, kind in TARGETS.items():
        items = list(fields.get(name) or ()) if audience == kind else []
        out[name] = items
    if len(out["houses"]) > MAX_CHOSEN:
        raise ValidationError(
            {
                "houses": _(
                    "Choose at most %(n)d houses; for more, choose their buildings or units."
                )
                % {"n": MAX_CHOSEN}
            }
        )
    # Objects of the right model, with what check_audience reads.
    models = {"buildings": Building, "units": Unit, "houses": House}
    for name, model in models.items():
        ids = [getattr(item, "pk", item) for item in out[name]]
        if not ids:
            continue
        found = model.objects.filter(pk__in=ids)
        if model is Unit:
            found = found.select_related("building")
        found = list(found)
        if len(found) != len(set(ids)):
            raise ValidationError({name: _("No such item, or it is outside your scope.")})
        out[name] = found
    return out


def _check(actor, company_id: int, fields: dict) -> dict:
    targets = _targets(fields)
    check_audience(
        actor=actor,
        perm=MANAGE,
        company_id=company_id,
        community=fields.get("community"),
        audience=fields.get("audience"),
        **targets,
    )
    return targets


def _event(notice, kind, actor, from_status="", to_status="", note="", payload=None):
    return NoticeEvent.objects.create(
        notice=notice,
        kind=kind,
        actor=actor.user if actor is not None else None,
        from_status=from_status,
        to_status=to_status,
        note=note,
        payload=payload or {},
    )


def _apply(notice: Notice, fields: dict) -> None:
    for name in FIELDS:
        if name in TARGETS or name not in fields:
            continue
        setattr(notice, name, fields[name])
    if notice.audience == Audience.COMPANY:
        notice.community = None
    full_clean(notice, exclude=["buildings", "units", "houses", "photos"])


def _set_targets(notice: Notice, targets: dict) -> None:
    notice.buildings.set(targets["buildings"])
    notice.units.set(targets["units"])
    notice.houses.set(targets["houses"])


@transaction.atomic
def create_notice(*, actor, community=None, audience: str = Audience.COMMUNITY, **fields):
    """A draft notice (``engagement.manage`` where it is addressed)."""
    require(actor, MANAGE)
    if not actor.staff:
        raise PermissionDenied(MANAGE)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    fields.update(community=community, audience=audience)
    if audience == Audience.COMPANY:
        fields["community"] = None
    _clean_text(fields)
    company_id = community.company_id if community is not None else actor.staff.company_id
    targets = _check(actor, company_id, fields)
    notice = Notice(company_id=company_id, created_by=actor.user)
    _apply(notice, fields)
    notice.save()
    _set_targets(notice, targets)
    _event(notice, EventKind.CREATED, actor, to_status=Status.DRAFT)
    return notice


@transaction.atomic
def update_notice(*, actor, notice: Notice, **changes) -> Notice:
    """Edit a draft or a scheduled notice (a scheduled one stays scheduled: its
    publishing time must stay in the future)."""
    _require_manage(actor, notice)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if locked.status not in EDITABLE:
        raise ValidationError(
            _("Only drafts and scheduled notices can be edited; withdraw it and write a new one.")
        )
    fields = {
        "community": locked.community,
        "audience": locked.audience,
        "buildings": list(locked.buildings.all()),
        "units": list(locked.units.all()),
        "houses": list(locked.houses.all()),
        "title": locked.title,
        "body": locked.body,
    }
    fields.update(changes)
    if fields["audience"] == Audience.COMPANY:
        fields["community"] = None
    _clean_text(fields)
    company_id = (
        fields["community"].company_id if fields["community"] is not None else locked.company_id
    )
    if company_id != locked.company_id:
        raise ValidationError({"community": _("This community is not one of yours.")})
    targets = _check(actor, company_id, fields)
    if locked.status == Status.SCHEDULED:
        publish_at = fields.get("publish_at", locked.publish_at)
        if publish_at is None or publish_at <= timezone.now():
            raise ValidationError(
                {
                    "publish_at": _(
                        "A scheduled notice keeps a publishing time in the future; "
                        "to publish it now, use Publish."
                    )
                }
            )
    changed = sorted(
        name
        for name in changes
        if name in TARGETS or getattr(locked, name, None) != fields.get(name)
    )
    _apply(locked, fields)
    locked.save()
    _set_targets(locked, targets)
    _event(locked, EventKind.EDITED, actor, payload={"fields": changed})
    return locked


# --- publishing -------------------------------------------------------------------------
def _target_ids(notice: Notice) -> dict:
    return {
        "building_ids": list(notice.buildings.values_list("id", flat=True)),
        "unit_ids": list(notice.units.values_list("id", flat=True)),
        "house_ids": list(notice.houses.values_list("id", flat=True)),
    }


def target_houses(notice: Notice):
    """The houses the notice is addressed to, as a queryset (not evaluated)."""
    return audience_houses(
        company_id=notice.company_id,
        community_id=notice.community_id,
        audience=notice.audience,
        **_target_ids(notice),
    )


def _go_live(notice: Notice, actor, now, *, payload=None) -> None:
    """locked ``notice`` → published; the fan-out starts once this commits."""
    from wuye.notices.tasks import fan_out_notice

    from_status = notice.status
    notice.status = Status.PUBLISHED
    notice.published_at = now
    notice.households = notice.recipients = 0
    notice.save(update_fields=["status", "published_at", "households", "recipients"])
    _event(notice, EventKind.PUBLISHED, actor, from_status, Status.PUBLISHED, payload=payload)
    payloads.notice_published(notice)
    pk = notice.pk
    transaction.on_commit(lambda: fan_out_notice.enqueue(pk), robust=True)


@transaction.atomic
def publish_notice(*, actor, notice: Notice) -> Notice:
    """Publish a draft now, or schedule it when its ``publish_at`` is in the future;
    a scheduled notice is published now. Targets and permissions are checked again."""
    _require_manage(actor, notice)
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if locked.status not in EDITABLE:
        raise ValidationError(_("This notice is already published or withdrawn."))
    fields = {
        "community": locked.community,
        "audience": locked.audience,
        "buildings": list(locked.buildings.all()),
        "units": list(locked.units.all()),
        "houses": list(locked.houses.all()),
    }
    _check(actor, locked.company_id, fields)
    now = timezone.now()
    if locked.expires_at is not None and locked.expires_at <= now:
        raise ValidationError(
            {"expires_at": _("This notice has already expired; change its expiry first.")}
        )
    if locked.status == Status.DRAFT and locked.publish_at and locked.publish_at > now:
        locked.status = Status.SCHEDULED
        locked.save(update_fields=["status"])
        _event(
            locked,
            EventKind.SCHEDULED,
            actor,
            Status.DRAFT,
            Status.SCHEDULED,
            payload={"publish_at": locked.publish_at.isoformat()},
        )
        return locked
    if locked.publish_at and locked.publish_at > now:
        locked.publish_at = now  # a scheduled notice published early
        locked.save(update_fields=["publish_at"])
    _go_live(locked, actor, now)
    return locked


def publish_due_notices(now=None, *, limit: int = 500) -> int:
    """The sweep: scheduled notices whose time has come are published (and fanned out).
    Safe to run late or twice: each notice moves once. Returns how many."""
    now = now or timezone.now()
    due = Notice.objects.filter(status=Status.SCHEDULED, publish_at__lte=now).order_by(
        "publish_at", "id"
    )
    published = 0
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            notice = Notice.objects.select_for_update().get(pk=pk)
            if notice.status != Status.SCHEDULED or notice.publish_at > now:
                continue  # published, withdrawn or moved meanwhile
            if notice.expires_at is not None and notice.expires_at <= now:
                notice.status = Status.WITHDRAWN
                notice.withdrawn_at = now
                notice.save(update_fields=["status", "withdrawn_at"])
                _event(
                    notice,
                    EventKind.WITHDRAWN,
                    None,
                    Status.SCHEDULED,
                    Status.WITHDRAWN,
                    note=_("Expired before it could be published."),
                )
                continue
            _go_live(notice, None, now, payload={"scheduled": True})
            published += 1
    return published


@transaction.atomic
def withdraw_notice(*, actor, notice: Notice, note: str = "") -> Notice:
    """Take a scheduled or published notice back: residents no longer see it."""
    _require_manage(actor, notice)
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("Keep the note under 200 characters.")})
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if locked.status not in (Status.SCHEDULED, Status.PUBLISHED):
        raise ValidationError(_("Only scheduled or published notices can be withdrawn."))
    from_status = locked.status
    locked.status = Status.WITHDRAWN
    locked.withdrawn_at = timezone.now()
    locked.save(update_fields=["status", "withdrawn_at"])
    _event(locked, EventKind.WITHDRAWN, actor, from_status, Status.WITHDRAWN, note=note)
    return locked


# --- the fan-out (run by the worker) ----------------------------------------------------
def _residents_of(houses):
    """User ids of the current, active residents of ``houses`` (a queryset of ids)."""
    from wuye.people.models import Residency

    return (
        Residency.objects.active()
        .filter(house_id__in=houses, resident__user__isnull=False, resident__user__is_active=True)
        .values_list("resident__user_id", flat=True)
        .distinct()
    )


def fan_out(notice_id: int, *, chunk: int = CHUNK) -> dict:
    """Write the receipts and notify the residents of a published notice, ``chunk``
    house ids at a time. Idempotent; stops early if the notice is withdrawn meanwhile."""
    from wuye.notifications.services import deliver

    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None or notice.status != Status.PUBLISHED:
        return {"skipped": True}
    houses = target_houses(notice)
    title = notice.title
    if notice.is_emergency:
        title = "【" + _site(URGENT) + "】" + title
    body = notice.body[:200]
    url = reverse("notices_resident:detail", args=[notice.pk])
    key = dedupe_key(notice)
    last, households, notified = 0, 0, 0
    while True:
        rows = list(
            houses.filter(id__gt=last)
            .order_by("id")
            .values_list("id", "community_id", "building_id")[:chunk]
        )
        if not rows:
            break
        first, last = rows[0][0], rows[-1][0]
        NoticeReceipt.objects.bulk_create(
            [
                NoticeReceipt(notice_id=notice.pk, house_id=h, community_id=c, building_id=b)
                for h, c, b in rows
            ],
            batch_size=chunk,
            ignore_conflicts=True,
        )
        in_chunk = houses.filter(id__gte=first, id__lte=last).values("id")
        user_ids = list(_residents_of(in_chunk))
        if user_ids:
            notified += deliver(
                recipient_ids=user_ids,
                kind=NOTIFICATION_KIND,
                title=title,
                body=body,
                url=url,
                object_type=Notice._meta.label_lower,
                object_id=notice.pk,
                dedupe_key=key,
                urgent=notice.is_emergency,
            )
        households += len(rows)
        still = Notice.objects.filter(pk=notice.pk, status=Status.PUBLISHED).update(
            households=households
        )
        if not still:
            return {"withdrawn": True, "households": households}
        del rows, user_ids
    return _finish(notice, notified)


def _site(text) -> str:
    from wuye.core.i18n import site_text

    return site_text(text)


def _finish(notice: Notice, notified: int) -> dict:
    households = NoticeReceipt.objects.filter(notice_id=notice.pk).count()
    recipients = _residents_of(
        NoticeReceipt.objects.filter(notice_id=notice.pk).values("house_id")
    ).count()
    now = timezone.now()
    with transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(households=households, recipients=recipients)
        event = (
            NoticeEvent.objects.select_for_update()
            .filter(notice_id=notice.pk, kind=EventKind.PUBLISHED)
            .order_by("-id")
            .first()
        )
        if event is not None:
            event.payload = {
                **event.payload,
                "households": households,
                "recipients": recipients,
                "sent_at": now.isoformat(),
            }
            event.save(update_fields=["payload"])
    return {"households": households, "recipients": recipients, "created": notified}


# --- read receipts ----------------------------------------------------------------------
def mark_read(*, actor, notice: Notice) -> int:
    """The resident opened the notice: their houses' receipts are read (the first
    opening counts; later ones change nothing), and their in-app notification for it.
    Returns how many receipts changed."""
    if not actor.is_authenticated or not actor.resident_house_ids:
        return 0
    now = timezone.now()
    with transaction.atomic():
        changed = NoticeReceipt.objects.filter(
            notice_id=notice.pk,
            house_id__in=sorted(actor.resident_house_ids),
            read_at__isnull=True,
        ).update(read_at=now, read_by=actor.user)
    _mark_notification_read(actor, notice)
    return changed


def _mark_notification_read(actor, notice) -> None:
    from wuye.notifications import services as notifications
    from wuye.notifications.models import Notification

    unread = Notification.objects.visible_to(actor).filter(
        dedupe_key=dedupe_key(notice), read_at__isnull=True
    )
    for row in unread[:5]:
        notifications.mark_read(actor=actor, notification=row)


# --- images and files -------------------------------------------------------------------
def _require_editable(actor, notice: Notice) -> Notice:
    _require_manage(actor, notice)
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if locked.status not in EDITABLE:
        raise ValidationError(
            _("Only drafts and scheduled notices can be edited; withdraw it and write a new one.")
        )
    return locked


@transaction.atomic
def add_photo(*, actor, notice: Notice, uploaded):
    """An image shown in the notice (cleaned and re-encoded by ``save_photo``)."""
    locked = _require_editable(actor, notice)
    if locked.photos.count() >= MAX_PHOTOS:
        raise ValidationError(
            {"photo": _("A notice has at most %(n)d images.") % {"n": MAX_PHOTOS}}
        )
    photo = save_photo(actor=actor, uploaded=uploaded, company=locked.company)
    locked.photos.add(photo)
    _event(locked, EventKind.EDITED, actor, payload={"image_added": photo.pk})
    return photo


@transaction.atomic
def remove_photo(*, actor, notice: Notice, photo_id: int) -> None:
    locked = _require_editable(actor, notice)
    if locked.photos.filter(pk=photo_id).exists():
        locked.photos.remove(photo_id)
        _event(locked, EventKind.EDITED, actor, payload={"image_removed": photo_id})


# extension: (MIME type stored and sent, content check (first bytes, upload) -> bool)
ATTACHMENT_TYPES = {**uploads.DOCUMENT_TYPES, "txt": uploads.TEXT_TYPE}


def attachment_limit_mb() -> int:
    return getattr(settings, "NOTICE_ATTACHMENT_MAX_MB", settings.FACILITY_ATTACHMENT_MAX_MB)


def _attachment_type(upload, name: str) -> tuple[str, str]:
    return uploads.check_document(
        upload,
        name,
        types=ATTACHMENT_TYPES,
        limit_mb=attachment_limit_mb(),
        refused=_(
            "“%(name)s” cannot be posted with a notice: upload a PDF, JPEG or PNG "
            "image, Word or Excel document or text file."
        ),
    )


@transaction.atomic
def add_attachment(*, actor, notice: Notice, upload) -> NoticeAttachment:
    """A document posted with the notice; its type must agree by name and content."""
    locked = _require_editable(actor, notice)
    if locked.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError(
            {"file": _("A notice has at most %(n)d files.") % {"n": MAX_ATTACHMENTS}}
        )
    name = uploads.original_name(upload) or "file"
    extension, content_type = _attachment_type(upload, name)
    attachment = NoticeAttachment(
        notice=locked,
        name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor.user,
    )
    full_clean(attachment, exclude=["file"])
    upload.seek(0)
    attachment.file.save(f"upload.{extension}", upload, save=False)
    try:
        with transaction.atomic():
            attachment.save()
    except BaseException:
        attachment.file.delete(save=False)
        raise
    _event(locked, EventKind.EDITED, actor, payload={"file_added": name})
    return attachment


@transaction.atomic
def remove_attachment(*, actor, attachment: NoticeAttachment) -> None:
    locked = _require_editable(actor, attachment.notice)
    deleted, _counts = NoticeAttachment.objects.filter(pk=attachment.pk).delete()
    if deleted:
        _event(locked, EventKind.EDITED, actor, payload={"file_removed": attachment.name})
        storage, stored = attachment.file.storage, attachment.file.name
        transaction.on_commit(lambda: storage.delete(stored))
