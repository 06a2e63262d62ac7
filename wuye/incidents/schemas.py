"""API shapes of emergencies: the report, the incident with its timeline, updates and
the status actions. Times are ISO 8601 with the offset."""

import datetime
from typing import Literal

from ninja import Field, Schema

from wuye.accounts.actor import request_actor
from wuye.core.apitools import NO_NUL, Id, InputSchema, choices_literal
from wuye.incidents import services
from wuye.incidents.models import EventKind, Kind, Scope, Severity, Status

KindValue = choices_literal(Kind)
SeverityValue = choices_literal(Severity)
StatusValue = choices_literal(Status)
ScopeValue = choices_literal(Scope)
EventKindValue = choices_literal(EventKind)
ActionValue = Literal["respond", "resolve", "close", "cancel"]


class IncidentFilters(Schema):
    status: list[StatusValue] | None = Field(None, description="One or more statuses.")
    active: bool = Field(False, description="Only reported and responding emergencies.")
    kind: KindValue | None = None
    community: Id | None = Field(None, description="Community id.")


class IncidentIn(InputSchema):
    community_id: Id
    kind: KindValue
    severity: SeverityValue = Severity.MAJOR
    description: str = Field(max_length=2000, pattern=NO_NUL, description="What happened.")
    building_ids: list[Id] = Field(
        [], max_length=200, description="Affected buildings; none: the whole community."
    )
    asset_id: Id | None = Field(None, description="The equipment involved (e.g. the lift).")
    location: str = Field("", max_length=200)
    tell_residents: bool | None = Field(
        None,
        description="Notify the residents of the affected area; null: as usual for the kind "
        "(water, power, fire, gas: yes).",
    )
    residents_message: str = Field(
        "", max_length=2000, description="Empty: the usual advice for the kind."
    )


class UpdateIn(InputSchema):
    note: str = Field(max_length=2000, description="Required.")
    tell_residents: bool = Field(
        False, description="Also send it to the residents of the affected area (managers)."
    )


class TransitionIn(InputSchema):
    action: ActionValue = Field(
        description="respond (reported → responding), resolve (→ resolved), close "
        "(resolved → closed), cancel (a false alarm)."
    )
    note: str = Field(
        "", max_length=2000, description="resolve: what was done (required); cancel: why."
    )
    tell_residents: bool | None = Field(
        None, description="resolve: send the all-clear; null: if they were told before."
    )
    residents_message: str = Field(
        "", max_length=2000, description="resolve: empty gives the usual all-clear."
    )


class IncidentEventOut(Schema):
    id: int
    kind: EventKindValue
    actor_name: str | None = Field(description="Who did it; null for the system.")
    from_status: StatusValue | None
    to_status: StatusValue | None
    note: str
    payload: dict = Field(description="notified events: count (people) and roles.")
    at: datetime.datetime

    @staticmethod
    def resolve_actor_name(obj) -> str | None:
        return obj.actor.display_name if obj.actor_id else None

    @staticmethod
    def resolve_from_status(obj) -> str | None:
        return obj.from_status or None

    @staticmethod
    def resolve_to_status(obj) -> str | None:
        return obj.to_status or None


class IncidentListOut(Schema):
    id: int
    number: str
    company_id: int
    community_id: int
    kind: KindValue
    severity: SeverityValue
    scope: ScopeValue
    status: StatusValue
    location: str
    asset_id: int | None
    reported_at: datetime.datetime


class IncidentOut(IncidentListOut):
    description: str
    building_ids: list[int]
    reported_by_name: str
    responded_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    actions: list[str] = Field(description="What the caller may do now (update and actions).")
    events: list[IncidentEventOut] = Field(description="The timeline, oldest first.")

    @staticmethod
    def resolve_building_ids(obj) -> list[int]:
        return sorted(b.pk for b in obj.buildings.all())

    @staticmethod
    def resolve_reported_by_name(obj) -> str:
        return obj.reported_by.display_name

    @staticmethod
    def resolve_actions(obj, context) -> list[str]:
        return services.allowed_actions(request_actor(context["request"]), obj)

    @staticmethod
    def resolve_events(obj) -> list:
        return list(obj.events.select_related("actor").order_by("id"))
