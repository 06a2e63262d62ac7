"""收支公示: a community's income and expenses over whole months, published to its residents.

What counts as income (``received_income``)
------------------------------------------
Money actually received in the period (cash basis), never what was billed:

- the payments of the community whose ``received_at`` falls in the period (local dates,
  both ends inclusive), each net of what has been refunded of it so far;
- split by fee item through the payment's allocations (``amount − refunded_amount`` of
  each allocation, grouped by the bill's fee item): partial payments count what was
  paid, not the bill;
- what a payment left over as a prepaid deposit (预存) is one separate line, net of the
  part of that deposit refunded;
- money taken from a prepaid balance to pay a bill later (a deduction) is not income
  again: it was counted when it was received;
- money of a payment that a later credit gave back from its bill to 预存 (a deposit that
  names the bill, ``payments.return_to_prepaid``) moves from the bill's fee item to the
  deposit line: it is no longer what the fee item brought in.

So the income lines add up to Σ (payment − refunded) of the period's payments exactly.
A refund approved after publication does not change a published report (it is frozen);
the console shows the difference, and a corrected report replaces a withdrawn one.

Rules
-----
- drafts only change: income is recomputed with ``refresh_income``, expense lines are
  added, edited and removed; publishing refuses a draft whose income no longer matches
  the money received (refresh and check it first) and a period that has not ended;
- ``publish`` freezes the report and notifies the community's current residents once;
  ``withdraw`` (with a reason, kept in the note) hides it from residents again;
- totals and the balance (income − expenses) are computed from the lines, never stored;
- ``billing.manage`` in the report's community for every change.
"""

import dataclasses
import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.billing.models import Allocation, Disclosure, DisclosureLine, Payment, PrepaidEntry
from wuye.billing.money import CENT, ZERO, add_months, month_end, yuan
from wuye.billing.services import require_community
from wuye.core.i18n import site_text
from wuye.notifications.services import notify
from wuye.people.models import Residency

INCOME = DisclosureLine.Side.INCOME
EXPENSE = DisclosureLine.Side.EXPENSE
MAX_MONTHS = 12
MAX_AMOUNT = Decimal("999999999999.99")  # 14 digits, 2 places
NOTIFY_KIND = "billing.disclosure_published"

# Suggested expense categories (free text is allowed). Stored in the site's language,
# like the rest of what residents read.
EXPENSE_CATEGORIES = (
    gettext_lazy("Staff costs (人员费用)"),
    gettext_lazy("Shared-area water and electricity (公共能耗)"),
    gettext_lazy("Cleaning and greening (清洁绿化)"),
    gettext_lazy("Security and order (秩序维护)"),
    gettext_lazy("Repair and upkeep of facilities (设施设备维修保养)"),
    gettext_lazy("Insurance (保险)"),
    gettext_lazy("Office and management (办公及管理费用)"),
    gettext_lazy("Other (其他)"),
)
DEPOSITS = gettext_lazy("Prepaid deposits (预存款)")
DEPOSITS_NOTE = gettext_lazy("Paid ahead; not counted again when used for bills.")


def expense_categories() -> list[str]:
    return [site_text(category) for category in EXPENSE_CATEGORIES]


# --- periods ------------------------------------------------------------------------------
def clean_period(period_start, period_end) -> tuple[datetime.date, datetime.date]:
    """Whole natural months, at most a year, not starting in the future."""
    if not isinstance(period_start, datetime.date) or not isinstance(period_end, datetime.date):
        raise ValidationError({"period_start": _("Enter the first and the last month.")})
    if period_start.day != 1:
        raise ValidationError({"period_start": _("A report starts on the first day of a month.")})
    if period_end != month_end(period_end):
        raise ValidationError({"period_end": _("A report ends on the last day of a month.")})
    if period_end < period_start:
        raise ValidationError({"period_end": _("The last month comes before the first.")})
    if add_months(period_start, MAX_MONTHS) <= period_end:
        raise ValidationError(
            {"period_end": _("A report covers at most %(n)d months.") % {"n": MAX_MONTHS}}
        )
    if period_start > timezone.localdate():
        raise ValidationError({"period_start": _("The period has not begun yet.")})
    return period_start, period_end


def period_label(start: datetime.date, end: datetime.date) -> str:
    """2026-09, 2026 Q3, Year 2026 or 2026-09 ~ 2026-11 (a tilde, as on receipts: the
    PDF fonts have no en dash)."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months == 1:
        return f"{start:%Y-%m}"
    if months == 3 and start.month % 3 == 1:
        return _("%(year)d Q%(quarter)d") % {"year": start.year, "quarter": start.month // 3 + 1}
    if months == 12 and start.month == 1:
        return _("Year %(year)d") % {"year": start.year}
    return f"{start:%Y-%m} ~ {end:%Y-%m}"


def default_title(start: datetime.date, end: datetime.date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return _("Income and expenses %(period)s") % {"period": period_label(start, end)}


def _day_bounds(start: datetime.date, end: datetime.date):
    """[first moment of ``start``, first moment after ``end``) in local time."""
    zone = timezone.get_current_timezone()
    lo = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    hi = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return lo, hi


# --- income -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Line:
    category: str
    amount: Decimal
    note: str = ""


def period_payments(community, start: datetime.date, end: datetime.date):
    lo, hi = _day_bounds(start, end)
    return Payment.objects.filter(community=community, received_at__gte=lo, received_at__lt=hi)


def received_total(community, start: datetime.date, end: datetime.date) -> Decimal:
    """Σ (amount − refunded) of the period's payments: the money the period kept."""
    total = period_payments(community, start, end).aggregate(
        s=Sum(F("amount") - F("refunded_amount"))
    )["s"]
    return (total or ZERO).quantize(CENT)


def received_income(community, start: datetime.date, end: datetime.date) -> list[Line]:
    """The income lines of a period: by fee item, then prepaid deposits (module docstring).
    Two grouped queries; lines that came to nothing (fully refunded) are left out."""
    payments = period_payments(community, start, end).values("id")
    by_item = (
        Allocation.objects.filter(payment_id__in=payments)
        .values_list("bill__fee_item_id", "bill__fee_item__name")
        .annotate(net=Sum(F("amount") - F("refunded_amount")))
        .order_by("bill__fee_item_id")
    )
    # Money a later credit (a waiver after payment) gave back from a paid bill to 预存 is
    # a deposit naming the bill and the payment: it leaves the fee item for the deposits.
    entries = PrepaidEntry.objects.filter(payment_id__in=payments)
    returned = dict(
        entries.filter(kind=PrepaidEntry.Kind.DEPOSIT, bill__isnull=False)
        .values_list("bill__fee_item_id")
        .annotate(s=Sum("amount"))
        .order_by()
    )
    lines = []
    for item_id, name, net in by_item:
        amount = (net - returned.get(item_id, ZERO)).quantize(CENT)
        if amount:
            lines.append(Line(name, amount))
    # A payment's deposits (its change, and money returned from its bills) net of the
    # refunds taken from them; deductions for bills carry no payment and are not income.
    deposits = entries.filter(
        kind__in=[PrepaidEntry.Kind.DEPOSIT, PrepaidEntry.Kind.REFUND]
    ).aggregate(s=Sum("amount"))["s"]
    if deposits:
        lines.append(Line(site_text(DEPOSITS), deposits.quantize(CENT), site_text(DEPOSITS_NOTE)))
    return lines


def _income_of(disclosure) -> list[Line]:
    return [
        Line(line.category, line.amount, line.note)
        for line in disclosure.lines.filter(side=INCOME).order_by("position", "id")
    ]


def income_changed(disclosure) -> Decimal | None:
    """What the money received in the report's period comes to now, when it differs from
    the income lines the report holds (refunds or payments recorded since); else None."""
    current = received_income(disclosure.community, disclosure.period_start, disclosure.period_end)
    if current == _income_of(disclosure):
        return None
    return sum((line.amount for line in current), ZERO)


def _write_income(disclosure) -> None:
    disclosure.lines.filter(side=INCOME).delete()
    DisclosureLine.objects.bulk_create(
        DisclosureLine(
            disclosure=disclosure,
            side=INCOME,
            category=line.category[:50],
            amount=line.amount,
            note=line.note[:200],
            position=position,
        )
        for position, line in enumerate(
            received_income(disclosure.community, disclosure.period_start, disclosure.period_end)
        )
    )


# --- totals -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Totals:
    income: Decimal
    expense: Decimal

    @property
    def balance(self) -> Decimal:
        return self.income - self.expense


def totals(lines) -> Totals:
    """Totals of lines already fetched (the detail pages show the lines anyway)."""
    income = sum((line.amount for line in lines if line.side == INCOME), ZERO)
    expense = sum((line.amount for line in lines if line.side == EXPENSE), ZERO)
    return Totals(income=income, expense=expense)


def with_totals(queryset):
    """Each report's totals as DB aggregates (``income_total``, ``expense_total``,
    ``balance``) for lists."""
    income = Sum("lines__amount", filter=Q(lines__side=INCOME), default=ZERO)
    expense = Sum("lines__amount", filter=Q(lines__side=EXPENSE), default=ZERO)
    return queryset.annotate(income_total=income, expense_total=expense).annotate(
        balance=F("income_total") - F("expense_total")
    )


# --- drafts -------------------------------------------------------------------------------
def _clean_title(title: str, start, end) -> str:
    title = (title or "").strip()
    if len(title) > 100:
        raise ValidationError({"title": _("Write at most 100 characters.")})
    return title or default_title(start, end)


def _lock_draft(actor, disclosure) -> Disclosure:
    """The report locked for a change, refused unless it is still a draft."""
    require_community(actor, disclosure.community)
    locked = (
        Disclosure.objects.select_for_update().select_related("community").get(pk=disclosure.pk)
    )
    if locked.state != Disclosure.State.DRAFT:
        raise ValidationError(
            _("This report is %(state)s: it can no longer be changed.")
            % {"state": locked.get_state_display().lower()}
        )
    return locked


@transaction.atomic
def create_draft(*, actor, community, period_start, period_end, title: str = "") -> Disclosure:
    """A draft report of ``community`` for whole months, its income taken from the money
    received in them. One draft or published report per community and period."""
    require_community(actor, community)
    period_start, period_end = clean_period(period_start, period_end)
    title = _clean_title(title, period_start, period_end)
    taken = Disclosure.objects.filter(
        community=community,
        period_start=period_start,
        period_end=period_end,
        state__in=[Disclosure.State.DRAFT, Disclosure.State.PUBLISHED],
    )
    if taken.exists():
        raise ValidationError(
            {"period_start": _("This community already has a report for this period.")}
        )
    disclosure = Disclosure.objects.create(
        company_id=community.company_id,
        community=community,
        title=title,
        period_start=period_start,
        period_end=period_end,
        created_by=actor.user,
    )
    _write_income(disclosure)
    return disclosure


@transaction.atomic
def update_draft(*, actor, disclosure, title: str, note: str = "") -> Disclosure:
    locked = _lock_draft(actor, disclosure)
    locked.title = _clean_title(title, locked.period_start, locked.period_end)
    locked.note = (note or "").strip()[:2000]
    locked.save(update_fields=["title", "note"])
    return locked


@transaction.atomic
def refresh_income(*, actor, disclosure) -> Disclosure:
    """Recompute a draft's income from the money received in its period now."""
    locked = _lock_draft(actor, disclosure)
    _write_income(locked)
    return locked


# --- expenses -----------------------------------------------------------------------------
def clean_expense(category, amount, note="") -> tuple[str, Decimal, str]:
    """A category (free text), an amount ≥ 0 in whole fen (floats refused), a note."""
    errors = {}
    category = (category or "").strip()
    if not category:
        errors["category"] = _("Name the expense category.")
    elif len(category) > 50:
        errors["category"] = _("Write at most 50 characters.")
    message = _("Enter an amount of zero or more with at most two decimals.")
    value = None
    if isinstance(amount, float):
        errors["amount"] = message
    else:
        try:
            value = Decimal(str(amount).strip())
        except (InvalidOperation, ValueError):
            errors["amount"] = message
        else:
            if not value.is_finite() or value < 0 or value != value.quantize(CENT):
                errors["amount"] = message
            elif value > MAX_AMOUNT:
                errors["amount"] = _("The amount is too large.")
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = _("Write at most 200 characters.")
    if errors:
        raise ValidationError(errors)
    return category, value.quantize(CENT), note


@transaction.atomic
def add_expense(*, actor, disclosure, category: str, amount, note: str = "") -> DisclosureLine:
    category, amount, note = clean_expense(category, amount, note)
    locked = _lock_draft(actor, disclosure)
    last = locked.lines.filter(side=EXPENSE).aggregate(m=Max("position"))["m"]
    return DisclosureLine.objects.create(
        disclosure=locked,
        side=EXPENSE,
        category=category,
        amount=amount,
        note=note,
        position=0 if last is None else last + 1,
    )


def _expense_line(disclosure, line) -> DisclosureLine:
    found = disclosure.lines.filter(pk=line.pk, side=EXPENSE).first()
    if found is None:
        raise ValidationError(_("This line is not an expense of this report."))
    return found


@transaction.atomic
def update_expense(*, actor, line, category: str, amount, note: str = "") -> DisclosureLine:
    category, amount, note = clean_expense(category, amount, note)
    locked = _lock_draft(actor, line.disclosure)
    found = _expense_line(locked, line)
    found.category, found.amount, found.note = category, amount, note
    found.save(update_fields=["category", "amount", "note"])
    return found


@transaction.atomic
def remove_expense(*, actor, line) -> None:
    locked = _lock_draft(actor, line.disclosure)
    _expense_line(locked, line).delete()


# --- publishing ---------------------------------------------------------------------------
def _resident_user_ids(community_id: int) -> set[int]:
    """Users living in the community today with an active login (one query)."""
    ties = Residency.objects.active().filter(
        house__community_id=community_id,
        resident__user__isnull=False,
        resident__user__is_active=True,
    )
    return set(ties.values_list("resident__user_id", flat=True).distinct())


@transaction.atomic
def publish(*, actor, disclosure) -> Disclosure:
    """Show the report to the community's residents and freeze it; they are notified in
    the app once (the notice is keyed by the report)."""
    locked = _lock_draft(actor, disclosure)
    if locked.period_end >= timezone.localdate():
        raise ValidationError(
            _("The period has not ended yet: publish the report after %(day)s.")
            % {"day": f"{locked.period_end:%Y-%m-%d}"}
        )
    if income_changed(locked) is not None:
        raise ValidationError(
            _(
                "The money received in this period has changed since the income was "
                "computed. Refresh the income and check the report before publishing."
            )
        )
    locked.state = Disclosure.State.PUBLISHED
    locked.published_by = actor.user
    locked.published_at = timezone.now()
    locked.save(update_fields=["state", "published_by", "published_at"])
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(community)s: income and expense report %(period)s") % {
            "community": locked.community.name,
            "period": period_label(locked.period_start, locked.period_end),
        }
        figures = totals(locked.lines.all())
        body = _("Income %(income)s, expenses %(expense)s, balance %(balance)s.") % {
            "income": yuan(figures.income),
            "expense": yuan(figures.expense),
            "balance": yuan(figures.balance),
        }
    notify(
        recipients=_resident_user_ids(locked.community_id),
        kind=NOTIFY_KIND,
        title=title,
        body=body,
        url=reverse("billing_resident:disclosure_detail", args=[locked.pk]),
        obj=locked,
        dedupe_key=f"{NOTIFY_KIND}:{locked.pk}",
    )
    return locked


@transaction.atomic
def withdraw(*, actor, disclosure, reason: str) -> Disclosure:
    """Take a report down (or drop a draft): residents no longer see it. The reason, who
    and when are added to the report's note; a corrected report may then be drafted for
    the same period."""
    require_community(actor, disclosure.community)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Write at most 200 characters.")})
    locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    if locked.state == Disclosure.State.WITHDRAWN:
        raise ValidationError(_("This report has already been withdrawn."))
    with translation.override(settings.LANGUAGE_CODE):
        record = _("Withdrawn %(at)s by %(who)s: %(reason)s") % {
            "at": f"{timezone.localtime():%Y-%m-%d %H:%M}",
            "who": actor.user.get_full_name() or actor.user.get_username(),
            "reason": reason,
        }
    locked.state = Disclosure.State.WITHDRAWN
    locked.note = f"{locked.note}\n{record}".strip()
    locked.save(update_fields=["state", "note"])
    return locked
