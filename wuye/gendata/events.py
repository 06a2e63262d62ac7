"""The timeline (``WorkOrderEvent``) of every generated order: the typed events the
services would have recorded for the steps the order went through, with the actors,
statuses, notes and payloads they write, derived from the order's own columns, its
rating and complaint rows, and (for a reopened order's first round) the same draws the
orders step used.

What each path records (``workorders.services``): ``submitted`` (payload: channel);
``accepted`` by the desk; repairs ``dispatched`` (by the dispatcher, or by the system in
automatic categories; payload: assignee) or ``grabbed`` by a technician, ``taken``,
``arrived``, ``completed`` (note: the resolution; payload: labour and materials); desk
orders ``completed`` at the desk (payload ``at_desk``), complaints followed by
``cause_recorded``; a reopened repair's first round, then ``reopened`` by the resident;
``rated`` (payload: the scores), ``recovery_opened`` after a rating of 2 or less;
``closed`` (by the rating, or unrated after 48 hours) or ``return_visited``;
``cancelled`` / ``rejected``; ``urged`` by a resident kept waiting a day.

One ``INSERT … SELECT`` per batch of orders, a ``UNION ALL`` of one branch per kind of
event, each reading only the orders that have it. An event's id is its order's block
(``STRIDE`` ids per order) plus its fixed slot in the path, so ids follow the timeline
within an order without sorting: the slots are in the order the steps happen, and the
one step that floats — being urged — takes the odd slot after the last step done by then.
"""

import re

from django.conf import settings

from wuye.gendata.orders import deadline, reopen_gap
from wuye.gendata.slaclock import minutes
from wuye.gendata.sql import Timer, batches, indexes_dropped, iso
from wuye.workorders.models import Complaint, Feedback, WorkOrder, WorkOrderEvent

STRIDE = 40  # ids per order: twice the last slot, and some
BATCH = 500_000
ASSIGNEE = "jsonb_build_object('assignee', s.staff_id, 'assignee_name', s.name)"
WORK = "jsonb_build_object('labour_amount', o.labour_amount::text, 'materials', '[]'::jsonb)"
DISPATCH_TYPE = "CASE WHEN o.dispatch_mode = 'grab' THEN 'grabbed' ELSE 'dispatched' END"
DISPATCH_TO = "CASE WHEN o.dispatch_mode = 'grab' THEN 'taken' ELSE 'dispatched' END"
DISPATCHER = (
    "CASE WHEN o.dispatch_mode = 'grab' THEN s.user_id "
    "WHEN o.dispatch_mode IN ('auto', 'round_robin') THEN NULL ELSE cm.desk_user END"
)
DESK = "CASE WHEN o.channel IN ('phone', 'walk_in') THEN o.created_by_id ELSE cm.desk_user END"
RESOLVER = "CASE WHEN o.request_type = 'complaint' THEN cm.supervisor_user ELSE cm.desk_user END"
RESIDENT = "coalesce(o.reporter_id, r.user_id)"
EMPTY = "'{}'::jsonb"


def branches(run) -> list[tuple]:
    """(slot, type, actor, from, to, time, note, payload, public, condition) per kind of
    event; ``x`` is the order's first-round shift (reopened orders only)."""
    dims = ", ".join(f"'{d}', f.{d}" for d in Feedback.DIMENSIONS)
    first_round = "o.reopen_count > 0"
    return [
        (2, "'submitted'", "o.created_by_id", "''", "''", "o.submitted_at", "''",
         "jsonb_build_object('channel', o.channel)", "true", "true"),
        (4, "'accepted'", DESK, "'submitted'", "'accepted'", "o.accepted_at", "''", EMPTY,
         "true", "o.accepted_at IS NOT NULL"),
        (6, "'rejected'", DESK, "'submitted'", "'rejected'", "o.closed_at",
         "'重复报修，已合并处理'", """'{"duplicate_of": null}'::jsonb""", "true",
         "o.status = 'rejected'"),
        (6, "'cancelled'", f"coalesce(o.reporter_id, {DESK})",
         "CASE WHEN o.accepted_at IS NULL THEN 'submitted' ELSE 'accepted' END", "'cancelled'",
         "o.closed_at", "CASE WHEN o.reporter_id IS NULL THEN '业主来电取消' ELSE '' END", EMPTY,
         "true", "o.status = 'cancelled'"),
        (8, DISPATCH_TYPE, DISPATCHER, "'accepted'", DISPATCH_TO, "o.dispatched_at - x.shift",
         "''", ASSIGNEE, "true", first_round),
        (10, "'taken'", "s.user_id", "'dispatched'", "'taken'", "o.taken_at - x.shift", "''",
         EMPTY, "true", f"{first_round} AND o.dispatch_mode <> 'grab'"),
        (12, "'arrived'", "s.user_id", "'taken'", "'in_progress'", "o.arrived_at - x.shift",
         "''", EMPTY, "true", first_round),
        (14, "'completed'", "s.user_id", "'in_progress'", "'completed'",
         "o.completed_at - x.shift", "o.resolution", WORK, "true", first_round),
        (16, "'reopened'", RESIDENT, "'completed'", "'accepted'",
         f"o.completed_at - x.shift + {reopen_gap(run, 'x.g')}", "'问题未解决，再次报修'", EMPTY,
         "true", first_round),
        (18, DISPATCH_TYPE, DISPATCHER, "'accepted'", DISPATCH_TO, "o.dispatched_at", "''",
         ASSIGNEE, "true", "o.dispatched_at IS NOT NULL"),
        (20, "'taken'", "s.user_id", "'dispatched'", "'taken'", "o.taken_at", "''", EMPTY,
         "true", "o.taken_at IS NOT NULL AND o.dispatch_mode <> 'grab'"),
        (22, "'arrived'", "s.user_id", "'taken'", "'in_progress'", "o.arrived_at", "''", EMPTY,
         "true", "o.arrived_at IS NOT NULL"),
        (24, "'completed'", "s.user_id", "'in_progress'", "'completed'", "o.completed_at",
         "o.resolution", WORK, "true",
         "o.completed_at IS NOT NULL AND o.request_type = 'repair'"),
        (24, "'completed'", RESOLVER, "'accepted'", "'completed'", "o.completed_at",
         "o.resolution", """'{"at_desk": true}'::jsonb""", "true",
         "o.completed_at IS NOT NULL AND o.request_type <> 'repair'"),
        (26, "'cause_recorded'", "cm.supervisor_user", "''", "''", "o.completed_at", "''",
         "jsonb_build_object('root_cause', c.root_cause)", "false",
         "o.request_type = 'complaint' AND c.root_cause <> ''"),
        (28, "'rated'", RESIDENT, "'completed'", "'rated'", "f.created_at", "''",
         f"jsonb_strip_nulls(jsonb_build_object('overall', f.overall, {dims}))", "true",
         "f.order_id IS NOT NULL"),
        (30, "'recovery_opened'", "NULL::bigint", "''", "''", "f.created_at", "''",
         f"jsonb_build_object('due', {iso('x.recovery_due')})", "false", "f.overall <= 2"),
        (32, "CASE WHEN o.close_reason = 'return_visit' THEN 'return_visited' ELSE 'closed' END",
         f"CASE WHEN o.close_reason = 'return_visit' THEN {RESOLVER} END",
         "CASE WHEN f.order_id IS NULL THEN 'completed' ELSE 'rated' END", "'closed'",
         "o.closed_at", "CASE WHEN o.close_reason = 'return_visit' THEN '回访满意' ELSE '' END",
         """CASE WHEN o.close_reason = 'return_visit' THEN '{"satisfied": true}'::jsonb
                 ELSE jsonb_build_object('reason', o.close_reason) END""",
         "true", "o.status = 'closed'"),
        ("2 * CASE WHEN o.arrived_at <= x.urged_at THEN 11 WHEN o.taken_at <= x.urged_at THEN 10 "
         "WHEN o.dispatched_at <= x.urged_at THEN 9 ELSE 2 END + 1",
         "'urged'", "o.reporter_id", "''", "''", "x.urged_at", "''", EMPTY, "true",
         "o.urge_count > 0"),
    ]  # fmt: skip


def _needs(branch, alias: str) -> bool:
    """Whether a branch reads the table behind ``alias`` (so it joins only those)."""
    pattern = re.compile(rf"\b{alias}\.")
    return any(pattern.search(str(part)) for part in branch)


def events_sql(run) -> str:
    first = run.ids["first_order"]
    gap = reopen_gap(run, f"(o.id - {first - 1})")
    recovery_due = deadline(
        run,
        "cat.policy",
        minutes("f.created_at", run.ids["sla_origin"]),
        str(settings.WORKORDER_RECOVERY_MINUTES),
    )
    selects = []
    for branch in branches(run):
        slot, kind, actor, source, target, at, note, payload, public, condition = branch
        joins = ["JOIN gen_comm cm ON cm.community_id = o.community_id"]
        if _needs(branch, "s"):
            joins.append("LEFT JOIN gen_staff s ON s.staff_id = o.assignee_id")
        if _needs(branch, "r"):
            joins.append("JOIN gen_res r ON r.house_id = o.house_id")
        if _needs(branch, "f") or "recovery_due" in str(branch):
            joins.append(f"LEFT JOIN {Feedback._meta.db_table} f ON f.order_id = o.id")
        if "recovery_due" in str(branch):
            joins.append("JOIN gen_cat cat ON cat.category_id = o.category_id")
        if _needs(branch, "c"):
            joins.append(f"LEFT JOIN {Complaint._meta.db_table} c ON c.order_id = o.id")
        # Per order: its index, its first round's shift, when it was urged.
        lateral = (
            f"CROSS JOIN LATERAL (SELECT o.id - {first - 1} AS g, "
            f"CASE WHEN o.reopen_count > 0 THEN (o.completed_at - o.accepted_at + {gap}) / 2 "
            "END AS shift, o.submitted_at + interval '24 hours' AS urged_at"
            + (f", {recovery_due} AS recovery_due" if "recovery_due" in str(branch) else "")
            + ") AS x"
            if _needs(branch, "x")
            else ""
        )
        selects.append(
            f"SELECT {run.ids['first_event'] - 1} + (o.id - {first}) * {STRIDE} + ({slot}), o.id, "
            f"{kind}, {actor}, {source}, {target}, {note}, {payload}, {public}, {at} "
            f"FROM {WorkOrder._meta.db_table} o {' '.join(joins)} {lateral} "
            f"WHERE o.id BETWEEN %(lo)s AND %(hi)s AND ({condition})"
        )
    return (
        f"INSERT INTO {WorkOrderEvent._meta.db_table} (id, order_id, type, actor_id, "
        "from_status, to_status, note, payload, is_public, created_at)\n"
        + "\nUNION ALL\n".join(selects)
    )


def generate(run) -> None:
    first, count = run.ids["first_order"], run.options.orders
    table = WorkOrderEvent._meta.db_table
    run.ids["first_event"] = run.reserve_ids(table, count * STRIDE)
    for index in ("gen_res (house_id)", "gen_staff (staff_id)", "gen_cat (category_id)"):
        run.execute(f"CREATE INDEX ON {index}")
    for table_name in ("gen_res", "gen_staff", "gen_cat"):
        run.execute(f"ANALYZE {table_name}")
    sql = events_sql(run)
    timer = Timer()
    with indexes_dropped(run, table, count * 6):
        for lo, hi in batches(first, first + count - 1, BATCH):
            run.execute(sql, {"lo": lo, "hi": hi}, table=table)
            done = run.rows[table]
            run.progress(
                f"events of {hi - first + 1:,} orders: {done:,} "
                f"({done / max(timer.seconds, 1e-9):,.0f}/s)"
            )
