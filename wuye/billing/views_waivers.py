"""Console pages of discounts and waivers (减免): discount rules (list, new, edit) and
waivers (list with filters and the pending count, propose, approve or reject with a
note). ``billing.view`` sees, ``billing.manage`` proposes and decides; the proposer
never decides (``wuye.billing.waivers``)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.billing import waivers
from wuye.billing.forms_waivers import DecideForm, ProposeForm, RuleForm, WaiverFilterForm
from wuye.billing.models import DiscountRule, Waiver
from wuye.billing.views_console import MANAGE, VIEW, _crumbs
from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404

STATUS_BADGE = {
    Waiver.Status.PENDING: "warning",
    Waiver.Status.APPROVED: "success",
    Waiver.Status.REJECTED: "muted",
}


def _mine(queryset, actor):
    """Rows of the actor's own communities (a company-wide role: all of the company's)."""
    return queryset.visible_to(actor).filter(community_id__in=sorted(actor.community_ids))


# --- rules ------------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def rule_list(request):
    actor = request.actor
    rules = (
        _mine(DiscountRule.objects, actor)
        .select_related("community", "fee_item")
        .annotate(
            pending=Count("waivers", filter=Q(waivers__status=Waiver.Status.PENDING)),
            approved=Count("waivers", filter=Q(waivers__status=Waiver.Status.APPROVED)),
        )
        .order_by("community__name", "community_id", "fee_item_id", "kind", "id")
    )
    return render(
        request,
        "billing/console/rule_list.html",
        {"rules": rules, "can_manage": actor.has_perm(MANAGE), "tab": "waivers"},
    )


def _rule_form_page(request, form, heading):
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "cascade": True,
            "heading": heading,
            "breadcrumbs": _crumbs(
                (_("Waivers"), reverse("billing:waiver_list")),
                (_("Discount rules"), reverse("billing:rule_list")),
                (heading, None),
            ),
        },
    )


@console_view(MANAGE)
def rule_create(request):
    actor = request.actor
    if request.method == "POST":
        form = RuleForm(request.POST, actor=actor)
    else:
        form = RuleForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            rule = waivers.create_rule(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Discount rule %s created.") % rule.name)
            return redirect("billing:rule_list")
    return _rule_form_page(request, form, _("New discount rule"))


@console_view(MANAGE)
def rule_edit(request, pk):
    actor = request.actor
    rule = get_visible_or_404(_mine(DiscountRule.objects, actor), actor, pk=pk)
    initial = {
        "community": rule.community_id,
        "fee_item": rule.fee_item_id,
        "kind": rule.kind,
        "name": rule.name,
        "rate": rule.rate,
        "min_months": rule.min_months,
        "is_active": rule.is_active,
    }
    data = request.POST if request.method == "POST" else None
    form = RuleForm(data, initial=initial, actor=actor, rule=rule)
    if request.method == "POST" and form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if not form.fields[k].disabled}
        try:
            waivers.update_rule(actor=actor, rule=rule, **changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Discount rule saved."))
            return redirect("billing:rule_list")
    return _rule_form_page(request, form, rule.name)


# --- waivers ----------------------------------------------------------------------------
def _list_page(request, *, decide_error=None, status=200):
    actor = request.actor
    form = WaiverFilterForm(request.GET, actor=actor)
    mine = _mine(Waiver.objects, actor)
    page = None
    if form.is_valid():
        page = newest_first_page(
            form.filter(mine).select_related(
                "community",
                "house__building",
                "house__unit",
                "rule",
                "fee_item",
                "proposed_by",
                "decided_by",
            ),
            before=after_param(request),
            query=request.GET,
        )
        for waiver in page.items:
            waiver.badge = STATUS_BADGE.get(waiver.status, "")
            waiver.can_decide = (
                waiver.status == Waiver.Status.PENDING
                and actor.has_perm(MANAGE)
                and waiver.community_id in actor.community_ids
                and waiver.proposed_by_id != actor.user.pk
            )
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "billing/console/waiver_list.html",
        {
            "form": form,
            "page": page,
            "pending": mine.filter(status=Waiver.Status.PENDING).count(),
            "can_manage": actor.has_perm(MANAGE),
            "decide_error": decide_error,
            "user_id": actor.user.pk,
            "list_query": query.urlencode(),
            "tab": "waivers",
        },
        status=status,
    )


@require_GET
@console_view(VIEW)
def waiver_list(request):
    return _list_page(request)


@console_view(MANAGE)
def waiver_propose(request):
    actor = request.actor
    if request.method == "POST":
        form = ProposeForm(request.POST, actor=actor)
    else:  # GET parameters preselect the community (and re-render when it changes)
        form = ProposeForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            waiver = waivers.propose_waiver(actor=actor, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Waiver #%(id)s proposed; someone else must approve it.") % {"id": waiver.pk},
            )
            return redirect(reverse("billing:waiver_list") + "?status=pending")
    return render(
        request,
        "billing/console/form.html",
        {
            "form": form,
            "cascade": True,
            "heading": _("Propose a waiver"),
            "submit": _("Propose"),
            "intro": _(
                "A vacant-house discount needs the house recorded as vacant; a prepayment "
                "discount needs the months' fees (after the discount) already on the "
                "house's prepaid balance. Someone else with fee management approves it; "
                "bills already issued for those months are then credited, later bills "
                "are issued with the discount."
            ),
            "breadcrumbs": _crumbs(
                (_("Waivers"), reverse("billing:waiver_list")), (_("Propose"), None)
            ),
        },
    )


@require_POST
@console_view(MANAGE)
def waiver_decide(request, pk):
    actor = request.actor
    waiver = get_visible_or_404(_mine(Waiver.objects, actor), actor, pk=pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _list_page(request, decide_error=[_("Choose approve or reject.")], status=400)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        waivers.decide_waiver(
            actor=actor, waiver=waiver, approve=approve, note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        return _list_page(
            request, decide_error=[f"#{waiver.pk}: {m}" for m in exc.messages], status=400
        )
    messages.success(
        request,
        (_("Waiver #%(id)s approved.") if approve else _("Waiver #%(id)s rejected."))
        % {"id": waiver.pk},
    )
    return redirect(reverse("billing:waiver_list") + "?" + request.GET.urlencode())
