"""Writes of the privacy app: access logging, deletion requests and erasure, retention.

Every function is keyword-only with ``actor=`` (or is the retention job's own step)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.privacy.models import (
    ERASED_NAME,
    AccessLog,
    Action,
    DeletionRequest,
    DeletionSource,
    DeletionState,
    RetentionSettings,
)

ERASE = "privacy.erasure"
VIEW_AUDIT = "privacy.view_audit"
MANAGE_RETENTION = "company.manage"


# --- the audit log ------------------------------------------------------------------------
def client_ip(request) -> str | None:
    """The peer address (Wuye runs behind one trusted proxy that sets REMOTE_ADDR)."""
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def _company_id(actor):
    if actor.staff:
        return actor.staff.company_id
    ids = sorted(actor.company_ids)
    if ids:
        return ids[0]
    from wuye.people.models import Resident

    return (
        Resident.objects.filter(user_id=actor.user.pk).values_list("company_id", flat=True).first()
    )


def log_access(
    *, actor, action: str, what: str, row_count: int | None = None, request=None, company_id=None
) -> AccessLog:
    """Record one export, sight of unmasked personal data, copy or erasure."""
    return AccessLog.objects.create(
        company_id=company_id if company_id is not None else _company_id(actor),
        actor_id=actor.user.pk if actor.is_authenticated else None,
        action=action,
        what=what[:300],
        row_count=row_count,
        ip=client_ip(request),
    )


def log_sensitive_view(*, actor, request, label: str) -> None:
    """A staff member was shown a full mobile or ID number (people.view_sensitive)."""
    if actor.has_perm("people.view_sensitive"):
        log_access(actor=actor, action=Action.VIEW_SENSITIVE, what=label, request=request)


# --- deletion requests ----------------------------------------------------------------------
def _current_community_id(resident):
    from wuye.people.models import Residency

    tie = (
        Residency.objects.active()
        .filter(resident=resident)
        .select_related("house")
        .order_by("id")
        .first()
    ) or Residency.objects.filter(resident=resident).select_related("house").order_by("-id").first()
    return tie.house.community_id if tie else None


@transaction.atomic
def request_deletion(*, actor, reason: str = "") -> list[DeletionRequest]:
    """The signed-in resident asks to delete their account: one request per resident
    profile (one per company) without an open one."""
    from wuye.people.models import Resident

    if not actor.is_authenticated:
        raise ValidationError(_("Sign in first."))
    profiles = list(Resident.objects.filter(user_id=actor.user.pk).order_by("id"))
    if not profiles:
        raise ValidationError(_("Only residents can ask to delete their account."))
    open_ids = set(
        DeletionRequest.objects.filter(
            resident__in=profiles, state__in=[DeletionState.REQUESTED, DeletionState.APPROVED]
        ).values_list("resident_id", flat=True)
    )
    todo = [p for p in profiles if p.pk not in open_ids]
    if not todo:
        raise ValidationError(_("A deletion request is already waiting."))
    made = []
    for resident in todo:
        found = DeletionRequest(
            company_id=resident.company_id,
            community_id=_current_community_id(resident),
            resident=resident,
            user_id=actor.user.pk,
            reason=(reason or "").strip()[:500],
        )
        full_clean(found, exclude=["company", "resident"])
        found.save()
        made.append(found)
    return made


def _decide(*, actor, found: DeletionRequest, to_state: str, note: str) -> DeletionRequest:
    require(actor, ERASE)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Give a reason.")})
    if len(note) > 500:
        raise ValidationError({"note": _("At most 500 characters.")})
    now = timezone.now()
    changed = DeletionRequest.objects.filter(pk=found.pk, state=DeletionState.REQUESTED).update(
        state=to_state, decided_by_id=actor.user.pk, decided_at=now, decision_note=note
    )
    if not changed:
        raise ValidationError(_("This request has already been decided."))
    found.refresh_from_db()
    return found


@transaction.atomic
def approve_deletion(*, actor, found: DeletionRequest, note: str, request=None) -> DeletionRequest:
    """Approve and erase at once: requested → approved → done."""
    found = _decide(actor=actor, found=found, to_state=DeletionState.APPROVED, note=note)
    erase_resident(resident=found.resident)
    DeletionRequest.objects.filter(pk=found.pk).update(
        state=DeletionState.DONE, done_at=timezone.now()
    )
    log_access(
        actor=actor,
        action=Action.ERASURE,
        what=_("Resident #%(id)s (request #%(req)s)") % {"id": found.resident_id, "req": found.pk},
        request=request,
        company_id=found.company_id,
    )
    found.refresh_from_db()
    return found


@transaction.atomic
def reject_deletion(*, actor, found: DeletionRequest, note: str) -> DeletionRequest:
    return _decide(actor=actor, found=found, to_state=DeletionState.REJECTED, note=note)


# --- erasure --------------------------------------------------------------------------------
def _unattached_photos(user_id):
    """Photos the user uploaded that no record links to (profile pictures, abandoned uploads)."""
    from django.apps import apps

    from wuye.core.models import Photo

    linked = Q()
    for model in apps.get_models():
        for field in model._meta.many_to_many:
            if field.related_model is Photo:
                through = field.remote_field.through
                column = field.m2m_reverse_field_name()
                linked |= Q(pk__in=through.objects.values(f"{column}_id"))
    found = Photo.objects.filter(uploaded_by_id=user_id)
    return found.exclude(linked) if linked else found


def erase_resident(*, resident) -> None:
    """Anonymise one person. The service record stays whole: work orders, ratings,
    complaints, bills and payments keep their rows, statuses and figures; only who the
    person was is removed (name, mobile, ID number, email, OpenID, login)."""
    from wuye.accounts.models import ApiToken, SmsCode, User
    from wuye.activities.models import Signup
    from wuye.billing.models import Payment
    from wuye.core.models import IdempotencyKey
    from wuye.notifications.models import ChannelPreference, DeliverySettings, Notification
    from wuye.people.models import Residency, Resident
    from wuye.staff.models import StaffMember
    from wuye.workorders.models import WorkOrder

    user = User.objects.filter(pk=resident.user_id).first() if resident.user_id else None
    mobiles = {m for m in (resident.mobile, user.mobile if user else None) if m}
    old_name = resident.name
    house_ids = list(Residency.objects.filter(resident=resident).values_list("house_id", flat=True))

    orders = WorkOrder.objects.filter(company_id=resident.company_id)
    who = Q(contact_mobile__in=sorted(mobiles)) if mobiles else Q(pk__in=[])
    if user:
        who |= Q(reporter_id=user.pk)
    orders.filter(who).update(contact_name=ERASED_NAME, contact_mobile="")

    signups = Q(contact_mobile__in=sorted(mobiles)) if mobiles else Q(pk__in=[])
    if user:
        signups |= Q(user_id=user.pk)
    Signup.objects.filter(signups).update(contact_name=ERASED_NAME, contact_mobile="")
    if house_ids and old_name:
        Payment.objects.filter(house_id__in=house_ids, payer=old_name).update(payer=ERASED_NAME)

    if mobiles:
        SmsCode.objects.filter(mobile__in=sorted(mobiles)).delete()
        for mobile in sorted(mobiles):
            # A stored API answer (Idempotency-Key) may quote the person in full.
            IdempotencyKey.objects.filter(response_body__contains=mobile).delete()

    Resident.objects.filter(pk=resident.pk).update(
        name=ERASED_NAME, mobile="", id_number="", note="", updated_at=timezone.now()
    )
    if user is None:
        return
    Notification.objects.filter(recipient_id=user.pk).delete()
    DeliverySettings.objects.filter(user_id=user.pk).delete()
    ChannelPreference.objects.filter(user_id=user.pk).delete()
    ApiToken.objects.filter(user_id=user.pk).delete()
    IdempotencyKey.objects.filter(user_id=user.pk).delete()
    for photo in _unattached_photos(user.pk):
        photo.file.delete(save=False)
        photo.delete()
    if StaffMember.objects.filter(user_id=user.pk).exists():
        return  # also a staff member: the staff account stays; only the resident is gone
    other_profiles = Resident.objects.filter(user_id=user.pk).exclude(pk=resident.pk)
    if other_profiles.exclude(name=ERASED_NAME).exists():
        return  # still a resident of another company with its own account data
    user.username = f"erased-{user.pk}"
    user.first_name = ERASED_NAME
    user.last_name = ""
    user.email = ""
    user.mobile = None
    user.is_active = False
    user.set_unusable_password()
    user.save()
    # Inactive: sign-in and any open session stop working (ModelBackend.get_user).


# --- retention ------------------------------------------------------------------------------
def retention_of(company_id) -> RetentionSettings:
    return RetentionSettings.objects.filter(company_id=company_id).first() or RetentionSettings(
        company_id=company_id
    )


@transaction.atomic
def update_retention(*, actor, **values) -> RetentionSettings:
    require(actor, MANAGE_RETENTION)
    found = retention_of(actor.staff.company_id)
    for field in ("audit_log_years", "notification_months", "departed_years"):
        if field in values:
            setattr(found, field, values[field])
    full_clean(found, exclude=["company"])
    found.save()
    return found


def _years_ago(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def departed_residents(company_id, *, today=None, years=None):
    """Residents of the company with a past house but none for ``years`` years."""
    from wuye.people.models import Residency, Resident

    today = today or timezone.localdate()
    years = years if years is not None else retention_of(company_id).departed_years
    cutoff = _years_ago(today, years)
    recent = Residency.objects.filter(Q(move_out__isnull=True) | Q(move_out__gt=cutoff))
    return (
        Resident.objects.filter(company_id=company_id, residencies__isnull=False)
        .exclude(pk__in=recent.values("resident_id"))
        .exclude(name=ERASED_NAME, mobile="", id_number="")
        .distinct()
    )


def apply_retention(*, now=None) -> dict:
    """One pass over every company: old audit entries and notifications deleted, long
    departed residents anonymised (each in its own transaction). Safe to run twice."""
    from wuye.estates.models import Company
    from wuye.notifications.models import Notification
    from wuye.people.models import Resident
    from wuye.staff.models import StaffMember

    now = now or timezone.now()
    today = timezone.localdate(now)
    totals = {"audit": 0, "notifications": 0, "erased": 0}
    for company in Company.objects.order_by("id"):
        rules = retention_of(company.pk)
        cutoff = datetime.datetime.combine(
            _years_ago(today, rules.audit_log_years), datetime.time.min, now.tzinfo
        )
        totals["audit"] += (
            AccessLog.objects.filter(company=company, at__lt=cutoff)
            .delete()[1]
            .get("privacy.AccessLog", 0)
        )
        note_cutoff = now - datetime.timedelta(days=round(rules.notification_months * 30.44))
        members = Q(
            recipient__in=Resident.objects.filter(company=company, user__isnull=False).values(
                "user_id"
            )
        ) | Q(recipient__in=StaffMember.objects.filter(company=company).values("user_id"))
        old = Notification.objects.filter(members, created_at__lt=note_cutoff)
        totals["notifications"] += old.delete()[1].get("notifications.Notification", 0)
        for resident in departed_residents(company.pk, today=today, years=rules.departed_years):
            with transaction.atomic():
                erase_resident(resident=resident)
                DeletionRequest.objects.create(
                    company=company,
                    community_id=_current_community_id(resident),
                    resident=resident,
                    source=DeletionSource.RETENTION,
                    state=DeletionState.DONE,
                    decided_at=now,
                    decision_note=_("No house for %(n)s years") % {"n": rules.departed_years},
                    done_at=now,
                )
                AccessLog.objects.create(
                    company=company,
                    action=Action.ERASURE,
                    what=_("Resident #%(id)s (retention)") % {"id": resident.pk},
                    at=now,
                )
            totals["erased"] += 1
    return totals
