"""Generate ten million work orders on PostgreSQL for the quality benchmarks.

The estate registry comes from ``gen_houses.py`` (one company, ``--communities``
communities, ``--houses`` houses; defaults 300 and 1,000,000). Then, per community, two
technicians and a project manager (``bench_manager`` is the one of the middle
community), and ``--orders`` work orders (default 10,000,000) over the past 365 days,
written by PostgreSQL itself (``INSERT … SELECT`` over ``generate_series``, seeded with
``setseed`` so the same seed gives the same rows):

- type: 70 % repair, 12 % inquiry, 6 % complaint, 7 % suggestion, 5 % praise; a random
  leaf category of that type; channel: 40 % resident app, 35 % phone, 10 % front desk,
  10 % API, 5 % staff;
- orders older than three days are finished: 90 % completed (and closed), 6 % cancelled,
  4 % rejected; of the last three days' orders half are still open;
- durations skewed like real ones (most accepted within minutes, a long tail): response
  5 min–6 h, arrival up to a day, resolution up to a week; deadlines 30 min, 4 h and
  24 h after submission; 3 % reopened once;
- 35 % of completed orders rated (5 ★ 55 %, 4 ★ 25 %, 3 ★ 10 %, 2 ★ 6 %, 1 ★ 4 %) with the
  five dimensions near the overall; every complaint has its complaint row, 90 % with a
  root cause.

Writes ``bench/out/quality.json`` (git-ignored) with the ids the benchmark uses.

    uv run python bench/gen_quality.py --recreate                  # 10M orders, ~10 min
    uv run python bench/gen_quality.py --recreate --orders 200000 --houses 20000 \\
        --communities 20 --database wuye_bench_quality_small
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_houses

OUT_DIR = Path(__file__).resolve().parent / "out"

ORDERS_SQL = """
INSERT INTO workorders_workorder (
    company_id, community_id, house_id, number, request_type, category_id, dispatch_mode,
    channel, urgency, priority, description, preferred_time, may_enter, contact_name,
    contact_mobile, created_by_id, status, assignee_id, paused_from, pause_reason,
    submitted_at, accepted_at, dispatched_at, taken_at, arrived_at, completed_at, closed_at,
    close_reason, resolution, labour_amount, urge_count, reopen_count, sla,
    response_due, arrival_due, resolution_due, sla_state
)
SELECT
    %(company)s, o.community_id, o.house_id, 'Q' || lpad(o.g::text, 10, '0'), o.rtype,
    o.category_id, 'assign', o.channel, 'normal', 0, '基准工单', '', false, '业主', '',
    %(creator)s,
    CASE WHEN o.fate = 'done' THEN 'closed' WHEN o.fate = 'open' THEN 'dispatched'
         ELSE o.fate END,
    CASE WHEN o.fate IN ('done', 'open') THEN o.assignee_id END,
    '', '',
    o.submitted_at,
    CASE WHEN o.fate <> 'rejected' THEN o.accepted_at END,
    CASE WHEN o.fate IN ('done', 'open') THEN o.accepted_at END,
    CASE WHEN o.fate = 'done' THEN o.accepted_at END,
    CASE WHEN o.fate = 'done' THEN o.arrived_at END,
    CASE WHEN o.fate = 'done' THEN o.completed_at END,
    CASE WHEN o.fate = 'done' THEN o.completed_at + interval '2 days'
         WHEN o.fate IN ('cancelled', 'rejected') THEN o.accepted_at END,
    CASE WHEN o.fate = 'done' THEN 'not_rated' ELSE '' END,
    '', 0, 0, CASE WHEN o.r_reopen < 0.03 AND o.fate = 'done' THEN 1 ELSE 0 END, '{}',
    o.submitted_at + interval '30 minutes',
    o.submitted_at + interval '4 hours',
    o.submitted_at + interval '24 hours',
    CASE WHEN o.fate = 'done' AND o.completed_at > o.submitted_at + interval '24 hours'
         THEN 'breached' ELSE 'on_track' END
FROM (
    SELECT s.*, cc.community_id, hh.house_id, cat.id AS category_id,
           CASE WHEN s.r_tech < 0.5 THEN cc.tech_a ELSE cc.tech_b END AS assignee_id,
           s.submitted_at + make_interval(mins => 5 + (355 * s.r_resp ^ 3)::int) AS accepted_at,
           s.submitted_at + make_interval(mins => 20 + (1420 * s.r_arr ^ 3)::int) AS arrived_at,
           s.submitted_at + make_interval(mins => 60 + (10020 * s.r_res ^ 4)::int)
               AS completed_at,
           CASE WHEN s.submitted_at > now() - interval '3 days' AND s.r_fate < 0.5 THEN 'open'
                WHEN s.r_fate2 < 0.90 THEN 'done'
                WHEN s.r_fate2 < 0.96 THEN 'cancelled'
                ELSE 'rejected' END AS fate
    FROM (
        SELECT g, random() AS r_c, random() AS r_h, random() AS r_cat, random() AS r_tech,
               random() AS r_resp, random() AS r_arr, random() AS r_res, random() AS r_fate,
               random() AS r_fate2, random() AS r_reopen,
               CASE WHEN r_t < 0.70 THEN 'repair' WHEN r_t < 0.82 THEN 'inquiry'
                    WHEN r_t < 0.88 THEN 'complaint' WHEN r_t < 0.95 THEN 'suggestion'
                    ELSE 'praise' END AS rtype,
               CASE WHEN r_ch < 0.40 THEN 'resident_h5' WHEN r_ch < 0.75 THEN 'phone'
                    WHEN r_ch < 0.85 THEN 'walk_in' WHEN r_ch < 0.95 THEN 'api'
                    ELSE 'staff' END AS channel,
               now() - make_interval(secs => r_when * 365 * 86400) AS submitted_at
        FROM (SELECT g, random() AS r_t, random() AS r_ch, random() AS r_when
              FROM generate_series(%(first)s, %(last)s) AS g) AS raw
    ) AS s
    JOIN bench_cc AS cc ON cc.idx = 1 + floor(s.r_c * %(communities)s)::int
    JOIN bench_hh AS hh ON hh.community_id = cc.community_id
                       AND hh.rn = 1 + floor(s.r_h * cc.houses)::int
    JOIN bench_cat AS cat ON cat.request_type = s.rtype
                         AND cat.rn = 1 + floor(s.r_cat * cat.n)::int
) AS o
"""

FEEDBACK_SQL = """
INSERT INTO workorders_feedback (
    order_id, overall, professionalism, responsibility, appearance, empathy, tangibles,
    reasons, comment, staff_reply, created_at
)
SELECT f.id, f.overall,
       greatest(1, least(5, f.overall + (random() * 2)::int - 1)),
       greatest(1, least(5, f.overall + (random() * 2)::int - 1)),
       greatest(1, least(5, f.overall + (random() * 2)::int - 1)),
       greatest(1, least(5, f.overall + (random() * 2)::int - 1)),
       greatest(1, least(5, f.overall + (random() * 2)::int - 1)),
       '[]', '', '', f.completed_at + interval '1 hour'
FROM (
    SELECT id, completed_at,
           CASE WHEN r < 0.55 THEN 5 WHEN r < 0.80 THEN 4 WHEN r < 0.90 THEN 3
                WHEN r < 0.96 THEN 2 ELSE 1 END AS overall
    FROM (SELECT id, completed_at, random() AS r, random() AS pick
          FROM workorders_workorder WHERE completed_at IS NOT NULL) AS c
    WHERE pick < 0.35
) AS f
"""

COMPLAINTS_SQL = """
INSERT INTO workorders_complaint (
    order_id, party_kind, party_name, demand, is_dispute, root_cause, root_cause_note
)
SELECT id,
       (ARRAY['department', 'neighbour', 'vendor', 'other'])[1 + floor(random() * 4)::int],
       '', '', random() < 0.1,
       CASE WHEN random() < 0.9 THEN (ARRAY['attitude', 'quality', 'delay', 'facilities',
            'fees', 'environment', 'security', 'neighbour', 'management', 'other'])
            [1 + floor(random() * 10)::int] ELSE '' END,
       ''
FROM workorders_workorder WHERE request_type = 'complaint'
"""


def build_staff(company, log):
    """Two technicians per community, a project manager per community."""
    from wuye.accounts.models import User
    from wuye.estates.models import Community
    from wuye.staff.models import Role, StaffMember

    communities = list(Community.objects.filter(company=company).order_by("id"))
    roles = {r.code: r for r in Role.objects.filter(company=company)}
    middle = communities[len(communities) // 2]
    rows = []
    for c in communities:
        for kind in ("tech_a", "tech_b", "manager"):
            username = "bench_manager" if kind == "manager" and c == middle else f"{kind}_{c.code}"
            rows.append((c, kind, username))
    users = User.objects.bulk_create(User(username=u, first_name=u) for _c, _k, u in rows)
    members = StaffMember.objects.bulk_create(
        StaffMember(company=company, user=user, employee_no=user.username, name=user.username)
        for user in users
    )
    role_links, community_links = [], []
    for (c, kind, _u), member in zip(rows, members, strict=True):
        role = roles["project_manager" if kind == "manager" else "technician"]
        role_links.append(StaffMember.roles.through(staffmember=member, role=role))
        community_links.append(StaffMember.communities.through(staffmember=member, community=c))
    StaffMember.roles.through.objects.bulk_create(role_links)
    StaffMember.communities.through.objects.bulk_create(community_links)
    log(f"{len(members)} staff")
    techs = {}
    for (c, kind, _u), member in zip(rows, members, strict=True):
        techs.setdefault(c.pk, {})[kind] = member.pk
    return communities, techs, middle


def generate(args) -> dict:
    from django.db import connection, transaction

    from wuye.accounts.models import User
    from wuye.estates.models import Company

    started = time.monotonic()

    def log(message):
        print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)

    registry = gen_houses.generate(args)
    company = Company.objects.get(code="bench")
    with transaction.atomic():
        communities, techs, middle = build_staff(company, log)
    creator = User.objects.get(username="bench_admin")
    with connection.cursor() as cur:
        cur.execute("SET max_parallel_workers_per_gather = 0")  # setseed needs one process
        cur.execute("SELECT setseed(%s)", [args.seed / 1000])
        cur.execute(
            "CREATE TEMP TABLE bench_hh AS SELECT community_id, id AS house_id, "
            "row_number() OVER (PARTITION BY community_id ORDER BY id) AS rn "
            "FROM estates_house WHERE company_id = %s",
            [company.pk],
        )
        cur.execute("CREATE INDEX ON bench_hh (community_id, rn)")
        cur.execute(
            "CREATE TEMP TABLE bench_cc (idx int, community_id bigint, houses int, "
            "tech_a bigint, tech_b bigint)"
        )
        cur.execute("SELECT community_id, count(*) FROM bench_hh GROUP BY community_id")
        houses = dict(cur.fetchall())
        for idx, c in enumerate(communities, start=1):
            cur.execute(
                "INSERT INTO bench_cc VALUES (%s, %s, %s, %s, %s)",
                [idx, c.pk, houses[c.pk], techs[c.pk]["tech_a"], techs[c.pk]["tech_b"]],
            )
        cur.execute(
            "CREATE TEMP TABLE bench_cat AS SELECT id, request_type, "
            "row_number() OVER (PARTITION BY request_type ORDER BY id) AS rn, "
            "count(*) OVER (PARTITION BY request_type) AS n FROM workorders_category "
            "WHERE company_id = %s AND parent_id IS NOT NULL AND is_active",
            [company.pk],
        )
        log("lookup tables ready")
        batch = 1_000_000
        for first in range(1, args.orders + 1, batch):
            last = min(first + batch - 1, args.orders)
            cur.execute(
                ORDERS_SQL,
                {
                    "company": company.pk,
                    "creator": creator.pk,
                    "first": first,
                    "last": last,
                    "communities": len(communities),
                },
            )
            log(f"orders {last:,}")
        cur.execute(FEEDBACK_SQL)
        log(f"{cur.rowcount:,} ratings")
        cur.execute(COMPLAINTS_SQL)
        log(f"{cur.rowcount:,} complaint rows")
        cur.execute("VACUUM ANALYZE workorders_workorder")
        cur.execute("VACUUM ANALYZE workorders_feedback")
        cur.execute("VACUUM ANALYZE workorders_complaint")
        log("analyzed")
    return {
        **registry,
        "orders": args.orders,
        "company_id": company.pk,
        "manager_community_id": middle.pk,
        "person_id": techs[middle.pk]["tech_a"],
        "seconds": round(time.monotonic() - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--houses", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", default=gen_houses.SERVER_URL)
    parser.add_argument("--database", default="wuye_bench_quality")
    parser.add_argument("--recreate", action="store_true", help="drop the database first")
    parser.add_argument("--out", type=Path, default=OUT_DIR / "quality.json")
    args = parser.parse_args(argv)
    gen_houses.create_database(args)
    gen_houses.setup_django(gen_houses.database_url(args))
    result = generate(args)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "tokens"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
