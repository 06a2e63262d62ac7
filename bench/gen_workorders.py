"""Generate a work-order data set on PostgreSQL for the HTTP mixed-workload benchmark.

One company (created by ``estates.services.create_company``: roles, trades, shifts, SLA
policies, request categories), ``--communities`` communities (default 20) with
``--houses`` houses (default 20,000), and per community one dispatcher (客服/调度), one
service supervisor (客服主管, who handles complaints) and ``--technicians`` / communities
technicians (维修工) holding every repair trade and rostered on all three default shifts
from yesterday to two weeks ahead, so ``dispatch.candidates`` finds them at any hour.
``--residents`` residents (default 2,000) each live in one house and have a login with a
mobile. Every staff member and resident gets an API token from
``accounts.services.create_api_token``.

Then ``--orders`` existing orders (default 100,000) in mixed statuses, written with COPY
from model instances (so every column, and any column added later, gets the model's
value or default): mostly closed history over the past year, and the open work of the
last week — 5 % accepted and waiting for dispatch, and about five orders per technician
dispatched, taken, in progress or paused (the cap is 10). Each order's SLA is the one
``sla.start_clocks`` computes for its category and urgency, moved to its submission
time, with the clocks stopped as its transitions would have stopped them; each order has
the timeline events of the steps it went through, rated ones their rating. After the
bulk, one order is taken through the whole lifecycle with the real services (resident
submit, accept, dispatch, take, arrive, complete, rate) and one phone intake is
auto-dispatched through ``dispatch.pick``, to check that the rosters and trades work and
that the bulk rows have the same shape.

Writes the tokens and ids to ``bench/out/http_workorders.json`` (git-ignored).

    uv run python bench/gen_workorders.py --recreate          # scratch database wuye_bench_http
    uv run python bench/gen_workorders.py --recreate --orders 20000 --houses 5000
"""

import argparse
import copy
import datetime
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg

OUT_DIR = Path(__file__).resolve().parent / "out"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_DATABASE = "wuye_bench_http"
HOUSES_PER_BUILDING = 100  # 2 units × 2 flats × 25 floors
REPAIR_TRADES = ("plumbing_electric", "pipes", "elevator", "doors_windows", "low_voltage", "civil")

# Leaf category code -> weight among existing orders.
ORDER_CATEGORIES = {
    "water_leak": 14,
    "power_cut": 6,
    "lights_sockets": 10,
    "taps_toilets": 10,
    "drain_blocked": 8,
    "sewage": 2,
    "elevator_fault": 4,
    "locks_access": 6,
    "windows_glass": 3,
    "lighting": 5,
    "facility_damage": 5,
    "garbage": 4,
    "corridor_cleaning": 4,
    "greening_care": 2,
    "noise_neighbour": 4,
    "noise_renovation": 3,
    "parking_order": 3,
    "fee_question": 3,
    "general_inquiry": 2,
    "general_suggestion": 1,
    "general_praise": 1,
}
# Categories a resident submits during the benchmark (all kinds of dispatch mode).
SUBMIT_CATEGORIES = (
    "water_leak",
    "lights_sockets",
    "taps_toilets",
    "drain_blocked",
    "locks_access",
    "lighting",
    "corridor_cleaning",
    "noise_neighbour",
    "general_inquiry",
)
# status -> share of the existing orders; the open ones are recent. Technicians hold
# about five open orders each (under the cap of 10, so automatic dispatch finds them);
# 5 % wait for dispatch (a backlog the benchmark's dispatchers work through).
STATUS_MIX = {
    "closed": 0.8295,
    "cancelled": 0.03,
    "rejected": 0.02,
    "completed": 0.03,
    "rated": 0.025,
    "submitted": 0.01,
    "accepted": 0.05,
    "dispatched": 0.003,
    "taken": 0.001,
    "in_progress": 0.001,
    "paused": 0.0005,
}
# The steps each final status went through (after "submitted").
STEPS = {
    "submitted": (),
    "accepted": ("accepted",),
    "dispatched": ("accepted", "dispatched"),
    "taken": ("accepted", "dispatched", "taken"),
    "in_progress": ("accepted", "dispatched", "taken", "in_progress"),
    "paused": ("accepted", "dispatched", "taken", "in_progress", "paused"),
    "completed": ("accepted", "dispatched", "taken", "in_progress", "completed"),
    "rated": ("accepted", "dispatched", "taken", "in_progress", "completed", "rated"),
    "closed": ("accepted", "dispatched", "taken", "in_progress", "completed", "rated", "closed"),
    "cancelled": ("cancelled",),
    "rejected": ("accepted", "rejected"),
}
STEP_EVENT = {"in_progress": "arrived"}  # event type of a step whose name is the status
DESCRIPTIONS = (
    "厨房水管漏水，楼下天花板渗水",
    "卫生间马桶堵塞",
    "客厅灯不亮，开关没反应",
    "入户门锁坏了，钥匙打不开",
    "楼道灯不亮，晚上很黑",
    "下水道返味严重",
    "电梯按钮失灵",
    "窗户玻璃裂了，需要更换",
    "楼道有垃圾没人清理",
    "楼上装修噪音太大，中午也在施工",
    "物业费怎么缴纳？",
    "小区门口有车乱停",
    "阳台地漏堵塞，积水",
    "插座冒火花，跳闸",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def database_url(args) -> str:
    return f"{args.server}/{args.database}"


def create_database(args) -> None:
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (args.database,)
        ).fetchone()
        if exists and not args.recreate:
            sys.exit(f"database {args.database} exists; pass --recreate to rebuild it")
        if exists:
            conn.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def copy_rows(model, objs, *, with_pk: bool) -> int:
    """COPY unsaved model instances into the model's table: every concrete column gets
    the value the ORM would save (defaults included), adapted by psycopg."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    written = 0
    with connection.cursor() as cursor:
        raw = cursor.connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy_,
        ):
            for obj in objs:
                copy_.write_row(
                    [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
                )
                written += 1
        if with_pk:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
                f"(SELECT max(id) FROM {model._meta.db_table}))"
            )
    return written


# --- registry ---------------------------------------------------------------------
def build_registry(args, rng, log):
    from wuye.estates.models import Building, Community, House, Unit
    from wuye.estates.services import create_company

    company = create_company(name="基准物业", code="bench")
    communities = Community.objects.bulk_create(
        Community(
            company=company,
            name=f"基准小区{i + 1:02d}",
            code=f"c{i + 1:02d}",
            province="浙江省",
            city="杭州市",
            district="西湖区",
        )
        for i in range(args.communities)
    )
    plan = []  # (community index, building number, flats)
    for c in range(args.communities):
        share = args.houses // args.communities + (1 if c < args.houses % args.communities else 0)
        number = 0
        while share > 0:
            number += 1
            flats = min(share, HOUSES_PER_BUILDING)
            plan.append((c, number, flats))
            share -= flats
    buildings = Building.objects.bulk_create(
        Building(community=communities[c], name=f"{n}栋", floors_above=25, sort_order=n)
        for c, n, _flats in plan
    )
    units = Unit.objects.bulk_create(
        Unit(building=b, name=f"{u}单元", sort_order=u) for b in buildings for u in (1, 2)
    )
    houses = []
    for i, (c, _n, flats) in enumerate(plan):
        for k in range(flats):
            floor, rest = divmod(k, 4)
            unit = units[2 * i + rest // 2]
            built = Decimal(rng.randint(6000, 16000)) / 100
            houses.append(
                House(
                    company=company,
                    community=communities[c],
                    building=buildings[i],
                    unit=unit,
                    number=f"{floor + 1:02d}{rest % 2 + 1:02d}",
                    floor=floor + 1,
                    built_area=built,
                    indoor_area=(built * Decimal("0.8")).quantize(Decimal("0.01")),
                )
            )
    houses = House.objects.bulk_create(houses, batch_size=5000)
    log(f"{len(communities)} communities, {len(buildings)} buildings, {len(houses)} houses")
    return company, communities, houses


def build_staff(args, rng, company, communities, log):
    from wuye.accounts.models import User
    from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade

    roles = {r.code: r for r in Role.objects.filter(company=company)}
    trades = list(Trade.objects.filter(company=company, code__in=REPAIR_TRADES))
    shifts = list(Shift.objects.filter(company=company, name__in=("早班", "中班", "夜班")))
    per_community = max(1, args.technicians // len(communities))
    people = []  # (kind, community index, n)
    for c in range(len(communities)):
        people.append(("dispatcher", c, 0))
        people.append(("supervisor", c, 0))
        people.extend(("technician", c, n) for n in range(per_community))
    people.append(("manager", None, 0))
    users = User.objects.bulk_create(
        User(
            username=f"bench_{kind}_{c if c is not None else 'all'}_{n}",
            first_name=person_name(rng),
            password="!bench",
        )
        for kind, c, n in people
    )
    members = StaffMember.objects.bulk_create(
        StaffMember(
            company=company,
            user=u,
            employee_no=u.username,
            name=u.first_name,
            mobile=f"137{i:08d}",
        )
        for i, u in enumerate(users)
    )
    role_of = {
        "dispatcher": "dispatcher",
        "supervisor": "service_supervisor",  # complaints need workorders.complaints
        "technician": "technician",
        "manager": "company_admin",
    }
    through = StaffMember.roles.through
    through.objects.bulk_create(
        through(staffmember=m, role=roles[role_of[kind]])
        for m, (kind, _c, _n) in zip(members, people, strict=True)
    )
    through = StaffMember.communities.through
    through.objects.bulk_create(
        through(staffmember=m, community=communities[c])
        for m, (_kind, c, _n) in zip(members, people, strict=True)
        if c is not None
    )
    techs = [m for m, (kind, _c, _n) in zip(members, people, strict=True) if kind == "technician"]
    through = StaffMember.trades.through
    through.objects.bulk_create(through(staffmember=m, trade=t) for m in techs for t in trades)
    today = datetime.date.today()
    days = [today + datetime.timedelta(days=d) for d in range(-1, 15)]
    community_of = {
        m.pk: communities[c]
        for m, (_k, c, _n) in zip(members, people, strict=True)
        if c is not None
    }
    RosterEntry.objects.bulk_create(
        (
            RosterEntry(staff=m, date=day, shift=s, community=community_of[m.pk])
            for m in techs
            for day in days
            for s in shifts
        ),
        batch_size=5000,
    )
    dispatchers, supervisors, technicians, manager = {}, {}, {}, None
    for m, (kind, c, _n) in zip(members, people, strict=True):
        if kind == "dispatcher":
            dispatchers[c] = m
        elif kind == "supervisor":
            supervisors[c] = m
        elif kind == "technician":
            technicians.setdefault(c, []).append(m)
        else:
            manager = m
    log(
        f"{len(dispatchers)} dispatchers, {len(supervisors)} service supervisors, "
        f"{len(techs)} technicians "
        f"({len(trades)} trades, {len(days)} days × {len(shifts)} shifts rostered), 1 manager"
    )
    return dispatchers, supervisors, technicians, manager


def build_residents(args, rng, company, communities, houses, log):
    from wuye.accounts.services import get_or_create_mobile_users
    from wuye.people.models import Residency, Resident

    by_community: dict[int, list] = {}
    for h in houses:
        by_community.setdefault(h.community_id, []).append(h)
    chosen = []
    per_community = args.residents // len(communities)
    for c in communities:
        pool = by_community[c.pk]
        chosen.extend(rng.sample(pool, min(per_community, len(pool))))
    names = {f"139{i:08d}": person_name(rng) for i in range(len(chosen))}
    user_ids = get_or_create_mobile_users(names_by_mobile=names)
    mobiles = sorted(names)
    residents = Resident.objects.bulk_create(
        Resident(company=company, user_id=user_ids[m], name=names[m], mobile=m) for m in mobiles
    )
    move_in = datetime.date.today() - datetime.timedelta(days=800)
    Residency.objects.bulk_create(
        Residency(resident=r, house=h, relation="owner", move_in=move_in)
        for r, h in zip(residents, chosen, strict=True)
    )
    log(f"{len(residents)} residents, one house each")
    return list(zip(residents, chosen, strict=True))


def issue_tokens(people, log) -> list[str]:
    """One API token per user, created like the console does."""
    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.accounts.services import create_api_token

    users = User.objects.in_bulk([p.user_id for p in people])
    secrets = []
    for p in people:
        _token, secret = create_api_token(actor=Actor(users[p.user_id]), name="http benchmark")
        secrets.append(secret)
    log(f"{len(secrets)} API tokens")
    return secrets


# --- one order through the real services -------------------------------------------
def service_samples(company, communities, dispatchers, technicians, residents, log):
    """The lifecycle with the services: checks rosters, trades and the shapes the bulk
    imitates. Returns the rows' status and columns for a comparison."""
    from wuye.accounts.actor import Actor
    from wuye.workorders import services
    from wuye.workorders.models import Category, Status, WorkOrder

    resident, house = residents[0]
    c = next(i for i, cm in enumerate(communities) if cm.pk == house.community_id)
    me = Actor(resident.user)
    desk = Actor(dispatchers[c].user)
    tech = technicians[c][0]
    field = Actor(tech.user)
    cats = {x.code: x for x in Category.objects.filter(company=company)}
    order = services.submit_order(
        actor=me,
        category=cats["lighting"],
        house=house,
        description="样例：客厅灯不亮",
        channel="api",
    )
    order = services.accept_order(actor=desk, order=order)
    order = services.dispatch_order(actor=desk, order=order, assignee=tech)
    order = services.take_order(actor=field, order=order)
    order = services.arrive(actor=field, order=order)
    order = services.complete_order(actor=field, order=order, resolution="更换灯泡")
    order = services.rate_order(actor=me, order=order, overall=5)
    assert order.status == Status.CLOSED, order.status
    # A phone intake in an automatic category: accepted at once, then dispatch.pick.
    auto = services.submit_order(
        actor=desk,
        category=cats["water_leak"],
        house=house,
        description="样例：电话报修，水管漏水",
        channel="phone",
        contact_name="住户",
        contact_mobile="13900000000",
    )
    auto.refresh_from_db()
    assert auto.status == Status.DISPATCHED and auto.assignee_id is not None, (
        f"auto-dispatch found nobody: {auto.status}; rosters or trades are wrong"
    )
    log(
        f"service samples: #{order.number} closed after the full lifecycle; "
        f"#{auto.number} auto-dispatched to {auto.assignee.name}"
    )
    return WorkOrder.objects.filter(pk__in=[order.pk, auto.pk]).order_by("id")


# --- the bulk --------------------------------------------------------------------
def sla_templates(company, community, categories, now):
    """sla JSON per (category, urgency), computed by ``sla.start_clocks`` at ``now``."""
    from wuye.workorders import sla
    from wuye.workorders.models import WorkOrder

    templates = {}
    for cat in categories.values():
        for urgency in ("normal", "urgent", "emergency"):
            probe = WorkOrder(
                company=company,
                community=community,
                category=cat,
                request_type=cat.request_type,
                urgency=urgency,
            )
            sla.start_clocks(probe, now=now)
            templates[cat.code, urgency] = probe.sla
    return templates


def _shift_sla(template: dict, delta: datetime.timedelta) -> dict:
    from django.utils.dateparse import parse_datetime

    data = copy.deepcopy(template)
    for running in data.get("clocks", {}).values():
        for key in ("start", "risk", "due"):
            if running.get(key):
                running[key] = (parse_datetime(running[key]) + delta).isoformat()
    return data


def plan_orders(args, rng, now):
    """(submitted_at, final status) sorted by time: ids follow submission order."""
    statuses = list(STATUS_MIX)
    weights = [STATUS_MIX[s] for s in statuses]
    rows = []
    for _ in range(args.orders):
        status = rng.choices(statuses, weights)[0]
        if status in ("submitted", "accepted", "dispatched", "taken", "in_progress", "paused"):
            age = datetime.timedelta(minutes=rng.randint(5, 7 * 24 * 60))
        elif status in ("completed", "rated"):
            age = datetime.timedelta(minutes=rng.randint(60, 14 * 24 * 60))
        else:
            age = datetime.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        rows.append((now - age, status))
    rows.sort()
    return rows


def build_orders(args, rng, company, communities, houses, dispatchers, technicians, residents, log):
    from django.utils import timezone

    from wuye.workorders import sla
    from wuye.workorders.models import Category, Feedback, WorkOrder, WorkOrderEvent

    now = timezone.now()
    categories = {
        c.code: c
        for c in Category.objects.filter(company=company, code__in=ORDER_CATEGORIES).select_related(
            "parent"
        )
    }
    templates = sla_templates(company, communities[0], categories, now)
    cat_codes = list(ORDER_CATEGORIES)
    cat_weights = [ORDER_CATEGORIES[c] for c in cat_codes]
    index_of = {cm.pk: i for i, cm in enumerate(communities)}
    houses_of: dict[int, list] = {}
    for h in houses:
        houses_of.setdefault(index_of[h.community_id], []).append(h)
    residents_of: dict[int, list] = {}
    for r, h in residents:
        residents_of.setdefault(index_of[h.community_id], []).append((r, h))
    start_id = (WorkOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    plan = plan_orders(args, rng, now)
    has_close_reason = any(f.name == "close_reason" for f in WorkOrder._meta.fields)
    orders, events, feedback = [], [], []
    minute = datetime.timedelta(minutes=1)
    for offset, (submitted, status) in enumerate(plan):
        pk = start_id + offset
        c = rng.randrange(len(communities))
        community = communities[c]
        cat = categories[rng.choices(cat_codes, cat_weights)[0]]
        by_resident = rng.random() < 0.7
        if by_resident:
            resident, house = rng.choice(residents_of[c])
            reporter, created_by = resident.user_id, resident.user_id
            channel = rng.choice(("api", "resident_h5"))
            contact, mobile = resident.name, resident.mobile
        else:
            house = rng.choice(houses_of[c])
            reporter, created_by = None, dispatchers[c].user_id
            channel = rng.choice(("phone", "walk_in"))
            contact, mobile = person_name(rng), f"138{rng.randrange(10**8):08d}"
        urgency = cat.default_urgency
        steps = STEPS[status]
        times = {"submitted": submitted}
        t = submitted
        for step in steps:
            t = t + minute * rng.randint(2, 90 if step != "completed" else 600)
            times[step] = min(t, now - datetime.timedelta(seconds=30))
        assigned = "dispatched" in steps and status != "cancelled"
        assignee = rng.choice(technicians[c]) if assigned else None
        order = WorkOrder(
            id=pk,
            company=company,
            community=community,
            house=house,
            number=f"{timezone.localtime(submitted):%Y%m%d}{pk:06d}",
            request_type=cat.request_type,
            category=cat,
            dispatch_mode=cat.dispatch_mode,
            channel=channel,
            urgency=urgency,
            description=rng.choice(DESCRIPTIONS),
            contact_name=contact,
            contact_mobile=mobile,
            reporter_id=reporter,
            created_by_id=created_by,
            status=status,
            assignee=assignee,
            submitted_at=submitted,
            accepted_at=times.get("accepted"),
            dispatched_at=times.get("dispatched"),
            taken_at=times.get("taken"),
            arrived_at=times.get("in_progress"),
            completed_at=times.get("completed"),
            closed_at=times.get("closed") or times.get("cancelled") or times.get("rejected"),
            resolution="已处理完毕" if "completed" in steps else "",
        )
        if status == "closed" and has_close_reason:
            order.close_reason = "rated"
        if "rated" in steps:
            feedback.append(
                Feedback(
                    order_id=pk,
                    overall=rng.choices((5, 4, 3, 2, 1), (60, 25, 8, 4, 3))[0],
                    created_at=times["rated"],
                )
            )
        if status == "paused":
            order.paused_from = "in_progress"
            order.pause_reason = "等待配件"
            order.paused_at = times["paused"]
        order.sla = _shift_sla(templates[cat.code, urgency], submitted - now)
        clocks = order.sla.get("clocks", {})
        for step, clock in (("accepted", "response"), ("in_progress", "arrival")):
            if step in times and clock in clocks:
                sla._stop(clocks[clock], times[step])
        end = times.get("completed") or times.get("cancelled") or times.get("rejected")
        if end is not None:
            for running in clocks.values():
                sla._stop(running, end, count_late="completed" in times)
        if order.sla:
            sla._refresh(order, now)
        orders.append(order)
        prev = "submitted"
        desk_user = dispatchers[c].user_id
        events.append(
            WorkOrderEvent(
                order_id=pk,
                type="submitted",
                actor_id=created_by,
                payload={"channel": channel},
                created_at=submitted,
            )
        )
        for step in steps:
            if step in ("taken", "in_progress", "completed", "paused"):
                actor = assignee.user_id
            elif step in ("rated",):
                actor = reporter
            elif step == "closed":
                actor = None
            else:
                actor = desk_user
            payload = {}
            if step == "dispatched":
                payload = {"assignee": assignee.pk, "assignee_name": assignee.name}
            events.append(
                WorkOrderEvent(
                    order_id=pk,
                    type=STEP_EVENT.get(step, step),
                    actor_id=actor,
                    from_status=prev,
                    to_status=step,
                    payload=payload,
                    is_public=step not in ("paused",),
                    created_at=times[step],
                )
            )
            prev = step
    log(f"planned {len(orders):,} orders and {len(events):,} events")
    copy_rows(WorkOrder, orders, with_pk=True)
    log(f"copied {len(orders):,} orders")
    copy_rows(WorkOrderEvent, events, with_pk=False)
    log(f"copied {len(events):,} events")
    copy_rows(Feedback, feedback, with_pk=False)
    log(f"copied {len(feedback):,} ratings")
    return categories


def analyze(log) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("workorders_workorder", "workorders_workorderevent", "estates_house"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    log("vacuumed and analyzed")


def compare_shapes(samples, log) -> None:
    """The bulk rows fill the same columns as rows the services wrote."""
    from wuye.workorders.models import WorkOrder

    service_row = samples[0]
    bulk_row = WorkOrder.objects.filter(
        status="closed", id__lt=service_row.pk, reporter__isnull=False
    ).first()
    missing = [
        f.name
        for f in WorkOrder._meta.concrete_fields
        if getattr(service_row, f.attname) not in (None, "", {}, [])
        and getattr(bulk_row, f.attname) in (None, "", {}, [])
        and f.name not in ("merged_into", "common_area")
    ]
    if missing:
        log(f"WARNING: bulk closed orders leave empty what the services fill: {missing}")
    else:
        log("bulk rows fill the same columns as the service-made closed order")


def generate(args) -> dict:
    from django.core.management import call_command
    from django.db import transaction

    started = time.monotonic()

    def log(message):
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    rng = random.Random(args.seed)
    call_command("migrate", interactive=False, verbosity=0)
    log("migrated")
    with transaction.atomic():
        company, communities, houses = build_registry(args, rng, log)
        dispatchers, supervisors, technicians, manager = build_staff(
            args, rng, company, communities, log
        )
        residents = build_residents(args, rng, company, communities, houses, log)
    with transaction.atomic():
        categories = build_orders(
            args, rng, company, communities, houses, dispatchers, technicians, residents, log
        )
    analyze(log)
    samples = service_samples(company, communities, dispatchers, technicians, residents, log)
    compare_shapes(samples, log)

    staff_people = (
        [dispatchers[c] for c in range(len(communities))]
        + [supervisors[c] for c in range(len(communities))]
        + [t for c in range(len(communities)) for t in technicians[c]]
        + [manager]
    )
    staff_tokens = dict(
        zip(
            [m.pk for m in staff_people],
            issue_tokens(staff_people, log),
            strict=True,
        )
    )
    resident_tokens = issue_tokens([r for r, _h in residents], log)
    from wuye.workorders.models import Category

    submit_ids = dict(
        Category.objects.filter(company=company, code__in=SUBMIT_CATEGORIES).values_list(
            "code", "id"
        )
    )
    log("done")
    return {
        "database_url": database_url(args),
        "company_id": company.pk,
        "houses": len(houses),
        "orders": args.orders,
        "communities": [
            {
                "id": cm.pk,
                "dispatcher": {
                    "staff_id": dispatchers[c].pk,
                    "token": staff_tokens[dispatchers[c].pk],
                },
                "supervisor": {
                    "staff_id": supervisors[c].pk,
                    "token": staff_tokens[supervisors[c].pk],
                },
                "technicians": [
                    {"staff_id": t.pk, "token": staff_tokens[t.pk]} for t in technicians[c]
                ],
            }
            for c, cm in enumerate(communities)
        ],
        "manager": {"staff_id": manager.pk, "token": staff_tokens[manager.pk]},
        "residents": [
            {"user_id": r.user_id, "house_id": h.pk, "community_id": h.community_id, "token": tok}
            for (r, h), tok in zip(residents, resident_tokens, strict=True)
        ],
        "submit_category_ids": [submit_ids[c] for c in SUBMIT_CATEGORIES],
        "categories": {code: cat.pk for code, cat in categories.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--houses", type=int, default=20_000)
    parser.add_argument("--residents", type=int, default=2_000)
    parser.add_argument("--technicians", type=int, default=100)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server", default=SERVER_URL, help="PostgreSQL URL without a database")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "http_workorders.json")
    args = parser.parse_args(argv)
    if args.database in ("test", "wuye", "postgres"):
        parser.error(f"refusing to use database {args.database!r}: give a scratch name")
    if args.houses < args.communities or args.residents > args.houses:
        parser.error("need at least one house per community and per resident")

    create_database(args)
    setup_django(database_url(args))
    info = generate(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(info, indent=1) + "\n")
    print(f"tokens and ids written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
