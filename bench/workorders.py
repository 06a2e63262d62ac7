"""Work-order engine at scale on PostgreSQL: the SLA sweep and automatic assignment.

    uv run python bench/workorders.py                 # 1,000,000 open orders, 1,000 technicians
    uv run python bench/workorders.py --orders 100000 # quicker

Builds a scratch database (``wuye_bench_wo``, recreated each run): one company, one
community with 2,000 houses, 1,000 on-shift technicians with the 水电 trade, and
``--orders`` open orders written with COPY whose SLA next-check instants are spread
over the coming 30 days, so only ``--due`` of them are due at the measured instant.

Figures printed:
- the sweep over the due orders (target < 1 s) against a baseline measured in the same
  run: reading every open order's SLA (what a sweep without the indexed next-check
  column must do, as Frappe's hourly one-ticket-at-a-time refresh does);
- ``pick()`` — the automatic assignment decision — p50/p95/p99 over ``--picks`` calls with
  1,000 technicians (target p95 < 10 ms), against the same with 10 technicians.
"""

import argparse
import datetime
import io
import json
import os
import random
import statistics
import time

import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"


def recreate(database: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def setup(database: str) -> None:
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def build(args, rng):
    from decimal import Decimal

    from wuye.accounts.models import User
    from wuye.estates.models import Building, Community, House
    from wuye.estates.services import create_company
    from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
    from wuye.workorders.models import Category

    company = create_company(name="基准物业", code="bench")
    community = Community.objects.create(company=company, name="基准小区", code="b1")
    building = Building.objects.create(community=community, name="1栋", floors_above=30)
    houses = House.objects.bulk_create(
        House(
            company=company,
            community=community,
            building=building,
            number=f"{n:05d}",
            floor=1 + n // 70,
            built_area=Decimal("90"),
        )
        for n in range(2000)
    )
    role = Role.objects.get(company=company, code="technician")
    trade = Trade.objects.get(company=company, code="plumbing_electric")
    shift = Shift.objects.create(
        company=company, name="全天", start_time=datetime.time(0), end_time=datetime.time(0)
    )
    users = User.objects.bulk_create(
        User(username=f"tech{n}", password="!") for n in range(args.technicians)
    )
    members = StaffMember.objects.bulk_create(
        StaffMember(company=company, user=u, employee_no=f"T{n}", name=f"师傅{n}")
        for n, u in enumerate(users)
    )
    through = StaffMember.roles.through
    through.objects.bulk_create(through(staffmember=m, role=role) for m in members)
    through = StaffMember.trades.through
    through.objects.bulk_create(through(staffmember=m, trade=trade) for m in members)
    through = StaffMember.communities.through
    through.objects.bulk_create(through(staffmember=m, community=community) for m in members)
    today = datetime.date.today()
    RosterEntry.objects.bulk_create(
        RosterEntry(staff=m, date=day, shift=shift, community=community)
        for m in members
        for day in (today - datetime.timedelta(days=1), today)
    )
    category = Category.objects.get(company=company, code="water_leak")
    return company, community, houses, members, category


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def copy_orders(args, rng, company, community, houses, members, category, now):
    """COPY ``args.orders`` open orders; ``args.due`` of them due at ``now``."""
    from django.db import connection

    columns = (
        "company_id, community_id, house_id, number, request_type, category_id, "
        "dispatch_mode, channel, urgency, priority, description, preferred_time, may_enter, "
        "contact_name, contact_mobile, created_by_id, status, assignee_id, paused_from, "
        "pause_reason, submitted_at, labour_amount, urge_count, reopen_count, resolution, "
        "sla, response_due, resolution_due, sla_state, sla_next_check"
    )
    # Columns added later that are NOT NULL without a database default get the model's
    # default, so the bench keeps working as the model grows.
    from wuye.workorders.models import WorkOrder

    listed = {c.strip() for c in columns.split(",")}
    extra = [
        f
        for f in WorkOrder._meta.concrete_fields
        if f.column not in listed
        and not f.null
        and not f.primary_key
        and f.get_default() is not None
    ]
    columns += "".join(f", {f.column}" for f in extra)
    tail = [_copy_value(f.get_default()) for f in extra]
    creator = members[0].user_id
    buffer = io.StringIO()
    for n in range(args.orders):
        submitted = now - datetime.timedelta(minutes=rng.randint(1, 600))
        due_now = n < args.due
        next_check = (
            now - datetime.timedelta(seconds=rng.randint(1, 50))
            if due_now
            else now + datetime.timedelta(minutes=rng.randint(5, 30 * 24 * 60))
        )
        due = next_check + datetime.timedelta(minutes=3)
        clocks = {
            "response": {
                "start": submitted.isoformat(),
                "minutes": 15,
                "risk": next_check.isoformat(),
                "due": due.isoformat(),
                "stopped": None,
                "late": None,
                "state": "on_track",
                "escalated": False,
            }
        }
        sla = {
            "policy": {"code": "urgent", "clock": "wall", "at_risk_percent": 80},
            "clocks": clocks,
        }
        # Five open orders per technician (under the cap of 10); the rest await dispatch.
        assignee = members[n % len(members)].pk if n < 5 * len(members) else "\\N"
        status = "dispatched" if assignee != "\\N" else "accepted"
        row = [
            company.pk, community.pk, houses[n % len(houses)].pk, f"B{n:010d}", "repair",
            category.pk, "auto", "phone", "urgent", 0, "漏水", "", "f", "住户", "13800000000",
            creator, status, assignee, "", "", submitted.isoformat(), "0.00", 0, 0, "",
            json.dumps(sla), due.isoformat(), (due + datetime.timedelta(hours=4)).isoformat(),
            "on_track", next_check.isoformat(), *tail,
        ]  # fmt: skip
        buffer.write("\t".join(str(v) for v in row) + "\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        raw = cursor.connection
        with raw.cursor().copy(f"COPY workorders_workorder ({columns}) FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        # Statistics for every table, as autovacuum keeps them on a running database:
        # without them the planner guesses one row for the 1,000-member roster and
        # staff tables and picks nested loops for pick()'s candidate query.
        cursor.execute("ANALYZE")


def warm_up():
    """Load the URL configuration (every view and API schema) as a serving process
    has: the sweep's first ``reverse()`` would otherwise pay it. Returns seconds."""
    from django.urls import get_resolver

    started = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018 - imports the URL modules
    get_resolver()._populate()
    return time.perf_counter() - started


def bench_sweep(args, now):
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from wuye.workorders.models import OPEN_STATUSES, WorkOrder
    from wuye.workorders.sweep import sweep_sla

    started = time.perf_counter()
    rows = sum(
        1
        for _ in WorkOrder.objects.filter(status__in=OPEN_STATUSES)
        .values_list("id", "sla")
        .iterator(chunk_size=5000)
    )
    baseline = time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN ANALYZE SELECT id FROM workorders_workorder "
            "WHERE sla_next_check <= %s ORDER BY sla_next_check LIMIT 500",
            [now],
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        touched = sweep_sla(now=now)
        sweep = time.perf_counter() - started
    started = time.perf_counter()
    again = sweep_sla(now=now)
    idle = time.perf_counter() - started
    return rows, baseline, touched, sweep, again, idle, plan, len(queries)


def bench_pick(args, rng, category, community, members, now, limit_members=None, mode=None):
    from wuye.staff.models import StaffMember
    from wuye.workorders.dispatch import pick
    from wuye.workorders.models import WorkOrder

    order = WorkOrder.objects.filter(status="accepted").select_related("category").first()
    if mode is not None:
        order.dispatch_mode = mode  # in memory only: pick() reads the order's mode
    if limit_members is not None:
        StaffMember.objects.exclude(pk__in=[m.pk for m in members[:limit_members]]).update(
            status=StaffMember.Status.OFF_DUTY
        )
    timings = []
    for _ in range(args.picks):
        started = time.perf_counter()
        chosen = pick(order, at=now)
        timings.append((time.perf_counter() - started) * 1000)
    StaffMember.objects.update(status=StaffMember.Status.ON_DUTY)
    assert chosen is not None
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--technicians", type=int, default=1_000)
    parser.add_argument("--picks", type=int, default=300)
    parser.add_argument("--database", default="wuye_bench_wo")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    recreate(args.database)
    setup(args.database)
    from django.utils import timezone

    now = timezone.now()
    t0 = time.perf_counter()
    company, community, houses, members, category = build(args, rng)
    copy_orders(args, rng, company, community, houses, members, category, now)
    print(
        f"built {args.orders:,} open orders and {len(members):,} technicians "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    warm = warm_up()
    print(f"URL configuration loaded in {warm * 1000:.0f} ms (once per process, before timing)")
    rows, baseline, touched, sweep, again, idle, plan, queries = bench_sweep(args, now)
    print(f"\nSLA sweep ({args.orders:,} open orders, {args.due:,} due)")
    print(f"  baseline: read every open order's SLA   {baseline * 1000:8.1f} ms  ({rows:,} rows)")
    print(
        f"  sweep of the due orders                 {sweep * 1000:8.1f} ms  ({touched:,} orders,"
        f" {queries} queries)"
    )
    print(f"  second sweep (nothing due)              {idle * 1000:8.1f} ms  ({again:,} orders)")
    print(
        f"  sweep / baseline: {sweep / baseline:.3f}   target < 1 s: "
        f"{'met' if sweep < 1 else 'MISSED'}"
    )
    print("  due-row query plan:\n    " + plan.replace("\n", "\n    "))

    from wuye.workorders.models import DispatchMode

    many = bench_pick(args, rng, category, community, members, now)
    few = bench_pick(args, rng, category, community, members, now, limit_members=10)
    turns = bench_pick(args, rng, category, community, members, now, mode=DispatchMode.ROUND_ROBIN)
    print(f"\nautomatic assignment pick() over {args.picks} calls (ms)")
    for label, timings in (
        (f"{len(members):,} technicians", many),
        ("10 technicians", few),
        (f"{len(members):,}, round-robin", turns),
    ):
        print(
            f"  {label:<18} p50 {percentile(timings, 50):6.2f}  p95 {percentile(timings, 95):6.2f}"
            f"  p99 {percentile(timings, 99):6.2f}  mean {statistics.mean(timings):6.2f}"
        )
    ratio = percentile(many, 95) / percentile(few, 95)
    print(
        f"  p95 ratio {len(members):,} / 10 technicians: {ratio:.2f}   target p95 < 10 ms: "
        f"{'met' if percentile(many, 95) < 10 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
