"""Daily task generation for 10,000 plans on PostgreSQL (issue 4, target < 10 s).

    uv run python bench/facility_plans.py              # 10,000 plans, 200 communities
    uv run python bench/facility_plans.py --plans 1000 # quicker

Builds a scratch database (``wuye_bench_fac``, recreated each run): one company,
``--communities`` communities with 10 field staff each (half on a trade team), a
three-shift roster for the days generated, and ``--plans`` plans spread over the
communities and the five recurrences (a third name a person, a third a team, a third
both). Then times ``generate_tasks`` for one day and for two days, a rerun (nothing
new: idempotent), and as a baseline in the same run the bare bulk insert of the same
number of task rows (what generation costs beyond writing its rows).
"""

import argparse
import datetime
import os
import random
import time

import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"


def recreate(database: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--database", default="wuye_bench_fac")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    recreate(args.database)
    os.environ["DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    from wuye.accounts.models import User
    from wuye.estates.models import Community
    from wuye.estates.services import create_company
    from wuye.facilities.models import ChecklistTemplate, Plan, RoundKind, Task
    from wuye.facilities.plans import generate_tasks
    from wuye.staff.models import RosterEntry, Shift, StaffMember, Trade

    rng = random.Random(args.seed)
    started = time.perf_counter()
    company = create_company(name="基准物业", code="bench-fac")
    communities = Community.objects.bulk_create(
        Community(company=company, name=f"小区{i:03d}", code=f"c{i:03d}")
        for i in range(args.communities)
    )
    trade = Trade.objects.get(company=company, code="plumbing_electric")
    shifts = list(Shift.objects.filter(company=company, name__in=["早班", "中班", "夜班"]))
    users = User.objects.bulk_create(
        User(username=f"fac{i}", first_name=f"员工{i}") for i in range(args.communities * 10)
    )
    staff = StaffMember.objects.bulk_create(
        StaffMember(company=company, user=u, name=u.first_name, employee_no=u.username)
        for u in users
    )
    links, trades, roster = [], [], []
    start = datetime.date(2026, 12, 1)
    for index, member in enumerate(staff):
        community = communities[index // 10]
        links.append(
            StaffMember.communities.through(staffmember_id=member.id, community_id=community.id)
        )
        if index % 2 == 0:
            trades.append(StaffMember.trades.through(staffmember_id=member.id, trade_id=trade.id))
        for day in range(-1, 2):
            roster.append(
                RosterEntry(
                    staff=member,
                    community=community,
                    date=start + datetime.timedelta(days=day),
                    shift=shifts[(index + day) % 3],
                )
            )
    StaffMember.communities.through.objects.bulk_create(links)
    StaffMember.trades.through.objects.bulk_create(trades)
    RosterEntry.objects.bulk_create(roster, batch_size=5000)
    template = ChecklistTemplate.objects.create(
        company=company, name="巡检", kind=RoundKind.INSPECTION
    )
    recurrences = [
        ("daily", [], None),
        ("weekdays", [], None),
        ("weekly", [1, 3, 5], None),
        ("monthly", [1, 15], None),
        ("every_n_days", [], 2),
    ]
    plans = []
    for i in range(args.plans):
        community_index = i % args.communities
        recurrence, days, interval = recurrences[i % len(recurrences)]
        person = staff[community_index * 10 + rng.randrange(10)]
        who = i % 3
        hour = rng.randrange(0, 22)
        plans.append(
            Plan(
                company=company,
                community=communities[community_index],
                kind=RoundKind.INSPECTION,
                name=f"计划{i}",
                template=template,
                recurrence=recurrence,
                days=days,
                interval_days=interval,
                window_start=datetime.time(hour),
                window_end=datetime.time(hour + 2),
                assignee=person if who != 1 else None,
                trade=trade if who != 0 else None,
                starts_on=start - datetime.timedelta(days=10),
            )
        )
    Plan.objects.bulk_create(plans, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built {args.plans:,} plans, {len(staff):,} staff, {len(roster):,} roster entries "
        f"in {time.perf_counter() - started:.1f} s"
    )

    def timed(label, call):
        began = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - began
        print(f"  {label:42s} {seconds * 1000:9.1f} ms  ({result:,} tasks)")
        return seconds, result

    print("task generation")
    one_day, made = timed(
        "generate one day (2026-12-01)", lambda: generate_tasks(start=start, days=1)
    )
    timed("rerun of that day (idempotent)", lambda: generate_tasks(start=start, days=1))
    two_days, _ = timed(
        "generate two days (12-02, 12-03)",
        lambda: generate_tasks(start=start + datetime.timedelta(days=1), days=2),
    )

    def bare_insert():
        rows = list(Task.objects.filter(date=start).values())
        with transaction.atomic():
            Task.objects.filter(date=start).delete()
            Task.objects.bulk_create([Task(**row) for row in rows], batch_size=2000)
            transaction.set_rollback(True)
        return len(rows)

    baseline, _ = timed("baseline: bare insert of one day's rows", bare_insert)
    unassigned = Task.objects.filter(date=start, assignee__isnull=True).count()
    print(f"  unassigned (no one on shift at the window): {unassigned:,} of {made:,}")
    print(
        f"  one day / baseline: {one_day / baseline:.2f}   "
        f"target < 10 s: {'met' if one_day < 10 and two_days < 10 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
