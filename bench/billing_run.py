"""Bill run for 100,000 houses × 3 fee items on PostgreSQL (issue 5: bills per second
against a raw bulk insert of the same rows, target ratio ≥ 0.3; memory flat as houses grow).

    uv run python bench/billing_run.py                 # 25k / 50k / 100k houses
    uv run python bench/billing_run.py --sizes 5000    # quicker

Builds a scratch database (``wuye_bench_bill``, recreated each run) with one company per
size in ``--sizes`` (1,000 houses per community), each community charging three fee items
set up through ``billing.services.create_fee_item``: 物业费 by built-up area, a fixed
垃圾清运费 and metered water with tiered prices (one reading per house and month); 2 % of
the houses move in on the 15th of the month timed (prorated).

1. Memory: issues January 2026 for each company under ``tracemalloc`` and prints the
   peak of Python allocations during ``issue_run`` (it should not grow with houses: the
   houses are streamed and written in batches).
2. Time, largest company, February 2026, no tracing: ``preview_run`` and ``issue_run``.
3. Baseline in the same run (not the ORM): the same February rows (read back) deleted and inserted
   again raw, with psycopg ``executemany`` INSERT and with COPY, rolled back.

Figures (2 cores shared with other work, PostgreSQL 127.0.0.1, 2026 run, batch 2,000):
peak 6.3 / 6.3 / 6.9 MiB at 25k / 50k / 100k houses; 100k houses: preview 12.4 s,
issue 52.2 s for 300,000 bills (5,750 bills/s); raw INSERT 21.0 s (14,290 rows/s,
ratio 0.40); raw COPY 5.6 s (53,149 rows/s, ratio 0.11).
"""

import argparse
import datetime
import os
import random
import time
import tracemalloc
from decimal import Decimal

import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"
COLUMNS = (
    "company_id, community_id, house_id, fee_item_id, run_id, origin, reference, period_start,"
    " period_end, amount, adjusted_amount, paid_amount, due_date, status, detail, created_at,"
    " updated_at"
)
WATER_TIERS = [
    {"up_to": "15", "price": "3.45"},
    {"up_to": "22", "price": "4.83"},
    {"up_to": None, "price": "5.83"},
]


def recreate(database: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def build_company(size: int, rng: random.Random, months: list[datetime.date]):
    """A company of ``size`` houses with its finance officer and three fee items per
    community; returns (company, finance actor)."""
    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.billing.models import Charging, FeeItem, MeterReading
    from wuye.billing.services import create_fee_item
    from wuye.estates.models import Building, Community, House, Unit
    from wuye.estates.services import create_company
    from wuye.staff.models import Role, StaffMember

    company = create_company(name=f"基准物业{size}", code=f"bill-{size}")
    user = User.objects.create(username=f"finance{size}", first_name="财务")
    member = StaffMember.objects.create(
        company=company, user=user, name="财务", employee_no=f"f{size}"
    )
    member.roles.set(Role.objects.filter(company=company, code="finance"))
    finance = Actor(user)
    count = max(1, size // 1000)
    communities = Community.objects.bulk_create(
        Community(company=company, name=f"小区{i:03d}", code=f"c{i:03d}") for i in range(count)
    )
    buildings = Building.objects.bulk_create(
        Building(community=c, name="1栋", floors_above=33) for c in communities
    )
    units = Unit.objects.bulk_create(Unit(building=b, name="1单元") for b in buildings)
    per = size // count
    houses = []
    for community, building, unit in zip(communities, buildings, units, strict=True):
        for n in range(per):
            area = Decimal(rng.randrange(4500, 16000)).scaleb(-2)
            houses.append(
                House(
                    company=company,
                    community=community,
                    building=building,
                    unit=unit,
                    number=f"{n:05d}",
                    floor=n // 30 + 1,
                    built_area=area,
                    indoor_area=area - Decimal(10),
                )
            )
    House.objects.bulk_create(houses, batch_size=5000)
    start = months[0]
    for community in communities:
        for code, name, kind, price, tiers in (
            ("wuye", "物业费", FeeItem.Kind.AREA, "2.35", None),
            ("trash", "垃圾清运费", FeeItem.Kind.FIXED, "15", None),
            ("water", "水费", FeeItem.Kind.METERED, "3.45", WATER_TIERS),
        ):
            create_fee_item(
                actor=finance,
                community=community,
                code=code,
                name=name,
                kind=kind,
                unit_price=Decimal(price),
                tiers=tiers,
                effective_from=start,
            )
    water = {i.community_id: i.id for i in FeeItem.objects.filter(company=company, code="water")}
    readings = []
    for house in houses:
        value = Decimal(rng.randrange(0, 1000))
        for month in months:
            usage = Decimal(rng.randrange(200, 3500)).scaleb(-2)
            readings.append(
                MeterReading(
                    company=company,
                    community_id=house.community_id,
                    house_id=house.id,
                    fee_item_id=water[house.community_id],
                    reading_date=month + datetime.timedelta(days=24),
                    value=value + usage,
                    previous=value,
                )
            )
            value += usage
    MeterReading.objects.bulk_create(readings, batch_size=5000)
    movers = [h.id for h in rng.sample(houses, len(houses) // 50)]
    Charging.objects.filter(
        house_id__in=movers, fee_item__code="wuye", fee_item__company=company
    ).update(start=months[-1] + datetime.timedelta(days=14))
    return company, finance


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="25000,50000,100000")
    parser.add_argument("--database", default="wuye_bench_bill")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    recreate(args.database)
    os.environ["DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    os.environ["DEBUG"] = "false"  # no query log growing in memory
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from wuye.billing import runs
    from wuye.billing.models import Bill

    rng = random.Random(args.seed)
    jan, feb = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    companies = {}
    for size in sizes:
        began = time.perf_counter()
        companies[size] = build_company(size, rng, [jan, feb])
        print(f"built {size:,} houses × 3 items in {time.perf_counter() - began:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    def issue(size, month):
        company, finance = companies[size]
        run = runs.preview_run(
            actor=finance, period_kind="month", period_start=month, company=company
        )
        began = time.perf_counter()
        run = runs.issue_run(actor=finance, run=run, batch_size=args.batch)
        return run, time.perf_counter() - began

    print(f"\nmemory: peak of Python allocations during issue_run (batch {args.batch})")
    for size in sizes:
        tracemalloc.start()
        tracemalloc.reset_peak()
        run, seconds = issue(size, jan)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"  {size:>7,} houses: {run.bills_created:>7,} bills, peak {peak / 2**20:6.1f} MiB"
            f"  ({seconds:.1f} s traced)"
        )

    size = sizes[-1]
    company, finance = companies[size]
    print(f"\ntime: {size:,} houses, February 2026, company-wide run")
    began = time.perf_counter()
    run = runs.preview_run(actor=finance, period_kind="month", period_start=feb, company=company)
    preview = time.perf_counter() - began
    print(f"  preview_run   {preview:7.2f} s  {run.bills_planned:,} bills planned")
    began = time.perf_counter()
    run = runs.issue_run(actor=finance, run=run, batch_size=args.batch)
    issued = time.perf_counter() - began
    rate = run.bills_created / issued
    print(f"  issue_run     {issued:7.2f} s  {run.bills_created:,} bills, {rate:,.0f} bills/s")
    assert run.bills_created == run.bills_planned and run.amount_issued == run.amount_planned

    with connection.cursor() as cursor:
        select = COLUMNS.replace("detail", "detail::text")
        cursor.execute(f"SELECT {select} FROM billing_bill WHERE run_id = %s", [run.id])
        rows = cursor.fetchall()
    raw = connection.connection  # the psycopg connection under Django's

    def baseline(label, write):
        with transaction.atomic():
            Bill.objects.filter(run=run).delete()
            began = time.perf_counter()
            write()
            seconds = time.perf_counter() - began
            transaction.set_rollback(True)
        print(
            f"  {label:13s} {seconds:7.2f} s  {len(rows):,} rows, {len(rows) / seconds:,.0f} rows/s"
            f"  → ratio issue/raw {rate / (len(rows) / seconds):.2f}"
        )

    def executemany():
        marks = ", ".join(
            "%s::jsonb" if c.strip() == "detail" else "%s" for c in COLUMNS.split(",")
        )
        with raw.cursor() as cursor:
            cursor.executemany(f"INSERT INTO billing_bill ({COLUMNS}) VALUES ({marks})", rows)

    def copy():
        with raw.cursor() as cursor, cursor.copy(f"COPY billing_bill ({COLUMNS}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)

    baseline("raw INSERT", executemany)
    baseline("raw COPY", copy)


if __name__ == "__main__":
    main()
