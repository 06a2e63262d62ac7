"""Dunning console (催缴): the houses owing overdue bills with filters, reminders sent to
the ticked houses (or every house matching the filters, at most ``MAX_BATCH``), a batch's
reminders and its letters (PDF), a house's overdue bills and reminder history, and the
Excel export of the list.

``billing.view`` sees the list, the houses and the batches; sending a reminder and
printing letters needs ``billing.collect`` (the people who collect the money chase it).
A house, batch or letter outside the actor's billing communities is the same 404 as a
missing one.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from wuye.billing import dunning
from wuye.billing.dunning_letters import render_letters
from wuye.billing.exports_dunning import export_dunning
from wuye.billing.forms_cashier import billing_houses
from wuye.billing.forms_dunning import DunningFilterForm, ReminderForm
from wuye.billing.models import DunningNotice
from wuye.core.console import add_service_errors, console_view
from wuye.core.labels import pdf_response
from wuye.core.xlsx import XLSX_TYPE, spooled_file

VIEW = "billing.view"
COLLECT = "billing.collect"


def _crumbs(*items):
    return [
        (_("Fees"), reverse("billing:bill_list")),
        (_("Dunning"), reverse("billing:dunning")),
        *items,
    ]


def _list_query(query) -> str:
    query = query.copy()
    query.pop("after", None)
    return query.urlencode()


def _list_context(request, form, reminder_form=None) -> dict:
    actor = request.actor
    today = timezone.localdate()
    can_send = actor.has_perm(COLLECT)
    context = {
        "form": form,
        "tab": "dunning",
        "as_of": today,
        "can_send": can_send,
        "max_batch": dunning.MAX_BATCH,
        "list_query": _list_query(form.data),
        "page": None,
    }
    if form.is_valid():
        rows = dunning.dunning_houses(actor, as_of=today, **form.selector_args())
        page = dunning.page_of(rows, after=form.cleaned_data["after"] or None, query=form.data)
        page.items = dunning.describe(actor, page.items, today)
        context |= {"page": page, "totals": dunning.totals(rows)}
    if can_send:
        context["reminder_form"] = reminder_form or ReminderForm()
    return context


@require_GET
@console_view(VIEW)
def dunning_list(request):
    form = DunningFilterForm(request.GET, actor=request.actor)
    return render(request, "billing/console/dunning.html", _list_context(request, form))


def _matching_ids(actor, filters, form) -> list[int] | None:
    """Every house matching the list's filters, or None (with the error on the form)."""
    if not filters.is_valid():
        form.add_error(None, _("Correct the filters first."))
        return None
    rows = dunning.dunning_houses(actor, as_of=timezone.localdate(), **filters.selector_args())
    ids = [row["house_id"] for row in rows[: dunning.MAX_BATCH + 1]]
    if len(ids) > dunning.MAX_BATCH:
        form.add_error(
            "all_matching",
            _(
                "More than %(max)d houses match. Send at most %(max)d at a time: narrow the "
                "filters (a community, a building, an amount) and send again."
            )
            % {"max": dunning.MAX_BATCH},
        )
        return None
    if not ids:
        form.add_error("all_matching", _("No house matches the filters."))
        return None
    return ids


def _safe_next(request, value: str) -> str | None:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return None


@require_POST
@console_view(COLLECT)
def dunning_send(request):
    """Record reminders (and notify, or make letters); the list's filters come in the
    query string, the houses, channel and note in the form."""
    actor = request.actor
    filters = DunningFilterForm(request.GET, actor=actor)
    form = ReminderForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        ids = _matching_ids(actor, filters, form) if data["all_matching"] else data["houses"]
        if ids is not None:
            try:
                sent = dunning.send_reminders(
                    actor=actor, house_ids=ids, channel=data["channel"], note=data["note"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                _report(request, sent)
                target = _safe_next(request, data["next"])
                return redirect(target or reverse("billing:dunning_batch", args=[sent.batch]))
    if not filters.is_valid():
        filters = DunningFilterForm(QueryDict(), actor=actor)
    context = _list_context(request, filters, reminder_form=form)
    return render(request, "billing/console/dunning.html", context, status=400)


def _report(request, sent) -> None:
    channel = DunningNotice.Channel(sent.channel).label
    count = len(sent.notices)
    text = ngettext(
        "%(n)d reminder recorded (%(channel)s).",
        "%(n)d reminders recorded (%(channel)s).",
        count,
    ) % {"n": count, "channel": channel}
    if sent.channel in (DunningNotice.Channel.NOTICE, DunningNotice.Channel.SMS):
        text += " " + ngettext(
            "%(n)d resident notified.", "%(n)d residents notified.", sent.recipients
        ) % {"n": sent.recipients}
    if sent.skipped:
        text += " " + ngettext(
            "%(n)d of the houses chosen owes nothing overdue any more and was left out.",
            "%(n)d of the houses chosen owe nothing overdue any more and were left out.",
            sent.skipped,
        ) % {"n": sent.skipped}
    messages.success(request, text)


@require_GET
@console_view(VIEW)
def dunning_export(request):
    actor = request.actor
    form = DunningFilterForm(request.GET, actor=actor)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Correct the filters: %s") % form.errors.as_text())
    today = timezone.localdate()
    rows = dunning.dunning_houses(actor, as_of=today, **form.selector_args())
    out = spooled_file()
    export_dunning(actor=actor, rows=rows, as_of=today, out=out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        out, as_attachment=True, filename=f"wuye-dunning-{stamp}.xlsx", content_type=XLSX_TYPE
    )


def _batch(actor, batch):
    notices = list(dunning.batch_notices(actor, batch))
    if not notices:
        raise Http404
    return notices


@require_GET
@console_view(VIEW)
def dunning_batch(request, batch):
    actor = request.actor
    notices = _batch(actor, batch)
    first = notices[0]
    names = dunning.residents_of(notice.house_id for notice in notices)
    for notice in notices:
        notice.residents = names.get(notice.house_id, [])
    return render(
        request,
        "billing/console/dunning_batch.html",
        {
            "notices": notices,
            "first": first,
            "batch": batch,
            "total": sum(notice.amount_due for notice in notices),
            "can_print": actor.has_perm(COLLECT) and first.channel == DunningNotice.Channel.LETTER,
            "tab": "dunning",
            "breadcrumbs": _crumbs((f"{timezone.localtime(first.sent_at):%Y-%m-%d %H:%M}", None)),
        },
    )


@require_GET
@console_view(COLLECT)
def dunning_letters(request, batch):
    """The batch's letters as one PDF (``?house=<id>``: that house's letter only)."""
    notices = [n for n in _batch(request.actor, batch) if n.channel == DunningNotice.Channel.LETTER]
    house = request.GET.get("house", "")
    if house:
        notices = [n for n in notices if str(n.house_id) == house]
    if not notices:
        raise Http404
    return pdf_response(render_letters(notices), f"dunning-{batch}.pdf")


@require_GET
@console_view(VIEW)
def dunning_house(request, pk):
    """A house's overdue bills and every reminder it had; collectors record one here."""
    actor = request.actor
    house = get_object_or_404(
        billing_houses(actor).select_related("company", "community", "building", "unit"), pk=pk
    )
    today = timezone.localdate()
    bills = dunning.house_overdue(actor, house, today)
    notices = (
        DunningNotice.objects.visible_to(actor)
        .filter(house=house)
        .select_related("sent_by")
        .order_by("-sent_at", "-id")
    )
    can_send = actor.has_perm(COLLECT)
    return render(
        request,
        "billing/console/dunning_house.html",
        {
            "house": house,
            "bills": bills,
            "owed": sum((bill.balance for bill in bills), 0),
            "residents": dunning.residents_of([house.pk]).get(house.pk, []),
            "notices": notices[:200],
            "today": today,
            "can_send": can_send,
            "reminder_form": ReminderForm(initial={"next": request.path}) if can_send else None,
            "tab": "dunning",
            "breadcrumbs": _crumbs((house.address, None)),
        },
    )
