"""``/api/v1/billing`` — discounts and waivers (减免): the discount rules of the caller's
communities, waivers (list, propose, decide).

Reads are scoped with ``visible_to`` (billing staff by community; residents see the
waivers of the houses they live in). Proposing and deciding call
``wuye.billing.waivers``; a refusal is a 400 naming the field and writes nothing. Both
POSTs take an Idempotency-Key: a retry returns the first response.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.billing import waivers
from wuye.billing.models import DiscountRule, Waiver
from wuye.core.apitools import (
    LIST_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    choices_literal,
    visible_ref,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import House

router = Router(tags=["billing"])

RuleKindValue = choices_literal(DiscountRule.Kind)
WaiverStatusValue = choices_literal(Waiver.Status)
# The service names the house and rule; the API's fields are their ids.
REF_FIELDS = {"house": "house_id", "rule": "rule_id"}


class DiscountRuleOut(Schema):
    id: int
    community_id: int
    fee_item_id: int
    fee_item_name: str
    kind: RuleKindValue
    name: str
    rate: Decimal = Field(description="Share of the fee taken off: 0.5 is half, 1 all of it.")
    min_months: int = Field(
        description="Vacant: months the house must stay empty; prepay: months paid ahead."
    )
    is_active: bool

    @staticmethod
    def resolve_fee_item_name(obj) -> str:
        return obj.fee_item.name


class RuleFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    kind: RuleKindValue | None = None
    is_active: bool | None = None


class WaiverOut(Schema):
    id: int
    community_id: int
    house_id: int
    house: str = Field(description="The house's address.")
    rule_id: int
    rule_name: str
    kind: RuleKindValue
    fee_item_id: int
    start: datetime.date = Field(description="First day of the first month.")
    end: datetime.date = Field(description="Last day of the last month.")
    rate: Decimal = Field(description="The rule's rate when the waiver was proposed.")
    reason: str
    status: WaiverStatusValue
    proposed_by_name: str
    decided_by_name: str | None
    decision_note: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None

    @staticmethod
    def resolve_house(obj) -> str:
        return obj.house.address

    @staticmethod
    def resolve_rule_name(obj) -> str:
        return obj.rule.name

    @staticmethod
    def resolve_kind(obj) -> str:
        return obj.rule.kind

    @staticmethod
    def resolve_proposed_by_name(obj) -> str:
        return obj.proposed_by.display_name

    @staticmethod
    def resolve_decided_by_name(obj) -> str | None:
        return obj.decided_by.display_name if obj.decided_by_id else None


class WaiverFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    house: Id | None = Field(None, description="House id.")
    status: WaiverStatusValue | None = None
    kind: RuleKindValue | None = None


class WaiverIn(InputSchema):
    house_id: Id
    rule_id: Id = Field(description="An active discount rule of the house's community.")
    start_month: datetime.date = Field(description="The first day of the first month.")
    end_month: datetime.date = Field(description="The last day of the last month.")
    reason: str = Field(max_length=200)


class DecisionIn(InputSchema):
    approve: bool
    note: str = Field("", max_length=200, description="Required to reject.")


def _waivers():
    return Waiver.objects.select_related(
        "rule",
        "proposed_by",
        "decided_by",
        "house__community",
        "house__building",
        "house__unit",
    )


def _refs(exc):
    if hasattr(exc, "error_dict"):
        for field, api_field in REF_FIELDS.items():
            if field in exc.error_dict:
                exc.error_dict[api_field] = exc.error_dict.pop(field)
    return exc


@router.get(
    "/billing/discount-rules",
    response={200: list[DiscountRuleOut], **LIST_ERRORS},
    summary="List discount rules (减免规则)",
    description="Vacant-house and prepayment discounts of the caller's communities; "
    "billing.view or billing.manage.",
)
@paginate(IdCursorPagination)
def list_discount_rules(request, filters: Query[RuleFilters]):
    qs = DiscountRule.objects.visible_to(actor(request)).select_related("fee_item")
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return qs


@router.get(
    "/billing/waivers",
    response={200: list[WaiverOut], **LIST_ERRORS},
    summary="List waivers (减免)",
    description="Newest first. Billing staff see their communities' waivers; residents "
    "the waivers of the houses they live in.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_waivers(request, filters: Query[WaiverFilters]):
    qs = _waivers().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.house:
        qs = qs.filter(house_id=filters.house)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(rule__kind=filters.kind)
    return qs


@router.post(
    "/billing/waivers",
    response={201: WaiverOut, **WRITE_ERRORS},
    summary="Propose a waiver",
    description="billing.manage in the house's community. Whole months, at least the "
    "rule's minimum; a vacant-house rule needs the house recorded as vacant, a "
    "prepayment rule a prepaid balance covering the months after the discount; no "
    "overlap with another pending or approved waiver of the fee item. Someone else "
    "decides it.",
)
@idempotent
def propose_waiver(request, payload: WaiverIn):
    who = actor(request)
    house = visible_ref(House.objects, who, payload.house_id, "house_id")
    rule = visible_ref(DiscountRule.objects, who, payload.rule_id, "rule_id")
    try:
        waiver = waivers.propose_waiver(
            actor=who,
            house=house,
            rule=rule,
            start_month=payload.start_month,
            end_month=payload.end_month,
            reason=payload.reason,
        )
    except ValidationError as exc:
        raise _refs(exc) from None
    return Status(201, _waivers().get(pk=waiver.pk))


@router.post(
    "/billing/waivers/{waiver_id}/decision",
    response={200: WaiverOut, **WRITE_ERRORS},
    summary="Approve or reject a waiver",
    description="billing.manage in the waiver's community, not the person who proposed "
    "it. Approving credits the bills already issued for its months (money already paid "
    "for the waived share goes to the house's prepaid balance); later bill runs apply "
    "the discount. Rejecting needs a note.",
)
@idempotent
def decide_waiver(request, waiver_id: Id, payload: DecisionIn):
    who = actor(request)
    waiver = get_visible_or_404(Waiver.objects.select_related("community"), who, pk=waiver_id)
    waivers.decide_waiver(actor=who, waiver=waiver, approve=payload.approve, note=payload.note)
    return _waivers().get(pk=waiver.pk)
