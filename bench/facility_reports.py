"""Facilities reports on PostgreSQL: each report page and the Excel workbook over
30 days of rounds of 300 plans (issue 4, part 7).

    uv run python bench/facility_reports.py               # 300 plans × 30 days
    uv run python bench/facility_reports.py --plans 3000  # ten times that

Builds a scratch database (``wuye_bench_reports``, recreated each run): one company,
``--communities`` communities with 10 field staff and 2 assets per plan, ``--plans``
plans of two stops each, and ``--days`` days of tasks with their visits and answers
(two items per stop): mostly done, some awaiting acceptance, missed, late, a few still
open; 2 % of answers abnormal, half of those with a work order; a few downtime
intervals per asset. Then, in-process through Django's test client (the whole view:
forms, queries, template), times each report page for a company-wide admin and a
one-community manager, counts their queries, and times the workbook. The baseline,
measured in the same run, is the cheapest honest question about the same data: a
plain ``COUNT`` of the actor's visible tasks in the range.
"""

import argparse
import datetime
import os
import random
import statistics
import time

import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"
PAGES = ("completion", "completion&group=person", "anomalies", "overdue", "assets")


def recreate(database: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def build(args, rng):
    from django.utils import timezone

    from wuye.accounts.models import User
    from wuye.estates.models import CommonArea, Community
    from wuye.estates.services import create_company
    from wuye.facilities.models import (
        Answer,
        Asset,
        AssetCategory,
        ChecklistItem,
        ChecklistTemplate,
        Downtime,
        Plan,
        PlanStop,
        RoundKind,
        Task,
        Visit,
    )
    from wuye.staff.models import Role, StaffMember
    from wuye.workorders.models import Category, WorkOrder

    company = create_company(name="基准物业", code="bench-rep")
    communities = Community.objects.bulk_create(
        Community(company=company, name=f"小区{i:03d}", code=f"c{i:03d}")
        for i in range(args.communities)
    )
    areas = CommonArea.objects.bulk_create(
        CommonArea(community=c, name="泵房", kind="other") for c in communities
    )
    users = User.objects.bulk_create(
        User(username=f"rep{i}", first_name=f"员工{i}") for i in range(args.communities * 10)
    )
    staff = StaffMember.objects.bulk_create(
        StaffMember(company=company, user=u, name=u.first_name, employee_no=u.username)
        for u in users
    )
    StaffMember.communities.through.objects.bulk_create(
        StaffMember.communities.through(staffmember_id=m.id, community_id=communities[i // 10].id)
        for i, m in enumerate(staff)
    )
    for username, role, community in (
        ("bench_admin", "company_admin", None),
        ("bench_manager", "project_manager", communities[0]),
    ):
        user = User.objects.create(username=username, first_name=username)
        member = StaffMember.objects.create(
            company=company, user=user, name=username, employee_no=username
        )
        member.roles.set(Role.objects.filter(company=company, code=role))
        if community is not None:
            member.communities.set([community])
    pump = AssetCategory.objects.get(company=company, code="water_pump")
    template = ChecklistTemplate.objects.create(
        company=company, name="水泵房巡检", kind=RoundKind.INSPECTION
    )
    pressure = ChecklistItem.objects.create(
        template=template, position=1, label="出水压力", type="number", unit="MPa",
        min_value=0.3, max_value=0.6,
    )  # fmt: skip
    noise = ChecklistItem.objects.create(
        template=template, position=2, label="运行声音", type="ok_abnormal"
    )
    start = timezone.localdate() - datetime.timedelta(days=args.days - 1)
    plans = Plan.objects.bulk_create(
        Plan(
            company=company,
            community=communities[i % args.communities],
            kind=RoundKind.INSPECTION,
            name=f"巡检计划{i:04d}",
            template=template,
            window_start=datetime.time(8 + i % 10),
            window_end=datetime.time(10 + i % 10),
            assignee=staff[(i % args.communities) * 10 + rng.randrange(10)],
            starts_on=start,
        )
        for i in range(args.plans)
    )
    assets = Asset.objects.bulk_create(
        Asset(
            company=company,
            community_id=plan.community_id,
            common_area=areas[i % args.communities],
            category=pump,
            code=f"SB-{2 * i + k + 1:05d}",
            name=f"{k + 1}号水泵",
        )
        for i, plan in enumerate(plans)
        for k in range(2)
    )
    stops = PlanStop.objects.bulk_create(
        PlanStop(plan=plan, position=k, asset=assets[2 * i + k])
        for i, plan in enumerate(plans)
        for k in range(2)
    )
    now = timezone.now()
    statuses = ["done"] * 85 + ["awaiting_acceptance"] * 5 + ["missed"] * 7 + ["pending"] * 3
    tasks = []
    for day in range(args.days):
        date = start + datetime.timedelta(days=day)
        for plan in plans:
            opens = timezone.make_aware(datetime.datetime.combine(date, plan.window_start))
            closes = timezone.make_aware(datetime.datetime.combine(date, plan.window_end))
            status = rng.choice(statuses) if closes < now else "pending"
            late = rng.random() < 0.08
            tasks.append(
                Task(
                    company=company,
                    community_id=plan.community_id,
                    plan=plan,
                    kind=plan.kind,
                    date=date,
                    opens_at=opens,
                    closes_at=closes,
                    assignee_id=plan.assignee_id,
                    status=status,
                    started_at=opens if status != "pending" else None,
                    completed_at=(closes + datetime.timedelta(minutes=20 if late else -30))
                    if status in ("done", "awaiting_acceptance")
                    else None,
                )
            )
    tasks = Task.objects.bulk_create(tasks, batch_size=5000)
    stops_of = {}
    for stop in stops:
        stops_of.setdefault(stop.plan_id, []).append(stop)
    visits = Visit.objects.bulk_create(
        (
            Visit(
                task=task,
                stop=stop,
                scanned_at=task.opens_at + datetime.timedelta(minutes=10 * (stop.position + 1)),
                timing="late" if rng.random() < 0.02 else "on_time",
            )
            for task in tasks
            if task.status in ("done", "awaiting_acceptance")
            for stop in stops_of[task.plan_id]
        ),
        batch_size=5000,
    )
    admin = User.objects.get(username="bench_admin")
    category = Category.objects.filter(company=company, code="water_leak").first()
    community_of = {task.id: task.community_id for task in tasks}
    answers, orders = [], []
    for visit in visits:
        abnormal = rng.random() < 0.02
        answers.append(
            Answer(visit=visit, item=pressure, value="0.2" if abnormal else "0.45",
                   is_abnormal=abnormal)
        )  # fmt: skip
        answers.append(Answer(visit=visit, item=noise, value=True, is_abnormal=False))
        if abnormal and rng.random() < 0.5:
            orders.append(
                (
                    len(answers) - 2,
                    WorkOrder(
                        company=company,
                        community_id=community_of[visit.task_id],
                        asset_id=visit.stop.asset_id,
                        number=f"WO-BENCH-{len(orders):06d}",
                        request_type="repair",
                        category=category,
                        dispatch_mode="assign",
                        channel="inspection",
                        urgency="normal",
                        description="出水压力异常",
                        contact_name="巡检",
                        created_by=admin,
                        submitted_at=visit.scanned_at,
                        status=rng.choice(["submitted", "dispatched", "completed", "closed"]),
                    ),
                )
            )
    made = WorkOrder.objects.bulk_create([order for _, order in orders], batch_size=5000)
    for (index, _), order in zip(orders, made, strict=True):
        answers[index].work_order = order
    Answer.objects.bulk_create(answers, batch_size=5000)
    downtime = []
    for asset in assets:
        moment = timezone.make_aware(datetime.datetime.combine(start, datetime.time(0)))
        for _ in range(rng.randrange(4)):
            moment += datetime.timedelta(hours=rng.randrange(24, 240))
            length = datetime.timedelta(hours=rng.randrange(1, 24))
            if moment + length >= now:
                break
            downtime.append(
                Downtime(
                    asset=asset,
                    status=rng.choice(["repairing", "repairing", "stopped"]),
                    started_at=moment,
                    ended_at=moment + length,
                    reason="故障",
                )
            )
            moment += length
    Downtime.objects.bulk_create(downtime, batch_size=5000)
    return {
        "tasks": len(tasks),
        "visits": len(visits),
        "answers": len(answers),
        "orders": len(made),
        "assets": len(assets),
        "downtime": len(downtime),
        "start": start,
    }


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def count_queries(call) -> int:
    from django.db import connection

    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        call()
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--communities", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", default="wuye_bench_reports")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    recreate(args.database)
    os.environ["DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.facilities.models import Task

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    sizes = build(args, random.Random(args.seed))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"built {args.plans:,} plans × {args.days} days: {sizes['tasks']:,} tasks, "
        f"{sizes['visits']:,} visits, {sizes['answers']:,} answers, {sizes['orders']:,} "
        f"work orders, {sizes['assets']:,} assets, {sizes['downtime']:,} downtime intervals "
        f"in {time.perf_counter() - began:.1f} s"
    )
    first, last = sizes["start"], timezone.localdate()
    query = f"?date_from={first.isoformat()}&date_to={last.isoformat()}"

    def timed(call, runs=args.runs):
        for _ in range(3):
            call()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), percentile(times, 0.95)

    print(f"{'actor':14s} {'report':26s} {'queries':>7s} {'p50 ms':>8s} {'p95 ms':>8s} ×base")
    for username in ("bench_admin", "bench_manager"):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        actor = Actor(user)

        def count_tasks(actor=actor):
            # a fresh actor each time, as each request has: its scope queries count too
            actor = Actor(actor.user)
            return Task.objects.visible_to(actor).filter(date__range=(first, last)).count()

        _, base = timed(count_tasks)
        print(f"{username:14s} {'baseline: COUNT of tasks':26s} {'':>7s} {'':>8s} {base:8.1f}")
        for page in (*PAGES, "export"):
            name, _, extra = page.partition("&")
            url = reverse(f"facility_reports:{name}") + query + (f"&{extra}" if extra else "")

            def get(url=url, client=client, workbook=name == "export"):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                if workbook:
                    b"".join(response.streaming_content)

            queries = count_queries(get)
            p50, p95 = timed(get, runs=max(5, args.runs // 3) if name == "export" else args.runs)
            label = page.replace("&", " ")
            print(
                f"{username:14s} {label:26s} {queries:7d} {p50:8.1f} {p95:8.1f} {p95 / base:6.1f}"
            )


if __name__ == "__main__":
    main()
