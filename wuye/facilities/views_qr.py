"""The page every printed QR label opens (/q/<token>/). Who scans decides what it is:

- field staff with an open task at the place today: the check-in, then the checklist;
- other staff who may see the place: a short card (status, last inspection, open
  orders), linking to the console for those who view facilities;
- a resident of the place's community: a fault report with the place filled in;
- anyone else, and any made-up code: the same "not recognised" page, so a label tells
  nothing about other communities. Signing in comes first (then back here).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.console import add_service_errors
from wuye.core.photos import stored_photos
from wuye.facilities import rounds
from wuye.facilities.forms_field import LabelReportForm, ScanForm
from wuye.facilities.models import Asset, Checkpoint, Visit
from wuye.workorders import services as orders
from wuye.workorders.models import Channel, WorkOrder

OPEN_ORDERS_SHOWN = 5


def _staff_target(actor, token):
    try:
        return rounds.target_for(actor, token)
    except ValidationError:
        return None


def _resident_target(actor, token):
    """An asset, or a checkpoint of a common area, in a community the resident lives in
    (a checkpoint elsewhere has nowhere to send a repair)."""
    communities = actor.resident_community_ids()
    if not communities or not token:
        return None
    places = {"qr_token": token, "community_id__in": communities}
    asset = Asset.objects.filter(**places).exclude(status=Asset.Status.SCRAPPED).first()
    if asset is not None:
        return asset
    return Checkpoint.objects.filter(**places, is_active=True, common_area__isnull=False).first()


def not_recognised(request):
    return render(request, "facilities/qr/unknown.html", status=404)


@login_required
def landing(request, token):
    actor = request.actor
    target = _staff_target(actor, token)
    if target is not None:
        return _staff_page(request, target, token)
    target = _resident_target(actor, token)
    if target is not None:
        form = LabelReportForm(
            actor=actor,
            company_id=target.company_id,
            initial={
                "contact_name": actor.user.display_name,
                "contact_mobile": actor.user.mobile or "",
            },
        )
        return _render_report(request, target, form)
    return not_recognised(request)


def _staff_page(request, target, token):
    """The check-in when the worker has a round here today, else the place's card."""
    actor = request.actor
    found = rounds.todays_stop(actor=actor, target=target)
    if found is not None:
        task, stop, visit = found
        if visit is None:
            stops = list(task.plan.stops.order_by("position", "id"))
            return render(
                request,
                "facilities/qr/checkin.html",
                {
                    "target": target,
                    "is_asset": isinstance(target, Asset),
                    "task": task,
                    "now": timezone.now(),
                    "stop_number": stops.index(stop) + 1,
                    "stop_count": len(stops),
                    "form": ScanForm(initial={"code": token}),
                },
            )
        if not visit.answers.exists():
            return redirect("rounds_field:visit", pk=visit.pk)
    return _render_card(request, target, done_visit=found[2] if found else None)


def _console_link(actor, target) -> str | None:
    """The asset's page in the console ledger, for those who view facilities."""
    if isinstance(target, Asset) and actor.has_perm("facilities.view"):
        return reverse("ledger:asset_detail", args=[target.pk])
    return None


def _render_card(request, target, *, done_visit=None):
    actor = request.actor
    field = "asset" if isinstance(target, Asset) else "checkpoint"
    last = (
        Visit.objects.filter(**{f"stop__{field}": target})
        .select_related("task__assignee", "task__plan")
        .order_by("-scanned_at")
        .first()
    )
    open_orders = []
    if field == "asset":
        open_orders = list(
            WorkOrder.objects.visible_to(actor)
            .open()
            .filter(asset=target)
            .select_related("category")
            .order_by("-id")[:OPEN_ORDERS_SHOWN]
        )
    return render(
        request,
        "facilities/qr/card.html",
        {
            "target": target,
            "is_asset": field == "asset",
            "last_visit": last,
            "open_orders": open_orders,
            "console_link": _console_link(actor, target),
            "done_visit": done_visit,
            "may_work": actor.has_perm(rounds.WORK),
        },
    )


def _render_report(request, target, form, status=200):
    return render(
        request,
        "facilities/qr/report.html",
        {"target": target, "is_asset": isinstance(target, Asset), "form": form},
        status=status,
    )


@login_required
def report(request, token):
    """A resident's fault report from the label: the place is the labelled asset (or
    the checkpoint's common area); the order goes to the desk like any H5 report."""
    actor = request.actor
    target = _resident_target(actor, token)
    if target is None:
        return not_recognised(request)
    if request.method != "POST":
        return redirect("qr:landing", token=token)
    form = LabelReportForm(request.POST, request.FILES, actor=actor, company_id=target.company_id)
    if form.is_valid():
        data = form.cleaned_data
        is_asset = isinstance(target, Asset)
        try:
            with stored_photos(
                actor=actor, images=data["photos"], company=data["category"].company
            ) as photos:
                order = orders.submit_order(
                    actor=actor,
                    category=data["category"],
                    asset=target if is_asset else None,
                    common_area=None if is_asset else target.common_area,
                    channel=Channel.RESIDENT_H5,
                    description=data["description"],
                    contact_name=data["contact_name"],
                    contact_mobile=data["contact_mobile"],
                    photos=photos,
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You cannot report for this place."))
        else:
            return redirect("orders_resident:submitted", pk=order.pk)
    return _render_report(request, target, form, status=400)
