"""Conduct spot checks and the staff scorecard in the console (``/console/quality/conduct/``).

- ``spot_checks`` (+ ``export``): the checks of the reader's communities, newest first,
  filtered by community, staff member, failing aspect, days and score, with the average
  score per aspect and the most-failed items over the same checks (quality.view).
- ``spot_check``: one check, its lines by aspect, photos and inspector.
- ``items`` / ``item_edit`` / ``item_toggle`` / ``item_move``: the company's checklist;
  company-wide actors with quality.manage edit it, other viewers read it.
- ``scorecard`` (+ ``scorecard_export``) and ``scorecard_member``: the staff scorecard
  (``wuye.quality.scorecard``).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import (
    ONE_DECIMAL,
    XLSX_TYPE,
    new_book,
    spooled_file,
    text_cell,
    time_cell,
    typed_cell,
)
from wuye.quality import scorecard as cards
from wuye.quality import spot_checks as service
from wuye.quality.forms_conduct import (
    ConductItemForm,
    RangeForm,
    ScorecardFilterForm,
    SpotCheckFilterForm,
)
from wuye.quality.models import ConductItem, SpotCheck, SpotCheckMark

VIEW = "quality.view"
MANAGE = "quality.manage"
EXPORT_LIMIT = 50_000


# --- spot checks ----------------------------------------------------------------------------
def _filtered(request):
    """The filter form and the checks it selects (None while the filters are wrong)."""
    form = SpotCheckFilterForm(request.GET, actor=request.actor)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    checks = service.filter_spot_checks(
        service.visible_spot_checks(request.actor),
        community=data["community"],
        staff_query=data["staff"],
        failing_aspect=data["aspect"],
        date_from=data["date_from"],
        date_to=data["date_to"],
        score_below=data["score_below"],
    )
    return form, checks


def _list_query(request) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()


@require_GET
@console_view(VIEW)
def spot_checks(request):
    form, checks = _filtered(request)
    page = summary = failed = None
    if checks is not None:
        page = newest_first_page(
            checks.select_related("community", "subject", "inspector"),
            before=after_param(request),
            query=request.GET,
        )
        summary = service.aspect_summary(checks)
        failed = service.most_failed_items(checks)
    return render(
        request,
        "quality/conduct/spot_checks.html",
        {
            "form": form,
            "page": page,
            "summary": summary,
            "failed": failed,
            "list_query": _list_query(request),
            "current": "checks",
        },
    )


@require_GET
@console_view(VIEW)
def export(request):
    _form, checks = _filtered(request)
    if checks is None:
        return HttpResponseBadRequest(_("Correct the filters to export."))
    failed = Prefetch(
        "marks", queryset=SpotCheckMark.objects.filter(kept=False).order_by("id"), to_attr="failed"
    )
    rows = (
        checks.select_related("community", "subject", "inspector")
        .prefetch_related(failed)
        .order_by("-id")[:EXPORT_LIMIT]
    )
    book, sheet = new_book(
        _("Spot checks"),
        [
            "#",
            _("Checked at (%(zone)s)") % {"zone": timezone.get_current_timezone_name()},
            _("Community"),
            _("Staff member"),
            _("Employee number"),
            _("Checked by"),
            _("Place"),
            _("Score"),
            _("Failed items"),
            _("Notes"),
        ],
    )
    for check in rows.iterator(chunk_size=2000):
        sheet.append(
            [
                check.pk,
                time_cell(sheet, check.checked_at),
                check.community.name,
                check.subject.name,
                text_cell(sheet, check.subject.employee_no),
                check.inspector.display_name,
                check.place,
                typed_cell(sheet, check.score, ONE_DECIMAL),
                "；".join(
                    f"{mark.text}({mark.note})" if mark.note else mark.text for mark in check.failed
                ),
                check.note,
            ]
        )
    return _xlsx(book, "wuye-spot-checks")


def _xlsx(book, name: str) -> FileResponse:
    out = spooled_file()
    book.save(out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out, as_attachment=True, filename=f"{name}-{stamp}.xlsx", content_type=XLSX_TYPE
    )


@require_GET
@console_view(VIEW)
def spot_check(request, pk):
    check = get_visible_or_404(
        SpotCheck.objects.select_related("community", "subject", "inspector"),
        request.actor,
        pk=pk,
    )
    aspects = service.aspects_with_marks(check)
    return render(
        request,
        "quality/conduct/spot_check.html",
        {
            "check": check,
            "aspects": aspects,
            "photos": check.photos.order_by("id"),
            "current": "checks",
        },
    )


# --- the checklist --------------------------------------------------------------------------
def _items(request):
    return service.ordered_items(request.actor.staff.company_id)


@console_view(VIEW)
def items(request):
    """The checklist; a company-wide quality manager adds items here (POST)."""
    actor = request.actor
    editable = service.may_edit_checklist(actor)
    form = ConductItemForm() if editable else None
    status = 200
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(MANAGE)
        form = ConductItemForm(request.POST)
        if form.is_valid():
            try:
                service.create_conduct_item(actor=actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Checklist item added."))
                return redirect("conduct:items")
        status = 400
    return render(
        request,
        "quality/conduct/items.html",
        {"items": _items(request), "form": form, "editable": editable, "current": "items"},
        status=status,
    )


def _item(request, pk) -> ConductItem:
    if not service.may_edit_checklist(request.actor):
        raise PermissionDenied(MANAGE)
    return get_visible_or_404(ConductItem.objects, request.actor, pk=pk)


@console_view(MANAGE)
def item_edit(request, pk):
    item = _item(request, pk)
    if request.method == "POST":
        form = ConductItemForm(request.POST, instance=item)
        if form.is_valid():
            try:
                service.update_conduct_item(actor=request.actor, item=item, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Checklist item saved."))
                return redirect("conduct:items")
        status = 400
    else:
        form = ConductItemForm(instance=item)
        status = 200
    return render(
        request,
        "quality/conduct/item_form.html",
        {"form": form, "item": item, "current": "items"},
        status=status,
    )


@require_POST
@console_view(MANAGE)
def item_toggle(request, pk):
    item = _item(request, pk)
    service.set_conduct_item_active(actor=request.actor, item=item, active=not item.is_active)
    if item.is_active:
        messages.success(request, _("The item is active again."))
    else:
        messages.success(request, _("The item is deactivated: new spot checks leave it out."))
    return redirect("conduct:items")


@require_POST
@console_view(MANAGE)
def item_move(request, pk):
    item = _item(request, pk)
    try:
        service.move_conduct_item(
            actor=request.actor, item=item, direction=request.POST.get("direction", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(f"{reverse('conduct:items')}#item-{item.pk}")


# --- the scorecard --------------------------------------------------------------------------
def _scorecards(request):
    """The filter form and the scorecards it selects (None while the filters are wrong)."""
    form = ScorecardFilterForm(request.GET, actor=request.actor)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    members = cards.scorecard_members(
        request.actor, community=data["community"], query=data["q"]
    ).select_related("user")
    return form, cards.scorecards(
        request.actor,
        members,
        data["date_from"],
        data["date_to"],
        community=data["community"],
        sort=data["sort"],
    )


@require_GET
@console_view(VIEW)
def scorecard(request):
    form, rows = _scorecards(request)
    return render(
        request,
        "quality/conduct/scorecard.html",
        {
            "form": form,
            "rows": rows,
            "weights": cards.WEIGHTS,
            "labels": cards.PART_LABELS,
            "list_query": _list_query(request),
            "current": "scorecard",
        },
    )


@require_GET
@console_view(VIEW)
def scorecard_export(request):
    _form, rows = _scorecards(request)
    if rows is None:
        return HttpResponseBadRequest(_("Correct the filters to export."))
    book, sheet = new_book(
        _("Staff scorecard"),
        [
            _("Staff member"),
            _("Employee number"),
            _("Ratings"),
            _("Average rating"),
            _("Response met"),
            _("Response missed"),
            _("Resolution met"),
            _("Resolution missed"),
            _("Spot checks"),
            _("Average spot-check score"),
            _("Courses passed"),
            _("Active courses"),
            _("Sessions attended"),
            *(cards.PART_LABELS[name] for name in cards.WEIGHTS),
            _("Combined score"),
        ],
    )
    for card in rows:
        parts = card.parts
        sheet.append(
            [
                card.member.name,
                text_cell(sheet, card.member.employee_no),
                card.rated,
                typed_cell(sheet, card.rating_average, "0.00"),
                card.response_met,
                card.response_missed,
                card.resolution_met,
                card.resolution_missed,
                card.spot_checks,
                typed_cell(sheet, card.conduct_average, ONE_DECIMAL),
                card.courses_passed,
                card.courses_active,
                card.sessions_attended,
                *(typed_cell(sheet, parts[name], ONE_DECIMAL) for name in cards.WEIGHTS),
                typed_cell(sheet, card.combined, ONE_DECIMAL),
            ]
        )
    return _xlsx(book, "wuye-staff-scorecard")


@require_GET
@console_view(VIEW)
def scorecard_member(request, pk):
    actor = request.actor
    form = RangeForm(request.GET, actor=actor)
    members = cards.scorecard_members(actor).select_related("user")
    member = members.filter(pk=pk).first()
    if member is None:
        raise Http404
    card = checks = None
    if form.is_valid():
        data = form.cleaned_data
        (card,) = cards.scorecards(
            actor,
            members.filter(pk=member.pk),
            data["date_from"],
            data["date_to"],
            community=data["community"],
        )
        checks = service.filter_spot_checks(
            service.visible_spot_checks(actor),
            community=data["community"],
            subject_id=member.pk,
            date_from=data["date_from"],
            date_to=data["date_to"],
        ).select_related("community")[:20]
    return render(
        request,
        "quality/conduct/scorecard_member.html",
        {
            "form": form,
            "member": member,
            "card": card,
            "checks": checks,
            "weights": cards.WEIGHTS,
            "labels": cards.PART_LABELS,
            "current": "scorecard",
        },
    )
