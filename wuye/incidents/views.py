"""Emergency pages: the list (active first), the report form, one incident with its
timeline and the actions open to the actor. Office staff get console pages; field
staff (whose home is the phone app) get the same views with mobile templates.

Views are thin: inputs are forms, reads go through ``visible_to``, every change is one
call to ``wuye.incidents.services``; a service's ValidationError lands on its form.
"""

import dataclasses
import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import KeysetPage, add_service_errors
from wuye.core.scoping import get_visible_or_404
from wuye.incidents import selectors, services
from wuye.incidents.forms import (
    CancelForm,
    IncidentFilterForm,
    NoteForm,
    ReportForm,
    ResolveForm,
    UpdateForm,
)
from wuye.incidents.models import INCIDENT_PERMISSIONS, EventKind, Incident, Severity, Status

PAGE_SIZE = 50
SEVERITY_BADGE = {Severity.MINOR: "muted", Severity.MAJOR: "warning", Severity.CRITICAL: "danger"}
STATUS_BADGE = {
    Status.REPORTED: "danger",
    Status.RESPONDING: "warning",
    Status.RESOLVED: "success",
    Status.CLOSED: "muted",
    Status.CANCELLED: "muted",
}


def incident_view(view):
    """Signed in, with a role that reports or manages emergencies."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not any(request.actor.has_perm(p) for p in INCIDENT_PERMISSIONS):
            raise PermissionDenied(INCIDENT_PERMISSIONS[0])
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _surface(request) -> str:
    """``mobile`` for field staff on their phones, ``console`` for the office."""
    return "mobile" if request.actor.home == "field" else "console"


def _render(request, name, context):
    return render(request, f"incidents/{_surface(request)}/{name}.html", context)


def _badges(incident):
    incident.severity_badge = SEVERITY_BADGE.get(incident.severity, "")
    incident.status_badge = STATUS_BADGE.get(incident.status, "")
    return incident


# --- the list ---------------------------------------------------------------------------
def _page(queryset, *, after: str, query) -> KeysetPage:
    """Keyset pages in list order (active first, then newest first); the cursor is
    ``active-id`` of the last row, so any page costs one indexed query."""
    queryset = selectors.active_first(queryset)
    if after:
        active, last_id = (int(part) for part in after.split("-"))
        queryset = queryset.filter(Q(active__lt=active) | Q(active=active, id__lt=last_id))
    rows = list(queryset[: PAGE_SIZE + 1])
    next_after = None
    if len(rows) > PAGE_SIZE:
        last = rows[PAGE_SIZE - 1]
        next_after = f"{last.active}-{last.id}"
    return KeysetPage(
        items=rows[:PAGE_SIZE], after=after or None, next_after=next_after, query=query
    )


@require_GET
@incident_view
def incident_list(request):
    actor = request.actor
    form = IncidentFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        incidents = form.filter(selectors.incidents().visible_to(actor))
        page = _page(incidents, after=form.cleaned_data["after"], query=request.GET)
        for incident in page.items:
            _badges(incident)
    return _render(request, "list", {"form": form, "page": page})


# --- reporting --------------------------------------------------------------------------
@incident_view
def report(request):
    actor = request.actor
    if request.method == "POST":
        form = ReportForm(request.POST, actor=actor)
    else:  # a GET with parameters is the form re-rendered after a select changed
        form = ReportForm(initial=request.GET.dict(), actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.report_incident(actor=actor, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Emergency %(number)s reported; the responders are being notified.")
                % {"number": incident.number},
            )
            return redirect("incidents:detail", pk=incident.pk)
    return _render(
        request,
        "report",
        {"form": form, "breadcrumbs": [(_("Emergencies"), reverse("incidents:list"))]},
    )


# --- one incident -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Action:
    name: str
    label: str
    done: str
    danger: bool = False


ACTIONS = {
    a.name: a
    for a in (
        Action("respond", gettext_lazy("Start responding"), gettext_lazy("Marked as responding.")),
        Action("update", gettext_lazy("Post an update"), gettext_lazy("Update posted.")),
        Action("resolve", gettext_lazy("Resolve"), gettext_lazy("Emergency resolved.")),
        Action("close", gettext_lazy("Close the record"), gettext_lazy("Record closed.")),
        Action(
            "cancel",
            gettext_lazy("Cancel as a false alarm"),
            gettext_lazy("Cancelled as a false alarm."),
            danger=True,
        ),
    )
}


def _form(actor, incident, action: str, data=None):
    if action == "update":
        may_tell = services.may_tell_residents(actor, incident)
        return UpdateForm(data, may_tell_residents=may_tell, prefix=action)
    if action == "resolve":
        told = incident.events.filter(kind=EventKind.RESIDENTS_NOTIFIED).exists()
        return ResolveForm(data, incident=incident, residents_told=told, prefix=action)
    if action == "cancel":
        return CancelForm(data, prefix=action)
    return NoteForm(data, prefix=action)


def _run(actor, incident, action: str, data: dict):
    if action == "respond":
        return services.respond_to_incident(actor=actor, incident=incident, note=data["note"])
    if action == "update":
        return services.post_update(
            actor=actor,
            incident=incident,
            note=data["note"],
            tell_residents=data.get("tell_residents", False),
        )
    if action == "resolve":
        return services.resolve_incident(
            actor=actor,
            incident=incident,
            note=data["note"],
            tell_residents=data["tell_residents"],
            residents_message=data["residents_message"],
        )
    if action == "close":
        return services.close_incident(actor=actor, incident=incident, note=data["note"])
    return services.cancel_incident(actor=actor, incident=incident, reason=data["reason"])


def _load(actor, pk) -> Incident:
    return get_visible_or_404(selectors.incidents(), actor, pk=pk)


def _detail(request, incident, *, failed=None):
    actor = request.actor
    allowed = services.allowed_actions(actor, incident)
    forms = [
        (ACTIONS[name], failed if failed is not None and failed.prefix == name else None)
        for name in ACTIONS
        if name in allowed
    ]
    forms = [(action, form or _form(actor, incident, action.name)) for action, form in forms]
    return _render(
        request,
        "detail",
        {
            "incident": _badges(incident),
            "buildings": list(incident.buildings.order_by("sort_order", "id")),
            "place": services.place_label(incident),
            "events": selectors.timeline(incident),
            "forms": forms,
            "breadcrumbs": [(_("Emergencies"), reverse("incidents:list"))],
        },
    )


@require_GET
@incident_view
def detail(request, pk):
    return _detail(request, _load(request.actor, pk))


def _act(request, pk, action: str):
    actor = request.actor
    incident = _load(actor, pk)
    if not services.may(actor, incident, action):
        raise PermissionDenied(action)
    form = _form(actor, incident, action, data=request.POST)
    if form.is_valid():
        try:
            _run(actor, incident, action, form.cleaned_data)
        except services.InvalidTransition as exc:
            messages.error(
                request,
                _("This emergency changed meanwhile: %(reason)s") % {"reason": exc.messages[0]},
            )
            return redirect("incidents:detail", pk=incident.pk)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, str(ACTIONS[action].done))
            return redirect("incidents:detail", pk=incident.pk)
    return _detail(request, _load(actor, pk), failed=form)


@require_POST
@incident_view
def add_update(request, pk):
    return _act(request, pk, "update")


@require_POST
@incident_view
def transition(request, pk, action):
    if action not in services.TRANSITIONS:
        raise Http404
    return _act(request, pk, action)
