"""Quality dashboard at ten million work orders (PostgreSQL).

Run ``gen_quality.py`` first. Then this script, in one process against that database:

1. rebuilds the rollups from scratch (``wuye.quality.rollups.rebuild``) and times it;
2. records 2,000 new events on orders of the last three days and times the incremental
   ``refresh`` that follows;
3. times, N times each after warm-up, for one community (``bench_manager``, a project
   manager) and for the whole company (``bench_admin``) over the last 12 whole months
   plus this month to date:
   - ``dashboard.build(scope)``, the whole dashboard (every figure of the page), and the
     figures of the service quality index and complaint analysis pages;
   - ``measure_sums`` by month and type from the rollups, and the same sums computed
     from the raw orders (the baseline: what the dashboard would cost without rollups);
4. times the monthly report of the manager's community for last month
   (``reports.generate_report``).

Prints p50/p95 in milliseconds and the rollup ÷ raw ratio; exit status 1 when a target
is missed (community dashboard p95 < 300 ms, company-wide < 1 s, report < 10 s).

    uv run python bench/quality_dashboard.py                 # reads bench/out/quality.json
    uv run python bench/quality_dashboard.py --runs 30
"""

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_houses

OUT_DIR = Path(__file__).resolve().parent / "out"
TARGETS_MS = {"community": 300, "company": 1000}
REPORT_TARGET_S = 10


def timed(fn, runs: int, warmup: int = 2) -> dict:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[max(0, round(0.95 * len(samples)) - 1)],
        "max": samples[-1],
    }


def record_events(count: int) -> None:
    """New events on recent orders, as the services would write them."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO workorders_workorderevent "
            "(order_id, type, from_status, to_status, note, payload, is_public, created_at) "
            "SELECT id, 'commented', '', '', 'bench', '{}', false, now() "
            "FROM workorders_workorder WHERE submitted_at > now() - interval '3 days' "
            "ORDER BY id LIMIT %s",
            [count],
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=OUT_DIR / "quality.json")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args(argv)
    data = json.loads(args.data.read_text())
    gen_houses.setup_django(data["database_url"])

    from django.db import connection
    from django.utils import timezone

    from wuye.accounts.actor import Actor
    from wuye.accounts.models import User
    from wuye.estates.models import Community
    from wuye.quality import complaints, dashboard, figures, reports, rollups
    from wuye.quality.models import DailyRollup, MonthlyRollup

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM workorders_workorder")
        orders = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    print(f"PostgreSQL {version}; {orders:,} work orders; {data['communities']} communities")
    failed = False

    if not args.skip_rebuild:
        started = time.perf_counter()
        result = rollups.rebuild()
        seconds = time.perf_counter() - started
        print(
            f"rebuild: {seconds:.1f} s, {result.day_rows:,} daily rows, "
            f"{result.month_rows:,} monthly rows "
            f"({orders / max(result.day_rows, 1):.1f} orders per daily row)"
        )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE quality_dailyrollup")
            cur.execute("VACUUM ANALYZE quality_monthlyrollup")
    print(
        f"rollup rows: {DailyRollup.objects.count():,} daily, "
        f"{MonthlyRollup.objects.count():,} monthly"
    )

    record_events(2000)
    started = time.perf_counter()
    result = rollups.refresh()
    print(
        f"incremental refresh after 2,000 events: {(time.perf_counter() - started) * 1000:.0f} ms "
        f"({result.days} community-days recomputed)"
    )

    today = timezone.localdate()
    first = (today.replace(day=1) - datetime.timedelta(days=330)).replace(day=1)
    manager = Actor(User.objects.get(username="bench_manager"))
    admin = Actor(User.objects.get(username="bench_admin"))
    community = Community.objects.get(pk=data["manager_community_id"])
    scopes = {
        "community": figures.scope_for(manager, first=first, last=today, community=community),
        "company": figures.scope_for(admin, first=first, last=today),
    }
    by = ("month", "request_type")
    print(f"\nrange {first} – {today}; {args.runs} runs each; milliseconds")
    print("| scope | what | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    for name, scope in scopes.items():
        whole = timed(lambda scope=scope: dashboard.build(scope), args.runs)
        index = timed(lambda scope=scope: dashboard.service_quality_index(scope), args.runs)
        complained = timed(lambda scope=scope: complaints.complaint_analytics(scope), args.runs)
        rolled = timed(lambda scope=scope: figures.measure_sums(scope, by=by), args.runs)
        raw = timed(
            lambda scope=scope: figures._raw_sums(scope, by, now=timezone.now()),
            max(3, args.runs // 5),
            warmup=1,
        )
        for what, t in (
            ("dashboard.build (every figure)", whole),
            ("service quality index page", index),
            ("complaint analysis page", complained),
            ("sums by month × type, rollups", rolled),
            ("same sums from raw orders (baseline)", raw),
        ):
            print(f"| {name} | {what} | {t['p50']:.1f} | {t['p95']:.1f} | {t['max']:.1f} |")
        print(
            f"  {name}: rollups ÷ raw p50 = {rolled['p50'] / raw['p50']:.4f} "
            f"({raw['p50'] / rolled['p50']:.0f}× faster); dashboard p95 target "
            f"{TARGETS_MS[name]} ms: {'met' if whole['p95'] < TARGETS_MS[name] else 'MISSED'}"
        )
        failed |= whole["p95"] >= TARGETS_MS[name]

    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    started = time.perf_counter()
    reports.generate_report(actor=manager, community=community, month=last_month)
    seconds = time.perf_counter() - started
    print(
        f"\nmonthly report {community.name} {last_month:%Y-%m}: {seconds:.2f} s "
        f"(target < {REPORT_TARGET_S} s: {'met' if seconds < REPORT_TARGET_S else 'MISSED'})"
    )
    failed |= seconds >= REPORT_TARGET_S
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
