"""QR label sheets of the places with a label (assets and checkpoints): what a sticker
shows, and the one view logic both lists use to print the ticked rows or all that
match their filters."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from wuye.core.labels import Label, pdf_response, render_sheet
from wuye.facilities.forms_ledger import LabelsForm
from wuye.facilities.models import Asset

LABEL_CAP = 500  # labels per PDF: 21 sheets of a4-3x8, about three seconds to render


def qr_path(token: str) -> str:
    """What a QR label encodes: the landing page of its token, ``/q/<token>/``."""
    return reverse("qr:landing", args=[token])


def place_label(request, place) -> Label:
    """An asset's or a checkpoint's sticker; ``place`` needs its community, building
    (assets) and common area loaded."""
    parts = (place.community, getattr(place, "building", None), place.common_area)
    where = " ".join(part.name for part in parts if part)
    if isinstance(place, Asset):
        return Label(
            url=request.build_absolute_uri(qr_path(place.qr_token)),
            title=place.name,
            subtitle=f"{where} · {place.code}",
            code=place.code,
        )
    return Label(
        url=request.build_absolute_uri(qr_path(place.qr_token)),
        title=place.name,
        subtitle=where,
        code=_("Checkpoint"),
    )


def label_sheet(request, *, places, filters, back: str, order_by, name: str):
    """The PDF of the ticked ``places`` (a visible_to queryset), or of all that the
    bound ``filters`` form matches, at most ``LABEL_CAP``; otherwise back to the list
    with the reason. A ticked id the actor cannot see is a 404, like any other."""
    choice = LabelsForm(request.GET)
    if not choice.is_valid() or not filters.is_valid():
        messages.error(request, _("Choose a label sheet and tick rows of the list."))
        return redirect(back)
    ids = choice.cleaned_data["ids"]
    if choice.cleaned_data["all"]:
        places = filters.filter(places)
    elif ids:
        places = places.filter(id__in=ids)
    else:
        messages.error(request, _("Tick the rows to print, or print all that match."))
        return redirect(back)
    rows = list(places.order_by(*order_by)[: LABEL_CAP + 1])
    if not choice.cleaned_data["all"] and len(rows) < len(ids):
        raise Http404  # a ticked row is gone or not the actor's: the same answer for both
    if not rows:
        messages.error(request, _("Nothing matches; nothing to print."))
        return redirect(back)
    if len(rows) > LABEL_CAP:
        messages.error(
            request,
            _(
                "More than %(cap)d match. Print at most %(cap)d labels at a time: narrow "
                "the filters (e.g. by community) or tick the rows."
            )
            % {"cap": LABEL_CAP},
        )
        return redirect(back)
    layout = choice.cleaned_data["layout"]
    pdf = render_sheet([place_label(request, p) for p in rows], layout=layout)
    return pdf_response(pdf, f"{name}-{layout}.pdf")
