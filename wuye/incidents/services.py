"""The emergency lifecycle: report, respond, post updates, resolve, close or cancel.

``TRANSITIONS`` is the whole state machine; ``_transition`` is the only place that
changes ``Incident.status``. It locks the row, checks the current status against the
table, applies the change and appends a typed event in the same transaction, so a
lost race or a forbidden move changes nothing.

Notifications are collected in ``delivered_together()`` inside the transaction and
stored by one task after it commits: a refused report notifies nobody, and the
thousands of residents of a community cost a few bulk inserts.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.core.i18n import site_text
from wuye.core.services import full_clean
from wuye.incidents import audiences
from wuye.incidents.models import (
    EventKind,
    Incident,
    IncidentEvent,
    Scope,
    Severity,
    Status,
)
from wuye.incidents.playbook import PLAYBOOK
from wuye.notifications.services import delivered_together, notify
from wuye.webhooks.payloads import incident_reported
from wuye.workorders.services import InvalidTransition as StatusConflict

S = Status
REPORT, MANAGE = "incidents.report", "incidents.manage"

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "respond": (frozenset({S.REPORTED}), S.RESPONDING),
    "resolve": (frozenset({S.REPORTED, S.RESPONDING}), S.RESOLVED),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "cancel": (frozenset({S.REPORTED, S.RESPONDING}), S.CANCELLED),
}
# Who may take each action (any one of the permissions, in the incident's community).
# Responding and updates are for whoever is on it; what ends an emergency, or speaks to
# every resident after the report, is the managers'.
ACTION_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "respond": (REPORT, MANAGE),
    "update": (REPORT, MANAGE),
    "resolve": (MANAGE,),
    "close": (MANAGE,),
    "cancel": (MANAGE,),
}
# Updates can be posted until the record is closed.
UPDATABLE = frozenset({S.REPORTED, S.RESPONDING, S.RESOLVED})

# Notification titles; ``%(kind)s`` and ``%(place)s`` are filled in by ``_site_text``.
REPORTED_TITLE = gettext_lazy("Emergency: %(kind)s at %(place)s")
NOTICE_TITLE = gettext_lazy("Notice: %(kind)s at %(place)s")
UPDATE_TITLE = gettext_lazy("Update: %(kind)s at %(place)s")
RESOLVED_TITLE = gettext_lazy("Resolved: %(kind)s at %(place)s")
FALSE_ALARM_TITLE = gettext_lazy("False alarm: %(kind)s at %(place)s")
FALSE_ALARM_MESSAGE = gettext_lazy(
    "The earlier notice was a false alarm. Sorry for the disturbance."
)

ACTION_LABELS = {
    "respond": gettext_lazy("marked as responding"),
    "resolve": gettext_lazy("resolved"),
    "close": gettext_lazy("closed"),
    "cancel": gettext_lazy("cancelled"),
}


class InvalidTransition(StatusConflict):
    """The incident is not in a status this action may start from (the API answers
    409 for these, as for work orders)."""


# --- who may act ----------------------------------------------------------------------
def may(actor, incident: Incident, action: str) -> bool:
    """The actor's role and scope allow ``action`` on this incident (status aside)."""
    return (
        bool(actor.staff)
        and incident.company_id == actor.staff.company_id
        and incident.community_id in actor.community_ids
        and any(actor.has_perm(p) for p in ACTION_PERMISSIONS[action])
    )


def allowed_actions(actor, incident: Incident) -> list[str]:
    """The actions the actor may take on the incident now."""
    names = [
        name
        for name, (sources, _to) in TRANSITIONS.items()
        if incident.status in sources and may(actor, incident, name)
    ]
    if incident.status in UPDATABLE and may(actor, incident, "update"):
        names.append("update")
    return names


def may_tell_residents(actor, incident: Incident) -> bool:
    return may(actor, incident, "resolve")


def _require(actor, incident, action: str) -> None:
    if not may(actor, incident, action):
        raise PermissionDenied(action)


# --- the timeline -----------------------------------------------------------------------
def _record(incident, kind, *, actor, from_status="", note="", payload=None) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=getattr(actor, "user", None) if actor is not None else None,
        from_status=from_status,
        to_status=incident.status if from_status else "",
        note=note,
        payload=payload or {},
        at=timezone.now(),
    )


def _transition(incident, action, *, actor, event, note="", changes=None) -> Incident:
    sources, target = TRANSITIONS[action]
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.status not in sources:
        raise InvalidTransition(
            _("This emergency is %(status)s; it cannot be %(action)s.")
            % {"status": locked.get_status_display(), "action": ACTION_LABELS[action]},
            code="invalid_transition",
        )
    from_status = locked.status
    for field, value in (changes or {}).items():
        setattr(locked, field, value)
    locked.status = target
    locked.save()
    _record(locked, event, actor=actor, from_status=from_status, note=note)
    return locked


def _text(value, field: str, *, required: bool, limit: int = 2000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({field: _("Write at most %(limit)d characters.") % {"limit": limit}})
    return value


# --- telling people ---------------------------------------------------------------------
def place_label(incident: Incident) -> str:
    """翠湖花园, or 翠湖花园 1栋、2栋 when only some buildings are affected."""
    if incident.scope != Scope.BUILDINGS:
        return incident.community.name
    names = "、".join(b.name for b in incident.buildings.order_by("sort_order", "id"))
    return f"{incident.community.name} {names}"


def _tell_staff(incident, *, actor, title, body: str, reason: str) -> IncidentEvent:
    """Notify the playbook's responders (not the actor) and record how many."""
    users, roles = audiences.responders(incident)
    if actor is not None:
        users.discard(actor.user.pk)
    event = _record(
        incident,
        EventKind.STAFF_NOTIFIED,
        actor=actor,
        payload={"count": len(users), "roles": roles, "reason": reason},
    )
    notify(
        recipients=users,
        kind=f"incident.{reason}",
        title=title,
        body=body[:200],
        url=reverse("incidents:detail", args=[incident.pk]),
        obj=incident,
        dedupe_key=f"incident-event:{event.pk}",
    )
    return event


def _tell_residents(incident, *, actor, title, message: str, reason: str) -> IncidentEvent:
    """Notify the residents of the affected area (staff among them hear as staff, not
    twice) and record how many."""
    users = audiences.affected_residents(incident)
    users -= audiences.responders(incident)[0]
    event = _record(
        incident,
        EventKind.RESIDENTS_NOTIFIED,
        actor=actor,
        note=message,
        payload={"count": len(users), "reason": reason},
    )
    notify(
        recipients=users,
        kind=f"incident.{reason}",
        title=title,
        body=message,
        obj=incident,
        dedupe_key=f"incident-event:{event.pk}",
    )
    return event


def _residents_were_told(incident) -> bool:
    return incident.events.filter(kind=EventKind.RESIDENTS_NOTIFIED).exists()


def _site_text(text, incident=None) -> str:
    """``text`` in the site's language (one stored notification serves every reader,
    whatever language the reporting user's page is in), with the incident's kind and
    place filled in when given."""
    if incident is None:
        return site_text(text)
    return site_text(text, {"kind": incident.get_kind_display(), "place": place_label(incident)})


# --- intake -----------------------------------------------------------------------------
@transaction.atomic
def report_incident(
    *,
    actor,
    community,
    kind: str,
    description: str,
    severity: str = Severity.MAJOR,
    buildings=(),
    asset=None,
    location: str = "",
    tell_residents: bool | None = None,
    residents_message: str = "",
) -> Incident:
    """Record an emergency in one of the actor's communities and call the responders of
    the playbook at once. No buildings: the whole community is affected. Residents of
    the affected area are told when ``tell_residents`` (default: the playbook's) with
    ``residents_message`` (default: the playbook's advice)."""
    if not actor.staff or not any(actor.has_perm(p) for p in (REPORT, MANAGE)):
        raise PermissionDenied(REPORT)
    if community.company_id != actor.staff.company_id or community.id not in actor.community_ids:
        raise PermissionDenied(REPORT)
    buildings = list(dict.fromkeys(buildings))
    if any(b.community_id != community.id for b in buildings):
        raise ValidationError({"buildings": _("Choose buildings of this community.")})
    if asset is not None and asset.community_id != community.id:
        raise ValidationError({"asset": _("Choose equipment of this community.")})
    now = timezone.now()
    incident = Incident(
        company_id=community.company_id,
        community=community,
        number=f"tmp-{now.timestamp()}",
        kind=kind,
        severity=severity or Severity.MAJOR,
        scope=Scope.BUILDINGS if buildings else Scope.COMMUNITY,
        asset=asset,
        location=(location or "").strip(),
        reported_by=actor.user,
        reported_at=now,
    )
    incident.description = _text(description, "description", required=True)
    full_clean(incident, exclude=["number"])
    message = _text(residents_message, "residents_message", required=False)
    incident.save()
    incident.buildings.set(buildings)
    incident.number = f"YJ{timezone.localtime(now):%Y%m%d}{incident.pk:04d}"
    Incident.objects.filter(pk=incident.pk).update(number=incident.number)
    _record(
        incident,
        EventKind.REPORTED,
        actor=actor,
        note=incident.description,
        payload={"severity": incident.severity, "buildings": [b.name for b in buildings]},
    )
    incident_reported(incident, [b.pk for b in buildings])  # webhooks, after commit
    play = PLAYBOOK[kind]
    with delivered_together():
        _tell_staff(
            incident,
            actor=actor,
            title=_site_text(REPORTED_TITLE, incident),
            body=incident.description,
            reason="reported",
        )
        if play.tell_residents if tell_residents is None else tell_residents:
            _tell_residents(
                incident,
                actor=actor,
                title=_site_text(NOTICE_TITLE, incident),
                message=message or _site_text(play.advice),
                reason="reported",
            )
    return incident


# --- on the way -------------------------------------------------------------------------
@transaction.atomic
def respond_to_incident(*, actor, incident: Incident, note: str = "") -> Incident:
    """Someone is on it (响应): the dispatcher sent people, or a responder is on site."""
    _require(actor, incident, "respond")
    note = _text(note, "note", required=False)
    return _transition(
        incident,
        "respond",
        actor=actor,
        event=EventKind.RESPONDING,
        note=note,
        changes={"responded_at": timezone.now()},
    )


@transaction.atomic
def post_update(
    *, actor, incident: Incident, note: str, tell_residents: bool = False
) -> IncidentEvent:
    """A progress note on the timeline; managers may also send it to the residents of
    the affected area ("water back by 18:00")."""
    _require(actor, incident, "update")
    if tell_residents and not may_tell_residents(actor, incident):
        raise PermissionDenied(MANAGE)
    note = _text(note, "note", required=True)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.status not in UPDATABLE:
        raise InvalidTransition(
            _("This emergency is %(status)s; it takes no more updates.")
            % {"status": locked.get_status_display()},
            code="invalid_transition",
        )
    event = _record(locked, EventKind.UPDATE, actor=actor, note=note)
    if tell_residents:
        with delivered_together():
            _tell_residents(
                locked,
                actor=actor,
                title=_site_text(UPDATE_TITLE, locked),
                message=note,
                reason="update",
            )
    return event


# --- the end ----------------------------------------------------------------------------
@transaction.atomic
def resolve_incident(
    *,
    actor,
    incident: Incident,
    note: str,
    tell_residents: bool | None = None,
    residents_message: str = "",
) -> Incident:
    """The emergency is over (water back, people freed). The responders stand down;
    residents hear the all-clear when ``tell_residents`` (default: when they were
    told anything before) with ``residents_message`` (default: the playbook's)."""
    _require(actor, incident, "resolve")
    note = _text(note, "note", required=True)
    message = _text(residents_message, "residents_message", required=False)
    incident = _transition(
        incident,
        "resolve",
        actor=actor,
        event=EventKind.RESOLVED,
        note=note,
        changes={"resolved_at": timezone.now()},
    )
    if tell_residents is None:
        tell_residents = _residents_were_told(incident)
    title = _site_text(RESOLVED_TITLE, incident)
    with delivered_together():
        _tell_staff(incident, actor=actor, title=title, body=note, reason="resolved")
        if tell_residents:
            _tell_residents(
                incident,
                actor=actor,
                title=title,
                message=message or _site_text(PLAYBOOK[incident.kind].all_clear),
                reason="resolved",
            )
    return incident


@transaction.atomic
def close_incident(*, actor, incident: Incident, note: str = "") -> Incident:
    """Close the record once the follow-up (cause, repairs, report) is done."""
    _require(actor, incident, "close")
    note = _text(note, "note", required=False)
    return _transition(
        incident,
        "close",
        actor=actor,
        event=EventKind.CLOSED,
        note=note,
        changes={"closed_at": timezone.now()},
    )


@transaction.atomic
def cancel_incident(*, actor, incident: Incident, reason: str) -> Incident:
    """A false alarm: the responders stand down, and residents who were told hear it."""
    _require(actor, incident, "cancel")
    reason = _text(reason, "reason", required=True, limit=500)
    incident = _transition(
        incident,
        "cancel",
        actor=actor,
        event=EventKind.CANCELLED,
        note=reason,
        changes={"closed_at": timezone.now()},
    )
    title = _site_text(FALSE_ALARM_TITLE, incident)
    with delivered_together():
        _tell_staff(incident, actor=actor, title=title, body=reason, reason="cancelled")
        if _residents_were_told(incident):
            _tell_residents(
                incident,
                actor=actor,
                title=title,
                message=_site_text(FALSE_ALARM_MESSAGE),
                reason="cancelled",
            )
    return incident
