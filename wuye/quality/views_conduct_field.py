"""Spot checks on the phone (``/m/spot-checks/``).

- ``new_spot_check`` (quality.inspect): community, staff member (searched with HTMX,
  ``staff_search``), place, the checklist by aspect with 符合/不符合 toggles, photos and a
  note; the result page follows.
- ``spot_check``: one check with its score per aspect, for whoever may see it (the
  inspectors of its community and the staff member checked).
- ``mine``: the checks of the signed-in staff member.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from wuye.core.console import add_service_errors, after_param, newest_first_page
from wuye.core.photos import stored_photos
from wuye.core.scoping import get_visible_or_404
from wuye.core.services import require
from wuye.quality import spot_checks
from wuye.quality.forms_conduct import SpotCheckForm, StaffSearchForm
from wuye.quality.models import SpotCheck

PAGE_SIZE = 20


def _candidates(actor, community, query="", chosen=None) -> list:
    """The staff offered for ``community``; the one already chosen stays first."""
    if community is None:
        return []
    found = list(spot_checks.subject_candidates(actor, community, query))
    if chosen is not None and chosen not in found:
        found.insert(0, chosen)
    return found


@login_required
def new_spot_check(request):
    actor = request.actor
    require(actor, "quality.inspect")
    items = spot_checks.ordered_items(actor.staff.company_id, active_only=True)
    status = 200
    if request.method == "POST":
        form = SpotCheckForm(request.POST, request.FILES, actor=actor, items=items)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with stored_photos(
                    actor=actor, images=data["photos"], company=actor.staff.company
                ) as photos:
                    check = spot_checks.record_spot_check(
                        actor=actor,
                        community=data["community"],
                        subject=data["subject"],
                        marks=form.marks(),
                        place=data["place"],
                        note=data["note"],
                        photos=photos,
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Spot check recorded."))
                return redirect("conduct_field:spot_check", pk=check.pk)
        status = 400
        community = form.cleaned_data.get("community")
        chosen = form.cleaned_data.get("subject")
    else:
        form = SpotCheckForm(actor=actor, items=items)
        community = form.fields["community"].queryset.first()
        if community is not None:
            form.initial["community"] = community.pk
        chosen = None
    return render(
        request,
        "quality/conduct/field/new.html",
        {
            "form": form,
            "has_items": bool(form.items),
            "candidates": _candidates(actor, community, chosen=chosen),
            "chosen": chosen,
        },
        status=status,
    )


@login_required
@require_GET
def staff_search(request):
    """The HTMX results of the staff search: staff of the chosen community."""
    actor = request.actor
    require(actor, "quality.inspect")
    form = StaffSearchForm(request.GET, actor=actor)
    community = form.cleaned_data.get("community") if form.is_valid() else None
    query = form.cleaned_data.get("q", "") if form.is_valid() else ""
    return render(
        request,
        "quality/conduct/field/new.html#candidates",
        {"candidates": _candidates(actor, community, query), "chosen": None},
    )


@login_required
def spot_check(request, pk):
    actor = request.actor
    check = get_visible_or_404(
        SpotCheck.objects.select_related("community", "subject", "inspector"), actor, pk=pk
    )
    return render(
        request,
        "quality/conduct/field/detail.html",
        {
            "check": check,
            "aspects": spot_checks.aspects_with_marks(check),
            "photos": check.photos.order_by("id"),
        },
    )


@login_required
@require_GET
def mine(request):
    actor = request.actor
    if not actor.staff:
        raise PermissionDenied
    checks = (
        SpotCheck.objects.visible_to(actor).filter(subject=actor.staff).select_related("community")
    )
    page = newest_first_page(checks, before=after_param(request), query=request.GET, size=PAGE_SIZE)
    return render(request, "quality/conduct/field/mine.html", {"page": page})
