"""Reporting an emergency to every resident of a large community (issue 4, emergencies).

    uv run python bench/incident_notify.py                    # 3,000 residents, SQLite
    uv run python bench/incident_notify.py --residents 10000
    uv run python bench/incident_notify.py --postgres         # scratch wuye_bench_inc

Builds a scratch database (a temporary SQLite file, or PostgreSQL database
``wuye_bench_inc`` recreated each run): one company, one community of
``--residents`` houses in buildings of 100, one resident with a login per house, and
the responders (manager, dispatcher, guards, technicians). Then times, with the
notification task run inline at commit (the immediate tasks backend, so the figure is
report + delivery of every row):

- ``report_incident`` of a fire in the whole community: the staff called and every
  resident told (one delivery task, rows stored in batches of 1,000);
- the same for one building (100 residents);
- ``resolve_incident`` of the fire: the all-clear to everyone again.

Exit status 1 when the community-wide report takes longer than ``--target`` seconds.
"""

import argparse
import os
import sys
import tempfile
import time

SERVER = "postgres://postgres@127.0.0.1:5432"


def database_url(args) -> str:
    if not args.postgres:
        return f"sqlite:///{tempfile.mkdtemp(prefix='wuye-bench-inc-')}/bench.sqlite3"
    import psycopg

    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    return f"{SERVER}/{args.database}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database", default="wuye_bench_inc")
    parser.add_argument("--target", type=float, default=2.0, help="seconds (default 2)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = database_url(args)
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from decimal import Decimal

    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.urls import reverse

    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.estates.models import Building, Community, House
    from wuye.estates.services import create_company
    from wuye.incidents import services
    from wuye.notifications.models import Notification
    from wuye.people.models import Residency, Resident
    from wuye.staff.models import Role, StaffMember

    started = time.perf_counter()
    company = create_company(name="基准物业", code="bench-inc")
    community = Community.objects.create(company=company, name="基准花园", code="bench")
    buildings = Building.objects.bulk_create(
        Building(community=community, name=f"{i + 1}栋", sort_order=i)
        for i in range((args.residents + 99) // 100)
    )
    houses = House.objects.bulk_create(
        (
            House(
                company=company,
                community=community,
                building=buildings[i // 100],
                number=f"{i % 100:04d}",
                floor=1 + (i % 100) // 4,
                built_area=Decimal("89.00"),
            )
            for i in range(args.residents)
        ),
        batch_size=2000,
    )
    password = make_password(None)
    users = User.objects.bulk_create(
        (
            User(username=f"r{i}", mobile=f"139{i:08d}", first_name=f"住户{i}", password=password)
            for i in range(args.residents)
        ),
        batch_size=2000,
    )
    residents = Resident.objects.bulk_create(
        (Resident(company=company, user=u, name=u.first_name, mobile=u.mobile) for u in users),
        batch_size=2000,
    )
    pairs = zip(residents, houses, strict=True)
    Residency.objects.bulk_create(
        (Residency(resident=r, house=h, relation="owner") for r, h in pairs), batch_size=2000
    )
    staff = {}
    for code, count in (("project_manager", 1), ("dispatcher", 2), ("guard", 6), ("technician", 4)):
        for n in range(count):
            user = User.objects.create(username=f"{code}{n}", first_name=f"{code}{n}")
            member = StaffMember.objects.create(
                company=company, user=user, name=user.first_name, employee_no=user.username
            )
            member.roles.set(Role.objects.filter(company=company, code=code))
            member.communities.set([community])
            staff.setdefault(code, member)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"built 1 community, {len(buildings)} buildings, {args.residents:,} residents "
        f"({connection.vendor}) in {time.perf_counter() - started:.1f} s"
    )
    reverse("incidents:list")  # load the URLconf once, as a running server has
    dispatcher = Actor(staff["dispatcher"].user)
    manager = Actor(staff["project_manager"].user)

    def timed(label, call):
        before = Notification.objects.count()
        began = time.perf_counter()
        with transaction.atomic():  # commit runs the delivery task inline
            result = call()
        seconds = time.perf_counter() - began
        rows = Notification.objects.count() - before
        print(f"  {label:44s} {seconds:7.3f} s  ({rows:,} notifications)")
        return seconds, result

    whole, fire = timed(
        "report a fire (whole community)",
        lambda: services.report_incident(
            actor=dispatcher, community=community, kind="fire", description="地下车库烟雾报警"
        ),
    )
    timed(
        "report a water outage (one building)",
        lambda: services.report_incident(
            actor=dispatcher,
            community=community,
            kind="water_outage",
            description="1栋停水",
            buildings=[buildings[0]],
        ),
    )
    timed(
        "resolve the fire (all-clear to everyone)",
        lambda: services.resolve_incident(actor=manager, incident=fire, note="烟感误报已复位"),
    )
    told = fire.events.filter(kind="residents_notified").first().payload["count"]
    print(f"{told:,} residents told of the fire in {whole:.3f} s (target < {args.target} s)")
    return 0 if whole < args.target else 1


if __name__ == "__main__":
    sys.exit(main())
