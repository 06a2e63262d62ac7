"""``/api/v1/incidents`` — emergencies: the list, one incident with its timeline, the
report, updates and one operation for the status actions.

Reads are scoped with ``Incident.objects.visible_to`` (staff who report or manage
emergencies, in their communities); every write calls its named function in
``wuye.incidents.services``. A move the status does not allow is a 409.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    actor,
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import Building, Community
from wuye.facilities.models import Asset
from wuye.incidents import selectors, services
from wuye.incidents.models import ACTIVE_STATUSES
from wuye.incidents.schemas import (
    IncidentEventOut,
    IncidentFilters,
    IncidentIn,
    IncidentListOut,
    IncidentOut,
    TransitionIn,
    UpdateIn,
)

router = Router(tags=["incidents"])
ACTION_ERRORS = {**WRITE_ERRORS, 409: ErrorOut}


# The services name model fields; the API's body names ids.
API_FIELDS = {"buildings": "building_ids", "asset": "asset_id"}


@contextmanager
def _api_field_names():
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, api_field in API_FIELDS.items():
                if field in exc.error_dict:
                    exc.error_dict[api_field] = exc.error_dict.pop(field)
        raise


def _detail(incident_id: int):
    return selectors.incidents().prefetch_related("buildings").get(pk=incident_id)


@router.get(
    "/incidents",
    response={200: list[IncidentListOut], **LIST_ERRORS},
    summary="List emergencies",
    description="Newest first (keyset-paginated on id). Staff who report or manage "
    "emergencies see those of their communities; residents see none.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_incidents(request, filters: Query[IncidentFilters]):
    qs = selectors.incidents().visible_to(actor(request))
    if filters.active:
        qs = qs.filter(status__in=ACTIVE_STATUSES)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    return qs


@router.post(
    "/incidents",
    response={201: IncidentOut, **WRITE_ERRORS},
    summary="Report an emergency",
    description="Records it and notifies the responders of its kind at once (after the "
    "commit), and the residents of the affected area when asked or usual for the kind.",
)
@idempotent
def report_incident(request, payload: IncidentIn):
    who = actor(request)
    community = visible_ref(Community.objects, who, payload.community_id, "community_id")
    buildings = visible_refs(Building.objects, who, payload.building_ids, "building_ids")
    asset = visible_ref(Asset.objects, who, payload.asset_id, "asset_id")
    with _api_field_names():
        incident = services.report_incident(
            actor=who,
            community=community,
            kind=payload.kind,
            severity=payload.severity,
            description=payload.description,
            buildings=buildings,
            asset=asset,
            location=payload.location,
            tell_residents=payload.tell_residents,
            residents_message=payload.residents_message,
        )
    return Status(201, _detail(incident.pk))


@router.get("/incidents/{incident_id}", response={200: IncidentOut, **READ_ERRORS})
def get_incident(request, incident_id: Id):
    return get_visible_or_404(
        selectors.incidents().prefetch_related("buildings"), actor(request), pk=incident_id
    )


@router.post(
    "/incidents/{incident_id}/updates",
    response={201: IncidentEventOut, **ACTION_ERRORS},
    summary="Post an update",
    description="A progress note on the timeline; managers may also send it to the "
    "residents of the affected area. A retry with the same Idempotency-Key posts (and "
    "notifies) once.",
)
@idempotent
def post_incident_update(request, incident_id: Id, payload: UpdateIn):
    who = actor(request)
    incident = get_visible_or_404(selectors.incidents(), who, pk=incident_id)
    event = services.post_update(
        actor=who, incident=incident, note=payload.note, tell_residents=payload.tell_residents
    )
    return Status(201, event)


@router.post(
    "/incidents/{incident_id}/transitions",
    response={200: IncidentOut, **ACTION_ERRORS},
    summary="Change an emergency's status",
    description="respond, resolve, close or cancel (false alarm); 409 when the status "
    "does not allow it.",
)
def transition_incident(request, incident_id: Id, payload: TransitionIn):
    who = actor(request)
    incident = get_visible_or_404(selectors.incidents(), who, pk=incident_id)
    if payload.action == "respond":
        services.respond_to_incident(actor=who, incident=incident, note=payload.note)
    elif payload.action == "resolve":
        services.resolve_incident(
            actor=who,
            incident=incident,
            note=payload.note,
            tell_residents=payload.tell_residents,
            residents_message=payload.residents_message,
        )
    elif payload.action == "close":
        services.close_incident(actor=who, incident=incident, note=payload.note)
    else:
        services.cancel_incident(actor=who, incident=incident, reason=payload.note)
    return _detail(incident.pk)
