"""API shapes of residents and residencies. Personal data is masked by default."""

import datetime

from ninja import Field, Schema

from wuye.accounts.actor import request_actor
from wuye.core.apitools import Id, InputSchema, choices_literal
from wuye.people.models import Residency

Relation = choices_literal(Residency.Relation)

SENSITIVE = "people.view_sensitive"


class ResidentListOut(Schema):
    """In lists the mobile and the ID number are always masked."""

    id: int
    company_id: int
    name: str
    mobile: str = Field(description="Masked, e.g. 138****0001.")
    id_number: str = Field(description="Masked, e.g. 1101**********1234.")
    note: str
    has_login: bool

    @staticmethod
    def resolve_mobile(obj) -> str:
        return obj.masked_mobile

    @staticmethod
    def resolve_id_number(obj) -> str:
        return obj.masked_id_number

    @staticmethod
    def resolve_has_login(obj) -> bool:
        return obj.user_id is not None


class ResidentOut(ResidentListOut):
    """One resident: full mobile and ID number only for people.view_sensitive."""

    mobile: str = Field(description="Full for people.view_sensitive, masked otherwise.")
    id_number: str = Field(description="Full for people.view_sensitive, masked otherwise.")

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        if request_actor(context["request"]).has_perm(SENSITIVE):
            return obj.mobile
        return obj.masked_mobile

    @staticmethod
    def resolve_id_number(obj, context) -> str:
        if request_actor(context["request"]).has_perm(SENSITIVE):
            return obj.id_number
        return obj.masked_id_number


class ResidentIn(InputSchema):
    name: str
    mobile: str = ""
    id_number: str = ""
    note: str = ""
    house_id: Id | None = Field(
        None, description="Move the new resident into this house (required for community staff)."
    )
    relation: Relation | None = None
    move_in: datetime.date | None = Field(None, description="Defaults to today.")


class ResidentPatch(InputSchema):
    name: str | None = None
    mobile: str | None = None
    id_number: str | None = None
    note: str | None = None


class ResidencyOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    house_id: int
    house_address: str
    relation: Relation
    move_in: datetime.date | None
    move_out: datetime.date | None

    @staticmethod
    def resolve_resident_name(obj) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_house_address(obj) -> str:
        return obj.house.address


class MoveInIn(InputSchema):
    resident_id: Id
    house_id: Id
    relation: Relation
    on: datetime.date | None = Field(None, description="Move-in date; defaults to today.")


class MoveOutIn(InputSchema):
    on: datetime.date | None = Field(None, description="Move-out date; defaults to today.")
