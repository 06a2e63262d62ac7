"""A notice to 100,000 households on PostgreSQL: the fan-out (read receipts + in-app
notifications) and the read-rate queries.

    uv run python bench/notices_fanout.py                      # 100,000 houses
    uv run python bench/notices_fanout.py --houses 20000       # quicker

Targets (the notices issue): fan-out < 30 s with memory flat; read-rate query p95 < 100 ms.

Builds a scratch database (``wuye_bench_notices``, recreated each run): one company, one
community of ``--houses`` houses in 100 buildings, one resident with a login per house,
and a project manager of the community. Then:

1. ``publish_notice`` (the request's part: status, event, webhook, task enqueued) for a
   community-wide urgent notice, then the worker's part ``services.fan_out`` under
   ``tracemalloc``: the peak of Python allocations in each 10,000 households (it must not
   grow with the households done: house ids are read 2,000 at a time).
2. The same for a second notice without tracing: the time of the fan-out, with the rate
   of each 10,000 households.
3. Baseline in the same run: the same rows written raw, ``INSERT … SELECT`` of the
   receipts from the houses and of the notifications from the residencies (rolled back).
4. ~40 % of the households read the notice (one UPDATE), ``VACUUM ANALYZE``, then 200
   runs each of ``selectors.read_counts`` (overall) and ``selectors.building_counts``
   (per building): p50/p95/p99.
"""

import argparse
import os
import statistics
import time
import tracemalloc

import psycopg

SERVER = "postgres://postgres@127.0.0.1:5432"
BUILDINGS = 100


def recreate(database: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')


def build(houses: int):
    """One community of ``houses`` houses with a resident each; returns (community,
    manager actor)."""
    import datetime

    from django.db import connection

    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.estates.models import Building, Community, House, Unit
    from wuye.estates.services import create_company
    from wuye.staff.models import Role, StaffMember

    company = create_company(name="基准物业", code="notices")
    community = Community.objects.create(company=company, name="翠湖花园", code="c1")
    buildings = Building.objects.bulk_create(
        Building(community=community, name=f"{i + 1}栋", floors_above=33, sort_order=i)
        for i in range(BUILDINGS)
    )
    units = Unit.objects.bulk_create(Unit(building=b, name="1单元") for b in buildings)
    per = houses // BUILDINGS
    rows = (
        House(
            company=company,
            community=community,
            building=building,
            unit=unit,
            number=f"{n:04d}",
            floor=n // 4 + 1,
            built_area=90,
            indoor_area=80,
        )
        for building, unit in zip(buildings, units, strict=True)
        for n in range(per)
    )
    House.objects.bulk_create(rows, batch_size=5000)
    # Users, residents and residencies with INSERT … SELECT (one statement each).
    now = datetime.datetime.now(datetime.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined, mobile)"
            " SELECT '!', false, 'r' || h.id, '住户' || h.id, '', '', false, true, %s,"
            " '139' || lpad(h.id::text, 8, '0') FROM estates_house h WHERE h.company_id = %s",
            [now, company.id],
        )
        cursor.execute(
            "INSERT INTO people_resident (company_id, user_id, name, mobile, id_number, note,"
            " created_at, updated_at)"
            " SELECT %s, u.id, u.first_name, u.mobile, '', '', %s, %s FROM accounts_user u"
            " WHERE u.username LIKE 'r%%'",
            [company.id, now, now],
        )
        cursor.execute(
            "INSERT INTO people_residency (resident_id, house_id, relation, move_in, created_at)"
            " SELECT r.id, substr(u.username, 2)::bigint, 'owner', '2024-01-01', %s"
            " FROM people_resident r JOIN accounts_user u ON u.id = r.user_id"
            " WHERE r.company_id = %s",
            [now, company.id],
        )
    user = User.objects.create(username="bench_manager", first_name="经理")
    member = StaffMember.objects.create(company=company, user=user, name="经理", employee_no="m1")
    member.roles.set(Role.objects.filter(company=company, code="project_manager"))
    member.communities.set([community])
    return community, Actor(user)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--houses", type=int, default=100_000)
    parser.add_argument("--database", default="wuye_bench_notices")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    recreate(args.database)
    os.environ["DATABASE_URL"] = f"{SERVER}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
    os.environ["DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - began:.1f} s")

    from wuye.notices import selectors, services
    from wuye.notices.models import Notice, NoticeReceipt
    from wuye.notifications import services as notifications

    began = time.perf_counter()
    community, manager = build(args.houses)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"built {args.houses:,} houses with a resident each in {time.perf_counter() - began:.1f} s"
    )

    # Sample after every chunk the fan-out delivers (deliver is called once per chunk).
    samples = []
    real_deliver = notifications.deliver

    def deliver(**kwargs):
        created = real_deliver(**kwargs)
        samples.append((time.perf_counter(), len(kwargs["recipient_ids"])))
        if tracemalloc.is_tracing():
            samples[-1] += (tracemalloc.get_traced_memory()[1],)
            tracemalloc.reset_peak()
        return created

    notifications.deliver = deliver

    def publish(title):
        notice = services.create_notice(
            actor=manager,
            community=community,
            audience="community",
            kind="outage",
            title=title,
            body="因管道检修，明日9:00–12:00停水，请提前储水。",
            is_emergency=True,
        )
        began = time.perf_counter()
        services.publish_notice(actor=manager, notice=notice)  # enqueues the fan-out task
        return notice, time.perf_counter() - began

    def per_10k(rows):
        """(households done, seconds, peak MiB) at every 10,000 households."""
        out, done, peak = [], 0, 0
        for row in rows:
            done += row[1]
            peak = max(peak, row[2] if len(row) > 2 else 0)
            if done % 10_000 == 0 or row is rows[-1]:
                out.append((done, row[0], peak))
                peak = 0
        return out

    # A worker has its URLs loaded after its first task; do not time that import.
    from django.urls import reverse

    reverse("notices_resident:list")

    # 1. memory
    notice, request = publish("停水通知（内存）")
    samples.clear()
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    result = services.fan_out(notice.pk)
    traced = time.perf_counter() - start
    tracemalloc.stop()
    print(
        f"\n1. memory: fan-out under tracemalloc, {result['households']:,} households, "
        f"{result['recipients']:,} residents ({traced:.1f} s traced)"
    )
    print("   households  peak MiB in the last 10k")
    for done, _at, peak in per_10k(samples):
        print(f"   {done:>10,}  {peak / 2**20:8.2f}")

    # 2. time
    notice, request = publish("明日9:00–12:00停水通知")
    samples.clear()
    start = time.perf_counter()
    result = services.fan_out(notice.pk)
    seconds = time.perf_counter() - start
    notice.refresh_from_db()
    assert notice.households == args.houses == result["households"]
    assert notice.recipients == args.houses
    rows = notice.households + result["created"]
    print(
        f"\n2. time: publish_notice (the request) {request * 1000:.0f} ms; fan-out "
        f"{seconds:.1f} s for {notice.households:,} receipts + {result['created']:,} "
        f"notifications ({rows / seconds:,.0f} rows/s)"
    )
    print("   households  s for the last 10k")
    last = start
    for done, at, _peak in per_10k(samples):
        print(f"   {done:>10,}  {at - last:6.2f}")
        last = at

    # 3. baseline: the same rows with INSERT … SELECT, rolled back
    third, _ = publish("基线")
    with transaction.atomic(), connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(
            "INSERT INTO notices_noticereceipt (notice_id, house_id, community_id, building_id)"
            " SELECT %s, id, community_id, building_id FROM estates_house"
            " WHERE company_id = %s ORDER BY id",
            [third.pk, community.company_id],
        )
        receipts_s = time.perf_counter() - began
        began = time.perf_counter()
        cursor.execute(
            "INSERT INTO notifications_notification (recipient_id, kind, title, body, url,"
            " object_type, object_id, dedupe_key, urgent, created_at, read_at)"
            " SELECT DISTINCT r.user_id, 'notice.published', %s, %s, %s, 'notices.notice', %s,"
            " %s, true, now(), NULL::timestamptz"
            " FROM notices_noticereceipt nr JOIN people_residency rs ON rs.house_id = nr.house_id"
            " JOIN people_resident r ON r.id = rs.resident_id WHERE nr.notice_id = %s",
            [
                third.title,
                third.body,
                f"/h5/notices/{third.pk}/",
                third.pk,
                f"notice:{third.pk}",
                third.pk,
            ],
        )
        notes_s = time.perf_counter() - began
        transaction.set_rollback(True)
    raw = receipts_s + notes_s
    print(
        f"\n3. baseline INSERT … SELECT: receipts {receipts_s:.2f} s + notifications "
        f"{notes_s:.2f} s = {raw:.2f} s → fan-out/raw {seconds / raw:.1f}×, "
        f"raw/fan-out {raw / seconds:.2f}"
    )

    # 4. read rate
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notices_noticereceipt SET read_at = now() WHERE notice_id = %s"
            " AND random() < 0.4",
            [notice.pk],
        )
        cursor.execute("VACUUM ANALYZE notices_noticereceipt")
    counts = selectors.read_counts(notice)
    print(
        f"\n4. read rate: {counts['read']:,} of {counts['households']:,} read "
        f"({counts['rate']:.1%}), {args.runs} runs each"
    )

    def timed(label, call):
        for _ in range(10):
            call()
        values = []
        for _ in range(args.runs):
            began = time.perf_counter()
            call()
            values.append((time.perf_counter() - began) * 1000)
        print(
            f"   {label:34s} p50 {statistics.median(values):6.2f} ms  "
            f"p95 {percentile(values, 95):6.2f} ms  p99 {percentile(values, 99):6.2f} ms"
        )
        return percentile(values, 95)

    p95 = timed("read_counts (overall)", lambda: selectors.read_counts(notice))
    p95b = timed(
        f"building_counts ({BUILDINGS} buildings)", lambda: selectors.building_counts(notice)
    )
    listed = Notice.objects.filter(pk__in=[notice.pk, third.pk])
    timed("list page read counts (annotation)", lambda: list(selectors.with_read_counts(listed)))
    with connection.cursor() as cursor:
        sql, params = (
            NoticeReceipt.objects.filter(notice_id=notice.pk)
            .values("building_id")
            .order_by()
            .annotate(n=django.db.models.Count("*"), r=django.db.models.Count("read_at"))
            .query.sql_with_params()
        )
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n   EXPLAIN per-building:")
        for (line,) in cursor.fetchall()[:8]:
            print("   " + line)
    ok = seconds < 30 and p95 < 100 and p95b < 100
    print(
        f"\ntargets: fan-out {seconds:.1f} s < 30 s, read-rate p95 {p95:.1f} / {p95b:.1f} ms"
        f" < 100 ms → {'met' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
