"""Console pages of the privacy app.

- ``audit_log`` (+ ``?export=xlsx``): the company's exports and looks at personal data
  (privacy.view_audit).
- ``deletion_list``, ``deletion_approve``, ``deletion_reject``: residents' deletion
  requests (privacy.erasure in their community).
- ``retention``: how long personal data is kept (company.manage).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404
from wuye.privacy import exports, selectors, services
from wuye.privacy.forms import AccessLogFilterForm, DecisionForm, DeletionFilterForm, RetentionForm
from wuye.privacy.models import DeletionRequest, DeletionState

STATE_BADGE = {
    DeletionState.REQUESTED: "warning",
    DeletionState.APPROVED: "muted",
    DeletionState.REJECTED: "danger",
    DeletionState.DONE: "success",
}


def _list_query(request) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("export", None)
    return query.urlencode()


@require_GET
@console_view(services.VIEW_AUDIT)
def audit_log(request):
    form = AccessLogFilterForm(request.GET)
    rows = selectors.access_log(request.actor, **form.service_args()) if form.is_valid() else None
    if request.GET.get("export") == "xlsx":
        if rows is None:
            return HttpResponseBadRequest(_("Correct the filters to export."))
        return exports.access_log_response(rows)
    page = None
    if rows is not None:
        page = newest_first_page(rows, before=after_param(request), query=request.GET)
    return render(
        request,
        "privacy/audit_log.html",
        {"form": form, "page": page, "list_query": _list_query(request)},
    )


@require_GET
@console_view(services.ERASE)
def deletion_list(request):
    # Waiting requests first: those are the ones to decide ("state=" shows every one).
    query = request.GET.copy()
    query.setdefault("state", DeletionState.REQUESTED)
    form = DeletionFilterForm(query)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    rows = selectors.deletion_requests(request.actor, state=state)
    page = newest_first_page(rows, before=after_param(request), query=request.GET)
    for row in page.items:
        row.badge = STATE_BADGE.get(row.state, "")
    return render(
        request,
        "privacy/deletion_list.html",
        {"form": form, "page": page, "decision_form": DecisionForm()},
    )


def _decide(request, pk, decide, done_message):
    actor = request.actor
    found = get_visible_or_404(DeletionRequest.objects, actor, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decide(found, form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done_message % {"id": found.pk})
            return redirect("privacy:deletion_list")
    errors = " ".join(str(e) for errors in form.errors.values() for e in errors)
    messages.error(request, errors or _("Give a reason."))
    return redirect("privacy:deletion_list")


@require_POST
@console_view(services.ERASE)
def deletion_approve(request, pk: int):
    return _decide(
        request,
        pk,
        lambda found, note: services.approve_deletion(
            actor=request.actor, found=found, note=note, request=request
        ),
        _("Request #%(id)s approved: the resident's personal data has been erased."),
    )


@require_POST
@console_view(services.ERASE)
def deletion_reject(request, pk: int):
    return _decide(
        request,
        pk,
        lambda found, note: services.reject_deletion(actor=request.actor, found=found, note=note),
        _("Request #%(id)s rejected."),
    )


@console_view(services.MANAGE_RETENTION)
def retention(request):
    actor = request.actor
    current = services.retention_of(actor.staff.company_id)
    if request.method == "POST":
        form = RetentionForm(request.POST, instance=current)
        if form.is_valid():
            try:
                services.update_retention(actor=actor, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Retention settings saved."))
                return redirect("privacy:retention")
    else:
        form = RetentionForm(instance=current)
    return render(
        request,
        "privacy/retention.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
