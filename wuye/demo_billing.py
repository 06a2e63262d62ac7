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
from wuye.billing import disclosures, payments, runs, services
from wuye.billing.models import Bill, FeeItem, MeterReading
from wuye.billing.money import add_months, month_end
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
        self.admin = Actor(next(m for m, p in staff if p[0] == "admin").user)  # 2nd person
        self.first = add_months(today.replace(day=1), -(MONTHS - 1))

    def build(self) -> None:
        for code in ("cuihu", "jinxiu"):
            self.fee_items(self.communities[code], PROPERTY_PRICE[code])
        self.discount_rules()  # before the runs: an approved waiver discounts their bills
        for n in range(MONTHS):
            month = add_months(self.first, n)
            for code in ("cuihu", "jinxiu"):
                self.issue(self.communities[code], month)
        self.pay()
        self.waivers()
        self.disclosures()  # last: the reports count the quarter's money as it ended up

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

    # --- 收支公示 -------------------------------------------------------------------------
    # Shares of a quarter's income spent per category (roughly a Hangzhou estate's budget).
    EXPENSE_SHARES = (0.41, 0.12, 0.13, 0.16, 0.08, 0.015, 0.045, 0.01)

    def disclosures(self) -> None:
        """Each estate's report for the three months before this one (a quarter of the
        payments above), published; and a draft of this month so far in 翠湖花园."""
        this_month = self.today.replace(day=1)
        first = add_months(this_month, -3)
        last = add_months(this_month, -1)
        for code in ("cuihu", "jinxiu"):
            self.prepayments(self.communities[code], this_month)
        categories = disclosures.expense_categories()
        notes = {4: "电梯年度维保、2号楼生活水泵更换", 5: "公众责任险"}
        for code in ("cuihu", "jinxiu"):
            report = disclosures.create_draft(
                actor=self.finance,
                community=self.communities[code],
                period_start=first,
                period_end=month_end(last),
            )
            income = sum((line.amount for line in report.lines.all()), Decimal(0))
            for n, (category, share) in enumerate(
                zip(categories, self.EXPENSE_SHARES, strict=True)
            ):
                jitter = Decimal(str(self.rng.uniform(0.9, 1.1)))
                amount = (income * Decimal(str(share)) * jitter).quantize(Decimal("1"))
                disclosures.add_expense(
                    actor=self.finance,
                    disclosure=report,
                    category=category,
                    amount=amount,
                    note=notes.get(n, ""),
                )
            disclosures.update_draft(
                actor=self.finance,
                disclosure=report,
                title=report.title,
                note="如对本期收支有疑问，请致电物业服务中心查询。",
            )
            disclosures.publish(actor=self.finance, disclosure=report)
        draft = disclosures.create_draft(
            actor=self.finance,
            community=self.communities["cuihu"],
            period_start=this_month,
            period_end=month_end(this_month),
        )
        disclosures.add_expense(
            actor=self.finance, disclosure=draft, category=categories[0], amount="86400"
        )
        disclosures.add_expense(
            actor=self.finance, disclosure=draft, category=categories[1], amount="23180.50"
        )

    # --- 减免: discount rules and waivers ------------------------------------------------

    def discount_rules(self) -> None:
        """Each estate's 空置房物业费减半 (50 %, three months at least) and 预交12个月九五折
        (5 %); 翠湖花园's first vacant flat has half its 物业费 waived for the last three
        months, approved before those months were billed (the runs discount them)."""
        from wuye.billing import waivers

        self.rules = {}
        for code in ("cuihu", "jinxiu"):
            community = self.communities[code]
            fee = FeeItem.objects.get(community=community, code="wuye")
            self.rules[code] = {
                kind: waivers.create_rule(
                    actor=self.finance,
                    community=community,
                    fee_item=fee,
                    kind=kind,
                    name=name,
                    rate=rate,
                    min_months=months,
                )
                for kind, name, rate, months in (
                    ("vacant", "空置房物业费减半", "0.5", 3),
                    ("prepay", "预交12个月九五折", "0.05", 12),
                )
            }
        house = self._vacant_flat("cuihu")
        if house is not None:
            self._waiver(house, self.rules["cuihu"]["vacant"], add_months(self.first, 1), 3)

    def waivers(self) -> None:
        """After the payments: 锦绣苑's first vacant flat whose oldest 物业费 bill was paid
        gets half of it waived for the first three months (issued and partly paid bills
        are credited, the paid half goes to 预存); a 翠湖花园 owner prepays next year's
        物业费 and the 5 % waiver waits for a second person."""
        from wuye.billing import waivers
        from wuye.billing.runs import house_month_amounts

        rule = self.rules["jinxiu"]["vacant"]
        paid = Bill.objects.filter(
            fee_item=rule.fee_item,
            period_start=self.first,
            status=Bill.Status.PAID,
            house__occupancy=House.Occupancy.VACANT,
        ).order_by("house_id")
        house = next((b.house for b in paid.select_related("house")[:1]), None)
        house = house or self._vacant_flat("jinxiu")
        if house is not None:
            self._waiver(house, rule, self.first, 3)
        rule = self.rules["cuihu"]["prepay"]
        house = (
            House.objects.filter(
                community=self.communities["cuihu"],
                kind=House.Kind.RESIDENCE,
                occupancy=House.Occupancy.OWNER_OCCUPIED,
            )
            .order_by("id")
            .first()
        )
        start = add_months(self.today.replace(day=1), 1)
        last = month_end(add_months(start, 11))
        policy = services.policy_for(house.company)
        amounts = house_month_amounts(rule.fee_item, house.pk, start, last, policy)
        _gross, net = waivers.prepay_needed(house, rule, amounts)
        payments.collect(
            actor=self.finance, house=house, amount=net, method="transfer", bill_ids=[]
        )
        waivers.propose_waiver(
            actor=self.finance,
            house=house,
            rule=rule,
            start_month=start,
            end_month=last,
            reason="业主预交一年物业费，申请九五折",
        )

    def _vacant_flat(self, code):
        return (
            House.objects.filter(
                community=self.communities[code],
                kind=House.Kind.RESIDENCE,
                occupancy=House.Occupancy.VACANT,
            )
            .order_by("id")
            .first()
        )

    def _waiver(self, house, rule, start, months) -> None:
        from wuye.billing import waivers

        waiver = waivers.propose_waiver(
            actor=self.finance,
            house=house,
            rule=rule,
            start_month=start,
            end_month=month_end(add_months(start, months - 1)),
            reason="业主申请：房屋空置，水电表无读数",
        )
        waivers.decide_waiver(actor=self.admin, waiver=waiver, approve=True, note="已上门核实空置")

    def prepayments(self, community, this_month) -> None:
        """A few households who owed nothing paid ahead (预存) late last month; this
        month's bills were then taken from it, as a bill run does."""
        last_month = add_months(this_month, -1)
        owing = Bill.objects.filter(community=community, period_start__lt=this_month)
        houses = list(
            House.objects.filter(community=community, kind=House.Kind.RESIDENCE)
            .exclude(id__in=owing.unsettled().values("house_id"))
            .order_by("id")[:300]
        )
        for house in self.rng.sample(houses, min(6, len(houses))):
            at = datetime.datetime.combine(
                last_month.replace(day=self.rng.randrange(16, 28)),
                datetime.time(1 + self.rng.randrange(8), self.rng.randrange(60)),
                tzinfo=datetime.UTC,
            )
            payments.collect(
                actor=self.finance,
                house=house,
                amount=Decimal(self.rng.choice((1000, 1200, 2000, 3000))),
                method=self.rng.choice(("transfer", "pos")),
                bill_ids=[],
                at=at,
            )
            payments.deduct_prepaid(
                house=house,
                at=datetime.datetime.combine(this_month, datetime.time(0, 30), tzinfo=datetime.UTC),
            )
