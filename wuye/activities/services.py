"""Community activities (社区活动): organising, sign-up with a waitlist, check-in, recap.

Places are counted in people. Every change that moves people between confirmed,
waitlisted and cancelled locks the activity row first (``select_for_update``), then
reads and writes the sign-ups and ``Activity.confirmed_people`` /
``waitlisted_people``: two households never take the last place twice, and the
counters always equal the sums of the sign-ups.

Rules:

- a manager (``engagement.manage`` in the activity's community) creates, edits, opens
  and cancels an activity and posts its recap;
- a resident signs up one of their current houses in the activity's community, once per
  house (a cancelled sign-up may be followed by a new one), for 1..``max_party_size``
  people, while the activity is open and before ``signup_deadline``. A party that fits
  in the places left is confirmed, otherwise it joins the waitlist;
- front-desk staff (``engagement.assist``) sign a household up on its behalf (a phone
  call) under the same rules;
- a resident cancels before ``cancel_deadline``, staff at any time; the freed places go
  to the waitlist in order of sign-up: each waiting party that fits is confirmed, one
  that does not fit is skipped but keeps its place in the queue;
- staff (``engagement.assist`` or ``engagement.manage``) check a confirmed household in
  once by its ticket code, recording how many people came (at most the party).

Each step writes an ``ActivityEvent``; notifications and webhooks go out after commit.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.activities.models import (
    ACTIVE_SIGNUP,
    Activity,
    ActivityEvent,
    EventKind,
    Signup,
    SignupStatus,
    Status,
)
from wuye.core.i18n import site_text
from wuye.core.images import save_photo
from wuye.notifications.services import delivered_together, notify
from wuye.people.models import Residency, Resident
from wuye.webhooks import payloads

VIEW, MANAGE, ASSIST = "engagement.view", "engagement.manage", "engagement.assist"
MAX_PARTY = 20
MAX_CAPACITY = 100_000
MAX_PHOTOS = 9
EDITABLE = (
    "title",
    "description",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "max_party_size",
    "signup_deadline",
    "cancel_deadline",
)

CANCELLED_TITLE = gettext_lazy("Activity cancelled: %(title)s")
PROMOTED_TITLE = gettext_lazy("You have a place at %(title)s")
PROMOTED_BODY = gettext_lazy(
    "A place came free: %(n)s people of your household are confirmed. Open your ticket."
)
SIGNUP_CANCELLED_TITLE = gettext_lazy("Your sign-up for %(title)s was cancelled")


# --- who may act ------------------------------------------------------------------------
def may(actor, activity_or_community, *perms: str) -> bool:
    """Staff of the activity's company with one of ``perms`` in its community."""
    community_id = getattr(activity_or_community, "community_id", None)
    if community_id is None:  # a community
        community_id = activity_or_community.pk
    company_id = activity_or_community.company_id
    return (
        bool(actor.staff)
        and company_id == actor.staff.company_id
        and community_id in actor.community_ids
        and any(actor.has_perm(p) for p in perms)
    )


def _require(actor, activity, *perms: str) -> None:
    if not may(actor, activity, *perms):
        raise PermissionDenied(perms[0])


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def _record(activity, kind, *, actor, signup=None, note="", payload=None) -> ActivityEvent:
    return ActivityEvent.objects.create(
        activity=activity,
        signup=signup,
        kind=kind,
        actor=getattr(actor, "user", None) if actor is not None else None,
        note=note,
        payload=payload or {},
        at=timezone.now(),
    )


def _lock(activity) -> Activity:
    return Activity.objects.select_for_update().get(pk=activity.pk)


def _text(value, field: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Write at most %(limit)d characters.") % {"limit": limit}})
    return value


def household_users(house_ids) -> set[int]:
    """The login accounts of the people who currently live in these houses."""
    return set(
        Residency.objects.active()
        .filter(house_id__in=sorted(set(house_ids)), resident__user__isnull=False)
        .values_list("resident__user_id", flat=True)
    )


# --- organising -------------------------------------------------------------------------
def _check_plan(activity: Activity, *, creating: bool) -> None:
    """Times, places and texts of an activity being created or edited."""
    errors = {}
    activity.title = (activity.title or "").strip()
    activity.place = (activity.place or "").strip()
    activity.description = (activity.description or "").strip()
    if not activity.title:
        errors["title"] = _("Give the activity a title.")
    elif len(activity.title) > 120:
        errors["title"] = _("Write at most %(limit)d characters.") % {"limit": 120}
    if not activity.place:
        errors["place"] = _("Say where it takes place.")
    elif len(activity.place) > 200:
        errors["place"] = _("Write at most %(limit)d characters.") % {"limit": 200}
    if len(activity.description) > 5000:
        errors["description"] = _("Write at most %(limit)d characters.") % {"limit": 5000}
    for field in ("starts_at", "ends_at", "signup_deadline", "cancel_deadline"):
        if not isinstance(getattr(activity, field), datetime.datetime):
            errors[field] = _("Give a date and time.")
    capacity, party = activity.capacity, activity.max_party_size
    if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        errors["capacity"] = _("Give the number of places: 1 to %(max)d people.") % {
            "max": MAX_CAPACITY
        }
    if not isinstance(party, int) or not 1 <= party <= MAX_PARTY:
        errors["max_party_size"] = _("A household brings 1 to %(max)d people.") % {"max": MAX_PARTY}
    elif isinstance(capacity, int) and party > capacity:
        errors["max_party_size"] = _("A household cannot bring more people than there are places.")
    if errors:
        raise ValidationError(errors)
    if activity.ends_at <= activity.starts_at:
        errors["ends_at"] = _("An activity must end after it starts.")
    if activity.signup_deadline > activity.starts_at:
        errors["signup_deadline"] = _("Sign-up must close by the time the activity starts.")
    if activity.cancel_deadline > activity.starts_at:
        errors["cancel_deadline"] = _("Cancellations must close by the time the activity starts.")
    if creating and activity.starts_at <= timezone.now():
        errors["starts_at"] = _("An activity is planned for a time still to come.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_activity(
    *,
    actor,
    community,
    title: str,
    place: str,
    starts_at,
    ends_at,
    capacity: int,
    signup_deadline,
    cancel_deadline,
    max_party_size: int = 4,
    description: str = "",
) -> Activity:
    """A draft activity in one of the manager's communities."""
    if not actor.staff or not actor.has_perm(MANAGE):
        raise PermissionDenied(MANAGE)
    if community is None or not may(actor, community, MANAGE):
        raise ValidationError({"community": _("This community is not one of yours.")})
    activity = Activity(
        company_id=community.company_id,
        community=community,
        title=title,
        description=description,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        max_party_size=max_party_size,
        signup_deadline=signup_deadline,
        cancel_deadline=cancel_deadline,
        created_by=actor.user,
    )
    _check_plan(activity, creating=True)
    activity.save()
    _record(activity, EventKind.CREATED, actor=actor)
    return activity


@transaction.atomic
def update_activity(*, actor, activity: Activity, **changes) -> Activity:
    """Edit what, where, when and how many. Places cannot drop below the people already
    confirmed; more places are offered to the waitlist at once."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    _require(actor, activity, MANAGE)
    locked = _lock(activity)
    if locked.status == Status.CANCELLED:
        raise ValidationError(_("This activity was cancelled; it can no longer be edited."))
    before = {field: getattr(locked, field) for field in EDITABLE}
    for field, value in changes.items():
        setattr(locked, field, value)
    _check_plan(locked, creating=False)
    if locked.capacity < locked.confirmed_people:
        raise ValidationError(
            {
                "capacity": _(
                    "%(n)d people are already confirmed; the places cannot be fewer. "
                    "Cancel sign-ups first."
                )
                % {"n": locked.confirmed_people}
            }
        )
    changed = [f for f in EDITABLE if getattr(locked, f) != before[f]]
    if not changed:
        return locked
    locked.save()
    _record(
        locked,
        EventKind.EDITED,
        actor=actor,
        payload={
            "fields": changed,
            **(
                {"capacity": [before["capacity"], locked.capacity]} if "capacity" in changed else {}
            ),
        },
    )
    if "capacity" in changed and locked.capacity > before["capacity"]:
        _promote(locked, actor=actor)
    return locked


@transaction.atomic
def open_activity(*, actor, activity: Activity) -> Activity:
    """Draft → open for sign-up (before its sign-up deadline)."""
    _require(actor, activity, MANAGE)
    locked = _lock(activity)
    if locked.status != Status.DRAFT:
        raise ValidationError(
            _("This activity is %(status)s; only a draft can be opened.")
            % {"status": locked.get_status_display()}
        )
    if locked.signup_deadline <= timezone.now():
        raise ValidationError(
            {
                "signup_deadline": _(
                    "Sign-up closed at %(when)s; move the deadline before opening."
                )
                % {"when": _when(locked.signup_deadline)}
            }
        )
    locked.status = Status.OPEN
    locked.save(update_fields=["status", "updated_at"])
    _record(locked, EventKind.OPENED, actor=actor)
    return locked


@transaction.atomic
def cancel_activity(*, actor, activity: Activity, reason: str) -> Activity:
    """Call the activity off (draft or open) and tell every household signed up."""
    _require(actor, activity, MANAGE)
    reason = _text(reason, "reason", required=True, limit=200)
    locked = _lock(activity)
    if locked.status == Status.CANCELLED:
        raise ValidationError(_("This activity has already been cancelled."))
    if locked.ends_at <= timezone.now():
        raise ValidationError(_("This activity has already taken place."))
    locked.status = Status.CANCELLED
    locked.cancel_reason = reason
    locked.save(update_fields=["status", "cancel_reason", "updated_at"])
    houses = list(
        locked.signups.filter(status__in=ACTIVE_SIGNUP).values_list("house_id", flat=True)
    )
    event = _record(
        locked, EventKind.CANCELLED, actor=actor, note=reason, payload={"households": len(houses)}
    )
    notify(
        recipients=household_users(houses),
        kind="activity.cancelled",
        title=site_text(CANCELLED_TITLE, {"title": locked.title}),
        body=reason,
        url=reverse("activities_resident:detail", args=[locked.pk]),
        obj=locked,
        dedupe_key=f"activity-event:{event.pk}",
    )
    payloads.activity_cancelled(locked, reason=reason, households=len(houses))
    return locked


# --- signing up -------------------------------------------------------------------------
def _contact_of(actor, house) -> tuple[str, str]:
    """The signing-up resident's own name and mobile."""
    resident = (
        Resident.objects.filter(user_id=actor.user.pk, company_id=house.company_id)
        .order_by("id")
        .first()
    )
    if resident is not None:
        return resident.name, resident.mobile
    return actor.user.display_name, actor.user.mobile or ""


def _enrol(
    *, actor, activity, house, party_size, contact_name, contact_mobile, note, on_behalf
) -> Signup:
    locked = _lock(activity)
    if locked.status != Status.OPEN:
        raise ValidationError(
            _("This activity is not open for sign-up (%(status)s).")
            % {"status": locked.get_status_display()}
        )
    now = timezone.now()
    if now > locked.signup_deadline:
        raise ValidationError(
            _("Sign-up closed at %(when)s.") % {"when": _when(locked.signup_deadline)}
        )
    if house.community_id != locked.community_id:
        raise ValidationError({"house": _("The house is not in this activity's community.")})
    if not isinstance(party_size, int) or not 1 <= party_size <= locked.max_party_size:
        raise ValidationError(
            {
                "party_size": _("A household may bring 1 to %(max)d people.")
                % {"max": locked.max_party_size}
            }
        )
    existing = locked.signups.filter(house_id=house.pk, status__in=ACTIVE_SIGNUP).first()
    if existing is not None:
        if existing.status == SignupStatus.CONFIRMED:
            message = _(
                "This household has already signed up (%(n)d people, confirmed). "
                "Cancel that sign-up first to change it."
            )
        else:
            message = _(
                "This household has already signed up (%(n)d people, on the waitlist). "
                "Cancel that sign-up first to change it."
            )
        raise ValidationError({"house": message % {"n": existing.party_size}})
    contact_name = _text(contact_name, "contact_name", required=True, limit=50)
    contact_mobile = _text(contact_mobile, "contact_mobile", required=False, limit=20)
    note = _text(note, "note", required=False, limit=200)
    fits = party_size <= locked.capacity - locked.confirmed_people
    signup = Signup.objects.create(
        activity=locked,
        house=house,
        user=actor.user,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        party_size=party_size,
        note=note,
        status=SignupStatus.CONFIRMED if fits else SignupStatus.WAITLISTED,
        created_at=now,
    )
    if fits:
        locked.confirmed_people += party_size
    else:
        locked.waitlisted_people += party_size
    locked.save(update_fields=["confirmed_people", "waitlisted_people", "updated_at"])
    _record(
        locked,
        EventKind.SIGNED_UP if fits else EventKind.WAITLISTED,
        actor=actor,
        signup=signup,
        payload={"house": house.pk, "party_size": party_size, "on_behalf": on_behalf},
    )
    payloads.activity_signed_up(locked, signup)
    signup.activity = locked
    return signup


@transaction.atomic
def sign_up(*, actor, activity: Activity, house, party_size: int, note: str = "") -> Signup:
    """A resident signs up one of their current houses; confirmed when the party fits
    in the places left, else on the waitlist."""
    if house is None or house.pk not in actor.resident_house_ids:
        raise ValidationError({"house": _("Choose one of the houses you live in.")})
    name, mobile = _contact_of(actor, house)
    return _enrol(
        actor=actor,
        activity=activity,
        house=house,
        party_size=party_size,
        contact_name=name,
        contact_mobile=mobile,
        note=note,
        on_behalf=False,
    )


@transaction.atomic
def staff_sign_up(
    *,
    actor,
    activity: Activity,
    house,
    party_size: int,
    contact_name: str,
    contact_mobile: str = "",
    note: str = "",
) -> Signup:
    """Front-desk staff sign a household up on its behalf (e.g. it phoned)."""
    _require(actor, activity, ASSIST)
    if house is None or house.company_id != activity.company_id:
        raise ValidationError({"house": _("The house is not in this activity's community.")})
    return _enrol(
        actor=actor,
        activity=activity,
        house=house,
        party_size=party_size,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        note=note,
        on_behalf=True,
    )


def may_cancel_signup(actor, signup: Signup, *, now=None) -> bool:
    """Staff at any time; the household until the cancellation deadline."""
    activity = signup.activity
    if signup.status not in ACTIVE_SIGNUP or activity.status == Status.CANCELLED:
        return False
    if signup.checked_in_at is not None:
        return False
    if may(actor, activity, ASSIST, MANAGE):
        return True
    now = now or timezone.now()
    return signup.house_id in actor.resident_house_ids and now <= activity.cancel_deadline


@transaction.atomic
def cancel_signup(*, actor, signup: Signup, reason: str = "") -> Signup:
    """Cancel a sign-up (resident before the deadline, staff any time); freed places go
    to the waitlist."""
    reason = _text(reason, "reason", required=False, limit=200)
    locked = _lock(signup.activity)
    current = Signup.objects.select_for_update().get(pk=signup.pk)
    current.activity = locked
    staff = may(actor, locked, ASSIST, MANAGE)
    if not staff and current.house_id not in actor.resident_house_ids:
        raise PermissionDenied(ASSIST)
    if current.status == SignupStatus.CANCELLED:
        raise ValidationError(_("This sign-up has already been cancelled."))
    if locked.status == Status.CANCELLED:
        raise ValidationError(_("The activity itself was cancelled."))
    if current.checked_in_at is not None:
        raise ValidationError(_("This household has already checked in."))
    now = timezone.now()
    if not staff and now > locked.cancel_deadline:
        raise ValidationError(
            _(
                "Cancellations closed at %(when)s. Please call the property office if "
                "you cannot come."
            )
            % {"when": _when(locked.cancel_deadline)}
        )
    was = current.status
    current.status = SignupStatus.CANCELLED
    current.cancelled_at = now
    current.save(update_fields=["status", "cancelled_at"])
    if was == SignupStatus.CONFIRMED:
        locked.confirmed_people -= current.party_size
    else:
        locked.waitlisted_people -= current.party_size
    locked.save(update_fields=["confirmed_people", "waitlisted_people", "updated_at"])
    event = _record(
        locked,
        EventKind.SIGNUP_CANCELLED,
        actor=actor,
        signup=current,
        note=reason,
        payload={"was": was, "party_size": current.party_size, "by_staff": staff},
    )
    if staff and current.house_id not in actor.resident_house_ids:
        notify(
            recipients=household_users([current.house_id]),
            kind="activity.signup_cancelled",
            title=site_text(SIGNUP_CANCELLED_TITLE, {"title": locked.title}),
            body=reason,
            url=reverse("activities_resident:detail", args=[locked.pk]),
            obj=locked,
            dedupe_key=f"activity-event:{event.pk}",
        )
    if was == SignupStatus.CONFIRMED:
        _promote(locked, actor=actor)
    return current


def _promote(locked: Activity, *, actor) -> list[Signup]:
    """Give the places left to waiting parties in order of sign-up; a party that does
    not fit is skipped and keeps its place in the queue. ``locked`` is locked."""
    if locked.status != Status.OPEN or locked.ends_at <= timezone.now():
        return []
    promoted = []
    waiting = locked.signups.filter(status=SignupStatus.WAITLISTED).order_by("created_at", "id")
    with delivered_together():
        for signup in waiting:
            left = locked.capacity - locked.confirmed_people
            if left <= 0:
                break
            if signup.party_size > left:
                continue
            signup.status = SignupStatus.CONFIRMED
            signup.promoted_at = timezone.now()
            signup.save(update_fields=["status", "promoted_at"])
            locked.confirmed_people += signup.party_size
            locked.waitlisted_people -= signup.party_size
            event = _record(
                locked,
                EventKind.PROMOTED,
                actor=actor,
                signup=signup,
                payload={"party_size": signup.party_size},
            )
            notify(
                recipients=household_users([signup.house_id]),
                kind="activity.promoted",
                title=site_text(PROMOTED_TITLE, {"title": locked.title}),
                body=site_text(
                    gettext_lazy(
                        "A place came free; %(n)s people of your household are confirmed."
                    ),
                    {"n": signup.party_size},
                ),
                url=reverse("activities_resident:ticket", args=[signup.pk]),
                obj=locked,
                dedupe_key=f"activity-event:{event.pk}",
            )
            promoted.append(signup)
    if promoted:
        locked.save(update_fields=["confirmed_people", "waitlisted_people", "updated_at"])
    return promoted


# --- at the door ------------------------------------------------------------------------
def find_ticket(code: str):
    """The sign-up with this ticket code, or None (codes are random, never guessed)."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        return None
    return Signup.objects.select_related("activity", "house").filter(code=code).first()


@transaction.atomic
def check_in(*, actor, signup: Signup, attended_people: int | None = None) -> Signup:
    """Check a confirmed household in, once; ``attended_people`` defaults to the party."""
    _require(actor, signup.activity, ASSIST, MANAGE)
    current = Signup.objects.select_for_update().select_related("activity").get(pk=signup.pk)
    activity = current.activity
    if activity.status != Status.OPEN:
        raise ValidationError(
            _("This activity is %(status)s.") % {"status": activity.get_status_display()}
        )
    if current.status == SignupStatus.CANCELLED:
        raise ValidationError(_("This sign-up was cancelled."))
    if current.status == SignupStatus.WAITLISTED:
        raise ValidationError(_("This household is on the waitlist, not confirmed."))
    if current.checked_in_at is not None:
        raise ValidationError(
            _("Already checked in at %(when)s (%(n)d people).")
            % {"when": _when(current.checked_in_at), "n": current.attended_people or 0}
        )
    if attended_people is None:
        attended_people = current.party_size
    if not isinstance(attended_people, int) or not 1 <= attended_people <= current.party_size:
        raise ValidationError(
            {
                "attended_people": _("Between 1 and the %(n)d people signed up.")
                % {"n": current.party_size}
            }
        )
    current.checked_in_at = timezone.now()
    current.checked_in_by = actor.user
    current.attended_people = attended_people
    current.save(update_fields=["checked_in_at", "checked_in_by", "attended_people"])
    _record(
        activity,
        EventKind.CHECKED_IN,
        actor=actor,
        signup=current,
        payload={"attended_people": attended_people, "party_size": current.party_size},
    )
    return current


# --- afterwards -------------------------------------------------------------------------
@transaction.atomic
def post_recap(*, actor, activity: Activity, text: str, photos=()) -> Activity:
    """The manager's account of how it went, with up to nine photos in all."""
    _require(actor, activity, MANAGE)
    text = _text(text, "recap", required=False, limit=5000)
    photos = list(photos or ())
    locked = _lock(activity)
    if locked.status != Status.OPEN:
        raise ValidationError(_("Only an activity that took place gets a recap."))
    if locked.starts_at > timezone.now():
        raise ValidationError(_("A recap can be posted once the activity has started."))
    if not text and not photos:
        raise ValidationError({"recap": _("Write something or add photos.")})
    if locked.photos.count() + len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most %(n)d photos.") % {"n": MAX_PHOTOS}})
    stored = []
    try:
        for uploaded in photos:
            stored.append(
                save_photo(actor=actor, uploaded=uploaded, company=locked.company, field="photos")
            )
    except BaseException:
        for photo in stored:
            photo.file.delete(save=False)
        raise
    if text:
        locked.recap = text
        locked.save(update_fields=["recap", "updated_at"])
    if stored:
        locked.photos.add(*stored)
    _record(
        locked,
        EventKind.RECAP,
        actor=actor,
        payload={"photos": [p.pk for p in stored], "text": bool(text)},
    )
    return locked
