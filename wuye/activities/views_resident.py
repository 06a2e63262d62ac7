"""Resident H5 pages (/h5/activities/): the open activities of my communities, one
activity with the sign-up form, my sign-ups, cancelling, and the ticket whose QR code
staff scan at the door.

Only activities of the communities the resident lives in are reachable (``visible_to``
narrowed to the resident side); a sign-up only when it is one of my current houses'.
Anything else answers 404; staff without a house get 403."""

import datetime
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wuye.activities import selectors, services
from wuye.activities.forms import ResidentSignupForm
from wuye.activities.models import ACTIVE_SIGNUP, Activity, Signup, SignupStatus, Status
from wuye.core.console import add_service_errors
from wuye.core.labels import make_qr
from wuye.core.scoping import get_visible_or_404

SIGNUP_BADGE = {
    SignupStatus.CONFIRMED: "success",
    SignupStatus.WAITLISTED: "warning",
    SignupStatus.CANCELLED: "muted",
}
MY_SIGNUPS = 50
RECENT = datetime.timedelta(days=30)  # cancelled sign-ups still shown on the activity


def resident_view(view=None, *, unlinked_page: bool = False):
    """Signed-in residents only: staff without a house get 403; anyone else the
    "account not linked" page (``unlinked_page``) or 404."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            actor = request.actor
            if actor.is_resident:
                return view(request, *args, **kwargs)
            if actor.staff:
                raise PermissionDenied
            if unlinked_page:
                return render(request, "web/unlinked.html")
            raise Http404

        return wrapper

    return decorate(view) if view is not None else decorate


def _activities(actor):
    """Open or cancelled activities of my communities (not the staff side of a
    staff member who also lives somewhere)."""
    return (
        Activity.objects.visible_to(actor)
        .filter(
            community_id__in=actor.resident_community_ids(),
            status__in=(Status.OPEN, Status.CANCELLED),
        )
        .select_related("community")
    )


def _my_signups(actor):
    return (
        Signup.objects.visible_to(actor)
        .filter(actor.resident_q("house_id"))
        .select_related("activity__community", "house__community", "house__building", "house__unit")
    )


def _houses_for(actor, activity):
    return list(
        actor.resident_houses()
        .filter(community_id=activity.community_id)
        .select_related("community", "building", "unit")
        .order_by("id")
    )


@require_GET
@resident_view(unlinked_page=True)
def activity_list(request):
    actor = request.actor
    now = timezone.now()
    activities = list(_activities(actor).filter(ends_at__gt=now).order_by("starts_at", "id")[:50])
    mine = dict(
        _my_signups(actor)
        .filter(activity__in=[a.pk for a in activities], status__in=ACTIVE_SIGNUP)
        .values_list("activity_id", "status")
    )
    for activity in activities:
        activity.my_status = mine.get(activity.pk)
        activity.signup_open = activity.status == Status.OPEN and now <= activity.signup_deadline
    past = list(
        _activities(actor)
        .filter(ends_at__lte=now, status=Status.OPEN)
        .order_by("-starts_at", "-id")[:10]
    )
    return render(
        request,
        "activities/h5/list.html",
        {"activities": activities, "past": past, "badge": SIGNUP_BADGE},
    )


def _detail(request, activity, form=None, status=200):
    actor = request.actor
    now = timezone.now()
    houses = _houses_for(actor, activity)
    signups = list(
        _my_signups(actor)
        .filter(activity=activity)
        .filter(
            Q(status__in=ACTIVE_SIGNUP) | Q(cancelled_at__gte=now - timezone.timedelta(days=30))
        )
        .order_by("-id")[:10]
    )
    for signup in signups:
        signup.activity = activity
        signup.badge = SIGNUP_BADGE.get(signup.status, "")
        signup.position = selectors.waitlist_position(signup)
        signup.can_cancel = services.may_cancel_signup(actor, signup, now=now)
    taken = {s.house_id for s in signups if s.status in ACTIVE_SIGNUP}
    free_houses = [h for h in houses if h.pk not in taken]
    signup_open = activity.status == Status.OPEN and now <= activity.signup_deadline
    if form is None and signup_open and free_houses:
        form = ResidentSignupForm(activity=activity, houses=free_houses)
    elif form is not None:
        form.hidden_errors_to_top()
    return render(
        request,
        "activities/h5/detail.html",
        {
            "activity": activity,
            "signups": signups,
            "form": form if form is not None and (form.is_bound or free_houses) else None,
            "signup_open": signup_open,
            "photos": list(activity.photos.order_by("id")) if activity.starts_at <= now else [],
            "now": now,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@resident_view
def activity_detail(request, pk):
    actor = request.actor
    activity = get_visible_or_404(_activities(actor), actor, pk=pk)
    if request.method == "GET":
        return _detail(request, activity)
    houses = _houses_for(actor, activity)
    # Offer every house of mine: the service explains a second sign-up clearly.
    form = ResidentSignupForm(request.POST, activity=activity, houses=houses)
    if form.is_valid():
        try:
            signup = services.sign_up(
                actor=actor,
                activity=activity,
                house=form.cleaned_data["house"],
                party_size=form.cleaned_data["party_size"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if signup.status == SignupStatus.CONFIRMED:
                messages.success(request, _("You are signed up. Show this ticket at the door."))
                return redirect("activities_resident:ticket", pk=signup.pk)
            messages.warning(
                request,
                _(
                    "The places are taken; you are number %(n)d on the waitlist. We will "
                    "tell you as soon as a place comes free."
                )
                % {"n": selectors.waitlist_position(signup)},
            )
            return redirect("activities_resident:detail", pk=activity.pk)
    return _detail(request, activity, form=form, status=400)


@require_GET
@resident_view(unlinked_page=True)
def my_signups(request):
    actor = request.actor
    signups = list(selectors.with_queue_position(_my_signups(actor)).order_by("-id")[:MY_SIGNUPS])
    now = timezone.now()
    for signup in signups:
        signup.badge = SIGNUP_BADGE.get(signup.status, "")
        signup.position = selectors.waitlist_position(signup)
        signup.is_past = signup.activity.ends_at <= now
    return render(request, "activities/h5/mine.html", {"signups": signups})


def _my_signup(actor, pk) -> Signup:
    return get_visible_or_404(_my_signups(actor), actor, pk=pk)


@require_POST
@resident_view
def signup_cancel(request, pk):
    actor = request.actor
    signup = _my_signup(actor, pk)
    try:
        services.cancel_signup(actor=actor, signup=signup)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Your sign-up is cancelled. Thank you for telling us."))
    return redirect("activities_resident:detail", pk=signup.activity_id)


@require_GET
@resident_view
def ticket(request, pk):
    actor = request.actor
    signup = _my_signup(actor, pk)
    url = request.build_absolute_uri(reverse("activities:checkin", args=[signup.code]))
    qr = None
    if signup.status == SignupStatus.CONFIRMED and signup.activity.status == Status.OPEN:
        qr = mark_safe(make_qr(url).svg_inline(scale=6, border=4, omitsize=True))
    return render(
        request,
        "activities/h5/ticket.html",
        {
            "signup": signup,
            "activity": signup.activity,
            "qr": qr,
            "badge": SIGNUP_BADGE.get(signup.status, ""),
            "position": selectors.waitlist_position(signup),
        },
    )
