"""Meter readings on the phone (/m/meters/, ``billing.meters``): community → building
(→ unit) → the houses with their metered fee items (水/电/气), each meter's last reading
and a field for today's. Saving one meter calls ``meters.record_reading``: its refusal
(a backwards reading, a missing new-meter start…) is shown on that meter's line, and a
usage far above the usual is saved but shown as held for review.

Only communities the staff member works in are reachable; anything else is 404. With
HTMX a meter's form swaps just its line; without it the page reloads at the house.
"""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.billing import meters
from wuye.billing.forms_field import FieldReadingForm
from wuye.billing.forms_imports import your_communities
from wuye.billing.models import FeeItem, MeterReading
from wuye.billing.reading_imports import cents, metered_chargings, running_chargings
from wuye.core.console import add_service_errors
from wuye.core.services import require
from wuye.estates.models import Building, Community, House, Unit

HOUSES_SHOWN = 40  # more houses than this in one sheet: a few floors at a time


def _actor(request):
    require(request.actor, meters.METERS)
    return request.actor


def _community(actor, pk) -> Community:
    return get_object_or_404(your_communities(actor), pk=pk)


def _read_today(community, today, by: str) -> dict:
    """Meters read today per building or unit (``by``: the house field)."""
    rows = (
        MeterReading.objects.filter(
            community=community, reading_date=today, fee_item__kind=FeeItem.Kind.METERED
        )
        .values(f"house__{by}")
        .annotate(n=Count("id"))
    )
    return {row[f"house__{by}"]: row["n"] for row in rows}


def _meter_counts(community, today, by: str) -> dict:
    rows = (
        running_chargings(community, on=today)
        .order_by()
        .values(f"house__{by}")
        .annotate(n=Count("id"))
    )
    return {row[f"house__{by}"]: row["n"] for row in rows}


def _progress(items, meters_by, read_by):
    for item in items:
        item.meters = meters_by.get(item.pk, 0)
        item.read = min(read_by.get(item.pk, 0), item.meters)
    return items


@login_required
@require_GET
def home(request):
    """The communities the reader works in."""
    actor = _actor(request)
    return render(
        request, "billing/field/meters_home.html", {"communities": your_communities(actor)}
    )


@login_required
@require_GET
def community(request, pk):
    """The community's buildings, each with how many meters were read today."""
    actor = _actor(request)
    found = _community(actor, pk)
    today = timezone.localdate()
    buildings = list(Building.objects.filter(community=found).order_by("sort_order", "name"))
    _progress(
        buildings,
        _meter_counts(found, today, "building_id"),
        _read_today(found, today, "building_id"),
    )
    return render(
        request,
        "billing/field/meters_community.html",
        {"community": found, "buildings": buildings, "today": today},
    )


def _building(actor, pk) -> Building:
    return get_object_or_404(
        Building.objects.select_related("community").filter(
            community_id__in=sorted(actor.community_ids)
        ),
        pk=pk,
    )


def _unit(actor, pk) -> Unit:
    return get_object_or_404(
        Unit.objects.select_related("building__community").filter(
            building__community_id__in=sorted(actor.community_ids)
        ),
        pk=pk,
    )


@login_required
@require_GET
def building(request, pk):
    """The building's units; the houses directly under it (no unit) as a sheet."""
    actor = _actor(request)
    found = _building(actor, pk)
    return _sheet_page(request, building=found, unit=None)


@login_required
@require_GET
def unit(request, pk):
    actor = _actor(request)
    found = _unit(actor, pk)
    return _sheet_page(request, building=found.building, unit=found)


def _sheet_url(house) -> str:
    if house.unit_id:
        url = reverse("meters_field:unit", args=[house.unit_id])
    else:
        url = reverse("meters_field:building", args=[house.building_id])
    return f"{url}?floor={house.floor}#house-{house.pk}"


def _sheet_page(request, *, building, unit, bound=None, status=200):
    """The reading sheet of a unit (or of a building's houses without one). ``bound``:
    (house id, fee item id, form) of a meter whose save was refused."""
    community = building.community
    today = timezone.localdate()
    houses = House.objects.filter(building=building, unit=unit)
    chargings = metered_chargings(community, on=today, houses=houses)
    groups, shown = _floor_groups(running_chargings(community, on=today, houses=houses)), None
    if len(groups) > 1:
        asked = request.GET.get("floor", "")
        floor = int(asked) if asked.lstrip("-").isdigit() else None
        shown = next((g for g in groups if floor in g["floors"]), groups[0])
        chargings = chargings.filter(house__floor__in=shown["floors"])
    sheet = _sheet(chargings, today, bound)
    units = []
    if unit is None:
        units = list(Unit.objects.filter(building=building).order_by("sort_order", "name"))
        _progress(
            units,
            _meter_counts(community, today, "unit_id"),
            _read_today(community, today, "unit_id"),
        )
    return render(
        request,
        "billing/field/meters_sheet.html",
        {
            "community": community,
            "building": building,
            "unit": unit,
            "units": units,
            "houses": sheet,
            "floor_groups": groups if shown else [],
            "shown_group": shown,
            "today": today,
        },
        status=status,
    )


def _floor_groups(chargings) -> list[dict]:
    """Consecutive floors in groups of at most ``HOUSES_SHOWN`` houses (a floor with
    more stays whole): a tall building is read a few floors at a time."""
    per_floor = (
        chargings.order_by("house__floor")
        .values_list("house__floor")
        .annotate(n=Count("house_id", distinct=True))
    )
    groups, houses = [], 0
    for floor, n in per_floor:
        if not groups or houses + n > HOUSES_SHOWN:
            groups.append({"floors": [], "first": floor})
            houses = 0
        groups[-1]["floors"].append(floor)
        groups[-1]["last"] = floor
        houses += n
    return groups


def _sheet(chargings, today, bound=None) -> list:
    """[{house, meters: [meter line]}] in address order; one query."""
    houses, lines = {}, defaultdict(list)
    for charging in chargings:
        houses.setdefault(charging.house_id, charging.house)
        lines[charging.house_id].append(_line(charging.house, charging, today, bound))
    return [{"house": house, "meters": lines[pk]} for pk, house in houses.items()]


def _line(house, charging, today, bound=None) -> dict:
    """One meter of a house: its last reading, and today's form unless read today."""
    item = charging.fee_item
    last_value, last_previous = cents(charging.last_value), cents(charging.last_previous)
    line = {
        "house": house,
        "item": item,
        "last_value": last_value,
        "last_date": charging.last_date,
        "last_usage": last_value - last_previous if last_value is not None else None,
        "held": charging.last_held,
        "note": charging.last_note,
        "read_today": charging.last_date == today,
        "form": None,
    }
    if not line["read_today"]:
        if bound and bound[0] == house.pk and bound[1] == item.pk:
            line["form"] = bound[2]
        else:
            line["form"] = FieldReadingForm(
                initial={"fee_item": item.pk}, auto_id=f"m{house.pk}-{item.pk}-%s"
            )
    return line


@login_required
@require_POST
def record(request, pk):
    """Save today's reading of one meter of house ``pk``."""
    actor = _actor(request)
    house = get_object_or_404(
        House.objects.select_related("building__community", "unit").filter(
            community_id__in=sorted(actor.community_ids)
        ),
        pk=pk,
    )
    item_id = request.POST.get("fee_item", "")
    item = (
        FeeItem.objects.filter(
            pk=int(item_id), community_id=house.community_id, kind=FeeItem.Kind.METERED
        ).first()
        if item_id.isdigit()
        else None
    )
    if item is None:
        raise Http404
    form = FieldReadingForm(request.POST, auto_id=f"m{house.pk}-{item.pk}-%s")
    reading = None
    if form.is_valid():
        try:
            reading = meters.record_reading(
                actor=actor,
                house=house,
                fee_item=item,
                reading_date=timezone.localdate(),
                value=form.cleaned_data["value"],
                replaced=form.cleaned_data["replaced"],
                start_value=form.cleaned_data["start_value"] or None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if reading is None:
        if request.htmx:  # htmx swaps only 2xx answers: the refusal comes as the line
            return _line_response(request, house, item, form)
        return _sheet_page(
            request,
            building=house.building,
            unit=house.unit,
            bound=(house.pk, item.pk, form),
            status=400,
        )
    if request.htmx:
        return _line_response(request, house, item, None, saved=reading)
    if reading.needs_review:
        messages.warning(
            request,
            _("%(house)s %(item)s: saved, held for review. %(note)s")
            % {"house": house.number, "item": item.name, "note": reading.review_note},
        )
    else:
        messages.success(
            request,
            _("%(house)s %(item)s: %(value)s saved (usage %(usage)s).")
            % {
                "house": house.number,
                "item": item.name,
                "value": reading.value,
                "usage": reading.usage,
            },
        )
    return redirect(_sheet_url(house))


def _line_response(request, house, item, form, *, saved=None, status=200):
    today = timezone.localdate()
    charging = (
        metered_chargings(house.building.community, on=today, houses=[house.pk])
        .filter(fee_item=item)
        .first()
    )
    if charging is None:  # charged before, no longer: still show what happened
        line = {"house": house, "item": item, "read_today": saved is not None, "form": form}
    else:
        line = _line(house, charging, today, (house.pk, item.pk, form))
    line["saved"] = saved
    return render(
        request, "billing/field/meters_sheet.html#meter", {"m": line, "today": today}, status=status
    )
