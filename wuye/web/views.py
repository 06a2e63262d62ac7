"""The landing pages: ``/`` sends each actor to their surface — the office console
(``/console/``), the field-staff mobile home (``/m/``) or the resident H5 home (``/h5/``)."""

import datetime
from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from wuye.estates.models import Building, Community, House
from wuye.notices import selectors as notices
from wuye.people.models import Residency, Resident
from wuye.staff import services as staff_services
from wuye.staff.models import RosterEntry, StaffMember

ROSTER_DAYS = 7
COMMUNITIES_SHOWN = 20
HOMES = {"console": "web:console", "field": "web:field_home", "resident": "web:resident_home"}


@login_required
def home(request):
    return redirect(HOMES[request.actor.home])


def _require_staff(actor):
    if not actor.staff:
        raise PermissionDenied


@login_required
def console(request):
    actor = request.actor
    _require_staff(actor)
    perms = actor.permissions
    counts = []
    if "estates.view" in perms:
        counts += [
            ("communities", Community.objects.visible_to(actor).count(), "estates:tree"),
            ("buildings", Building.objects.visible_to(actor).count(), "estates:tree"),
            ("houses", House.objects.visible_to(actor).count(), "estates:house_list"),
        ]
    if "people.view" in perms:
        counts.append(
            ("residents", Resident.objects.visible_to(actor).count(), "people:resident_list")
        )
    if "staff.view" in perms:
        counts.append(("staff", StaffMember.objects.visible_to(actor).count(), "staff:member_list"))
    communities = list(
        Community.objects.visible_to(actor).order_by("name")[: COMMUNITIES_SHOWN + 1]
    )
    return render(
        request,
        "web/console_home.html",
        {
            "company": actor.staff.company,
            "counts": counts,
            "communities": communities[:COMMUNITIES_SHOWN],
            "more_communities": len(communities) > COMMUNITIES_SHOWN,
        },
    )


def _field_context(actor):
    today = timezone.localdate()
    entries = (
        RosterEntry.objects.visible_to(actor)
        .filter(
            staff_id=actor.staff.pk,
            date__gte=today,
            date__lt=today + datetime.timedelta(days=ROSTER_DAYS),
        )
        .select_related("shift", "community")
        .order_by("date", "shift__start_time", "id")
    )
    entries = list(entries)
    return {
        "member": actor.staff,
        "today": today,
        "today_entries": [e for e in entries if e.date == today],
        "later_entries": [e for e in entries if e.date != today],
        "communities": Community.objects.visible_to(actor)
        .filter(id__in=sorted(actor.community_ids))
        .order_by("name"),
        "statuses": StaffMember.Status,
    }


@login_required
def field_home(request):
    actor = request.actor
    _require_staff(actor)
    return render(request, "web/field_home.html", _field_context(actor))


@login_required
@require_POST
def field_duty(request):
    """在岗/离岗 for oneself; answers the status panel to HTMX, else redirects."""
    actor = request.actor
    _require_staff(actor)
    try:
        member = staff_services.set_duty_status(
            actor=actor, member=actor.staff, status=request.POST.get("status", "")
        )
    except ValidationError as exc:
        return HttpResponseBadRequest("; ".join(exc.messages))
    if request.htmx:
        context = {"member": member, "statuses": StaffMember.Status}
        return render(request, "web/field_home.html#duty", context)
    return redirect("web:field_home")


@login_required
def resident_home(request):
    actor = request.actor
    if not actor.is_resident:
        if actor.staff:  # staff without a house of their own: back to their surface
            return redirect(HOMES[actor.home])
        return render(request, "web/unlinked.html")
    ties = (
        Residency.objects.visible_to(actor)
        .active()
        .filter(house_id__in=sorted(actor.resident_house_ids))
        .select_related("resident", "house__community__company", "house__building", "house__unit")
        .order_by("house_id", "relation", "id")
    )
    houses = []
    for _house_id, group in groupby(ties, key=lambda tie: tie.house_id):
        group = list(group)
        mine = [tie for tie in group if tie.resident.user_id == actor.user.pk]
        house = group[0].house
        houses.append(
            {
                "house": house,
                "relations": [tie.get_relation_display() for tie in mine],
                "members": [tie for tie in group if tie.resident.user_id != actor.user.pk],
                "service_phone": house.community.service_phone
                or house.community.company.contact_phone,
            }
        )
    return render(
        request,
        "web/resident_home.html",
        {
            "houses": houses,
            # Urgent notices the household has not opened: first thing on the next open.
            "urgent_notices": notices.urgent_unread(actor),
            "unread_notices": notices.unread_count(actor),
        },
    )
