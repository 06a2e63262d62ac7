"""``/api/v1/activities`` — community activities (社区活动).

Staff (engagement.view / manage / assist, by community) list, read, create, edit,
open and cancel activities, read the participants and attendance figures and check
tickets in; residents list the open activities of their communities, sign one of their
houses up, cancel before the deadline and list their sign-ups. Front-desk staff
(engagement.assist) sign a household up on its behalf through the same sign-up
operation, naming the contact. Reads are scoped with ``visible_to``; every change is
one call to ``wuye.activities.services``; a refusal is a 400 naming the field and
writes nothing. POSTs take an Idempotency-Key: a retry returns the first response.
"""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.activities import selectors, services
from wuye.activities.models import ACTIVITY_PERMISSIONS, Activity, Signup, SignupStatus
from wuye.activities.models import Status as ActivityStatus
from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    api_field_names,
    choices_literal,
    filter_by,
    visible_ref,
)
from wuye.core.idempotency import idempotent
from wuye.core.masking import mask_mobile
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import Community, House

router = Router(tags=["engagement"])

ActivityStatusValue = choices_literal(ActivityStatus)
SignupStatusValue = choices_literal(SignupStatus)
ParticipantFilter = choices_literal(
    type("P", (), {"values": selectors.PARTICIPANT_STATUSES})  # the list's status filter
)


class ActivityOut(Schema):
    id: int
    community_id: int
    community_name: str
    title: str
    description: str
    place: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int = Field(description="Places, in people.")
    max_party_size: int = Field(description="The most people one household may bring.")
    signup_deadline: datetime.datetime
    cancel_deadline: datetime.datetime = Field(
        description="Residents cancel online until then; staff at any time."
    )
    status: ActivityStatusValue
    confirmed_people: int
    waitlisted_people: int
    places_left: int
    cancel_reason: str
    recap: str
    created_at: datetime.datetime

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name


class ActivityFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    status: ActivityStatusValue | None = None
    upcoming: bool | None = Field(None, description="true: not yet over; false: over.")
    q: str | None = Field(None, max_length=50, description="Part of the title or place.")


class ActivityIn(InputSchema):
    community_id: Id
    title: str = Field(max_length=120)
    description: str = Field("", max_length=5000)
    place: str = Field(max_length=200)
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    capacity: int = Field(ge=1, le=services.MAX_CAPACITY, description="Places, in people.")
    max_party_size: int = Field(4, ge=1, le=services.MAX_PARTY)
    signup_deadline: datetime.datetime = Field(description="At or before the start.")
    cancel_deadline: datetime.datetime = Field(description="At or before the start.")


class ActivityPatch(InputSchema):
    title: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=5000)
    place: str | None = Field(None, max_length=200)
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    capacity: int | None = Field(
        None, ge=1, le=services.MAX_CAPACITY, description="Not below the people confirmed."
    )
    max_party_size: int | None = Field(None, ge=1, le=services.MAX_PARTY)
    signup_deadline: datetime.datetime | None = None
    cancel_deadline: datetime.datetime | None = None


class CancelIn(InputSchema):
    reason: str = Field(max_length=200, description="Sent to every household signed up.")


class FiguresOut(Schema):
    capacity: int
    places_left: int
    signed_up_households: int
    signed_up_people: int
    confirmed_households: int
    confirmed_people: int
    waitlisted_households: int
    waitlisted_people: int
    cancelled_households: int
    cancelled_people: int
    checked_in_households: int
    checked_in_people: int = Field(description="People who came, as counted at the door.")
    attendance_rate: float | None = Field(
        description="Checked-in over confirmed households (0..1); null before any is confirmed."
    )
    people_rate: float | None = Field(description="People who came over people confirmed.")


class SignupOut(Schema):
    id: int
    activity_id: int
    activity_title: str
    house_id: int
    house: str = Field(description="The house's address.")
    contact_name: str
    contact_mobile: str = Field(description="Masked unless the reader may see mobiles.")
    party_size: int
    note: str
    status: SignupStatusValue
    waitlist_position: int | None = Field(description="1 for the first waiting household.")
    code: str | None = Field(
        description="The ticket code (its QR is what staff scan); only for the household."
    )
    created_at: datetime.datetime
    promoted_at: datetime.datetime | None
    cancelled_at: datetime.datetime | None
    checked_in_at: datetime.datetime | None
    attended_people: int | None

    @staticmethod
    def resolve_activity_title(obj) -> str:
        return obj.activity.title

    @staticmethod
    def resolve_house(obj) -> str:
        return obj.house.address

    @staticmethod
    def resolve_contact_mobile(obj, context) -> str:
        who = actor(context["request"])
        if obj.house_id in who.resident_house_ids or who.has_perm("people.view_sensitive"):
            return obj.contact_mobile
        return mask_mobile(obj.contact_mobile)

    @staticmethod
    def resolve_code(obj, context) -> str | None:
        return obj.code if obj.house_id in actor(context["request"]).resident_house_ids else None

    @staticmethod
    def resolve_waitlist_position(obj) -> int | None:
        return selectors.waitlist_position(obj)


class SignupIn(InputSchema):
    house_id: Id = Field(description="Residents: one of their houses in the community.")
    party_size: int = Field(ge=1, le=services.MAX_PARTY)
    note: str = Field("", max_length=200)
    contact_name: str = Field(
        "", max_length=50, description="Staff signing up on a household's behalf: required."
    )
    contact_mobile: str = Field("", max_length=20)


class SignupCancelIn(InputSchema):
    reason: str = Field("", max_length=200)


class CheckInIn(InputSchema):
    code: str = Field(min_length=1, max_length=32, description="The ticket code.")
    attended_people: int | None = Field(
        None, ge=1, le=services.MAX_PARTY, description="Default: the party signed up."
    )


class ParticipantFilters(Schema):
    status: ParticipantFilter | None = None
    q: str | None = Field(None, max_length=30, description="House number, contact or mobile.")


def _activities():
    return Activity.objects.select_related("community")


def _signups():
    return selectors.with_queue_position(
        Signup.objects.select_related(
            "activity", "house__community", "house__building", "house__unit"
        )
    )


def _staff_activity(who, activity_id) -> Activity:
    """An activity the caller sees as staff (residents' view does not count)."""
    activity = get_visible_or_404(_activities(), who, pk=activity_id)
    if not services.may(who, activity, *ACTIVITY_PERMISSIONS):
        raise Http404
    return activity


# --- activities -------------------------------------------------------------------------
@router.get(
    "/activities",
    response={200: list[ActivityOut], **LIST_ERRORS},
    summary="List activities",
    description="Newest first. Staff see their communities' activities; residents the "
    "open and cancelled activities of the communities they live in.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_activities(request, filters: Query[ActivityFilters]):
    qs = _activities().visible_to(actor(request))
    qs = filter_by(qs, filters, community="community_id", status="status")
    if filters.upcoming is True:
        qs = selectors.upcoming(qs)
    elif filters.upcoming is False:
        qs = selectors.past(qs)
    if filters.q and filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(title__contains=q) | qs.filter(place__contains=q)
    return qs


@router.get(
    "/activities/{activity_id}",
    response={200: ActivityOut, **READ_ERRORS},
    summary="Read an activity",
)
def get_activity(request, activity_id: Id):
    return get_visible_or_404(_activities(), actor(request), pk=activity_id)


@router.post(
    "/activities",
    response={201: ActivityOut, **WRITE_ERRORS},
    summary="Create an activity (draft)",
    description="engagement.manage in the community. Times: ends after it starts, "
    "sign-up and cancellation close by the start; at most as many people per "
    "household as there are places.",
)
@idempotent
def create_activity(request, payload: ActivityIn):
    who = actor(request)
    community = visible_ref(Community.objects, who, payload.community_id, "community_id")
    data = payload.dict(exclude={"community_id"})
    with api_field_names({"community": "community_id"}):
        activity = services.create_activity(actor=who, community=community, **data)
    return Status(201, _activities().get(pk=activity.pk))


@router.patch(
    "/activities/{activity_id}",
    response={200: ActivityOut, **WRITE_ERRORS},
    summary="Edit an activity",
    description="engagement.manage. More places go to the waitlist at once; places "
    "cannot drop below the people confirmed.",
)
def update_activity(request, activity_id: Id, payload: ActivityPatch):
    who = actor(request)
    activity = _staff_activity(who, activity_id)
    changes = payload.dict(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None}
    services.update_activity(actor=who, activity=activity, **changes)
    return _activities().get(pk=activity.pk)


@router.post(
    "/activities/{activity_id}/open",
    response={200: ActivityOut, **WRITE_ERRORS},
    summary="Open an activity for sign-up",
    description="engagement.manage; a draft whose sign-up deadline is still ahead.",
)
@idempotent
def open_activity(request, activity_id: Id):
    who = actor(request)
    activity = _staff_activity(who, activity_id)
    services.open_activity(actor=who, activity=activity)
    return _activities().get(pk=activity.pk)


@router.post(
    "/activities/{activity_id}/cancel",
    response={200: ActivityOut, **WRITE_ERRORS},
    summary="Cancel an activity",
    description="engagement.manage; every household signed up is told the reason.",
)
@idempotent
def cancel_activity(request, activity_id: Id, payload: CancelIn):
    who = actor(request)
    activity = _staff_activity(who, activity_id)
    services.cancel_activity(actor=who, activity=activity, reason=payload.reason)
    return _activities().get(pk=activity.pk)


@router.get(
    "/activities/{activity_id}/figures",
    response={200: FiguresOut, **READ_ERRORS},
    summary="Attendance figures of an activity",
    description="Staff of the activity's community.",
)
def activity_figures(request, activity_id: Id):
    activity = _staff_activity(actor(request), activity_id)
    return selectors.figures(activity).as_dict()


@router.get(
    "/activities/{activity_id}/participants",
    response={200: list[SignupOut], **READ_ERRORS},
    summary="List an activity's sign-ups",
    description="Staff of the activity's community; in order of sign-up (the "
    "waitlist's order). Mobiles are masked unless the reader may see them.",
)
@paginate(IdCursorPagination)
def list_participants(request, activity_id: Id, filters: Query[ParticipantFilters]):
    who = actor(request)
    activity = _staff_activity(who, activity_id)
    qs = selectors.participants(activity, status=filters.status or "", search=filters.q or "")
    return selectors.with_queue_position(qs.select_related("activity"))


# --- sign-ups ---------------------------------------------------------------------------
@router.post(
    "/activities/{activity_id}/signups",
    response={201: SignupOut, **WRITE_ERRORS},
    summary="Sign a household up",
    description="A resident signs up one of the houses they live in (their own name and "
    "mobile are the contact); engagement.assist staff sign any house of the community "
    "up on its behalf and give the contact. Open activities, before the sign-up "
    "deadline, 1..max_party_size people, one active sign-up per house. Confirmed when "
    "the party fits in the places left, else waitlisted.",
)
@idempotent
def sign_up(request, activity_id: Id, payload: SignupIn):
    who = actor(request)
    activity = get_visible_or_404(_activities(), who, pk=activity_id)
    if payload.house_id in who.resident_house_ids:
        house = House.objects.select_related("community").get(pk=payload.house_id)
        signup = services.sign_up(
            actor=who,
            activity=activity,
            house=house,
            party_size=payload.party_size,
            note=payload.note,
        )
    else:
        if not services.may(who, activity, services.ASSIST):
            raise ValidationError({"house_id": _("No such item, or it is outside your scope.")})
        house = visible_ref(House.objects, who, payload.house_id, "house_id")
        with api_field_names({"house": "house_id"}):
            signup = services.staff_sign_up(
                actor=who,
                activity=activity,
                house=house,
                party_size=payload.party_size,
                contact_name=payload.contact_name,
                contact_mobile=payload.contact_mobile,
                note=payload.note,
            )
    return Status(201, _signups().get(pk=signup.pk))


@router.get(
    "/activities/signups/mine",
    response={200: list[SignupOut], **LIST_ERRORS},
    summary="My sign-ups",
    description="Newest first: the sign-ups of the houses the caller lives in, with "
    "their ticket codes.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def my_signups(request):
    who = actor(request)
    return _signups().visible_to(who).filter(who.resident_q("house_id"))


@router.post(
    "/activities/signups/{signup_id}/cancel",
    response={200: SignupOut, **WRITE_ERRORS},
    summary="Cancel a sign-up",
    description="The household before the cancellation deadline; engagement.assist or "
    "manage staff at any time. Freed places go to the waitlist in order.",
)
@idempotent
def cancel_signup(request, signup_id: Id, payload: SignupCancelIn):
    who = actor(request)
    signup = get_visible_or_404(_signups(), who, pk=signup_id)
    own = signup.house_id in who.resident_house_ids
    if not own and not services.may(who, signup.activity, services.ASSIST, services.MANAGE):
        raise Http404
    services.cancel_signup(actor=who, signup=signup, reason=payload.reason)
    return _signups().get(pk=signup.pk)


@router.post(
    "/activities/signups/check-in",
    response={200: SignupOut, **WRITE_ERRORS},
    summary="Check a ticket in",
    description="engagement.assist or manage in the activity's community, by the ticket "
    "code; once per sign-up, confirmed sign-ups only; attended_people defaults to the "
    "party and may be fewer.",
)
@idempotent
def check_in(request, payload: CheckInIn):
    who = actor(request)
    found = services.find_ticket(payload.code)
    if found is None or not services.may(who, found.activity, services.ASSIST, services.MANAGE):
        raise ValidationError({"code": _("No ticket with this code in your communities.")})
    signup = services.check_in(actor=who, signup=found, attended_people=payload.attended_people)
    return _signups().get(pk=signup.pk)
