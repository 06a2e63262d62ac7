"""Bill runs (出账): preview a period's bills for a community or the whole company, then
issue them.

A run bills the active periodic fee items whose cycle is the run's period kind (a monthly
run the monthly items, a quarterly run the quarterly ones) for every house charged on at
least one day of the period. Amounts:

- area: area (built-up or indoor, per item) × the month's unit price, per natural month,
  prorated by the days charged; fixed and parking: the month's unit price, prorated;
- metered: the usage of the readings dated in the period × multiplier, priced at the rate
  of the period's first month (tiered if the rate has tiers); a house without a reading
  in the period gets no bill yet;
- the month's price is the rate effective on the month's first day;
- an approved waiver (减免, ``wuye.billing.waivers``) takes its rate off the months it
  covers: the bill is the rounded amount minus the rounded discount, both in ``detail``;
  a bill waived down to 0.00 is still written (paid, nothing owed) to explain it;
- one rounding per bill, after proration (``wuye.billing.money``); nothing is billed
  for a line that comes to 0.00.

Issuing streams the charging rows in (fee item, house) order and writes bills in batches
with ``bulk_create(ignore_conflicts=True)`` on the bill's unique key; each batch commits
with the run's progress counters and checkpoint, so a run killed mid-way is issued again
from where it stopped, and anything written twice is silently skipped by the key.

Issuing happens in the background: ``queue_run`` moves a previewed or failed run to
queued and enqueues ``wuye.billing.tasks.issue_bill_run`` once the transaction commits;
the worker calls ``issue_queued`` → ``issue_run`` as the person who queued it. Pages poll
the run's counters while it issues.
"""

import datetime
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.accounts.actor import Actor
from wuye.billing import money, waivers
from wuye.billing.models import (
    Bill,
    BillingPolicy,
    BillRun,
    BillRunEvent,
    Charging,
    FeeItem,
    FeeRate,
    MeterReading,
)
from wuye.billing.payments import deduct_after_run
from wuye.billing.services import MANAGE, policy_for, require_community
from wuye.core.i18n import site_text
from wuye.core.services import require
from wuye.webhooks.payloads import bill_run_issued

BATCH_SIZE = 2000
MONTHS = {FeeItem.Cycle.MONTH: 1, FeeItem.Cycle.QUARTER: 3, FeeItem.Cycle.YEAR: 12}
BUSY = (
    BillRun.State.QUEUED,
    BillRun.State.ISSUING,
    BillRun.State.ISSUED,
    BillRun.State.FAILED,
)
# A run in these states is queued or being issued by the worker: not queued again.
IN_PROGRESS = (BillRun.State.QUEUED, BillRun.State.ISSUING)
QUEUEABLE = (BillRun.State.PREVIEWED, BillRun.State.FAILED)


def period_bounds(kind: str, start: datetime.date) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) of the month, quarter or year starting on ``start``."""
    if kind not in MONTHS:
        raise ValidationError({"period_kind": _("Choose month, quarter or year.")})
    if (
        start.day != 1
        or (kind == FeeItem.Cycle.QUARTER and start.month % 3 != 1)
        or (kind == FeeItem.Cycle.YEAR and start.month != 1)
    ):
        raise ValidationError(
            {"period_start": _("A period starts on the first day of a month, quarter or year.")}
        )
    return start, money.add_months(start, MONTHS[kind]) - datetime.timedelta(days=1)


# --- lines ----------------------------------------------------------------------------


class _Rates:
    """A fee item's price history; the price of a month is the latest effective on its
    first day."""

    def __init__(self, fee_item):
        self.rates = list(FeeRate.objects.filter(fee_item=fee_item).order_by("effective_from"))

    def for_month(self, month: datetime.date) -> FeeRate | None:
        found = None
        for rate in self.rates:
            if rate.effective_from > month:
                break
            found = rate
        return found


def _readings(item, start, end, after_house: int) -> Iterator[tuple[int, Decimal]]:
    """(house id, usage in the period) in house order, streamed."""
    rows = (
        MeterReading.objects.filter(
            fee_item=item,
            reading_date__range=(start, end),
            house_id__gt=after_house,
            needs_review=False,  # held readings wait for a person (wuye.billing.meters)
        )
        .order_by("house_id", "reading_date")
        .values_list("house_id", "value", "previous")
        .iterator(chunk_size=BATCH_SIZE)
    )
    current, usage = None, Decimal(0)
    for house_id, value, previous in rows:
        if house_id != current:
            if current is not None:
                yield current, usage
            current, usage = house_id, Decimal(0)
        usage += value - previous
    if current is not None:
        yield current, usage


def _houses(item, start, end, after_house: int):
    """(house id, community id, area, charging intervals) of each house charged on at
    least one day of the period, in house order, streamed."""
    area_field = "house__indoor_area" if item.area_basis == FeeItem.AreaBasis.INDOOR else None
    rows = (
        Charging.objects.filter(fee_item=item, start__lte=end, house_id__gt=after_house)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .order_by("house_id", "start")
        .values_list(
            "house_id",
            "house__community_id",
            area_field or "house__built_area",
            "start",
            "end",
        )
        .iterator(chunk_size=BATCH_SIZE)
    )
    current = None
    for house_id, community_id, area, since, until in rows:
        if current is None or current[0] != house_id:
            if current is not None:
                yield current
            current = (house_id, community_id, area or Decimal(0), [])
        current[3].append((since, until))
    if current is not None:
        yield current


def _merge(houses, usages):
    """(house, usage) for the houses that have a usage; both streams in house order."""
    usages = iter(usages)
    pending = next(usages, None)
    for house in houses:
        while pending is not None and pending[0] < house[0]:
            pending = next(usages, None)
        if pending is not None and pending[0] == house[0]:
            yield house, pending[1]


class _Pricer:
    """Turns one house's charging of one fee item in one period into a bill amount and
    the detail a resident reads."""

    def __init__(self, item, run, policy, waived=None):
        self.item, self.run = item, run
        self.waived = waived or {}  # house id -> approved waivers (减免) of this item
        self.rules = money.Rules.of(policy)
        self.tier_mode = policy.tier_mode
        self.rates = _Rates(item)
        self.months = list(money.natural_months(run.period_start, run.period_end))
        self.due_date = run.period_start + datetime.timedelta(days=item.due_days)

    def _monthly_price(self, month) -> Decimal:
        rate = self.rates.for_month(month)
        return rate.unit_price if rate else Decimal(0)

    def _monthly(self, area):
        per_area = self.item.kind == FeeItem.Kind.AREA

        def monthly(month):
            price = self._monthly_price(month)
            return area * price if per_area else price

        return monthly

    def month_amounts(self, area, intervals) -> dict[datetime.date, Fraction]:
        """The exact amount of each month charged (before rounding and discounts)."""
        shares = money.month_shares(
            self.run.period_start, self.run.period_end, intervals, self.rules
        )
        return self._amounts(shares, self._monthly(area))

    @staticmethod
    def _amounts(shares, monthly) -> dict[datetime.date, Fraction]:
        return {s.month: Fraction(monthly(s.month)) * s.fraction for s in shares if s.days}

    def prorated(self, area, intervals, house_id=None) -> tuple[Decimal, dict]:
        shares = money.month_shares(
            self.run.period_start, self.run.period_end, intervals, self.rules
        )
        per_area = self.item.kind == FeeItem.Kind.AREA
        monthly = self._monthly(area)
        exact = money.prorated_exact(shares, monthly)
        months = [
            {
                "month": share.month.strftime("%Y-%m"),
                "days": share.days,
                "of": share.of,
                "unit_price": str(self._monthly_price(share.month)),
            }
            for share in shares
        ]
        detail = {"kind": self.item.kind, "months": months}
        if per_area:
            detail |= {"area": str(area), "area_basis": self.item.area_basis}
        amount, detail = self._rounded(exact, detail)
        if self.waived.get(house_id):
            amount, detail = waivers.discounted(
                self.run.period_start,
                self.run.period_end,
                self._amounts(shares, monthly),
                self.waived[house_id],
                self.rules,
                amount,
                detail,
            )
        return amount, detail

    def metered(self, usage) -> tuple[Decimal, dict]:
        rate = self.rates.for_month(self.run.period_start)
        if rate is None:
            return Decimal(0), {}
        billed = usage * rate.multiplier
        tiers = money.parse_tiers(rate.tiers)
        cost = (
            money.tiered_amount(billed, tiers, self.tier_mode)
            if tiers
            else billed * rate.unit_price
        )
        detail = {
            "kind": self.item.kind,
            "usage": str(usage),
            "multiplier": str(rate.multiplier),
            "unit_price": str(rate.unit_price),
        }
        if tiers:
            detail |= {"tiers": rate.tiers, "tier_mode": self.tier_mode}
        return self._rounded(Fraction(cost), detail)

    def _rounded(self, exact: Fraction, detail: dict) -> tuple[Decimal, dict]:
        amount = money.round_money(exact, self.rules.rounding)
        detail |= {
            "exact": money.exact_text(exact),
            "rounding": self.rules.rounding,
            "amount": str(amount),
        }
        if self.item.kind != FeeItem.Kind.METERED:
            detail["basis"] = self.rules.proration_basis
        return amount, detail

    def bill(self, house_id, community_id, amount, detail) -> Bill:
        return Bill(
            company_id=self.item.company_id,
            community_id=community_id,
            house_id=house_id,
            fee_item_id=self.item.id,
            run_id=self.run.id,
            origin=Bill.Origin.RUN,
            period_start=self.run.period_start,
            period_end=self.run.period_end,
            amount=amount,
            due_date=self.due_date,
            detail=detail,
            # A month waived in full leaves nothing owed: the bill stays to explain it.
            status=Bill.Status.PAID if amount == 0 else Bill.Status.OPEN,
        )


def _items(run) -> list[FeeItem]:
    items = FeeItem.objects.filter(
        company_id=run.company_id,
        cycle=run.period_kind,
        is_active=True,
        kind__in=FeeItem.PERIODIC,
    )
    if run.community_id:
        items = items.filter(community_id=run.community_id)
    return list(items.order_by("id"))


def bill_lines(run, policy, checkpoint: dict | None = None) -> Iterator[Bill]:
    """The bills of a run (unsaved), in (fee item, house) order, after ``checkpoint``."""
    checkpoint = checkpoint or {}
    approved = waivers.approved_in(run)  # one query for the whole run
    for item in _items(run):
        if item.id < checkpoint.get("item", 0):
            continue
        after = checkpoint.get("house", 0) if item.id == checkpoint.get("item") else 0
        pricer = _Pricer(item, run, policy, approved.get(item.id))
        houses = _houses(item, run.period_start, run.period_end, after)
        if item.kind == FeeItem.Kind.METERED:
            usages = _readings(item, run.period_start, run.period_end, after)
            lines = (
                (house_id, community_id, pricer.metered(usage))
                for (house_id, community_id, _area, _intervals), usage in _merge(houses, usages)
            )
        else:
            lines = (
                (house_id, community_id, pricer.prorated(area, intervals, house_id))
                for house_id, community_id, area, intervals in houses
            )
        for house_id, community_id, (amount, detail) in lines:
            if amount != 0 or detail.get("discounts"):
                yield pricer.bill(house_id, community_id, amount, detail)


def house_month_amounts(item, house_id: int, start, end, policy) -> dict:
    """The exact amount of each natural month ``start``..``end`` a run would bill the
    house for ``item`` with its charging, area and prices as they stand (no discounts):
    what a prepayment has to cover (``wuye.billing.waivers``)."""
    pricer = _Pricer(item, BillRun(period_start=start, period_end=end), policy)
    for found, _community_id, area, intervals in _houses(item, start, end, house_id - 1):
        return pricer.month_amounts(area, intervals) if found == house_id else {}
    return {}


# --- preview and issue ----------------------------------------------------------------


def _require_scope(actor, company, community) -> None:
    if community is not None:
        require_community(actor, community)
    else:
        require(actor, MANAGE)
        if company is None:
            raise ValidationError({"community": _("Choose a community or the company.")})
        if not actor.company_wide or actor.staff.company_id != company.id:
            raise PermissionDenied(MANAGE)


def _busy_runs(company_id, community_id, period_kind, period_start, exclude=None):
    """Runs of the same period whose scope overlaps (same community, or either one the
    whole company) and that are issuing, issued or failed."""
    runs = BillRun.objects.filter(
        company_id=company_id,
        period_kind=period_kind,
        period_start=period_start,
        state__in=BUSY,
    )
    if community_id is not None:
        runs = runs.filter(Q(community_id=community_id) | Q(community__isnull=True))
    if exclude is not None:
        runs = runs.exclude(pk=exclude)
    return runs


def _refuse_busy(company_id, community_id, period_kind, period_start, exclude=None):
    other = _busy_runs(company_id, community_id, period_kind, period_start, exclude).first()
    if other is None:
        return
    if other.state == BillRun.State.ISSUED:
        message = _(
            "Bills for the period from %(start)s are already issued for this scope "
            "(bill run %(run)s); correct them with adjustments."
        )
    else:
        message = _(
            "Bill run %(run)s for the period from %(start)s is unfinished; "
            "resume it instead of starting another."
        )
    raise ValidationError(message % {"start": period_start.isoformat(), "run": other.pk})


def _event(run, kind, actor, from_state, to_state, **payload) -> None:
    BillRunEvent.objects.create(
        run=run,
        kind=kind,
        actor=actor.user if actor is not None and actor.is_authenticated else None,
        from_state=from_state,
        to_state=to_state,
        payload=payload,
    )


def _totals(run, policy) -> tuple[dict, int, Decimal]:
    per_item: dict[str, dict] = {}
    count, total = 0, Decimal(0)
    names = {item.id: item for item in _items(run)}
    for bill in bill_lines(run, policy):
        item = names[bill.fee_item_id]
        row = per_item.setdefault(
            str(item.id), {"code": item.code, "name": item.name, "bills": 0, "amount": Decimal(0)}
        )
        row["bills"] += 1
        row["amount"] += bill.amount
        count += 1
        total += bill.amount
    for row in per_item.values():
        row["amount"] = str(row["amount"])
    return per_item, count, total


@transaction.atomic
def preview_run(
    *, actor, period_kind: str, period_start: datetime.date, community=None, company=None
) -> BillRun:
    """A run in state previewed with what issuing it would write: bills and amounts per
    fee item and in total (computed by the same code that issues, so they match).
    ``community=None``: the whole company (company-wide staff only)."""
    company = community.company if community is not None else company
    _require_scope(actor, company, community)
    start, end = period_bounds(period_kind, period_start)
    community_id = community.id if community is not None else None
    _refuse_busy(company.id, community_id, period_kind, start)
    run = BillRun(
        company=company,
        community=community,
        period_kind=period_kind,
        period_start=start,
        period_end=end,
        created_by=actor.user,
    )
    per_item, count, total = _totals(run, policy_for(company))
    run.preview = {"items": per_item}
    run.bills_planned, run.amount_planned = count, total
    run.save()
    _event(run, BillRunEvent.Kind.PREVIEWED, actor, "", run.state, bills=count, amount=str(total))
    return run


def _begin(actor, run) -> tuple[BillRun, BillingPolicy]:
    """Move the run to issuing (started or resumed), refusing an overlapping run; the
    company's policy row is locked so two runs of one scope cannot start together."""
    with transaction.atomic():
        policy = BillingPolicy.objects.select_for_update().get(pk=policy_for(run.company).pk)
        locked = BillRun.objects.select_for_update().get(pk=run.pk)
        if locked.state == BillRun.State.ISSUED:
            raise ValidationError(_("This bill run is already issued."))
        _refuse_busy(
            locked.company_id,
            locked.community_id,
            locked.period_kind,
            locked.period_start,
            exclude=locked.pk,
        )
        # Started the first time it issues (from previewed or queued), resumed after that.
        kind = BillRunEvent.Kind.STARTED if locked.started_at is None else BillRunEvent.Kind.RESUMED
        _event(
            locked, kind, actor, locked.state, BillRun.State.ISSUING, checkpoint=locked.checkpoint
        )
        locked.state = BillRun.State.ISSUING
        locked.error = ""
        locked.started_at = locked.started_at or timezone.now()
        locked.heartbeat_at = timezone.now()
        locked.save(update_fields=["state", "error", "started_at", "heartbeat_at"])
    return locked, policy


def _write_batch(run, batch: list[Bill]) -> None:
    """One batch of bills and the run's progress, committed together."""
    last = batch[-1]
    with transaction.atomic():
        Bill.objects.bulk_create(batch, ignore_conflicts=True)
        BillRun.objects.filter(pk=run.pk).update(
            lines_done=F("lines_done") + len(batch),
            checkpoint={"item": last.fee_item_id, "house": last.house_id},
            heartbeat_at=timezone.now(),
        )


def _finish(actor, run) -> BillRun:
    with transaction.atomic():
        locked = BillRun.objects.select_for_update().get(pk=run.pk)
        written = Bill.objects.filter(run=locked)
        locked.bills_created = written.count()
        locked.amount_issued = written.aggregate(total=Sum("amount"))["total"] or Decimal(0)
        locked.bills_skipped = max(0, locked.lines_done - locked.bills_created)
        locked.state = BillRun.State.ISSUED
        locked.finished_at = timezone.now()
        locked.save()
        _event(
            locked,
            BillRunEvent.Kind.ISSUED,
            actor,
            BillRun.State.ISSUING,
            BillRun.State.ISSUED,
            bills=locked.bills_created,
            skipped=locked.bills_skipped,
            amount=str(locked.amount_issued),
        )
        bill_run_issued(locked)  # webhooks, sent once the run's final state commits
    return locked


def _fail(actor, run, exc, from_state=BillRun.State.ISSUING) -> None:
    error = exc if isinstance(exc, str) else repr(exc)
    with transaction.atomic():
        BillRun.objects.filter(pk=run.pk).update(state=BillRun.State.FAILED, error=error[:2000])
        _event(run, BillRunEvent.Kind.FAILED, actor, from_state, BillRun.State.FAILED)


def issue_run(*, actor, run: BillRun, batch_size: int = BATCH_SIZE) -> BillRun:
    """Write the run's bills (previewed or queued → issuing → issued). A failed or
    interrupted run is resumed from its checkpoint; bills that exist already are skipped
    by their key. Not atomic as a whole on purpose: each batch commits with its progress.
    Pages and the API queue runs instead (``queue_run``); the worker lands here."""
    _require_scope(actor, run.company, run.community)
    run, policy = _begin(actor, run)
    lines = bill_lines(run, policy, run.checkpoint)
    try:
        while batch := list(islice(lines, batch_size)):
            _write_batch(run, batch)
    except Exception as exc:
        _fail(actor, run, exc)
        raise
    run = _finish(actor, run)
    deduct_after_run(run)  # 预存: houses with a prepaid balance pay their new bills from it
    return run


# --- in the background ----------------------------------------------------------------


def queue_run(*, actor, run: BillRun) -> BillRun:
    """Queue a previewed or failed run to be issued by the worker (→ queued); the task is
    enqueued only once the queued state is committed, so the worker always finds it.
    A run already queued, issuing or issued, or an overlapping run, is refused."""
    from wuye.billing.tasks import issue_bill_run

    _require_scope(actor, run.company, run.community)
    with transaction.atomic():
        BillingPolicy.objects.select_for_update().get(pk=policy_for(run.company).pk)
        locked = BillRun.objects.select_for_update().get(pk=run.pk)
        if locked.state == BillRun.State.ISSUED:
            raise ValidationError(_("This bill run is already issued."))
        if locked.state not in QUEUEABLE:
            raise ValidationError(_("This bill run is already queued or being issued."))
        _refuse_busy(
            locked.company_id,
            locked.community_id,
            locked.period_kind,
            locked.period_start,
            exclude=locked.pk,
        )
        _event(locked, BillRunEvent.Kind.QUEUED, actor, locked.state, BillRun.State.QUEUED)
        locked.state = BillRun.State.QUEUED
        locked.error = ""
        locked.heartbeat_at = timezone.now()
        locked.save(update_fields=["state", "error", "heartbeat_at"])
        run_id = locked.pk
        transaction.on_commit(lambda: issue_bill_run.enqueue(run_id))
    return locked


def _queued_by(run: BillRun):
    event = run.events.filter(kind=BillRunEvent.Kind.QUEUED).order_by("-id").first()
    return event.actor if event is not None else run.created_by


def issue_queued(run_id: int) -> str:
    """The worker's part of ``queue_run``: issue the run as the person who queued it
    (their permissions are checked again). A run that cannot start (an overlapping run
    issued meanwhile, the permission gone) is marked failed with the reason, so the page
    stops waiting and offers to resume. Returns the run's state."""
    run = BillRun.objects.select_related("company", "community").filter(pk=run_id).first()
    if run is None or run.state != BillRun.State.QUEUED:
        return "skipped"  # issued or resumed by hand meanwhile: nothing to do
    user = _queued_by(run)
    actor = Actor(user) if user is not None else None
    try:
        if actor is None:
            raise PermissionDenied(MANAGE)
        return issue_run(actor=actor, run=run, batch_size=BATCH_SIZE).state
    except (ValidationError, PermissionDenied) as exc:
        run.refresh_from_db(fields=["state"])
        if run.state != BillRun.State.QUEUED:
            raise  # it failed while issuing: issue_run recorded it
        reason = (
            " ".join(exc.messages)
            if isinstance(exc, ValidationError)
            else _("The person who queued this run may no longer issue it.")
        )
        _fail(actor, run, reason, from_state=BillRun.State.QUEUED)
        return BillRun.State.FAILED


# A batch of bills takes well under a second; a queued run waits only for a free worker.
# Silence this long means the worker died (killed, machine restarted) mid-run.
STALL_AFTER = datetime.timedelta(minutes=15)
STALLED_ERROR = gettext_lazy(
    "The worker stopped while this run was queued or issuing (no progress for 15 minutes). "
    "Resume it: bills already written are kept and not written twice."
)


def fail_stalled_runs(now: datetime.datetime | None = None) -> int:
    """Queued or issuing runs without progress for ``STALL_AFTER`` are failed, so the run
    page offers Resume (which continues from the checkpoint). Returns how many."""
    now = now or timezone.now()
    stalled = BillRun.objects.filter(state__in=IN_PROGRESS, heartbeat_at__lt=now - STALL_AFTER)
    failed = 0
    for run_id in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            run = BillRun.objects.select_for_update().get(pk=run_id)
            if run.state not in IN_PROGRESS or run.heartbeat_at >= now - STALL_AFTER:
                continue  # it moved on while we looked
            from_state = run.state
            run.state = BillRun.State.FAILED
            run.error = site_text(STALLED_ERROR)
            run.save(update_fields=["state", "error"])
            _event(run, BillRunEvent.Kind.FAILED, None, from_state, BillRun.State.FAILED)
            failed += 1
    return failed
