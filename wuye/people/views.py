"""Office console pages for residents: search, detail, register, edit, move in/out."""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wuye.core.console import add_service_errors, console_view, keyset_page
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import House
from wuye.people import selectors, services
from wuye.people.forms import (
    MoveInForm,
    MoveOutForm,
    ResidentCreateForm,
    ResidentForm,
    ResidentSearchForm,
    house_initial,
)
from wuye.people.models import Residency, Resident
from wuye.privacy.services import log_sensitive_view


def _crumbs(*items):
    return [(_("Residents"), reverse("people:resident_list")), *items]


def _resident_crumb(resident):
    return (resident.name, reverse("people:resident_detail", args=[resident.pk]))


def _house_from_query(request):
    """``?house=<id>`` preselects a house (from its detail page); 404 if not visible."""
    house_id = request.GET.get("house")
    if not house_id:
        return None
    return get_visible_or_404(
        House.objects.select_related("community", "building", "unit"), request.actor, pk=house_id
    )


@require_GET
@console_view("people.view")
def resident_list(request):
    form = ResidentSearchForm(request.GET, actor=request.actor)
    page = None
    if form.is_valid():
        residents = selectors.search_residents(
            request.actor, q=form.cleaned_data["q"], community=form.cleaned_data["community"]
        )
        page = keyset_page(residents, after=form.cleaned_data.get("after"), query=request.GET)
    return render(
        request,
        "people/resident_list.html",
        {"form": form, "page": page, "can_manage": request.actor.has_perm("people.manage")},
    )


@require_GET
@console_view("people.view")
def resident_detail(request, pk):
    actor = request.actor
    resident = get_visible_or_404(Resident.objects, actor, pk=pk)
    residencies = list(selectors.resident_residencies(actor, resident=resident))
    today = timezone.localdate()
    for residency in residencies:
        residency.is_current = residency.move_out is None or residency.move_out >= today
        residency.can_move_out = (
            residency.move_out is None
            and actor.has_perm("people.manage")
            and residency.house.community_id in actor.community_ids
        )
    sensitive = actor.has_perm("people.view_sensitive")
    if sensitive:
        log_sensitive_view(
            actor=actor, request=request, label=_("Resident #%(id)s") % {"id": resident.pk}
        )
    return render(
        request,
        "people/resident_detail.html",
        {
            "resident": resident,
            "residencies": residencies,
            "id_number": resident.id_number if sensitive else resident.masked_id_number,
            "can_manage": actor.has_perm("people.manage"),
            "breadcrumbs": _crumbs((resident.name, None)),
        },
    )


@console_view("people.manage")
def resident_create(request):
    actor = request.actor
    house = _house_from_query(request)
    if request.method == "POST":
        form = ResidentCreateForm(request.POST, actor=actor)
    else:
        initial = request.GET.dict()
        if house is not None:
            initial.update(house_initial(house))
        form = ResidentCreateForm(initial=initial, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.register_resident(actor=actor, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Resident %s registered.") % resident.name)
            if house is not None:
                return redirect("estates:house_detail", pk=house.pk)
            return redirect("people:resident_detail", pk=resident.pk)
    return render(
        request,
        "people/form.html",
        {
            "form": form,
            "heading": _("Register a resident"),
            "breadcrumbs": _crumbs((_("Register a resident"), None)),
        },
    )


@console_view("people.manage")
def resident_edit(request, pk):
    actor = request.actor
    resident = get_visible_or_404(Resident.objects, actor, pk=pk)
    form = ResidentForm(
        request.POST if request.method == "POST" else None,
        instance=copy.copy(resident),
        actor=actor,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_resident(actor=actor, resident=resident, **form.changes())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Resident %s saved.") % resident.name)
            return redirect("people:resident_detail", pk=resident.pk)
    return render(
        request,
        "people/form.html",
        {
            "form": form,
            "heading": _("Edit resident %s") % resident.name,
            "breadcrumbs": _crumbs(_resident_crumb(resident), (_("Edit"), None)),
        },
    )


@console_view("people.manage")
def move_in(request, pk):
    actor = request.actor
    resident = get_visible_or_404(Resident.objects, actor, pk=pk)
    if request.method == "POST":
        form = MoveInForm(request.POST, actor=actor)
    else:
        initial = request.GET.dict()
        house = _house_from_query(request)
        if house is not None:
            initial.update(house_initial(house))
        form = MoveInForm(initial=initial, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.move_in(
                actor=actor,
                resident=resident,
                house=data["house"],
                relation=data["relation"],
                on=data["move_in"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s moved in to %(house)s.")
                % {"name": resident.name, "house": data["house"].address},
            )
            return redirect("people:resident_detail", pk=resident.pk)
    return render(
        request,
        "people/form.html",
        {
            "form": form,
            "heading": _("Move %s in to a house") % resident.name,
            "breadcrumbs": _crumbs(_resident_crumb(resident), (_("Move in"), None)),
        },
    )


@console_view("people.manage")
def move_out(request, pk):
    actor = request.actor
    residency = get_visible_or_404(
        Residency.objects.select_related(
            "resident", "house__community", "house__building", "house__unit"
        ),
        actor,
        pk=pk,
    )
    back_to_house = request.GET.get("next") == "house"
    form = MoveOutForm(request.POST if request.method == "POST" else None, residency=residency)
    if request.method == "POST" and form.is_valid():
        try:
            services.move_out(actor=actor, residency=residency, on=form.cleaned_data["move_out"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s moved out of %(house)s.")
                % {"name": residency.resident.name, "house": residency.house.address},
            )
            if back_to_house:
                return redirect("estates:house_detail", pk=residency.house_id)
            return redirect("people:resident_detail", pk=residency.resident_id)
    return render(
        request,
        "people/form.html",
        {
            "form": form,
            "heading": _("%(name)s moves out of %(house)s")
            % {"name": residency.resident.name, "house": residency.house.address},
            "breadcrumbs": _crumbs(_resident_crumb(residency.resident), (_("Move out"), None)),
        },
    )
