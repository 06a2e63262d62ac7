"""``/api/v1/billing/disclosures`` — 收支公示 (income and expense reports), read-only.

Scoped by ``Disclosure.objects.visible_to``: billing staff see their communities' reports
in every state; residents the published reports of the communities they live in. A report
outside that scope is a 404, the same as a missing one. Totals and the balance are
computed from the lines (income − expenses), never stored.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import AfterValidator

from wuye.billing import disclosures
from wuye.billing.models import Disclosure, DisclosureLine
from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    Id,
    IdCursorPagination,
    actor,
    choices_literal,
)
from wuye.core.scoping import get_visible_or_404

router = Router(tags=["billing"])

StateValue = choices_literal(Disclosure.State)
# SQLite hands sums back without their scale: show two places.
Money = Annotated[Decimal, AfterValidator(lambda value: value.quantize(Decimal("0.01")))]


class DisclosureLineOut(Schema):
    id: int
    side: Literal["income", "expense"]
    category: str = Field(
        description="Income: the fee item (or prepaid deposits); expenses: the category."
    )
    amount: Money
    note: str


class DisclosureListOut(Schema):
    id: int
    community_id: int
    community_name: str
    title: str
    period_start: datetime.date = Field(description="First day of the first month.")
    period_end: datetime.date = Field(description="Last day of the last month.")
    state: StateValue
    published_at: datetime.datetime | None
    income_total: Money = Field(description="Money received in the period, net of refunds.")
    expense_total: Money
    balance: Money = Field(description="income_total − expense_total.")

    @staticmethod
    def resolve_community_name(obj) -> str:
        return obj.community.name


class DisclosureOut(DisclosureListOut):
    note: str
    income: list[DisclosureLineOut]
    expenses: list[DisclosureLineOut]

    @staticmethod
    def resolve_income(obj):
        return [line for line in obj.lines.all() if line.side == DisclosureLine.Side.INCOME]

    @staticmethod
    def resolve_expenses(obj):
        return [line for line in obj.lines.all() if line.side == DisclosureLine.Side.EXPENSE]


class DisclosureFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    state: StateValue | None = Field(None, description="Staff: draft, published or withdrawn.")


def _reports():
    return disclosures.with_totals(Disclosure.objects.select_related("community"))


@router.get(
    "/billing/disclosures",
    response={200: list[DisclosureListOut], **LIST_ERRORS},
    summary="List income and expense reports (收支公示)",
    description="Newest first (keyset-paginated on id, descending). Billing staff see their "
    "communities' reports in every state; residents the published reports of the "
    "communities they live in.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_disclosures(request, filters: Query[DisclosureFilters]):
    qs = _reports().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.state:
        qs = qs.filter(state=filters.state)
    return qs


@router.get(
    "/billing/disclosures/{disclosure_id}",
    response={200: DisclosureOut, **READ_ERRORS},
    summary="An income and expense report with its lines",
    description="Income by fee item (plus prepaid deposits) and expenses by category, "
    "their totals and the balance.",
)
def get_disclosure(request, disclosure_id: Id):
    return get_visible_or_404(
        _reports().prefetch_related("lines"), actor(request), pk=disclosure_id
    )
