"""Reads of the billing console: fee items with their current price, totals of a set of
bills, arrears aging and the collection rate (收缴率). Everything is one database
aggregate over querysets the caller has already scoped with ``visible_to(actor)``.

Definitions (shown on the arrears page):

- overdue: an open or partially paid bill whose due date is before the day looked at;
  days overdue = that day − the due date (a bill due yesterday is 1 day overdue);
- aging buckets by days overdue: 1–30, 31–60, 61–90, 91–180, over 180; the amount in a
  bucket is what is still owed (amount + adjustments − paid);
- collection rate of bills due in a range of months = paid ÷ payable (amount +
  adjustments) of those bills, void bills left out; paid counts what has been allocated
  to them so far, whenever it was paid.
"""

import datetime
from decimal import Decimal
from fractions import Fraction

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import (
    Bill,
    BillingPolicy,
    Charging,
    DiscountRule,
    FeeItem,
    FeeRate,
    Rounding,
)
from wuye.billing.money import add_months, exact_text, month_end
from wuye.billing.waivers import percent

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)
BALANCE = F("amount") + F("adjusted_amount") - F("paid_amount")
PAYABLE = F("amount") + F("adjusted_amount")

# (key, label, fewest days overdue, most days overdue or None)
BUCKETS = (
    ("d30", _("1–30 days"), 1, 30),
    ("d60", _("31–60 days"), 31, 60),
    ("d90", _("61–90 days"), 61, 90),
    ("d180", _("91–180 days"), 91, 180),
    ("over180", _("Over 180 days"), 181, None),
)
# group -> (id field, name fields joined for the label)
GROUPS = {
    "community": ("community_id", ("community__name",)),
    "building": ("house__building_id", ("community__name", "house__building__name")),
}


def _label(row, names) -> str:
    return " ".join(str(row[name] or "") for name in names)


def _sum(expression, **filters):
    condition = Q(**filters) if filters else None
    return Coalesce(Sum(expression, filter=condition, output_field=MONEY), Value(ZERO))


# --- fee items ----------------------------------------------------------------------------


def fee_items_with_figures(items, *, on: datetime.date):
    """``items`` annotated with the price effective ``on`` (``current_price``,
    ``current_multiplier``, ``has_tiers``) and the houses charged that day (``houses``)."""
    rate = FeeRate.objects.filter(fee_item=OuterRef("pk"), effective_from__lte=on).order_by(
        "-effective_from"
    )
    charged = (
        Charging.objects.filter(fee_item=OuterRef("pk"), start__lte=on)
        .filter(Q(end__isnull=True) | Q(end__gte=on))
        .order_by()
        .values("fee_item")
        .annotate(n=Count("id"))
        .values("n")
    )
    return items.annotate(
        current_price=Subquery(rate.values("unit_price")[:1]),
        current_multiplier=Subquery(rate.values("multiplier")[:1]),
        houses=Coalesce(Subquery(charged), Value(0)),
    )


# --- bills --------------------------------------------------------------------------------


def bill_totals(bills) -> dict:
    """Count and money of a filtered set of bills, in one query."""
    return bills.order_by().aggregate(
        count=Count("id"),
        billed=_sum("amount"),
        adjusted=_sum("adjusted_amount"),
        paid=_sum("paid_amount"),
        owed=_sum(BALANCE, status__in=Bill.UNSETTLED),
    )


def overdue(bills, as_of: datetime.date):
    """Bills still owed whose due date has passed on ``as_of``."""
    return bills.filter(status__in=Bill.UNSETTLED, due_date__lt=as_of)


# --- arrears aging ------------------------------------------------------------------------


def _bucket_sums(as_of: datetime.date) -> dict:
    """One Sum(Case(When …)) per bucket: the balance of the bills whose days overdue
    fall in it."""
    sums = {}
    for key, _label, fewest, most in BUCKETS:
        due = Q(due_date__lte=as_of - datetime.timedelta(days=fewest))
        if most is not None:
            due &= Q(due_date__gte=as_of - datetime.timedelta(days=most))
        sums[key] = Coalesce(
            Sum(Case(When(due, then=BALANCE), default=Value(ZERO), output_field=MONEY)),
            Value(ZERO),
        )
    return sums


def aging(bills, *, as_of: datetime.date, by: str = "community") -> list[dict]:
    """Overdue balance per bucket for each community or building of ``bills``, with the
    total and the number of houses owing, largest total first."""
    key, names = GROUPS[by]
    rows = (
        overdue(bills, as_of)
        .order_by()
        .values(key, *names)
        .annotate(
            total=_sum(BALANCE),
            houses=Count("house_id", distinct=True),
            bills=Count("id"),
            **_bucket_sums(as_of),
        )
    )
    found = [{"id": row[key], "name": _label(row, names), **_bucket_row(row)} for row in rows]
    return sorted(found, key=lambda r: (-r["total"], r["name"]))


def aging_total(bills, *, as_of: datetime.date) -> dict:
    row = (
        overdue(bills, as_of)
        .order_by()
        .aggregate(
            total=_sum(BALANCE),
            houses=Count("house_id", distinct=True),
            bills=Count("id"),
            **_bucket_sums(as_of),
        )
    )
    return _bucket_row(row)


def _bucket_row(row) -> dict:
    return {
        "total": row["total"],
        "houses": row["houses"],
        "bills": row["bills"],
        "buckets": [row[key] for key, *_rest in BUCKETS],
        "labelled": [(label, row[key]) for key, label, *_rest in BUCKETS],
    }


# --- collection rate ----------------------------------------------------------------------


def due_between(bills, first_month: datetime.date, last_month: datetime.date):
    """Bills (not void) due from the first day of ``first_month`` to the last day of
    ``last_month``."""
    return bills.exclude(status=Bill.Status.VOID).filter(
        due_date__gte=first_month.replace(day=1), due_date__lte=month_end(last_month)
    )


def _rate(paid: Decimal, payable: Decimal) -> Decimal | None:
    if not payable:
        return None
    return (paid * 100 / payable).quantize(Decimal("0.1"))


def _rate_row(row) -> dict:
    return {
        "bills": row["bills"],
        "payable": row["payable"],
        "paid": row["paid"],
        "owed": row["payable"] - row["paid"],
        "rate": _rate(row["paid"], row["payable"]),
    }


RATE_SUMS = {"bills": Count("id"), "payable": _sum(PAYABLE), "paid": _sum("paid_amount")}


def collection_rate(bills, first_month, last_month) -> dict:
    """收缴率 of the bills due in the months (paid ÷ payable, percent, one decimal)."""
    row = due_between(bills, first_month, last_month).order_by().aggregate(**RATE_SUMS)
    return _rate_row(row)


def collection_rate_by(bills, first_month, last_month, *, by: str) -> list[dict]:
    """The collection rate per community, building or month (of the due date)."""
    due = due_between(bills, first_month, last_month).order_by()
    if by == "month":
        rows = due.annotate(month=TruncMonth("due_date")).values("month").annotate(**RATE_SUMS)
        return [
            {"id": row["month"], "name": row["month"].strftime("%Y-%m"), **_rate_row(row)}
            for row in sorted(rows, key=lambda r: r["month"])
        ]
    key, names = GROUPS[by]
    rows = due.values(key, *names).annotate(**RATE_SUMS)
    found = [{"id": row[key], "name": _label(row, names), **_rate_row(row)} for row in rows]
    return sorted(found, key=lambda r: (r["name"], r["id"]))


def months_back(today: datetime.date, count: int) -> datetime.date:
    """The first day of the month ``count - 1`` months before ``today``'s month."""
    return add_months(today.replace(day=1), 1 - count)


# --- how a bill came about --------------------------------------------------------
def _choice_label(choices, value) -> str | None:
    return choices(value).label if value in choices.values else value


def explain(bill) -> dict:
    """How the bill's amount came about, line by line, from ``Bill.detail``."""
    detail = bill.detail or {}
    lines = []
    kind = detail.get("kind", bill.fee_item.kind)
    area = detail.get("area")
    for month in detail.get("months", []):
        price = Fraction(month["unit_price"])
        share = Fraction(month["days"], month["of"])
        exact = price * share * (Fraction(area) if area else 1)
        lines.append(
            {
                "month": month["month"],
                "area": area,
                "unit_price": month["unit_price"],
                "days": month["days"],
                "of": month["of"],
                "exact": exact_text(exact),
            }
        )
    return {
        "kind": kind,
        "months": lines,
        "area": area,
        "area_basis": _choice_label(FeeItem.AreaBasis, detail.get("area_basis")),
        "usage": detail.get("usage"),
        "multiplier": detail.get("multiplier"),
        "unit_price": detail.get("unit_price"),
        "tiers": detail.get("tiers") or [],
        "tier_mode": _choice_label(BillingPolicy.TierMode, detail.get("tier_mode")),
        "exact": detail.get("exact"),
        "rounding": _choice_label(Rounding, detail.get("rounding")),
        "basis": _choice_label(BillingPolicy.ProrationBasis, detail.get("basis")),
        "note": detail.get("note"),
        "amount": detail.get("amount", str(bill.amount)),
        # Approved waivers (减免) the run applied: the rounded amount before them, and
        # what each took off (``wuye.billing.waivers.discounted``).
        "before_discount": detail.get("before_discount"),
        "discounts": [
            {
                **row,
                "percent": percent(row["rate"]),
                "kind_label": _choice_label(DiscountRule.Kind, row.get("kind")),
                "months_text": ", ".join(row.get("months", [])),
            }
            for row in detail.get("discounts", [])
        ],
    }
