"""API shapes of staff, roles, trades, shifts and the roster."""

import datetime

from ninja import Field, Schema

from wuye.core.apitools import NO_NUL, Id, InputSchema, LocalTime, choices_literal
from wuye.staff.models import StaffMember

DutyStatus = choices_literal(StaffMember.Status)


class RoleOut(Schema):
    id: int
    code: str
    name: str
    company_wide: bool
    permissions: list[str]


class RoleIn(InputSchema):
    name: str
    company_wide: bool
    permissions: list[str] = Field(description="Permission codes, e.g. estates.view.")


class RoleRef(Schema):
    id: int
    code: str
    name: str


class TradeOut(Schema):
    id: int
    code: str
    name: str


class ShiftOut(Schema):
    id: int
    name: str
    start_time: LocalTime
    end_time: LocalTime
    color: str
    crosses_midnight: bool


class ShiftIn(InputSchema):
    name: str
    start_time: LocalTime
    end_time: LocalTime = Field(description="At or before the start: crosses midnight.")
    color: str = ""


class StaffOut(Schema):
    id: int
    company_id: int
    employee_no: str
    name: str
    mobile: str
    status: DutyStatus
    is_active: bool
    roles: list[RoleRef]
    community_ids: list[int]
    trade_ids: list[int]

    @staticmethod
    def resolve_roles(obj) -> list:
        return list(obj.roles.all())

    @staticmethod
    def resolve_community_ids(obj) -> list[int]:
        return [c.id for c in obj.communities.all()]

    @staticmethod
    def resolve_trade_ids(obj) -> list[int]:
        return [t.id for t in obj.trades.all()]


class StaffIn(InputSchema):
    username: str = Field(max_length=150, pattern=NO_NUL)
    name: str
    employee_no: str
    password: str | None = Field(None, description="Omit to create a login without a password.")
    mobile: str = ""
    role_ids: list[Id] = Field(max_length=50)
    community_ids: list[Id] = Field([], max_length=500)
    trade_ids: list[Id] = Field([], max_length=50)


class DutyIn(InputSchema):
    status: DutyStatus


class RosterOut(Schema):
    id: int
    staff_id: int
    staff_name: str
    date: datetime.date
    shift_id: int
    shift_name: str
    community_id: int

    @staticmethod
    def resolve_staff_name(obj) -> str:
        return obj.staff.name

    @staticmethod
    def resolve_shift_name(obj) -> str:
        return obj.shift.name


class RosterIn(InputSchema):
    staff_id: Id
    date: datetime.date
    shift_id: Id
    community_id: Id
