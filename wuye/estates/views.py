"""Office console pages for the estate registry: tree, communities, buildings, houses."""

import copy
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wuye.core.console import add_service_errors, console_view, keyset_page
from wuye.core.scoping import get_visible_or_404
from wuye.estates import selectors, services
from wuye.estates.forms import (
    BuildingForm,
    CommonAreaFilterForm,
    CommonAreaForm,
    CommunityForm,
    HouseCreateForm,
    HouseEditForm,
    HouseFilterForm,
    UnitForm,
)
from wuye.estates.models import Building, CommonArea, Community, House, Unit
from wuye.people.selectors import house_residencies

TREE_HOUSE_LIMIT = 200  # houses shown under one unit node; the rest via the house list


def _crumbs(*items):
    """Breadcrumbs as (label, url) pairs, starting at the estate tree."""
    return [(_("Estates"), reverse("estates:tree")), *items]


def _community_crumb(community):
    return (community.name, reverse("estates:community_detail", args=[community.pk]))


def _building_crumb(building):
    return (building.name, reverse("estates:building_detail", args=[building.pk]))


def _houses_url(**filters):
    return f"{reverse('estates:house_list')}?{urlencode(filters)}"


# --- Tree ----------------------------------------------------------------------
@require_GET
@console_view("estates.view")
def tree(request):
    actor = request.actor
    communities = selectors.communities_with_counts(actor).order_by("name", "id")
    return render(
        request,
        "estates/tree.html",
        {
            "communities": communities,
            "can_create_community": actor.company_wide and actor.has_perm("estates.manage"),
        },
    )


@require_GET
@console_view("estates.view")
def tree_community(request, pk):
    community = get_visible_or_404(Community.objects, request.actor, pk=pk)
    buildings = selectors.buildings_with_counts(request.actor, community_id=community.pk)
    return render(
        request,
        "estates/tree.html#community-children",
        {"community": community, "buildings": buildings},
    )


@require_GET
@console_view("estates.view")
def tree_building(request, pk):
    building = get_visible_or_404(
        Building.objects.select_related("community"), request.actor, pk=pk
    )
    units = selectors.units_with_counts(request.actor, building_id=building.pk)
    loose = House.objects.visible_to(request.actor).filter(building=building, unit=None)
    loose = list(loose.order_by("number", "id")[: TREE_HOUSE_LIMIT + 1])
    return render(
        request,
        "estates/tree.html#building-children",
        {
            "building": building,
            "units": units,
            "houses": loose[:TREE_HOUSE_LIMIT],
            "more_url": _houses_url(community=building.community_id, building=building.pk)
            if len(loose) > TREE_HOUSE_LIMIT
            else None,
        },
    )


@require_GET
@console_view("estates.view")
def tree_unit(request, pk):
    unit = get_visible_or_404(Unit.objects.select_related("building"), request.actor, pk=pk)
    houses = House.objects.visible_to(request.actor).filter(unit=unit).order_by("number", "id")
    houses = list(houses[: TREE_HOUSE_LIMIT + 1])
    more_url = None
    if len(houses) > TREE_HOUSE_LIMIT:
        more_url = _houses_url(
            community=unit.building.community_id, building=unit.building_id, unit=unit.pk
        )
    return render(
        request,
        "estates/tree.html#unit-children",
        {"unit": unit, "houses": houses[:TREE_HOUSE_LIMIT], "more_url": more_url},
    )


# --- Communities, buildings, units ----------------------------------------------
@require_GET
@console_view("estates.view")
def community_detail(request, pk):
    community = get_visible_or_404(Community.objects, request.actor, pk=pk)
    actor = request.actor
    buildings = selectors.buildings_with_counts(actor, community_id=community.pk)
    areas = CommonArea.objects.visible_to(actor).filter(community=community)
    return render(
        request,
        "estates/community_detail.html",
        {
            "community": community,
            "buildings": buildings,
            "common_areas": areas.select_related("building"),
            "house_count": House.objects.filter(community=community).count(),
            "houses_url": _houses_url(community=community.pk),
            "can_manage": actor.has_perm("estates.manage") and community.pk in actor.community_ids,
            "breadcrumbs": _crumbs((community.name, None)),
        },
    )


@console_view("estates.manage")
def community_create(request):
    if not request.actor.company_wide:  # communities are opened by company-wide admins
        raise PermissionDenied
    form = CommunityForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            community = services.create_community(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Community “%s” created.") % community.name)
            return redirect("estates:community_detail", pk=community.pk)
    return render(
        request,
        "estates/form.html",
        {
            "form": form,
            "heading": _("New community"),
            "breadcrumbs": _crumbs((_("New community"), None)),
        },
    )


@require_GET
@console_view("estates.view")
def building_detail(request, pk):
    actor = request.actor
    building = get_visible_or_404(Building.objects.select_related("community"), actor, pk=pk)
    units = selectors.units_with_counts(actor, building_id=building.pk)
    return render(
        request,
        "estates/building_detail.html",
        {
            "building": building,
            "units": units,
            "loose_house_count": House.objects.filter(building=building, unit=None).count(),
            "common_areas": CommonArea.objects.visible_to(actor).filter(building=building),
            "houses_url": _houses_url(community=building.community_id, building=building.pk),
            "can_manage": actor.has_perm("estates.manage")
            and building.community_id in actor.community_ids,
            "breadcrumbs": _crumbs(_community_crumb(building.community), (building.name, None)),
        },
    )


@console_view("estates.manage")
def building_create(request, pk):
    community = get_visible_or_404(Community.objects, request.actor, pk=pk)
    form = BuildingForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            building = services.create_building(
                actor=request.actor, community=community, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Building “%s” created.") % building.name)
            return redirect("estates:building_detail", pk=building.pk)
    return render(
        request,
        "estates/form.html",
        {
            "form": form,
            "heading": _("New building in %s") % community.name,
            "breadcrumbs": _crumbs(_community_crumb(community), (_("New building"), None)),
        },
    )


@console_view("estates.manage")
def unit_create(request, pk):
    building = get_visible_or_404(
        Building.objects.select_related("community"), request.actor, pk=pk
    )
    form = UnitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_unit(actor=request.actor, building=building, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Unit “%s” created.") % form.cleaned_data["name"])
            return redirect("estates:building_detail", pk=building.pk)
    return render(
        request,
        "estates/form.html",
        {
            "form": form,
            "heading": _("New unit in %s") % building,
            "breadcrumbs": _crumbs(
                _community_crumb(building.community),
                _building_crumb(building),
                (_("New unit"), None),
            ),
        },
    )


# --- Houses --------------------------------------------------------------------
@require_GET
@console_view("estates.view")
def house_list(request):
    form = HouseFilterForm(request.GET, actor=request.actor)
    page = None
    if form.is_valid():
        houses = form.filter(House.objects.visible_to(request.actor))
        houses = houses.select_related("community", "building", "unit")
        page = keyset_page(houses, after=form.cleaned_data.get("after"), query=request.GET)
    return render(
        request,
        "estates/house_list.html",
        {
            "form": form,
            "page": page,
            "can_manage": request.actor.has_perm("estates.manage"),
        },
    )


@require_GET
@console_view("estates.view")
def house_detail(request, pk):
    actor = request.actor
    house = get_visible_or_404(
        House.objects.select_related("community", "building", "unit"), actor, pk=pk
    )
    today = timezone.localdate()
    current, past = [], []
    for residency in house_residencies(actor, house=house):
        is_past = residency.move_out is not None and residency.move_out < today
        (past if is_past else current).append(residency)
    crumbs = [_community_crumb(house.community), _building_crumb(house.building)]
    if house.unit_id:
        crumbs.append((house.unit.name, None))
    return render(
        request,
        "estates/house_detail.html",
        {
            "house": house,
            "current": current,
            "past": past,
            "can_see_residents": actor.has_perm("people.view"),
            "can_manage_people": actor.has_perm("people.manage")
            and house.community_id in actor.community_ids,
            "can_manage": actor.has_perm("estates.manage")
            and house.community_id in actor.community_ids,
            "breadcrumbs": _crumbs(*crumbs, (house.number, None)),
        },
    )


@console_view("estates.manage")
def house_create(request):
    actor = request.actor
    if request.method == "POST":
        form = HouseCreateForm(request.POST, actor=actor)
    else:  # GET parameters preselect the place (and re-render when a parent changes)
        form = HouseCreateForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            house = services.create_house(actor=actor, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("House %s created.") % house.number)
            return redirect("estates:house_detail", pk=house.pk)
    return render(
        request,
        "estates/form.html",
        {
            "form": form,
            "heading": _("New house"),
            "breadcrumbs": _crumbs(
                (_("Houses"), reverse("estates:house_list")), (_("New house"), None)
            ),
        },
    )


@console_view("estates.manage")
def house_edit(request, pk):
    actor = request.actor
    house = get_visible_or_404(
        House.objects.select_related("community", "building", "unit"), actor, pk=pk
    )
    form = HouseEditForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(house)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_house(actor=actor, house=house, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("House %s saved.") % house.number)
            return redirect("estates:house_detail", pk=house.pk)
    return render(
        request,
        "estates/form.html",
        {
            "form": form,
            "house": house,
            "heading": _("Edit house %s") % house.address,
            "breadcrumbs": _crumbs(
                _community_crumb(house.community),
                _building_crumb(house.building),
                (house.number, reverse("estates:house_detail", args=[house.pk])),
                (_("Edit"), None),
            ),
        },
    )


# --- Common areas ----------------------------------------------------------------
@require_GET
@console_view("estates.view")
def commonarea_list(request):
    form = CommonAreaFilterForm(request.GET, actor=request.actor)
    page = None
    if form.is_valid():
        areas = CommonArea.objects.visible_to(request.actor).select_related("community", "building")
        if form.cleaned_data.get("community"):
            areas = areas.filter(community=form.cleaned_data["community"])
        page = keyset_page(areas, after=form.cleaned_data.get("after"), query=request.GET)
    return render(
        request,
        "estates/commonarea_list.html",
        {"form": form, "page": page, "can_manage": request.actor.has_perm("estates.manage")},
    )


@console_view("estates.manage")
def commonarea_create(request):
    actor = request.actor
    if request.method == "POST":
        form = CommonAreaForm(request.POST, actor=actor)
    else:
        form = CommonAreaForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            area = services.create_common_area(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Common area “%s” created.") % area.name)
            return redirect(f"{reverse('estates:commonarea_list')}?community={area.community_id}")
    return render(
        request,
        "estates/form.html",
        {
            "form": form,
            "heading": _("New common area"),
            "breadcrumbs": _crumbs(
                (_("Common areas"), reverse("estates:commonarea_list")),
                (_("New common area"), None),
            ),
        },
    )
