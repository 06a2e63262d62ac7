"""Staff: per company an administrator, a finance officer and a quality officer
(company-wide roles); per community a project manager, a dispatcher (客服/调度), a
service supervisor (客服主管, complaints), technicians holding every repair trade (one
per ~600 houses, at least two), guards (one per ~1,200, at least two) and cleaners (one
per ~1,500, at least one), each with a login (no usable password), a role and a
community membership. Field staff are rostered from the start of the data to two weeks
after it: technicians on two of the three shifts each (so every hour has one and
automatic dispatch finds someone), guards on one, cleaners on 常白班.

A few thousand rows: written with ``bulk_create``; the roster with ``INSERT … SELECT``.
Also fills ``gen_comm`` (each community's desk, supervisor and manager) and ``gen_tech``
(its technicians, numbered from 0) for the orders step.
"""

import datetime
import random

from wuye.accounts.models import User
from wuye.gendata.sql import GIVEN, SURNAMES, local_date
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
from wuye.staff.policy import DEFAULT_TRADES

COMPANY_ROLES = ("company_admin", "finance", "quality")
REPAIR_TRADES = tuple(DEFAULT_TRADES)


def team_sizes(houses: int) -> dict[str, int]:
    return {
        "project_manager": 1,
        "dispatcher": 1,
        "service_supervisor": 1,
        "technician": max(2, round(houses / 600)),
        "guard": max(2, round(houses / 1200)),
        "cleaner": max(1, round(houses / 1500)),
    }


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def plan_people(run) -> list[dict]:
    """Who works where, in a fixed order (the ids follow it)."""
    from django.db import connection

    rng = random.Random(f"staff-{run.seed}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.company_id, g.idx, c.id, c.code, count(h.id) FROM estates_community c "
            "JOIN gen_company g ON g.id = c.company_id "
            "LEFT JOIN estates_house h ON h.community_id = c.id "
            "GROUP BY c.company_id, g.idx, c.id, c.code ORDER BY g.idx, c.id"
        )
        communities = cursor.fetchall()
        cursor.execute("SELECT id, idx FROM gen_company ORDER BY idx")
        companies = cursor.fetchall()
    people, numbers = [], {}

    def add(company_id, company_idx, role, community_id, k=0):
        numbers[company_id] = numbers.get(company_id, 0) + 1
        n = numbers[company_id]
        people.append(
            {
                "company_id": company_id,
                "username": f"gen{run.seed}-{company_idx}-{n:05d}",
                "employee_no": f"E{n:05d}",
                "name": _name(rng),
                "mobile": f"17{company_idx % 10}{n:08d}",
                "role": role,
                "community_id": community_id,
                "k": k,
            }
        )

    for company_id, company_idx in companies:
        for role in COMPANY_ROLES:
            add(company_id, company_idx, role, None)
    for company_id, company_idx, community_id, _code, houses in communities:
        for role, count in team_sizes(houses).items():
            for k in range(count):
                add(company_id, company_idx, role, community_id, k)
    return people


def create_people(run, people) -> list[StaffMember]:
    users = User.objects.bulk_create(
        (
            User(
                username=p["username"],
                first_name=p["name"],
                password=f"!{p['username']}",  # unusable, and the same on every run
                date_joined=run.start,
            )
            for p in people
        ),
        batch_size=5000,
    )
    members = StaffMember.objects.bulk_create(
        (
            StaffMember(
                company_id=p["company_id"],
                user=user,
                employee_no=p["employee_no"],
                name=p["name"],
                mobile=p["mobile"],
            )
            for p, user in zip(people, users, strict=True)
        ),
        batch_size=5000,
    )
    roles = {(r.company_id, r.code): r.pk for r in Role.objects.filter(company__code__regex=_CODE)}
    trades = {}
    for trade in Trade.objects.filter(company__code__regex=_CODE, code__in=REPAIR_TRADES):
        trades.setdefault(trade.company_id, []).append(trade.pk)
    through = StaffMember.roles.through
    through.objects.bulk_create(
        (
            through(staffmember_id=m.pk, role_id=roles[p["company_id"], p["role"]])
            for p, m in zip(people, members, strict=True)
        ),
        batch_size=5000,
    )
    through = StaffMember.communities.through
    through.objects.bulk_create(
        (
            through(staffmember_id=m.pk, community_id=p["community_id"])
            for p, m in zip(people, members, strict=True)
            if p["community_id"] is not None
        ),
        batch_size=5000,
    )
    through = StaffMember.trades.through
    through.objects.bulk_create(
        (
            through(staffmember_id=m.pk, trade_id=t)
            for p, m in zip(people, members, strict=True)
            if p["role"] == "technician"
            for t in trades[p["company_id"]]
        ),
        batch_size=5000,
    )
    run.rows[User._meta.db_table] = run.rows.get(User._meta.db_table, 0) + len(users)
    run.rows[StaffMember._meta.db_table] = len(members)
    return members


_CODE = r"^gen[0-9]+-[0-9]+$"


def stage(run, people, members) -> None:
    """``gen_staff`` (every member with role, community and number in its team),
    ``gen_comm`` (per community) and ``gen_tech`` (its technicians from 0)."""
    from django.db import connection

    run.execute(
        "CREATE TEMP TABLE gen_staff (staff_id bigint, user_id bigint, company_id bigint, "
        "community_id bigint, role text, k int, name text)"
    )
    connection.ensure_connection()
    with connection.connection.cursor() as raw, raw.copy("COPY gen_staff FROM STDIN") as copy:
        for p, m in zip(people, members, strict=True):
            copy.write_row(
                (m.pk, m.user_id, p["company_id"], p["community_id"], p["role"], p["k"], m.name)
            )
    run.execute(
        """
        CREATE TEMP TABLE gen_comm AS
        SELECT c.id AS community_id, c.company_id,
               max(s.user_id) FILTER (WHERE s.role = 'dispatcher') AS desk_user,
               max(s.user_id) FILTER (WHERE s.role = 'service_supervisor') AS supervisor_user,
               max(s.user_id) FILTER (WHERE s.role = 'project_manager') AS manager_user,
               count(*) FILTER (WHERE s.role = 'technician') AS techs
        FROM estates_community c JOIN gen_staff s ON s.community_id = c.id
        GROUP BY c.id, c.company_id
        """
    )
    run.execute("CREATE UNIQUE INDEX ON gen_comm (community_id)")
    run.execute(
        "CREATE TEMP TABLE gen_tech AS SELECT community_id, k, staff_id, user_id, name "
        "FROM gen_staff WHERE role = 'technician'"
    )
    run.execute("CREATE UNIQUE INDEX ON gen_tech (community_id, k)")
    run.execute("ANALYZE gen_staff")
    run.execute("ANALYZE gen_comm")
    run.execute("ANALYZE gen_tech")


def create_roster(run) -> None:
    first = local_date(run.start)
    last = local_date(run.anchor) + datetime.timedelta(days=14)
    shift_ids = {}
    for shift in Shift.objects.filter(company__code__regex=_CODE):
        shift_ids[shift.company_id, shift.name] = shift.pk
    run.execute(
        "CREATE TEMP TABLE gen_shift (company_id bigint, slot int, shift_id bigint); "
        + "; ".join(
            f"INSERT INTO gen_shift VALUES ({company_id}, {slot}, {shift_id})"
            for (company_id, name), shift_id in shift_ids.items()
            for slot, wanted in enumerate(("早班", "中班", "夜班", "常白班"))
            if name == wanted
        )
    )
    run.execute(
        f"""
        INSERT INTO {RosterEntry._meta.db_table} (staff_id, date, shift_id, community_id)
        SELECT s.staff_id, d::date, sh.shift_id, s.community_id
        FROM gen_staff s
        CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
        JOIN gen_shift sh ON sh.company_id = s.company_id AND sh.slot IN (
            CASE s.role WHEN 'cleaner' THEN 3 ELSE mod(s.k, 3) END,
            CASE s.role WHEN 'technician' THEN mod(s.k + 1, 3) ELSE -1 END)
        WHERE s.role IN ('technician', 'guard', 'cleaner')
        ORDER BY s.staff_id, d, sh.slot
        """,
        {"first": first, "last": last},
        table=RosterEntry._meta.db_table,
    )


def generate(run) -> None:
    people = plan_people(run)
    members = create_people(run, people)
    stage(run, people, members)
    create_roster(run)
    run.progress(f"{len(members)} staff members")
