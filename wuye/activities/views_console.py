"""Console pages of community activities: the list, the create/edit form, one activity
(figures, participants, timeline, recap), open and cancel, the participant workbook,
the A4 poster, signing a household up on its behalf, cancelling a sign-up, and the
phone page at the door where staff check a ticket in.

Views are thin: forms check input, reads go through ``visible_to`` narrowed to the
actor's own communities, every change is one call to ``wuye.activities.services``."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.activities import exports, selectors, services
from wuye.activities.forms import (
    ActivityFilterForm,
    ActivityForm,
    CancelActivityForm,
    CheckInForm,
    CodeForm,
    ParticipantFilterForm,
    RecapForm,
    SignupCancelForm,
    StaffSignupForm,
)
from wuye.activities.models import ACTIVITY_PERMISSIONS, Activity, Signup, SignupStatus, Status
from wuye.core.console import add_service_errors, after_param, keyset_page, newest_first_page
from wuye.core.labels import pdf_response
from wuye.core.masking import mask_mobile
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file

MANAGE, ASSIST = services.MANAGE, services.ASSIST
TIMELINE = 30  # latest timeline entries on the detail page
STATUS_BADGE = {Status.DRAFT: "muted", Status.OPEN: "success", Status.CANCELLED: "danger"}
SIGNUP_BADGE = {
    SignupStatus.CONFIRMED: "success",
    SignupStatus.WAITLISTED: "warning",
    SignupStatus.CANCELLED: "muted",
}


def engagement_view(*perms):
    """Signed in, with one of ``perms`` (default: any activity permission)."""
    perms = perms or ACTIVITY_PERMISSIONS

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(request.actor.has_perm(p) for p in perms):
                raise PermissionDenied(perms[0])
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate


def _mine(actor):
    """Activities of the actor's own communities (all of the company's if company-wide)."""
    return (
        Activity.objects.visible_to(actor)
        .filter(community_id__in=sorted(actor.community_ids))
        .select_related("community")
    )


def _load(actor, pk) -> Activity:
    return get_visible_or_404(_mine(actor), actor, pk=pk)


def _crumbs(*extra):
    return [(_("Activities"), reverse("activities:list")), *extra]


def _badge(activity):
    activity.badge = STATUS_BADGE.get(activity.status, "")
    return activity


# --- the list ---------------------------------------------------------------------------
@require_GET
@engagement_view()
def activity_list(request):
    actor = request.actor
    form = ActivityFilterForm(request.GET, actor=actor)
    page = None
    now = timezone.now()
    if form.is_valid():
        page = newest_first_page(
            form.filter(_mine(actor), now), before=after_param(request), query=request.GET
        )
        for activity in page.items:
            _badge(activity)
            activity.is_past = activity.ends_at <= now
    return render(
        request,
        "activities/console/list.html",
        {"form": form, "page": page, "can_manage": actor.has_perm(MANAGE)},
    )


# --- create and edit --------------------------------------------------------------------
def _form_page(request, form, heading, crumbs):
    return render(
        request,
        "activities/console/form.html",
        {"form": form, "heading": heading, "breadcrumbs": _crumbs(*crumbs)},
    )


@engagement_view(MANAGE)
def activity_create(request):
    actor = request.actor
    form = ActivityForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.create_activity(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Activity saved as a draft. Open it for sign-up when it is ready.")
            )
            return redirect("activities:detail", pk=activity.pk)
    return _form_page(request, form, _("New activity"), [(_("New activity"), None)])


@engagement_view(MANAGE)
def activity_edit(request, pk):
    actor = request.actor
    activity = _load(actor, pk)
    if not services.may(actor, activity, MANAGE):
        raise PermissionDenied(MANAGE)
    initial = {
        field: getattr(activity, field)
        for field in ("community", *services.EDITABLE)
        if field != "community"
    }
    initial["community"] = activity.community_id
    for field in ("starts_at", "ends_at", "signup_deadline", "cancel_deadline"):
        initial[field] = timezone.localtime(initial[field])
    form = ActivityForm(request.POST or None, initial=initial, actor=actor, activity=activity)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_activity(actor=actor, activity=activity, **form.changes())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Activity saved."))
            return redirect("activities:detail", pk=activity.pk)
    return _form_page(
        request,
        form,
        activity.title,
        [(activity.title, reverse("activities:detail", args=[activity.pk])), (_("Edit"), None)],
    )


# --- one activity -----------------------------------------------------------------------
def _mobile(actor, mobile: str) -> str:
    return mobile if actor.has_perm("people.view_sensitive") else mask_mobile(mobile)


def _detail(request, activity, *, cancel_form=None, recap_form=None, status=200):
    actor = request.actor
    filters = ParticipantFilterForm(request.GET)
    filters.is_valid()
    data = getattr(filters, "cleaned_data", {})
    page = keyset_page(
        selectors.participants(activity, status=data.get("status", ""), search=data.get("q", "")),
        after=after_param(request),
        query=request.GET,
    )
    now = timezone.now()
    activity.is_past = activity.ends_at <= now
    for signup in page.items:
        signup.activity = activity
        signup.badge = SIGNUP_BADGE.get(signup.status, "")
        signup.mobile_shown = _mobile(actor, signup.contact_mobile)
        signup.can_cancel = services.may_cancel_signup(actor, signup, now=now)
    events = list(selectors.timeline(activity)[: TIMELINE + 1])
    can_manage = services.may(actor, activity, MANAGE)
    can_assist = services.may(actor, activity, ASSIST)
    can_check_in = services.may(actor, activity, ASSIST, MANAGE)
    return render(
        request,
        "activities/console/detail.html",
        {
            "activity": _badge(activity),
            "figures": selectors.figures(activity),
            "filters": filters,
            "page": page,
            "events": events[:TIMELINE],
            "more_events": len(events) > TIMELINE,
            "photos": list(activity.photos.order_by("id")),
            "can_manage": can_manage,
            "can_assist": can_assist and activity.status == Status.OPEN,
            "can_check_in": can_check_in and activity.status == Status.OPEN,
            "can_open": can_manage and activity.status == Status.DRAFT,
            "can_cancel": can_manage
            and activity.status != Status.CANCELLED
            and activity.ends_at > now,
            "can_edit": can_manage and activity.status != Status.CANCELLED,
            "can_recap": can_manage
            and activity.status == Status.OPEN
            and activity.starts_at <= now,
            "cancel_form": cancel_form or CancelActivityForm(),
            "recap_form": recap_form or RecapForm(initial={"recap": activity.recap}),
            "breadcrumbs": _crumbs((activity.title, None)),
        },
        status=status,
    )


@require_GET
@engagement_view()
def activity_detail(request, pk):
    return _detail(request, _load(request.actor, pk))


@require_POST
@engagement_view(MANAGE)
def activity_open(request, pk):
    actor = request.actor
    activity = _load(actor, pk)
    try:
        services.open_activity(actor=actor, activity=activity)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The activity is open: residents can sign up."))
    return redirect("activities:detail", pk=activity.pk)


@require_POST
@engagement_view(MANAGE)
def activity_cancel(request, pk):
    actor = request.actor
    activity = _load(actor, pk)
    form = CancelActivityForm(request.POST)
    if form.is_valid():
        try:
            services.cancel_activity(
                actor=actor, activity=activity, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Activity cancelled; the households are being told."))
            return redirect("activities:detail", pk=activity.pk)
    return _detail(request, _load(actor, pk), cancel_form=form, status=400)


@require_POST
@engagement_view(MANAGE)
def activity_recap(request, pk):
    actor = request.actor
    activity = _load(actor, pk)
    form = RecapForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.post_recap(
                actor=actor,
                activity=activity,
                text=form.cleaned_data["recap"],
                photos=form.cleaned_data["photos"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Recap posted."))
            return redirect("activities:detail", pk=activity.pk)
    return _detail(request, _load(actor, pk), recap_form=form, status=400)


@require_GET
@engagement_view()
def participant_export(request, pk):
    actor = request.actor
    activity = _load(actor, pk)
    filters = ParticipantFilterForm(request.GET)
    filters.is_valid()
    data = getattr(filters, "cleaned_data", {})
    signups = selectors.participants(
        activity, status=data.get("status", ""), search=data.get("q", "")
    )
    out = spooled_file()
    exports.write_participants(actor=actor, activity=activity, signups=signups, out=out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-activity-{activity.pk}-participants.xlsx",
        content_type=XLSX_TYPE,
    )


@require_GET
@engagement_view()
def activity_poster(request, pk):
    activity = _load(request.actor, pk)
    url = request.build_absolute_uri(reverse("activities_resident:detail", args=[activity.pk]))
    return pdf_response(exports.poster_pdf(activity, url), f"activity-{activity.pk}-poster.pdf")


# --- sign-ups by the office ---------------------------------------------------------------
@engagement_view(ASSIST)
def signup_create(request, pk):
    actor = request.actor
    activity = _load(actor, pk)
    if not services.may(actor, activity, ASSIST):
        raise PermissionDenied(ASSIST)
    if request.method == "POST":
        form = StaffSignupForm(request.POST, activity=activity)
    else:  # a GET with parameters re-renders the form after the building changed
        form = StaffSignupForm(initial=request.GET.dict(), activity=activity)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            signup = services.staff_sign_up(
                actor=actor,
                activity=activity,
                house=data["house"],
                party_size=data["party_size"],
                contact_name=data["contact_name"],
                contact_mobile=data["contact_mobile"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if signup.status == SignupStatus.CONFIRMED:
                messages.success(
                    request,
                    _("%(house)s signed up: %(n)d people confirmed.")
                    % {"house": signup.house.address, "n": signup.party_size},
                )
            else:
                messages.warning(
                    request,
                    _("Not enough places left: %(house)s is on the waitlist (%(n)d people).")
                    % {"house": signup.house.address, "n": signup.party_size},
                )
            return redirect("activities:detail", pk=activity.pk)
    return render(
        request,
        "activities/console/signup_form.html",
        {
            "form": form,
            "activity": activity,
            "figures": selectors.figures(activity),
            "breadcrumbs": _crumbs(
                (activity.title, reverse("activities:detail", args=[activity.pk])),
                (_("Sign up a household"), None),
            ),
        },
    )


def _staff_signup(actor, pk) -> Signup:
    return get_visible_or_404(
        Signup.objects.select_related("activity", "house").filter(
            activity__community_id__in=sorted(actor.community_ids)
        ),
        actor,
        pk=pk,
    )


@require_POST
@engagement_view(ASSIST, MANAGE)
def signup_cancel(request, pk):
    actor = request.actor
    signup = _staff_signup(actor, pk)
    if not services.may(actor, signup.activity, ASSIST, MANAGE):
        raise PermissionDenied(ASSIST)
    form = SignupCancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.cancel_signup(actor=actor, signup=signup, reason=reason)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("Sign-up of %(house)s cancelled.") % {"house": signup.house.address}
        )
    return redirect("activities:detail", pk=signup.activity_id)


# --- at the door (a phone page) -----------------------------------------------------------
@engagement_view(ASSIST, MANAGE)
def checkin_entry(request):
    """Type the code printed under a ticket's QR (or paste a scanned link)."""
    form = CodeForm(request.GET or None)
    if request.GET and form.is_valid():
        return redirect("activities:checkin", code=form.cleaned_data["code"])
    return render(request, "activities/mobile/checkin_entry.html", {"form": form})


@engagement_view(ASSIST, MANAGE)
def checkin(request, code):
    """What the ticket's QR opens: the household, its party, and one button."""
    actor = request.actor
    found = services.find_ticket(code)
    signup = None
    if found is not None:
        visible = Signup.objects.visible_to(actor).filter(
            pk=found.pk, activity__community_id__in=sorted(actor.community_ids)
        )
        if visible.exists() and services.may(actor, found.activity, ASSIST, MANAGE):
            signup = found
    if signup is None:
        return render(
            request,
            "activities/mobile/checkin_entry.html",
            {"form": CodeForm(), "not_found": code[:40]},
            status=404,
        )
    form = CheckInForm(request.POST or None, signup=signup)
    if request.method == "POST" and form.is_valid():
        try:
            signup = services.check_in(
                actor=actor, signup=signup, attended_people=form.cleaned_data["attended_people"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Checked in: %(house)s, %(n)d people.")
                % {"house": signup.house.address, "n": signup.attended_people},
            )
            return redirect("activities:checkin", code=signup.code)
    signup.refresh_from_db()
    activity = signup.activity
    return render(
        request,
        "activities/mobile/checkin.html",
        {
            "signup": signup,
            "activity": activity,
            "form": form,
            "badge": SIGNUP_BADGE.get(signup.status, ""),
            "mobile_shown": _mobile(actor, signup.contact_mobile),
            "figures": selectors.figures(activity),
            "can_check_in": signup.status == SignupStatus.CONFIRMED
            and signup.checked_in_at is None
            and activity.status == Status.OPEN,
        },
        status=200 if form.is_valid() or request.method == "GET" else 400,
    )
