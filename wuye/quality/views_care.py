"""Console pages of the household care score (业主关怀指数): the ranked list of
households at risk (filters, pages, Excel), one house's trend and the requests behind
its score, and the actions: recompute now, send a proactive visit (上门回访).

``quality.view`` sees (scoped to the actor's communities); ``quality.manage`` acts.
Reads come from ``wuye.quality.care``; every change is one call to its services."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import PAGE_SIZE, KeysetPage, console_view
from wuye.core.xlsx import XLSX_TYPE, date_cell, new_book, spooled_file, text_cell
from wuye.estates.audience_forms import actor_communities
from wuye.quality import care

SPARK_WIDTH, SPARK_HEIGHT = 112, 24


class RankedFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=capfirst(gettext_lazy("community")),
        empty_label=gettext_lazy("All my communities"),
    )
    threshold = forms.IntegerField(
        label=gettext_lazy("Score at least"), min_value=1, max_value=100, required=False
    )
    q = forms.CharField(label=gettext_lazy("House number"), max_length=32, required=False)

    def __init__(self, data, *, actor, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["community"].queryset = actor_communities(actor)
        self.default_threshold = care.care_threshold(actor.staff.company_id)
        self.fields["threshold"].widget.attrs["placeholder"] = self.default_threshold

    def ranked(self, actor):
        data = self.cleaned_data
        community = data.get("community")
        return care.ranked(
            actor,
            community_id=community.pk if community else None,
            threshold=data.get("threshold") or self.default_threshold,
            q=(data.get("q") or "").strip(),
        )


def _after(request) -> tuple[int, int] | None:
    """The pager's position ``score-house id``; anything else is the first page."""
    score, _sep, house = request.GET.get("after", "").partition("-")
    if score.isdigit() and house.isdigit() and len(score) < 4 and len(house) < 19:
        return int(score), int(house)
    return None


def _ranked_page(snapshots, request) -> KeysetPage:
    """Keyset pages over (score descending, house id): no OFFSET, no COUNT."""
    after = _after(request)
    if after is not None:
        score, house = after
        snapshots = snapshots.filter(Q(score__lt=score) | Q(score=score, house_id__gt=house))
    rows = list(
        snapshots.select_related("house__community", "house__building", "house__unit").order_by(
            "-score", "house_id"
        )[: PAGE_SIZE + 1]
    )
    last = rows[PAGE_SIZE - 1] if len(rows) > PAGE_SIZE else None
    return KeysetPage(
        items=rows[:PAGE_SIZE],
        after=request.GET.get("after") if after else None,
        next_after=f"{last.score}-{last.house_id}" if last else None,
        query=request.GET,
    )


def _sparkline(series: list[int]) -> str:
    """SVG polyline points of a day-by-day score series (0 at the bottom, 100 at the top)."""
    step = SPARK_WIDTH / max(1, len(series) - 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - value * SPARK_HEIGHT / 100:.1f}"
        for i, value in enumerate(series)
    )


def _decorate(rows, day) -> None:
    ids = [row.house_id for row in rows]
    series = care.trends(ids, last=day)
    visits = care.visit_orders(ids)
    for row in rows:
        row.labelled = care.labelled(row.reasons)
        row.spark = _sparkline(series[row.house_id])
        row.weekly = series[row.house_id][6::7]  # the score a week apart, oldest first
        row.last_visit = visits.get(row.house_id)


@require_GET
@console_view(care.VIEW)
def ranked(request):
    actor = request.actor
    form = RankedFilterForm(request.GET, actor=actor)
    page = day = None
    if form.is_valid():
        snapshots, day = form.ranked(actor)
        page = _ranked_page(snapshots, request)
        if day is not None:
            _decorate(page.items, day)
    threshold = (form.cleaned_data.get("threshold") if form.is_valid() else None) or (
        form.default_threshold
    )
    return render(
        request,
        "quality/care/ranked.html",
        {
            "form": form,
            "page": page,
            "day": day,
            "threshold": threshold,
            "threshold_y": f"{SPARK_HEIGHT - threshold * SPARK_HEIGHT / 100:.1f}",
            "signals": care.SIGNALS.values(),
            "window_days": care.WINDOW_DAYS,
            "can_manage": actor.has_perm(care.MANAGE),
            "communities": actor_communities(actor),
        },
    )


@require_GET
@console_view(care.VIEW)
def export(request):
    actor = request.actor
    form = RankedFilterForm(request.GET, actor=actor)
    if not form.is_valid():
        raise Http404
    snapshots, _day = form.ranked(actor)
    book, sheet = new_book(
        _("Household care"),
        [
            _("Community"),
            _("Building"),
            _("Unit"),
            _("House number"),
            _("Care score"),
            _("Reasons"),
            _("Day"),
        ],
    )
    rows = snapshots.select_related("house__community", "house__building", "house__unit")
    for row in rows.order_by("-score", "house_id").iterator(chunk_size=2000):
        house = row.house
        sheet.append(
            [
                house.community.name,
                house.building.name,
                house.unit.name if house.unit_id else None,
                text_cell(sheet, house.number),
                row.score,
                "; ".join(
                    f"{r['label']} × {r['count']} (+{r['points']})"
                    for r in care.labelled(row.reasons)
                ),
                date_cell(sheet, row.day),
            ]
        )
    out = spooled_file()
    book.save(out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out, as_attachment=True, filename=f"wuye-care-{stamp}.xlsx", content_type=XLSX_TYPE
    )


@require_POST
@console_view(care.MANAGE)
def recompute(request):
    """Today's scores of the chosen community, or of all the actor's communities."""
    actor = request.actor
    communities = actor_communities(actor)
    chosen = request.POST.get("community", "")
    if chosen:
        if not chosen.isdigit() or len(chosen) > 18:
            raise Http404
        communities = communities.filter(pk=int(chosen))
        if not communities:
            raise Http404
    written = sum(care.recompute(actor=actor, community=c) for c in communities)
    messages.success(
        request, _("Recomputed: %(n)d households have a care signal today.") % {"n": written}
    )
    return redirect(reverse("care:ranked") + (f"?community={chosen}" if chosen else ""))


def _house_or_404(request, house_id):
    house = (
        care.visible_houses(request.actor)
        .select_related("community", "building", "unit")
        .filter(pk=house_id)
        .first()
    )
    if house is None:
        raise Http404
    return house


@require_GET
@console_view(care.VIEW)
def house(request, house_id):
    actor = request.actor
    place = _house_or_404(request, house_id)
    history = care.house_history(place)
    latest = care.latest_snapshot(place)
    return render(
        request,
        "quality/care/house.html",
        {
            "house": place,
            "latest": latest,
            "reasons": care.labelled(latest.reasons) if latest else [],
            "chart": {
                "days": [day.isoformat() for day, _score in history],
                "scores": [value for _day, value in history],
            },
            "threshold": care.care_threshold(place.company_id),
            "orders": care.explaining_orders(actor, place),
            "visits": care.house_visits(actor, place),
            "signals": care.SIGNALS.values(),
            "window_days": care.WINDOW_DAYS,
            "can_visit": actor.has_perm(care.MANAGE) and actor.has_perm("workorders.create"),
            "breadcrumbs": [(_("Household care"), reverse("care:ranked")), (place.address, None)],
        },
    )


@require_POST
@console_view(care.VIEW)
def visit(request, house_id):
    actor = request.actor
    place = _house_or_404(request, house_id)
    note = request.POST.get("note", "").replace("\x00", "")[:500]
    try:
        order = care.create_proactive_visit(actor=actor, house=place, note=note)
    except care.VisitAlreadyOpen as exc:
        messages.info(request, exc.messages[0])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Proactive visit %(number)s recorded; the desk dispatches it like any request.")
            % {"number": order.number},
        )
    return redirect("care:house", place.pk)
