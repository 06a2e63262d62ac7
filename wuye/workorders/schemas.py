"""API shapes of work orders: intake, the order, its timeline and one body per action.

Money is a decimal string with two places (¥); times are ISO 8601 with the offset.
"""

import datetime
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import BaseModel

from wuye.accounts.actor import request_actor
from wuye.core.api_photos import PhotoOut
from wuye.core.apitools import NO_NUL, Id, InputSchema, choices_literal
from wuye.workorders import selectors, sla
from wuye.workorders.models import (
    Channel,
    CloseReason,
    ComplaintParty,
    DispatchMode,
    EventType,
    RequestType,
    RootCause,
    SlaState,
    Status,
    Urgency,
)

RequestTypeValue = choices_literal(RequestType)
StatusValue = choices_literal(Status)
UrgencyValue = choices_literal(Urgency)
ChannelValue = choices_literal(Channel)
DispatchModeValue = choices_literal(DispatchMode)
EventTypeValue = choices_literal(EventType)
SlaStateValue = choices_literal(SlaState)
CloseReasonValue = choices_literal(CloseReason)
PartyValue = choices_literal(ComplaintParty)
RootCauseValue = choices_literal(RootCause)

Reason = Annotated[
    str, Field(max_length=200, pattern=NO_NUL, description="Required; at most 200 characters.")
]
Rating = Annotated[int | None, Field(ge=1, le=5)]
Chip = Annotated[str, Field(max_length=50)]


def photo_ids_field():
    return Field(
        [],
        max_length=9,
        description="Up to 9 photos uploaded with POST /photos by the caller (ids).",
    )


# --- categories ---------------------------------------------------------------------
class SubCategoryOut(Schema):
    id: int
    code: str
    name: str
    request_type: RequestTypeValue
    dispatch_mode: DispatchModeValue
    default_urgency: UrgencyValue
    is_paid: bool


class CategoryOut(SubCategoryOut):
    children: list[SubCategoryOut] = Field(
        description="Active sub-categories; orders are submitted against one of these."
    )

    @staticmethod
    def resolve_children(obj) -> list:
        return obj.active_children


# --- orders -------------------------------------------------------------------------
# A list row. A plain pydantic model, not a ninja ``Schema``: list pages hand it ready
# dicts (``list_row``), which pydantic validates in its core, where a ``Schema`` reads
# each field of each row through Python getters and resolvers — the largest Python cost
# of a page of 50 (bench/README.md, CPU per request). (No docstring: it would become the
# schema's description in the OpenAPI document.)
class WorkOrderListOut(BaseModel):
    id: int
    number: str
    company_id: int
    community_id: int
    community_name: str
    house_id: int | None
    common_area_id: int | None
    place: str = Field(description="House address or community + common area.")
    request_type: RequestTypeValue
    category_id: int
    category_name: str = Field(description="Parent › child.")
    dispatch_mode: DispatchModeValue
    channel: ChannelValue
    urgency: UrgencyValue
    priority: int
    status: StatusValue
    assignee_id: int | None
    assignee_name: str | None
    description: str
    submitted_at: datetime.datetime
    urge_count: int
    sla_state: SlaStateValue
    close_reason: CloseReasonValue | None = Field(
        description="How a closed order closed: rated, return_visit or not_rated (auto-closed "
        "unrated, left out of satisfaction figures)."
    )


# The list fields that are not columns of the order, from the order (with community,
# category → parent, assignee, house and common area loaded, as ``selectors.orders()``
# does): one definition for the list rows and the order's detail.
DERIVED_LIST_FIELDS = {
    "community_name": lambda order: order.community.name,
    "place": lambda order: order.place,
    "category_name": lambda order: str(order.category),
    "assignee_name": lambda order: order.assignee.name if order.assignee_id else None,
    "close_reason": lambda order: order.close_reason or None,
}
_COLUMNS = [name for name in WorkOrderListOut.model_fields if name not in DERIVED_LIST_FIELDS]


def list_row(order) -> dict:
    """The list row of an order, as ``WorkOrderListOut`` validates it."""
    row = {name: getattr(order, name) for name in _COLUMNS}
    for name, value_of in DERIVED_LIST_FIELDS.items():
        row[name] = value_of(order)
    return row


class MaterialOut(Schema):
    id: int
    name: str
    quantity: Decimal
    unit_price: Decimal = Field(description="¥ per unit.")
    amount: Decimal = Field(description="quantity × unit price, rounded to the cent (¥).")


class FeedbackOut(Schema):
    overall: int
    professionalism: int | None = Field(description="专业性")
    responsibility: int | None = Field(description="责任心")
    appearance: int | None = Field(description="仪表")
    empathy: int | None = Field(description="人情味")
    tangibles: int | None = Field(description="软硬件")
    reasons: list[str]
    comment: str
    staff_reply: str
    replied_at: datetime.datetime | None
    created_at: datetime.datetime


class ComplaintOut(Schema):
    party_kind: PartyValue = Field(description="Who is complained about.")
    party_staff_id: int | None
    party: str = Field(description="The staff member's name, or the department/neighbour/vendor.")
    demand: str = Field(description="诉求")
    is_dispute: bool = Field(description="纠纷")
    root_cause: RootCauseValue | None = Field(
        description="Recorded by 客服主管; required before closing. Staff only (null for "
        "residents)."
    )
    root_cause_note: str

    @staticmethod
    def resolve_root_cause(obj, context) -> str | None:
        who = request_actor(context["request"])
        return (obj.root_cause or None) if who.staff else None

    @staticmethod
    def resolve_root_cause_note(obj, context) -> str:
        return obj.root_cause_note if request_actor(context["request"]).staff else ""


# The order itself is read from the model instance through resolvers (a ``Schema``).
class WorkOrderOut(WorkOrderListOut, Schema):
    preferred_time: str
    may_enter: bool
    contact_name: str
    contact_mobile: str
    pause_reason: str
    accepted_at: datetime.datetime | None
    dispatched_at: datetime.datetime | None
    taken_at: datetime.datetime | None
    arrived_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    resolution: str
    labour_amount: Decimal = Field(description="Labour (¥).")
    materials_amount: Decimal = Field(description="Sum of the materials (¥).")
    total_amount: Decimal = Field(
        description="Labour + materials (¥): the charge of a paid repair."
    )
    reopen_count: int
    merged_into_id: int | None
    response_due: datetime.datetime | None
    arrival_due: datetime.datetime | None
    resolution_due: datetime.datetime | None
    recovery_due: datetime.datetime | None = Field(
        description="Service recovery after a rating of 2 or less: the return visit is due."
    )
    materials: list[MaterialOut]
    feedback: FeedbackOut | None
    complaint: ComplaintOut | None
    allowed_actions: list[str] = Field(
        description="What the caller may do now, e.g. ['dispatch', 'reject', 'cancel']; "
        "each is the POST /work-orders/{id}/<action> operation (return_visit → return-visit)."
    )

    @staticmethod
    def resolve_community_name(obj) -> str:
        return DERIVED_LIST_FIELDS["community_name"](obj)

    @staticmethod
    def resolve_category_name(obj) -> str:
        return DERIVED_LIST_FIELDS["category_name"](obj)

    @staticmethod
    def resolve_assignee_name(obj) -> str | None:
        return DERIVED_LIST_FIELDS["assignee_name"](obj)

    @staticmethod
    def resolve_close_reason(obj) -> str | None:
        return DERIVED_LIST_FIELDS["close_reason"](obj)

    @staticmethod
    def resolve_materials(obj) -> list:
        return list(obj.materials.all())

    @staticmethod
    def resolve_feedback(obj):
        return getattr(obj, "feedback", None)

    @staticmethod
    def resolve_complaint(obj):
        return getattr(obj, "complaint", None)

    @staticmethod
    def resolve_recovery_due(obj):
        return sla.recovery_due(obj)

    @staticmethod
    def resolve_allowed_actions(obj, context) -> list[str]:
        return selectors.actions_for(request_actor(context["request"]), obj)


class WorkOrderFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    request_type: RequestTypeValue | None = None
    category: Id | None = Field(None, description="Category id (a parent includes its children).")
    status: list[StatusValue] | None = Field(None, description="One or more statuses.")
    assignee: Id | None = Field(None, description="Staff member id.")
    sla_state: SlaStateValue | None = None
    mine: bool = Field(False, description="Only orders assigned to me.")
    pool: bool = Field(False, description="Only the grab pool open to me.")
    date_from: datetime.date | None = Field(
        None, description="Submitted on or after this local date (Asia/Shanghai)."
    )
    date_to: datetime.date | None = Field(
        None, description="Submitted on or before this local date (Asia/Shanghai)."
    )
    q: str | None = Field(
        None,
        max_length=50,
        pattern=NO_NUL,
        description="Order-number prefix (digits) or text in the description.",
    )


class ComplaintIn(InputSchema):
    party_kind: PartyValue = ComplaintParty.OTHER.value
    party_staff_id: Id | None = Field(
        None, description="Staff complained about (party_kind staff; staff callers only)."
    )
    party_name: str = Field(
        "", max_length=100, pattern=NO_NUL, description="Department, neighbour or vendor."
    )
    demand: str = Field("", max_length=1000, pattern=NO_NUL, description="诉求")
    is_dispute: bool = Field(False, description="纠纷")


class WorkOrderIn(InputSchema):
    category_id: Id = Field(description="A sub-category from GET /request-categories.")
    house_id: Id | None = Field(None, description="The house; or give common_area_id.")
    common_area_id: Id | None = Field(None, description="A common area of the community.")
    description: str = Field(max_length=2000)
    channel: ChannelValue = Field(
        Channel.API.value,
        description="Residents' orders are recorded as API or resident app; staff give "
        "phone, walk_in, inspection…",
    )
    urgency: UrgencyValue | None = Field(None, description="Defaults to the category's.")
    contact_name: str = Field("", max_length=50, description="Defaults to the reporter's name.")
    contact_mobile: str = Field(
        "",
        pattern=r"^(1[3-9]\d{9})?$",
        description="An 11-digit mainland mobile; defaults to the reporter's.",
    )
    preferred_time: str = Field("", max_length=100, description="e.g. 工作日晚上 7 点后")
    may_enter: bool = Field(False, description="Staff may enter when nobody is home.")
    photo_ids: list[Id] = photo_ids_field()
    complaint: ComplaintIn | None = Field(None, description="Complaint categories only.")


# --- timeline -------------------------------------------------------------------------
class EventOut(Schema):
    id: int
    type: EventTypeValue
    actor_name: str | None = Field(description="Who did it; null for the system.")
    from_status: StatusValue | None
    to_status: StatusValue | None
    note: str
    payload: dict
    is_public: bool = Field(description="Shown to the resident (residents only get these).")
    created_at: datetime.datetime
    photos: list[PhotoOut] = Field(description="Photos attached to this step, oldest first.")

    @staticmethod
    def resolve_photos(obj) -> list:
        return list(obj.photos.all())

    @staticmethod
    def resolve_actor_name(obj) -> str | None:
        return obj.actor.display_name if obj.actor_id else None

    @staticmethod
    def resolve_from_status(obj) -> str | None:
        return obj.from_status or None

    @staticmethod
    def resolve_to_status(obj) -> str | None:
        return obj.to_status or None


# --- action bodies --------------------------------------------------------------------
class DispatchIn(InputSchema):
    assignee_id: Id = Field(description="A staff member working in the order's community.")
    note: str = Field("", max_length=200, pattern=NO_NUL)


class ReasonIn(InputSchema):
    reason: Reason


class TransferIn(InputSchema):
    assignee_id: Id
    reason: Reason


class MaterialIn(InputSchema):
    name: str = Field(max_length=100)
    quantity: Decimal = Field(description="0.01 to 100000.")
    unit_price: Decimal = Field(description="¥, 0 to 1000000.")


class CompleteIn(InputSchema):
    resolution: str = Field(max_length=2000, description="What was done.")
    materials: list[MaterialIn] = Field(
        [], max_length=50, description="Paid categories only: items used."
    )
    labour_amount: Decimal = Field(
        Decimal("0"), description="¥, 0 to 1000000; paid categories only."
    )
    photo_ids: list[Id] = photo_ids_field()


class RateIn(InputSchema):
    overall: int = Field(ge=1, le=5)
    professionalism: Rating = None
    responsibility: Rating = None
    appearance: Rating = None
    empathy: Rating = None
    tangibles: Rating = None
    reasons: list[Chip] = Field([], max_length=10, description="Reason chips.")
    comment: str = Field("", max_length=1000)
    photo_ids: list[Id] = photo_ids_field()


class RootCauseIn(InputSchema):
    root_cause: RootCauseValue
    root_cause_note: str = Field("", max_length=500, pattern=NO_NUL)


class ReturnVisitIn(InputSchema):
    satisfied: bool = Field(description="满意 closes the order; 不满意 reopens it.")
    note: str = Field("", max_length=1000)
    root_cause: RootCauseValue | None = Field(
        None, description="Complaints: the root cause, required before one closes."
    )
    root_cause_note: str = Field("", max_length=500, pattern=NO_NUL)


class ResolveIn(InputSchema):
    resolution: str = Field(max_length=2000, pattern=NO_NUL, description="How it was resolved.")
    root_cause: RootCauseValue | None = Field(None, description="Required for complaints.")
    root_cause_note: str = Field("", max_length=500, pattern=NO_NUL)


class ReplyIn(InputSchema):
    reply: str = Field(max_length=1000, pattern=NO_NUL)


class CancelIn(InputSchema):
    reason: str = Field(
        "", max_length=200, pattern=NO_NUL, description="Required when staff cancel."
    )


class RejectIn(InputSchema):
    reason: Reason
    duplicate_of_id: Id | None = Field(None, description="The order this one duplicates.")


class UrgeIn(InputSchema):
    note: str = Field("", max_length=200, pattern=NO_NUL)
