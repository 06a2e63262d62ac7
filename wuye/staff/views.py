"""Office console pages for staff, roles, shifts, the duty roster and 在岗/离岗."""

import copy
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import add_service_errors, console_view, keyset_page
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import Community
from wuye.staff import services
from wuye.staff.forms import (
    MemberCreateForm,
    MemberFilterForm,
    RoleForm,
    RosterAssignForm,
    RosterWeekForm,
    ShiftForm,
    week_start,
)
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember
from wuye.staff.policy import PERMISSIONS

UPCOMING_DAYS = 14


def _crumbs(*items):
    return [(_("Staff"), reverse("staff:member_list")), *items]


# --- Members -----------------------------------------------------------------
@require_GET
@console_view("staff.view")
def member_list(request):
    form = MemberFilterForm(request.GET, actor=request.actor)
    page = None
    if form.is_valid():
        members = form.filter(StaffMember.objects.visible_to(request.actor))
        members = members.filter(is_active=True).prefetch_related("roles", "communities", "trades")
        page = keyset_page(members, after=form.cleaned_data.get("after"), query=request.GET)
    return render(
        request,
        "staff/member_list.html",
        {"form": form, "page": page, "can_manage": request.actor.has_perm("staff.manage")},
    )


def _can_toggle(actor, member) -> bool:
    return member.user_id == actor.user.pk or actor.has_perm("staff.manage")


@require_GET
@console_view("staff.view")
def member_detail(request, pk):
    actor = request.actor
    member = get_visible_or_404(
        StaffMember.objects.prefetch_related("roles", "communities", "trades"), actor, pk=pk
    )
    today = timezone.localdate()
    upcoming = (
        RosterEntry.objects.visible_to(actor)
        .filter(staff=member, date__range=(today, today + datetime.timedelta(days=UPCOMING_DAYS)))
        .select_related("shift", "community")
    )
    return render(
        request,
        "staff/member_detail.html",
        {
            "member": member,
            "upcoming": upcoming,
            "upcoming_days": UPCOMING_DAYS,
            "can_toggle": _can_toggle(actor, member),
            "breadcrumbs": _crumbs((member.name, None)),
        },
    )


@console_view("staff.manage")
def member_create(request):
    actor = request.actor
    form = MemberCreateForm(request.POST if request.method == "POST" else None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.create_staff_member(
                actor=actor,
                username=data["username"],
                name=data["name"],
                employee_no=data["employee_no"],
                password=data["password"] or None,
                mobile=data["mobile"],
                roles=list(data["roles"]),
                communities=list(data["communities"]),
                trades=list(data["trades"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Staff member %s added.") % member.name)
            return redirect("staff:member_detail", pk=member.pk)
    return render(
        request,
        "staff/form.html",
        {
            "form": form,
            "heading": _("New staff member"),
            "breadcrumbs": _crumbs((_("New staff member"), None)),
        },
    )


@require_POST
@login_required
def duty_toggle(request, pk):
    """在岗 ⇄ 离岗: members switch their own status; staff managers anyone's they can see."""
    actor = request.actor
    member = get_visible_or_404(StaffMember.objects, actor, pk=pk)
    new = (
        StaffMember.Status.OFF_DUTY
        if member.status == StaffMember.Status.ON_DUTY
        else StaffMember.Status.ON_DUTY
    )
    services.set_duty_status(actor=actor, member=member, status=new)
    if request.htmx:
        return render(
            request,
            "staff/member_detail.html#duty",
            {"member": member, "can_toggle": True},
        )
    return redirect("staff:member_detail", pk=member.pk)


# --- Roles --------------------------------------------------------------------
@require_GET
@console_view("staff.view")
def role_list(request):
    roles = list(
        Role.objects.visible_to(request.actor).annotate(
            member_count=Count("members", distinct=True)
        )
    )
    for role in roles:
        role.permission_labels = [PERMISSIONS.get(code, code) for code in role.permissions]
    return render(
        request,
        "staff/role_list.html",
        {
            "roles": roles,
            "can_edit": request.actor.has_perm("staff.manage") and request.actor.company_wide,
            "breadcrumbs": _crumbs((_("Roles"), None)),
        },
    )


@console_view("staff.manage")
def role_edit(request, pk):
    actor = request.actor
    if not actor.company_wide:  # roles reach across communities
        raise PermissionDenied
    role = get_visible_or_404(Role.objects, actor, pk=pk)
    form = RoleForm(request.POST if request.method == "POST" else None, instance=copy.copy(role))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_role(actor=actor, role=role, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Role %s saved.") % role.name)
            return redirect("staff:role_list")
    return render(
        request,
        "staff/form.html",
        {
            "form": form,
            "heading": _("Edit role %s") % role.name,
            "breadcrumbs": _crumbs((_("Roles"), reverse("staff:role_list")), (role.name, None)),
        },
    )


# --- Shifts --------------------------------------------------------------------
@require_GET
@console_view("staff.view")
def shift_list(request):
    return render(
        request,
        "staff/shift_list.html",
        {
            "shifts": Shift.objects.visible_to(request.actor),
            "can_manage": request.actor.has_perm("staff.manage"),
            "breadcrumbs": _crumbs((_("Shifts"), None)),
        },
    )


@console_view("staff.manage")
def shift_create(request):
    form = ShiftForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            shift = services.create_shift(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Shift %s created.") % shift.name)
            return redirect("staff:shift_list")
    return render(
        request,
        "staff/form.html",
        {
            "form": form,
            "heading": _("New shift"),
            "breadcrumbs": _crumbs(
                (_("Shifts"), reverse("staff:shift_list")), (_("New shift"), None)
            ),
        },
    )


# --- Roster ----------------------------------------------------------------------
def _roster_url(community_id, week) -> str:
    query = urlencode({"community": community_id, "week": week.isoformat()})
    return f"{reverse('staff:roster')}?{query}"


def _cell(actor, *, member, community, day, entries, shifts, error=None) -> dict:
    return {
        "member": member,
        "community": community,
        "day": day,
        "entries": entries,
        "shifts": shifts,
        "error": error,
        "is_today": day == timezone.localdate(),
        "can_manage": actor.has_perm("staff.manage") and community.pk in actor.community_ids,
    }


@require_GET
@console_view("staff.view")
def roster(request):
    actor = request.actor
    params = request.GET.copy()
    if not params.get("community"):
        first = Community.objects.visible_to(actor).order_by("name", "id").first()
        if first is not None:
            params["community"] = str(first.pk)
    if not params.get("week"):
        params["week"] = week_start(timezone.localdate()).isoformat()
    form = RosterWeekForm(params, actor=actor)
    context = {"form": form, "breadcrumbs": _crumbs((_("Duty roster"), None))}
    if form.is_valid():
        community, monday = form.cleaned_data["community"], form.cleaned_data["week"]
        days = [monday + datetime.timedelta(days=i) for i in range(7)]
        members = (
            StaffMember.objects.visible_to(actor)
            .filter(communities=community, is_active=True)
            .prefetch_related("roles")
            .order_by("name", "id")
        )
        entries: dict = {}
        for entry in (
            RosterEntry.objects.visible_to(actor)
            .filter(community=community, date__range=(days[0], days[-1]))
            .select_related("shift")
        ):
            entries.setdefault((entry.staff_id, entry.date), []).append(entry)
        shifts = list(Shift.objects.visible_to(actor))
        rows = [
            (
                member,
                [
                    _cell(
                        actor,
                        member=member,
                        community=community,
                        day=day,
                        entries=entries.get((member.pk, day), []),
                        shifts=shifts,
                    )
                    for day in days
                ],
            )
            for member in members
        ]
        context.update(
            community=community,
            days=days,
            today=timezone.localdate(),
            rows=rows,
            shifts=shifts,
            previous_url=_roster_url(community.pk, monday - datetime.timedelta(days=7)),
            next_url=_roster_url(community.pk, monday + datetime.timedelta(days=7)),
            this_week_url=_roster_url(community.pk, week_start(timezone.localdate())),
        )
    return render(request, "staff/roster.html", context)


def _render_cell(request, *, member, community, day, error=None, status=200):
    actor = request.actor
    entries = list(
        RosterEntry.objects.visible_to(actor)
        .filter(staff=member, community=community, date=day)
        .select_related("shift")
    )
    cell = _cell(
        actor,
        member=member,
        community=community,
        day=day,
        entries=entries,
        shifts=list(Shift.objects.visible_to(actor)),
        error=error,
    )
    return render(request, "staff/roster.html#cell", {"cell": cell}, status=status)


@require_POST
@console_view("staff.manage")
def roster_assign(request):
    form = RosterAssignForm(request.POST, actor=request.actor)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    error = None
    try:
        services.assign_shift(
            actor=request.actor,
            member=data["staff"],
            date=data["date"],
            shift=data["shift"],
            community=data["community"],
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        # The cell shows the error itself; htmx swaps 2xx responses only.
        return _render_cell(
            request,
            member=data["staff"],
            community=data["community"],
            day=data["date"],
            error=error,
        )
    if error:
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    return redirect(_roster_url(data["community"].pk, week_start(data["date"])))


@require_POST
@console_view("staff.manage")
def roster_remove(request, pk):
    entry = get_visible_or_404(
        RosterEntry.objects.select_related("staff", "community"), request.actor, pk=pk
    )
    services.remove_shift(actor=request.actor, entry=entry)
    if request.htmx:
        return _render_cell(request, member=entry.staff, community=entry.community, day=entry.date)
    return redirect(_roster_url(entry.community_id, week_start(entry.date)))
