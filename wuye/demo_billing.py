"""The fees part of the demo: 物业费, 垃圾清运费, metered water and 车位管理费 in the two
residential estates of 安居物业, bill runs for the last three months and this one, and
counter payments with the usual pattern (most pay on time, some late, some partly, a
few not at all), so the arrears, the collection rate and the receipts have something
to show. Everything goes through the billing services, as a finance clerk would do it;
meter readings are written in bulk with the rules ``wuye.billing.meters`` keeps.
"""

import datetime
import random
from decimal import Decimal

from wuye.accounts.actor import Actor
from wuye.billing import payments, runs, services
from wuye.billing.models import Bill, FeeItem, MeterReading
from wuye.billing.money import add_months
from wuye.estates.models import House

MONTHS = 4  # three past months and this one
WATER_TIERS = [{"up_to": "15", "price": "3.45"}, {"up_to": None, "price": "5.83"}]
PROPERTY_PRICE = {"cuihu": Decimal("2.35"), "jinxiu": Decimal("1.95")}
ON_TIME, LATE, PARTLY = 0.72, 0.12, 0.06  # the rest have not paid yet


class BillingDemo:
    def __init__(self, rng: random.Random, today: datetime.date, communities, staff):
        self.rng, self.today, self.communities = rng, today, communities
        finance = next(m for m, p in staff if p[0] == "finance")
        self.finance = Actor(finance.user)
        self.first = add_months(today.replace(day=1), -(MONTHS - 1))

    def build(self) -> None:
        for code in ("cuihu", "jinxiu"):
            self.fee_items(self.communities[code], PROPERTY_PRICE[code])
        for n in range(MONTHS):
            month = add_months(self.first, n)
            for code in ("cuihu", "jinxiu"):
                self.issue(self.communities[code], month)
        self.pay()

    def fee_items(self, community, price) -> None:
        def item(code, name, kind, unit_price, **fields):
            return services.create_fee_item(
                actor=self.finance,
                community=community,
                code=code,
                name=name,
                kind=kind,
                unit_price=Decimal(unit_price),
                effective_from=self.first,
                **fields,
            )

        item("wuye", "物业费", FeeItem.Kind.AREA, price)
        item("garbage", "垃圾清运费", FeeItem.Kind.FIXED, "15")
        item("parking", "车位管理费", FeeItem.Kind.PARKING, "120")
        water = item("water", "水费", FeeItem.Kind.METERED, "0", tiers=WATER_TIERS)
        self.readings(water)

    def readings(self, water) -> None:
        """One reading a month on the 25th per flat (typical 8–25 m³, a few heavier)."""
        houses = House.objects.filter(
            community=water.community_id, kind__in=water.house_kinds
        ).values_list("id", "company_id", "community_id")
        rows = []
        for house_id, company_id, community_id in houses:
            value = Decimal(self.rng.randrange(200, 900))
            for n in range(MONTHS):
                day = add_months(self.first, n).replace(day=25)
                if day > self.today:
                    break
                usage = Decimal(self.rng.choice((8, 10, 12, 14, 16, 18, 22, 25)))
                rows.append(
                    MeterReading(
                        company_id=company_id,
                        community_id=community_id,
                        house_id=house_id,
                        fee_item=water,
                        reading_date=day,
                        previous=value,
                        value=value + usage,
                    )
                )
                value += usage
        MeterReading.objects.bulk_create(rows, batch_size=1000)

    def issue(self, community, month) -> None:
        run = runs.preview_run(
            actor=self.finance, period_kind="month", period_start=month, community=community
        )
        runs.issue_run(actor=self.finance, run=run)

    def pay(self) -> None:
        """Each house settles the months before this one in one visit (many pay a
        quarter at a time): on time (last month, by the 15th), late (this month), half
        of the oldest month, or not yet; this month's bills are still open everywhere."""
        this_month = self.today.replace(day=1)
        last_month = add_months(this_month, -1)
        due = {}
        for house_id, bill_id, amount, period in (
            Bill.objects.filter(community__in=[self.communities[c] for c in ("cuihu", "jinxiu")])
            .filter(period_start__lt=this_month)
            .order_by("house_id", "period_start", "id")
            .values_list("house_id", "id", "amount", "period_start")
        ):
            due.setdefault(house_id, []).append((bill_id, amount, period))
        houses = House.objects.in_bulk(list(due))
        now = datetime.datetime.now(datetime.UTC)
        for house_id, bills in due.items():
            roll = self.rng.random()
            if roll >= ON_TIME + LATE + PARTLY:
                continue
            if roll >= ON_TIME + LATE:
                oldest = bills[0][2]
                bills = [b for b in bills if b[2] == oldest]
                total = (sum(b[1] for b in bills) / 2).quantize(Decimal("0.01"))
            else:
                total = sum(b[1] for b in bills)
            month = last_month if roll < ON_TIME else this_month
            at = datetime.datetime.combine(
                month.replace(day=self.rng.randrange(1, 15)),
                datetime.time(2 + self.rng.randrange(8), self.rng.randrange(60)),
                tzinfo=datetime.UTC,
            )
            payments.collect(
                actor=self.finance,
                house=houses[house_id],
                amount=total,
                method=self.rng.choice(("cash", "transfer", "pos", "pos", "transfer")),
                bill_ids=[bill_id for bill_id, _amount, _period in bills],
                at=min(at, now),
            )
