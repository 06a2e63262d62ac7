"""``wuye gen-data`` on PostgreSQL: sizes, invariants, determinism, refusals.

Two fresh databases are cloned from the (migrated, empty) test database, and the command
runs in a subprocess against each, as a user would run it: the same seed must give the
same rows (checksums of the key tables), every count must match what was asked, and the
data must keep the invariants the app relies on.
"""

import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.conf import settings
from django.db import connections

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="wuye gen-data writes with PostgreSQL's INSERT … SELECT (PostgreSQL only)",
    ),
    # Makes pytest-django create (migrate) the test database, which the fixture clones.
    pytest.mark.django_db,
]

SIZES = {"companies": 2, "communities": 4, "houses": 600, "orders": 5000, "months": 3}
ARGS = [
    "--preset", "small", "--seed", "7", "--until", "2026-06-15",
    *(x for key, value in SIZES.items() for x in (f"--{key}", str(value))),
]  # fmt: skip
# Tables whose generated rows are compared between two runs; columns the ORM stamps
# with the current time are left out.
CHECKSUMS = {
    "estates_house": (),
    "accounts_user": ("last_login",),
    "people_resident": (),
    "people_residency": (),
    "staff_staffmember": ("created_at",),
    "workorders_workorder": (),
    "workorders_workorderevent": (),
    "workorders_feedback": (),
    "workorders_complaint": (),
    "billing_bill": (),
    "billing_payment": (),
    "billing_allocation": (),
    "facilities_task": (),
    "facilities_visit": (),
    "facilities_answer": (),
}
GENERATED = "company_id IN (SELECT id FROM estates_company WHERE code ~ '^gen[0-9]+-[0-9]+$')"


def _server() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"


def start(url: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("DATABASE_REPLICA_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "wuye.cli", "gen-data", *ARGS, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def gen_data(url: str, *extra: str) -> subprocess.CompletedProcess:
    return finish(start(url, *extra))


@pytest.fixture(scope="module")
def databases(django_db_setup, django_db_blocker):
    """Two empty migrated databases cloned from the test database; dropped afterwards."""
    with django_db_blocker.unblock():
        template = connections["default"].settings_dict["NAME"]
        connections.close_all()  # a template must have no other sessions
    names = [f"{template}_gen_a", f"{template}_gen_b"]
    with psycopg.connect(f"{_server()}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield [f"{_server()}/{name}" for name in names]
    with psycopg.connect(f"{_server()}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def generated(databases):
    """Both databases generated with the same seed, side by side; the runs' output."""
    started = time.monotonic()
    results = [finish(process) for process in [start(url) for url in databases]]
    for result in results:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return [(result.stdout, time.monotonic() - started) for result in results]


def query(url: str, sql: str, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def value(url: str, sql: str, params=None):
    return query(url, sql, params)[0][0]


def checksum(url: str, table: str, excluded) -> str:
    row = "to_jsonb(t)" + "".join(f" - '{column}'" for column in excluded)
    key = "order_id" if table == "workorders_complaint" else "id"
    return value(url, f"SELECT md5(string_agg(({row})::text, '|' ORDER BY t.{key})) FROM {table} t")


def test_counts_match_the_sizes_asked(databases, generated):
    url = databases[0]
    stdout, _seconds = generated[0]
    assert "rows/s" in stdout and "total" in stdout  # progress and the summary table
    assert (
        value(
            url,
            f"SELECT count(*) FROM estates_company WHERE {GENERATED.replace('company_id', 'id')}",
        )
        == 2
    )
    assert value(url, f"SELECT count(*) FROM estates_community WHERE {GENERATED}") == 4
    assert value(url, f"SELECT count(*) FROM estates_house WHERE {GENERATED}") == 600
    assert value(url, f"SELECT count(*) FROM workorders_workorder WHERE {GENERATED}") == 5000
    occupied = value(
        url, f"SELECT count(*) FROM estates_house WHERE {GENERATED} AND occupancy <> 'vacant'"
    )
    assert 0.8 * 600 < occupied < 0.95 * 600
    assert value(url, f"SELECT count(*) FROM people_resident WHERE {GENERATED}") == occupied
    assert value(url, "SELECT count(*) FROM people_residency") == occupied
    # Two fee items, so two bills per house and month.
    assert value(url, f"SELECT count(*) FROM billing_bill WHERE {GENERATED}") == 600 * 3 * 2
    assert value(url, f"SELECT count(*) FROM billing_billrun WHERE {GENERATED}") == 4 * 3
    roles = dict(
        query(
            url,
            "SELECT r.code, count(*) FROM staff_staffmember_roles sr "
            "JOIN staff_role r ON r.id = sr.role_id GROUP BY r.code",
        )
    )
    assert roles["project_manager"] == roles["dispatcher"] == roles["service_supervisor"] == 4
    assert roles["technician"] >= 8 and roles["guard"] >= 8 and roles["cleaner"] >= 4
    assert roles["company_admin"] == roles["finance"] == 2
    events = value(url, "SELECT count(*) FROM workorders_workorderevent")
    assert 5 * 5000 < events < 8 * 5000
    complaints = value(
        url, "SELECT count(*) FROM workorders_workorder WHERE request_type = 'complaint'"
    )
    assert value(url, "SELECT count(*) FROM workorders_complaint") == complaints > 0
    completed = value(
        url, "SELECT count(*) FROM workorders_workorder WHERE completed_at IS NOT NULL"
    )
    rated = value(url, "SELECT count(*) FROM workorders_feedback")
    assert 0.30 * completed < rated < 0.40 * completed
    assert value(url, "SELECT count(*) FROM facilities_task") > 4 * 5 * 60
    assert value(url, "SELECT count(*) FROM facilities_answer") > 0
    assert value(url, "SELECT count(*) FROM quality_dailyrollup") > 0
    assert value(url, "SELECT count(*) FROM quality_monthlyrollup") > 0


def test_timelines_follow_each_order(databases, generated):
    url = databases[0]
    assert not value(
        url,
        "SELECT count(*) FROM (SELECT created_at, lag(created_at) OVER (PARTITION BY order_id "
        "ORDER BY id) AS before FROM workorders_workorderevent) e WHERE before > created_at",
    )
    # The last status change of every order is the order's status (none: still submitted).
    mismatched = query(
        url,
        """
        SELECT o.status, l.to_status, count(*) FROM workorders_workorder o
        LEFT JOIN (SELECT DISTINCT ON (order_id) order_id, to_status
                   FROM workorders_workorderevent WHERE to_status <> ''
                   ORDER BY order_id, id DESC) AS l ON l.order_id = o.id
        WHERE o.status <> coalesce(l.to_status, 'submitted') GROUP BY 1, 2
        """,
    )
    assert mismatched == []
    assert not value(
        url,
        "SELECT count(*) FROM workorders_workorder o WHERE NOT EXISTS (SELECT 1 FROM "
        "workorders_workorderevent e WHERE e.order_id = o.id AND e.type = 'submitted' "
        "AND e.created_at = o.submitted_at)",
    )
    # Every rating has its event; closed orders say how they closed.
    assert not value(
        url,
        "SELECT count(*) FROM workorders_feedback f WHERE NOT EXISTS (SELECT 1 FROM "
        "workorders_workorderevent e WHERE e.order_id = f.order_id AND e.type = 'rated')",
    )
    assert not value(
        url,
        "SELECT count(*) FROM workorders_workorder WHERE status = 'closed' AND close_reason = ''",
    )
    statuses = dict(query(url, "SELECT status, count(*) FROM workorders_workorder GROUP BY 1"))
    assert statuses["closed"] > 0.8 * 5000 and statuses["cancelled"] and statuses["rejected"]
    assert sum(statuses.get(s, 0) for s in ("submitted", "accepted", "in_progress")) > 0


def test_bills_and_payments_add_up(databases, generated):
    url = databases[0]
    assert not value(
        url,
        "SELECT count(*) FROM billing_bill b JOIN estates_house h ON h.id = b.house_id "
        "WHERE h.community_id <> b.community_id OR h.company_id <> b.company_id",
    )
    assert not value(
        url,
        "SELECT count(*) FROM billing_bill b LEFT JOIN (SELECT bill_id, sum(amount) AS paid "
        "FROM billing_allocation GROUP BY bill_id) a ON a.bill_id = b.id "
        "WHERE b.paid_amount <> coalesce(a.paid, 0) "
        "OR b.status <> CASE WHEN b.paid_amount = b.amount THEN 'paid' ELSE 'open' END",
    )
    assert not value(
        url,
        "SELECT count(*) FROM billing_payment p JOIN (SELECT payment_id, sum(amount) AS s "
        "FROM billing_allocation GROUP BY payment_id) a ON a.payment_id = p.id "
        "WHERE a.s <> p.amount",
    )
    paid, total = query(
        url, "SELECT count(*) FILTER (WHERE status = 'paid'), count(*) FROM billing_bill"
    )[0]
    assert 0.70 < paid / total < 0.92
    # Receipt numbers run without gaps per company and month, up to the counter.
    assert not value(
        url,
        """
        SELECT count(*) FROM billing_receiptcounter c
        JOIN (SELECT company_id, date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai')
                     ::date AS month, count(*) AS n, max(right(receipt_no, 6)::int) AS top
              FROM billing_payment GROUP BY 1, 2) p
          ON p.company_id = c.company_id AND p.month = c.month
        WHERE c.last_number <> p.n OR p.top <> p.n
        """,
    )


def test_foreign_keys_hold(databases, generated):
    """The bulk writes skip the per-row foreign-key triggers: check every key here."""
    url = databases[0]
    keys = query(
        url,
        """
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, b.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1
        """,
    )
    counts = " UNION ALL ".join(
        f"SELECT '{table}.{column}', count(*) FROM {table} t WHERE t.\"{column}\" IS NOT NULL "
        f'AND NOT EXISTS (SELECT 1 FROM {target} p WHERE p."{key}" = t."{column}")'
        for table, column, target, key in keys
    )
    broken = [(name, count) for name, count in query(url, counts) if count]
    assert broken == []


def test_deadlines_and_amounts_match_the_app(databases, generated):
    """SLA deadlines computed by PostgreSQL equal ``wuye.sla.clock``'s on a company with
    the same default calendars and policies; bill amounts equal ``billing.money``'s
    rounding of area × price."""
    from decimal import Decimal
    from fractions import Fraction

    from wuye.billing import money
    from wuye.estates.models import Community
    from wuye.estates.services import create_company
    from wuye.sla import clock
    from wuye.sla.selectors import schedule_for
    from wuye.workorders import sla
    from wuye.workorders.models import Category, WorkOrder

    company = create_company(name="校验物业", code="verify")
    community = Community.objects.create(company=company, name="校验小区", code="v1")
    categories = {c.code: c for c in Category.objects.filter(company=company)}
    rows = query(
        databases[0],
        "SELECT c.code, o.request_type, o.urgency, o.submitted_at, o.response_due, "
        "o.resolution_due FROM workorders_workorder o JOIN workorders_category c "
        "ON c.id = o.category_id WHERE o.reopen_count = 0 AND mod(o.id, 23) = 0",
    )
    assert len(rows) > 100
    wrong = []
    for code, kind, urgency, submitted, response_due, resolution_due in rows:
        probe = WorkOrder(company=company, category=categories[code], request_type=kind,
                          urgency=urgency)  # fmt: skip
        policy = sla.policy_for(probe)
        schedule = schedule_for(policy.snapshot(), community)
        for minutes, due in ((policy.response_minutes, response_due),
                             (policy.resolution_minutes, resolution_due)):  # fmt: skip
            expected = clock.deadline(schedule, submitted, minutes)
            if abs((expected - due).total_seconds()) > 0.01:
                wrong.append((code, submitted, minutes, due, expected))
    assert wrong == []
    bills = query(
        databases[0],
        "SELECT f.kind, h.built_area, r.unit_price, b.amount, b.detail->>'amount' "
        "FROM billing_bill b JOIN billing_feeitem f ON f.id = b.fee_item_id "
        "JOIN billing_feerate r ON r.fee_item_id = f.id JOIN estates_house h ON h.id = b.house_id "
        "WHERE mod(b.id, 7) = 0",
    )
    for kind, area, price, amount, shown in bills:
        exact = Fraction(area * price) if kind == "area" else Fraction(price)
        assert money.round_money(exact) == amount == Decimal(shown)


def test_same_seed_same_rows(databases, generated):
    a, b = databases
    differing = [
        table
        for table, excluded in CHECKSUMS.items()
        if checksum(a, table, excluded) != checksum(b, table, excluded)
    ]
    assert differing == []


NATURAL = {  # what a row says, without the ids a second run in the same database changes
    "estates_house": "number || floor || built_area || indoor_area || occupancy",
    "workorders_workorder": "request_type || channel || status || submitted_at || "
    "coalesce(completed_at::text, '') || coalesce(closed_at::text, '') || sla_state",
    "billing_bill": "amount || status || period_start || detail::text",
}


def natural(url: str) -> dict:
    return {
        table: value(url, f"SELECT md5(string_agg({columns}, '|' ORDER BY id)) FROM {table}")
        for table, columns in NATURAL.items()
    }


def test_second_run_refuses_then_replace_rewrites(databases, generated):
    url = databases[1]
    result = gen_data(url)
    assert result.returncode == 1
    assert "already exists" in result.stderr and "--replace" in result.stderr
    before = natural(url)
    events = value(url, "SELECT count(*) FROM workorders_workorderevent")
    result = gen_data(url, "--replace")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "deleted" in result.stdout
    assert value(url, "SELECT count(*) FROM estates_company") == 2
    assert value(url, "SELECT count(*) FROM workorders_workorderevent") == events
    assert natural(url) == before


def test_sqlite_refuses(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'wuye.sqlite3'}"}
    env.pop("DATABASE_REPLICA_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "wuye.cli", "gen-data", "--preset", "small"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (
        not (tmp_path / "wuye.sqlite3").exists() or (tmp_path / "wuye.sqlite3").stat().st_size == 0
    )
