"""API shapes of facilities: the equipment ledger, certificates, plans, round tasks and
what a phone needs to do a round (the checklist to render, the answers it sent back).

Dates are local (Asia/Shanghai); times are ISO 8601 with the offset. Numbers read on a
round are decimal strings with three places (``"0.450"``).
"""

import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Schema

from wuye.core.api_photos import PhotoOut
from wuye.core.apitools import NO_NUL, Id, InputSchema, LocalTime, choices_literal
from wuye.facilities.models import (
    Asset,
    Certificate,
    ItemType,
    Plan,
    RoundKind,
    Task,
    Visit,
)

AssetStatusValue = choices_literal(Asset.Status)
ImportanceValue = choices_literal(Asset.Importance)
CertificateKindValue = choices_literal(Certificate.Kind)
RoundKindValue = choices_literal(RoundKind)
ItemTypeValue = choices_literal(ItemType)
RecurrenceValue = choices_literal(Plan.Recurrence)
AnchorValue = choices_literal(Plan.Anchor)
TaskStatusValue = choices_literal(Task.Status)
TimingValue = choices_literal(Visit.Timing)

Text = Annotated[str, Field("", max_length=50, pattern=NO_NUL)]
# One raw answer as a phone sends it; ``services.parse_answer`` reads it for its item.
RawAnswer = (
    bool
    | int
    | Decimal
    | Annotated[str, Field(max_length=2000, pattern=NO_NUL)]
    | Annotated[list[Annotated[str, Field(max_length=100, pattern=NO_NUL)]], Field(max_length=50)]
    | None
)
SEARCH = Field(None, max_length=50, pattern=NO_NUL, description="Text in the code or name.")


# --- the ledger -----------------------------------------------------------------------
class DowntimeOut(Schema):
    status: AssetStatusValue = Field(description="stopped, repairing or scrapped.")
    started_at: datetime.datetime
    ended_at: datetime.datetime | None
    reason: str
    work_order_id: int | None


class CertificateOut(Schema):
    id: int
    asset_id: int
    kind: CertificateKindValue
    number: str
    issuer: str
    issued_on: datetime.date | None
    expires_on: datetime.date
    remind_days: int = Field(description="Reminders go out this many days before expiry.")
    days_left: int = Field(description="Days from today to expiry; negative once expired.")

    @staticmethod
    def resolve_days_left(obj) -> int:
        return (obj.expires_on - timezone.localdate()).days


class CertificateListOut(CertificateOut):
    community_id: int
    asset_code: str
    asset_name: str

    @staticmethod
    def resolve_community_id(obj) -> int:
        return obj.asset.community_id

    @staticmethod
    def resolve_asset_code(obj) -> str:
        return obj.asset.code

    @staticmethod
    def resolve_asset_name(obj) -> str:
        return obj.asset.name


class AssetListOut(Schema):
    id: int
    company_id: int
    community_id: int
    community_name: str
    code: str = Field(description="e.g. SB-0001 (category prefix and number).")
    name: str
    category_id: int
    category_name: str
    building_id: int | None
    common_area_id: int | None
    location: str
    importance: ImportanceValue
    status: AssetStatusValue

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name

    @staticmethod
    def resolve_category_name(obj) -> str:
        return obj.category.name


class AssetOut(AssetListOut):
    brand: str
    model_no: str
    serial_no: str
    installed_on: datetime.date | None
    warranty_until: datetime.date | None
    vendor_id: int | None
    vendor_name: str | None
    notes: str
    created_at: datetime.datetime
    certificates: list[CertificateOut] = Field(description="Soonest expiry first.")
    open_downtime: DowntimeOut | None = Field(
        description="The current stop or repair, while the asset is not running."
    )

    @staticmethod
    def resolve_vendor_name(obj) -> str | None:
        return obj.vendor.name if obj.vendor_id else None

    @staticmethod
    def resolve_certificates(obj) -> list:
        return list(obj.certificates.all())

    @staticmethod
    def resolve_open_downtime(obj):
        return next(iter(obj.open_downtimes), None)


class AssetFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    category: Id | None = Field(None, description="Asset category id.")
    status: AssetStatusValue | None = None
    q: str | None = SEARCH


class AssetIn(InputSchema):
    community_id: Id
    category_id: Id = Field(description="An asset category of the community's company.")
    name: str = Field(max_length=100, pattern=NO_NUL)
    code: str = Field(
        "",
        max_length=24,
        pattern=NO_NUL,
        description="Leave empty for the next code of the category's prefix (SB-0002).",
    )
    building_id: Id | None = None
    common_area_id: Id | None = None
    vendor_id: Id | None = Field(None, description="The maintenance vendor.")
    location: str = Field("", max_length=200, pattern=NO_NUL)
    brand: Text
    model_no: Text
    serial_no: Text
    installed_on: datetime.date | None = None
    warranty_until: datetime.date | None = None
    importance: ImportanceValue = Asset.Importance.NORMAL.value
    notes: str = Field("", max_length=2000, pattern=NO_NUL)


class AssetStatusIn(InputSchema):
    status: AssetStatusValue
    reason: str = Field(
        "",
        max_length=200,
        pattern=NO_NUL,
        description="Required unless the asset returns to running.",
    )


class CertificateFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    asset: Id | None = Field(None, description="Asset id.")
    kind: CertificateKindValue | None = None
    expiring_within: int | None = Field(
        None,
        ge=0,
        le=3650,
        description="Only certificates expiring within this many days (expired ones included).",
    )


# --- checklists and plans ---------------------------------------------------------------
class ChecklistItemOut(Schema):
    """One question of the form a phone renders."""

    id: int
    position: int
    label: str
    type: ItemTypeValue = Field(
        description="ok_abnormal (true/false), number and meter (a number, optionally with "
        "the unit), single (one of choices), multiple (a list of choices), text, photo."
    )
    unit: str = Field(description="Numbers only, e.g. MPa.")
    min_value: Decimal | None = Field(description="Lowest normal value (numbers).")
    max_value: Decimal | None = Field(description="Highest normal value (numbers).")
    choices: list[str]
    abnormal_choices: list[str] = Field(description="Choices that count as abnormal.")
    required: bool
    photo_required: bool
    creates_order: bool = Field(description="An abnormal answer opens a work order.")


class StopOut(Schema):
    id: int
    position: int
    asset_id: int | None
    checkpoint_id: int | None
    name: str = Field(description="The asset (code and name) or the checkpoint.")
    location: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj.target)

    @staticmethod
    def resolve_location(obj) -> str:
        return obj.asset.location if obj.asset_id else ""


class PlanListOut(Schema):
    id: int
    community_id: int
    community_name: str
    kind: RoundKindValue
    name: str
    template_id: int
    template_name: str
    recurrence: RecurrenceValue
    days: list[int] = Field(description="Weekly: 1 (Monday) to 7; monthly: 1 to 31.")
    interval_days: int | None
    anchor: AnchorValue
    window_start: LocalTime
    window_end: LocalTime
    assignee_id: int | None
    assignee_name: str | None
    trade_id: int | None
    requires_acceptance: bool
    starts_on: datetime.date
    ends_on: datetime.date | None
    is_active: bool

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name

    @staticmethod
    def resolve_template_name(obj) -> str:
        return obj.template.name

    @staticmethod
    def resolve_assignee_name(obj) -> str | None:
        return obj.assignee.name if obj.assignee_id else None


class PlanOut(PlanListOut):
    stops: list[StopOut] = Field(description="In route order.")
    items: list[ChecklistItemOut] = Field(description="The checklist answered at each stop.")

    @staticmethod
    def resolve_stops(obj) -> list:
        return list(obj.stops.all())

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.template.items.all())


class PlanFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    kind: RoundKindValue | None = None
    is_active: bool | None = None


# --- tasks and visits -------------------------------------------------------------------
class TaskListOut(Schema):
    id: int
    plan_id: int
    plan_name: str
    community_id: int
    community_name: str
    kind: RoundKindValue
    date: datetime.date
    opens_at: datetime.datetime
    closes_at: datetime.datetime
    assignee_id: int | None
    assignee_name: str | None
    status: TaskStatusValue
    started_at: datetime.datetime | None
    completed_at: datetime.datetime | None
    abnormal_count: int
    stop_count: int
    visited_count: int = Field(description="Stops checked in at so far.")

    @staticmethod
    def resolve_plan_name(obj) -> str:
        return obj.plan.name

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name

    @staticmethod
    def resolve_assignee_name(obj) -> str | None:
        return obj.assignee.name if obj.assignee_id else None


class StopVisitOut(Schema):
    id: int
    scanned_at: datetime.datetime
    timing: TimingValue
    answered: bool


class TaskStopOut(StopOut):
    visit: StopVisitOut | None = Field(description="The check-in here, once scanned.")


class TaskOut(TaskListOut):
    requires_acceptance: bool = Field(description="Finished work waits for a supervisor.")
    stops: list[TaskStopOut] = Field(description="In route order, with their check-ins.")
    items: list[ChecklistItemOut] = Field(description="The checklist answered at each stop.")

    @staticmethod
    def resolve_stops(obj) -> list:
        visits = {visit.stop_id: visit for visit in obj.visits.all()}
        stops = list(obj.plan.stops.all())
        for stop in stops:
            stop.visit = visits.get(stop.pk)
        return stops

    @staticmethod
    def resolve_requires_acceptance(obj) -> bool:
        return obj.plan.requires_acceptance

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.plan.template.items.all())


class TaskFilters(Schema):
    date: datetime.date | None = Field(
        None,
        description="The day (Asia/Shanghai); today unless date_from or date_to is given.",
    )
    date_from: datetime.date | None = Field(None, description="On or after this day.")
    date_to: datetime.date | None = Field(None, description="On or before this day.")
    status: list[TaskStatusValue] | None = Field(None, description="One or more statuses.")
    kind: RoundKindValue | None = None
    community: Id | None = Field(None, description="Community id.")
    plan: Id | None = Field(None, description="Plan id.")
    mine: bool = Field(False, description="Only tasks assigned to me.")


class AnswerOut(Schema):
    id: int
    item_id: int
    label: str
    value: Any = Field(
        description="true/false (ok_abnormal), a decimal string (numbers), a choice, a "
        "list of choices, text, or null."
    )
    is_abnormal: bool
    work_order_id: int | None = Field(description="The work order this answer opened.")
    work_order_number: str | None
    photos: list[PhotoOut]

    @staticmethod
    def resolve_label(obj) -> str:
        return obj.item.label

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number if obj.work_order_id else None

    @staticmethod
    def resolve_photos(obj) -> list:
        return list(obj.photos.all())


class VisitOut(Schema):
    id: int
    task_id: int
    stop: StopOut
    scanned_at: datetime.datetime
    timing: TimingValue = Field(description="early, on_time or late against the task window.")
    latitude: Decimal | None
    longitude: Decimal | None
    items: list[ChecklistItemOut] = Field(description="The checklist to fill in here.")
    answers: list[AnswerOut] = Field(description="Empty until answered (once per stop).")

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.task.plan.template.items.all())

    @staticmethod
    def resolve_answers(obj) -> list:
        return list(obj.answers.all())


class ScanIn(InputSchema):
    code: str = Field(
        max_length=300,
        pattern=NO_NUL,
        description="What the QR label encodes: its link (…/q/<token>) or the token.",
    )
    latitude: Decimal | None = Field(None, ge=-90, le=90)
    longitude: Decimal | None = Field(None, ge=-180, le=180)


class AnswersIn(InputSchema):
    answers: dict[Id, RawAnswer] = Field(
        max_length=200,
        description="Item id → answer: true/false or 正常/异常, a number such as 0.45 or "
        '"0.45 MPa" (another unit is refused), a choice, a list of choices, or text.',
    )
    photos: dict[Id, Annotated[list[Id], Field(max_length=9)]] = Field(
        {},
        max_length=200,
        description="Item id → ids of photos uploaded with POST /photos by the caller.",
    )
