"""Run the steps in order, each in its own transaction, timing them; refuse to write a
second generated data set next to an existing one unless asked to replace it."""

import dataclasses
import datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from wuye.gendata import (
    bills,
    cleanup,
    events,
    feedback,
    inspections,
    orders,
    registry,
    residents,
    staff,
)
from wuye.gendata.options import Options
from wuye.gendata.sql import TZ, Run, Timer


class Refused(Exception):
    """Generation cannot start (wrong database, data already there); the message says why."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@dataclasses.dataclass
class StepResult:
    name: str
    seconds: float
    rows: dict  # table -> rows written by this step


def window(options: Options) -> tuple[datetime.datetime, datetime.datetime]:
    """(start, anchor): the anchor is the start of ``until`` (default today) in local time,
    the start ``months`` calendar months before it."""
    zone = ZoneInfo(TZ)
    until = options.until or datetime.datetime.now(zone).date()
    anchor = datetime.datetime.combine(until, datetime.time.min, tzinfo=zone)
    index = until.year * 12 + until.month - 1 - options.months
    year, month = divmod(index, 12)
    day = min(until.day, 28)
    start = datetime.datetime.combine(
        datetime.date(year, month + 1, day), datetime.time.min, tzinfo=zone
    )
    return start, anchor


def check_database() -> None:
    if connection.vendor != "postgresql":
        raise Refused(
            "PostgreSQL only (it writes with INSERT … SELECT): set DATABASE_URL to a "
            f"postgres:// database; this one is {connection.vendor}.",
            status=2,
        )


def migrate(call_command) -> None:
    """Bring the schema up to date; a no-op (and no post-migrate handlers) when it is."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


def check_existing(options: Options, log) -> None:
    existing = cleanup.generated_companies()
    if not existing:
        return
    codes = ", ".join(code for _id, code in existing[:5]) + (" …" if len(existing) > 5 else "")
    if not options.replace:
        raise Refused(
            f"generated data already exists (companies {codes}); "
            "pass --replace to delete it first, or use another database"
        )
    log(f"deleting the generated companies {codes} and everything of theirs")
    timer = Timer()
    deleted = cleanup.delete_generated(log)
    log(f"  deleted {deleted:,} rows in {timer.seconds:.1f} s")


def stage_companies(run) -> None:
    """``gen_company``: this run's companies (by code) in order; every step scopes by it."""
    run.execute("DROP TABLE IF EXISTS gen_company")
    run.execute(
        "CREATE TEMP TABLE gen_company AS SELECT id, "
        "substring(code FROM '-([0-9]+)$')::int AS idx, code FROM estates_company "
        "WHERE code ~ %s ORDER BY id",
        [f"^gen{run.seed}-[0-9]+$"],
    )
    run.ids["companies"] = [row[0] for row in _rows("SELECT id FROM gen_company ORDER BY idx")]


def _rows(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def skip_foreign_key_checks() -> None:
    """Bulk loading without the per-row foreign-key triggers (what ``pg_restore
    --disable-triggers`` does): the rows are consistent by construction, and checking
    them costs more than writing them (seven lookups per order, queued until commit
    because Django's constraints are deferred). Only a superuser may; others wait."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")


def analyze(run) -> None:
    """Fresh statistics for every table written (the planner needs them at once)."""
    with connection.cursor() as cursor:
        for table in sorted(run.rows):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def rollups(run) -> None:
    from wuye.quality import rollups as quality_rollups
    from wuye.quality.models import DailyRollup, MonthlyRollup

    result = quality_rollups.rebuild()
    run.rows[DailyRollup._meta.db_table] = result.day_rows
    run.rows[MonthlyRollup._meta.db_table] = result.month_rows


def _orders_all(run) -> None:
    orders.generate(run)


STEPS = (
    ("registry", "registry", registry.generate),
    ("residents", "residents", residents.generate),
    ("staff", "staff", staff.generate),
    ("orders", "orders", _orders_all),
    ("feedback", "orders", feedback.generate),
    ("events", "orders", events.generate),
    ("bills", "bills", bills.generate),
    ("inspections", "inspections", inspections.generate),
    ("rollups", "rollups", rollups),
)


def generate(options: Options, *, log=print) -> list[StepResult]:
    """Generate the data set ``options`` describes into the default database."""
    from django.core.management import call_command

    check_database()
    migrate(call_command)
    if options.wants("registry"):
        check_existing(options, log)
    start, anchor = window(options)
    run = Run(options=options, anchor=anchor, start=start, log=log)
    log(
        f"generating seed {options.seed}: {options.companies} companies, "
        f"{options.communities} communities, {options.houses:,} houses, "
        f"{options.orders:,} orders from {start:%Y-%m-%d} to {anchor:%Y-%m-%d}"
    )
    with connection.cursor() as cursor:
        # One process: the plans stay the ones these statements were written for.
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        cursor.execute("SET work_mem = '256MB'")
    fast = _superuser()
    if not fast:
        log("  (not a superuser: foreign keys are checked row by row, which is slower)")
    results = []
    for name, group, function in STEPS:
        if not options.wants(group):
            continue
        before = dict(run.rows)
        timer = Timer()
        log(f"· {name}")
        with transaction.atomic():
            if fast:
                skip_foreign_key_checks()
            if name != "registry" and "companies" not in run.ids:
                stage_companies(run)
            function(run)
            if name == "registry":
                stage_companies(run)
            if name == "residents":
                run.ids["residents"] = run.value("SELECT count(*) FROM gen_res")
        written = {t: n - before.get(t, 0) for t, n in run.rows.items() if n != before.get(t, 0)}
        result = StepResult(name, timer.seconds, written)
        results.append(result)
        total = sum(written.values())
        log(
            f"  {name}: {total:,} rows in {result.seconds:.1f} s "
            f"({total / max(result.seconds, 1e-9):,.0f} rows/s)"
        )
    timer = Timer()
    analyze(run)
    results.append(StepResult("analyze", timer.seconds, {}))
    log(f"  analyze: {timer.seconds:.1f} s")
    return results


def summary(results: list[StepResult]) -> str:
    """The table printed at the end: rows per table, seconds and rows/s per step."""
    lines = [f"{'step':<12} {'table':<34} {'rows':>12} {'seconds':>9} {'rows/s':>10}"]
    total_rows = total_seconds = 0
    for result in results:
        tables = sorted(result.rows.items()) or [("", 0)]
        step_rows = sum(result.rows.values())
        for index, (table, rows) in enumerate(tables):
            first = index == 0
            lines.append(
                f"{result.name if first else '':<12} {table:<34} {rows:>12,} "
                + (
                    f"{result.seconds:>9.1f} {step_rows / max(result.seconds, 1e-9):>10,.0f}"
                    if first
                    else ""
                )
            )
        total_rows += step_rows
        total_seconds += result.seconds
    lines.append(
        f"{'total':<12} {'':<34} {total_rows:>12,} {total_seconds:>9.1f} "
        f"{total_rows / max(total_seconds, 1e-9):>10,.0f}"
    )
    return "\n".join(lines)
