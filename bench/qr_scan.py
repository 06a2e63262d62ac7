"""Scan to checklist on PostgreSQL: what a field worker waits for between pointing the
phone at a label and seeing the stop's checklist (issue 4, target p95 < 100 ms per page).

    uv run python bench/qr_scan.py                 # 1,000 assets, 250 stops
    uv run python bench/qr_scan.py --stops 500

Builds a scratch database (``wuye_bench_qr``, recreated each run): one company, four
communities with ``--assets`` assets between them, a 10-item checklist (every item type),
a plan whose ``--stops`` stops are assets of the technician's community, a few hundred
orders already open on them, and the technician's task for today. Then, in process with
Django's test client signed in as the technician, for every stop in turn:

1. ``GET /q/<token>/`` — the label's page (the check-in, 200);
2. ``POST /m/rounds/scan/`` — the check-in (302 to the checklist);
3. ``GET /m/rounds/visits/<id>/`` — the checklist (200);

and for the first 50 stops the checklist submitted with normal answers (302). Baselines
in the same run: ``GET /healthz`` (one ``SELECT 1``) and the field home ``GET /m/``. Also
the card an office user sees on the same labels. Prints p50/p95/max per request kind, the
scan-to-checklist total, and the SQL queries of one request of each kind.
"""

import argparse
import datetime
import os
import statistics
import time

import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"
ANSWERED = 50
LANDING = "GET /q/<token>/ (check-in page)"
CHECK_IN = "POST /m/rounds/scan/ (check in)"
CHECKLIST = "GET /m/rounds/visits/<id>/ (checklist)"


def recreate(database: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def build(args):
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from wuye.accounts.models import User
    from wuye.estates.models import CommonArea, Community
    from wuye.estates.services import create_company
    from wuye.facilities.models import (
        Asset,
        AssetCategory,
        ChecklistItem,
        ChecklistTemplate,
        ItemType,
        Plan,
        PlanStop,
        RoundKind,
        Task,
    )
    from wuye.staff.models import Role, StaffMember
    from wuye.workorders.models import Category, Channel, WorkOrder

    company = create_company(name="基准物业", code="bench-qr")
    communities = Community.objects.bulk_create(
        Community(company=company, name=f"小区{i}", code=f"q{i}") for i in range(4)
    )
    here = communities[0]
    area = CommonArea.objects.create(community=here, name="水泵房", kind="pump_room")
    pumps = AssetCategory.objects.get(company=company, code="water_pump")
    assets = Asset.objects.bulk_create(
        (
            Asset(
                company=company,
                community=communities[i % 4],
                common_area=area if i % 4 == 0 else None,
                category=pumps,
                code=f"SB-{i + 1:04d}",
                name=f"{i + 1}号水泵",
                location=f"{i % 30 + 1}号楼地下室",
            )
            for i in range(args.assets)
        ),
        batch_size=1000,
    )
    leak = Category.objects.get(company=company, code="water_leak")
    template = ChecklistTemplate.objects.create(
        company=company, name="水泵房巡检", kind=RoundKind.INSPECTION
    )
    items = [
        (
            "出水压力",
            ItemType.NUMBER,
            {
                "unit": "MPa",
                "min_value": Decimal("0.3"),
                "max_value": Decimal("0.6"),
                "creates_order": True,
                "order_category": leak,
            },
        ),
        ("电机温度", ItemType.NUMBER, {"unit": "℃", "max_value": Decimal("75")}),
        (
            "运行电流",
            ItemType.NUMBER,
            {"unit": "A", "min_value": Decimal("5"), "max_value": Decimal("30")},
        ),
        ("电表读数", ItemType.METER, {"unit": "kWh"}),
        ("运行声音", ItemType.OK_ABNORMAL, {}),
        ("有无漏水", ItemType.OK_ABNORMAL, {"creates_order": True, "order_category": leak}),
        (
            "阀门状态",
            ItemType.SINGLE,
            {"choices": ["全开", "半开", "关闭"], "abnormal_choices": ["关闭"]},
        ),
        (
            "异常现象",
            ItemType.MULTIPLE,
            {
                "choices": ["无", "异响", "振动", "渗水"],
                "abnormal_choices": ["异响", "振动", "渗水"],
                "required": False,
            },
        ),
        ("备注", ItemType.TEXT, {"required": False}),
        ("现场照片", ItemType.PHOTO, {"required": False}),
    ]
    items = ChecklistItem.objects.bulk_create(
        ChecklistItem(template=template, position=n, label=label, type=kind, **extra)
        for n, (label, kind, extra) in enumerate(items, start=1)
    )
    user = User.objects.create(username="bench-tech", first_name="巡检员")
    tech = StaffMember.objects.create(company=company, user=user, name="巡检员", employee_no="T1")
    tech.roles.add(Role.objects.get(company=company, code="technician"))
    tech.communities.add(here)
    office = User.objects.create(username="bench-desk", first_name="调度")
    desk = StaffMember.objects.create(company=company, user=office, name="调度", employee_no="D1")
    desk.roles.add(Role.objects.get(company=company, code="dispatcher"))
    desk.communities.add(here)
    now = timezone.now()
    plan = Plan.objects.create(
        company=company,
        community=here,
        kind=RoundKind.INSPECTION,
        name="水泵房日检",
        template=template,
        window_start=datetime.time(0),
        window_end=datetime.time(23, 59),
        assignee=tech,
        starts_on=timezone.localdate(now),
    )
    mine = [a for a in assets if a.community_id == here.id][: args.stops]
    PlanStop.objects.bulk_create(
        PlanStop(plan=plan, position=n, asset=a) for n, a in enumerate(mine, start=1)
    )
    task = Task.objects.create(
        company=company,
        community=here,
        plan=plan,
        kind=plan.kind,
        date=timezone.localdate(now),
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(hours=8),
        assignee=tech,
    )
    WorkOrder.objects.bulk_create(
        WorkOrder(
            company=company,
            community=here,
            common_area=area,
            asset=a,
            number=f"B{n:08d}",
            request_type=leak.request_type,
            category=leak,
            dispatch_mode=leak.dispatch_mode,
            channel=Channel.INSPECTION,
            urgency=leak.default_urgency,
            description="基准: 漏水",
            contact_name="巡检员",
            created_by=user,
            submitted_at=now,
        )
        for n, a in enumerate(mine[::2])
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"tech": user, "desk": office, "stops": mine, "items": items, "task": task}


def normal_answers(items) -> dict:
    values = ["0.45", "60", "12", "1234.5", "normal", "normal", "全开", "无", "", None]
    return {f"items[{i.pk}]": v for i, v in zip(items, values, strict=True) if v is not None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--stops", type=int, default=250)
    parser.add_argument("--database", default="wuye_bench_qr")
    args = parser.parse_args()
    assert args.stops <= args.assets // 4, "the stops are the first community's assets"
    recreate(args.database)
    os.environ["DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    data = build(args)
    print(
        f"built {args.assets:,} assets, a 10-item checklist, a plan of {args.stops} stops "
        f"and today's task in {time.perf_counter() - started:.1f} s"
    )
    tech, desk = Client(), Client()
    tech.force_login(data["tech"])
    desk.force_login(data["desk"])
    times: dict[str, list[float]] = {}
    queries: dict[str, int] = {}

    def timed(label, expect, send, *request):
        """One request: ``send(*request)`` (a client's get or post), its time and SQL."""
        reset_queries()  # the query log keeps 9,000 entries; a full one miscounts
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = send(*request)
            seconds = time.perf_counter() - began
        assert response.status_code == expect, (label, response.status_code)
        times.setdefault(label, []).append(seconds)
        queries.setdefault(label, len(captured))
        return response

    home = reverse("web:field_home")
    for _ in range(3):  # warm up templates, URL resolvers and the connection
        tech.get("/healthz")
        tech.get(home)
    for _ in range(args.stops):
        timed("baseline: GET /healthz", 200, tech.get, "/healthz")
        timed("baseline: GET /m/ (field home)", 200, tech.get, home)
    answers = normal_answers(data["items"])
    scan = reverse("rounds_field:scan")
    for n, asset in enumerate(data["stops"]):
        landing = reverse("qr:landing", args=[asset.qr_token])
        timed("office: GET /q/<token>/ (asset card)", 200, desk.get, landing)
        timed(LANDING, 200, tech.get, landing)
        position = {"code": asset.qr_token, "latitude": "31.2304", "longitude": "121.4737"}
        checked = timed(CHECK_IN, 302, tech.post, scan, position)
        timed(CHECKLIST, 200, tech.get, checked.url)
        if n < ANSWERED:
            timed("POST checklist (10 normal answers)", 302, tech.post, checked.url, answers)
    timed("GET /m/rounds/ (today, all stops)", 200, tech.get, reverse("rounds_field:today"))

    print(
        f"\nload average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work shares them)"
    )
    print(f"{'request':42s} {'n':>5s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'SQL':>4s}")
    for label, values in times.items():
        print(
            f"{label:42s} {len(values):5d} {statistics.median(values) * 1000:8.1f} "
            f"{percentile(values, 0.95) * 1000:8.1f} {max(values) * 1000:8.1f} "
            f"{queries[label]:4d}"
        )
    flow = [
        sum(times[label][i] for label in (LANDING, CHECK_IN, CHECKLIST)) for i in range(args.stops)
    ]
    pages = times[LANDING] + times[CHECKLIST]
    home_p95 = percentile(times["baseline: GET /m/ (field home)"], 0.95)
    print(
        f"\nscan to checklist (3 requests): p50 {statistics.median(flow) * 1000:.1f} ms, "
        f"p95 {percentile(flow, 0.95) * 1000:.1f} ms"
    )
    worst = percentile(pages, 0.95)
    print(
        f"label and checklist pages p95 {worst * 1000:.1f} ms = {worst / home_p95:.2f} × the field "
        f"home's; target p95 < 100 ms: {'met' if worst < 0.1 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
