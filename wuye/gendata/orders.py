"""Work orders, written by PostgreSQL itself in batches (``INSERT … SELECT`` over
``generate_series``).

Order ``g`` (1 … N) is submitted in an hour chosen so that ids follow submission time
and the hours carry the ``catalog`` profile (quiet nights, busy mornings and evenings,
weekends, summer). It comes from a random occupied house (its resident is the
contact), with the ``catalog`` mix of types, categories and channels. Its life, drawn
once and then cut at the anchor (the data's "now"):

- phone and front-desk requests are accepted by the desk at once; app, API and staff
  reports when the desk (08:00–20:00) next looks, minutes to hours later; 4 % are
  rejected by the desk, 6 % cancelled by the resident within ten hours;
- repairs are dispatched (automatic categories at once, grab-pool categories grabbed by
  a technician, the rest by the dispatcher), taken within the take timeout, worked on
  site and completed — skewed durations with a long tail, faster for urgent and
  emergency categories; inquiries, suggestions, praise and complaints are resolved at
  the desk (complaints by the service supervisor, with a root cause);
- 35 % of completed orders are rated (5 ★ 55 %, 4 ★ 25 %, 3 ★ 10 %, 2 ★ 6 %, 1 ★ 4 %)
  within two days; a good rating closes the order, a low one (or a category that always
  asks) is closed by a return visit; unrated orders close automatically after 48 hours,
  unrated complaints by a return visit; 3 % of older repairs were reopened once by the
  resident and worked again; some slow orders were urged;
- whatever would happen after the anchor has not happened: recent orders are still
  open at every stage.

SLA deadlines come from each company's policies on their real calendars
(``slaclock``); finished orders keep their deadline columns and state, open orders also
their clocks (``sla`` JSON) with the next check due, so the SLA sweep picks them up.
Finished orders' ``sla`` JSON is left empty (their figures come from the columns; the
JSON would add ~6 GB at ten million orders).
"""

import datetime
import io

from django.db import connection

from wuye.gendata import catalog, slaclock
from wuye.gendata.sql import (
    TZ,
    Timer,
    batches,
    indexes_dropped,
    iso,
    local_ts,
    pick,
    zero_padded,
)
from wuye.sla.models import SlaPolicy
from wuye.workorders.models import Category, WorkOrder

BATCH = 500_000
OPEN = "('submitted', 'accepted', 'dispatched', 'taken', 'in_progress', 'paused')"
MIN = "interval '1 minute'"

# Draw streams of an order (by its index g); feedback and events reuse some.
S_POS, S_HOUSE, S_TYPE, S_CAT, S_CHANNEL, S_TECH = 1, 2, 3, 4, 5, 6
S_RESP, S_DISP, S_TAKE, S_ARR, S_RES, S_FATE = 7, 8, 9, 10, 11, 12
S_REOPEN, S_DESC, S_CANCEL, S_URGE, S_LABOUR, S_ENTER, S_GAP = 13, 14, 15, 16, 17, 18, 19
S_RATED, S_RATED_AT, S_OVERALL, S_CLOSE = 30, 31, 32, 33


def rating(run, g: str) -> dict:
    """Whether order ``g`` gets rated once completed, how long after and how well: shared
    by the orders, feedback and events steps so all three agree without storing draws."""
    return {
        "rated": f"({run.r(g, S_RATED)} < 0.35)",
        "delay": f"((30 + 2800 * {run.r(g, S_RATED_AT)} ^ 2) * {MIN})",
        "overall": pick([(v, w) for v, w in catalog.RATINGS], run.r(g, S_OVERALL)),
    }


def reopen_gap(run, g: str) -> str:
    """How long after the first completion a reopened order was reopened."""
    return f"((60 + 4000 * {run.r(g, S_GAP)}) * {MIN})"


URGE_AFTER = "interval '24 hours'"


# --- lookup tables ----------------------------------------------------------------------
def stage_buckets(run) -> None:
    """``gen_bucket``: each hour from the start to the anchor with its first order index
    and number of orders, in proportion to ``catalog``'s hour and day weights."""
    import random

    rng = random.Random(f"days-{run.seed}")
    hours, weights = [], []
    moment = run.start
    noise = {}
    while moment < run.anchor:
        local = moment.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
        day = local.date()
        if day not in noise:
            noise[day] = rng.random()
        hours.append(moment)
        weights.append(catalog.HOURLY[local.hour] * catalog.day_weight(day, noise[day]))
        moment += datetime.timedelta(hours=1)
    total, orders = sum(weights), run.options.orders
    counts, running, given = [], 0.0, 0
    for weight in weights:
        running += weight
        upto = round(orders * running / total)
        counts.append(upto - given)
        given = upto
    buf, first = io.StringIO(), 1
    for index, (moment, count) in enumerate(zip(hours, counts, strict=True)):
        if count:
            buf.write(f"{index}\t{moment.isoformat()}\t{first}\t{count}\n")
            first += count
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE gen_bucket (b int, start_at timestamptz, g_first bigint, n int)"
        )
        with cursor.connection.cursor() as raw, raw.copy("COPY gen_bucket FROM STDIN") as copy:
            copy.write(buf.getvalue())
        cursor.execute("CREATE INDEX ON gen_bucket (g_first)")
        cursor.execute("ANALYZE gen_bucket")


def _policy_code(category: Category) -> str:
    """The default policy an order of this category gets (``workorders.sla.policy_for``)."""
    from wuye.workorders import sla

    probe = WorkOrder(
        company_id=category.company_id,
        category=category,
        request_type=category.request_type,
        urgency=category.default_urgency,
    )
    policy = sla.policy_for(probe)
    return policy.code if policy else ""


def stage_categories(run) -> None:
    """``gen_cat``: per company and request type, the leaf categories with their share
    of the type as a [lo, hi) range of a draw, and their texts and rules."""
    rows = []
    categories = Category.objects.filter(
        company_id__in=run.ids["companies"], code__in=catalog.CATEGORIES, is_active=True
    ).select_related("sla_policy")
    for cat in categories.order_by("company_id", "request_type", "sort_order", "id"):
        weight, texts, done = catalog.CATEGORIES[cat.code]
        rows.append((cat, weight, texts, done, _policy_code(cat)))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE gen_catw (company_id bigint, request_type text, seq int, "
            "category_id bigint, code text, weight float8, dispatch_mode text, urgency text, "
            "return_visit text, is_paid bool, policy text, descr text[], resolution text)"
        )
        with cursor.connection.cursor() as raw, raw.copy("COPY gen_catw FROM STDIN") as copy:
            for seq, (cat, weight, texts, done, policy) in enumerate(rows):
                copy.write_row(
                    (
                        cat.company_id,
                        cat.request_type,
                        seq,
                        cat.pk,
                        cat.code,
                        weight,
                        cat.dispatch_mode,
                        cat.default_urgency,
                        cat.return_visit,
                        cat.is_paid,
                        policy,
                        list(texts),
                        done,
                    )
                )
        cursor.execute(
            """
            CREATE TEMP TABLE gen_cat AS
            SELECT w.*,
                   coalesce(sum(weight) OVER before / sum(weight) OVER whole, 0) AS lo,
                   CASE WHEN row_number() OVER last = 1 THEN 2.0
                        ELSE sum(weight) OVER upto / sum(weight) OVER whole END AS hi
            FROM gen_catw w
            WINDOW whole AS (PARTITION BY company_id, request_type),
                   upto AS (PARTITION BY company_id, request_type ORDER BY seq),
                   before AS (PARTITION BY company_id, request_type ORDER BY seq
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                   last AS (PARTITION BY company_id, request_type ORDER BY seq DESC)
            """
        )
        cursor.execute("CREATE INDEX ON gen_cat (company_id, request_type)")
        cursor.execute("ANALYZE gen_cat")
    missing = {
        (company, kind)
        for company in run.ids["companies"]
        for kind, _w in catalog.REQUEST_TYPES
        if not any(c.company_id == company and c.request_type == kind for c, *_ in rows)
    }
    if missing:
        raise RuntimeError(f"no active default category for {sorted(missing)}")


def stage_policies(run) -> dict[str, str]:
    """``gen_policy`` (each company's policies with their frozen snapshot) and one SQL
    deadline function per calendar; returns policy code -> function name."""
    from wuye.estates.models import Community
    from wuye.sla.selectors import schedule_for

    origin = run.start.astimezone(datetime.timezone(datetime.timedelta(hours=8)))
    origin = origin.replace(hour=0, minute=0, second=0, microsecond=0) - datetime.timedelta(days=2)
    days = (run.anchor - origin).days + 90  # deadlines of the last orders lie ahead
    functions, names, schedules = {}, {}, {}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE gen_policy (company_id bigint, code text, snapshot jsonb, "
            "response int, arrival int, resolution int, pct int)"
        )
        policies = SlaPolicy.objects.filter(company_id__in=run.ids["companies"]).order_by("id")
        for policy in policies:
            community = Community.objects.filter(company_id=policy.company_id).first()
            schedule = schedule_for(policy.snapshot(), community)
            key = _schedule_key(schedule)
            if key not in schedules:
                schedules[key] = f"gen_due_{len(schedules)}"
                slaclock.create_function(schedules[key], schedule, origin, days)
            if names.setdefault(policy.code, schedules[key]) != schedules[key]:
                raise RuntimeError(f"policy {policy.code} runs on different calendars")
            functions[policy.code] = schedules[key]
            cursor.execute(
                "INSERT INTO gen_policy VALUES (%s, %s, %s::jsonb, %s, %s, %s, %s)",
                [
                    policy.company_id,
                    policy.code,
                    _json(policy.snapshot()),
                    policy.response_minutes,
                    policy.arrival_minutes,
                    policy.resolution_minutes,
                    policy.at_risk_percent,
                ],
            )
        cursor.execute("CREATE UNIQUE INDEX ON gen_policy (company_id, code)")
    run.ids["sla_origin"] = origin
    return functions


def _schedule_key(schedule) -> tuple:
    """Equal for calendars with the same working time (each company has its own copy of
    the default calendars)."""
    return (
        schedule.always_open,
        str(schedule.tz),
        schedule.weekly,
        tuple(sorted(schedule.holidays)),
        tuple(sorted(schedule.workdays.items())),
    )


def _json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def deadline(run, policy: str, start_minutes: str, minutes: str) -> str:
    """SQL: the instant ``minutes`` of the order's ``policy`` after a start given in minutes
    after the calendars' origin (``slaclock.minutes``), on the policy's calendar."""
    branches = " ".join(
        f"WHEN '{code}' THEN pg_temp.{name}({start_minutes}, ({minutes})::float8)"
        for code, name in run.ids["sla_functions"].items()
    )
    return slaclock.instant(f"CASE {policy} {branches} END", run.ids["sla_origin"])


def used(run, policy: str, start_minutes: str) -> str:
    """SQL: the business minutes used at a start (minutes after the origin) on the
    calendar of the order's ``policy``; ``deadline_after`` adds budgets to it."""
    branches = " ".join(
        f"WHEN '{code}' THEN pg_temp.{name}_used({start_minutes})"
        for code, name in run.ids["sla_functions"].items()
    )
    return f"(CASE {policy} {branches} END)"


def deadline_after(run, policy: str, used_minutes: str, minutes: str) -> str:
    """SQL: the instant ``minutes`` of the ``policy``'s calendar after ``used_minutes``."""
    branches = " ".join(
        f"WHEN '{code}' THEN pg_temp.{name}_at({used_minutes} + ({minutes})::float8)"
        for code, name in run.ids["sla_functions"].items()
    )
    return slaclock.instant(f"CASE {policy} {branches} END", run.ids["sla_origin"])


def desk_open(moment: str) -> str:
    """SQL: ``moment`` if the desk (服务中心, 08:00–20:00 every day) is open, else its
    next opening."""
    local = local_ts(moment)
    return (
        f"(CASE WHEN {local}::time >= '08:00' AND {local}::time < '20:00' THEN {moment} "
        f"WHEN {local}::time < '08:00' THEN (date_trunc('day', {local}) + interval '8 hours') "
        f"AT TIME ZONE '{TZ}' ELSE (date_trunc('day', {local}) + interval '32 hours') "
        f"AT TIME ZONE '{TZ}' END)"
    )


def _clock(start: str, minutes: str, risk: str, due: str, stopped: str) -> str:
    """SQL jsonb of one running or stopped clock, as ``workorders.sla`` stores it."""
    late = f"greatest(0, ceil(extract(epoch FROM {stopped} - {due}) / 60))::int"
    return (
        f"jsonb_build_object('start', {iso(start)}, 'minutes', {minutes}, 'risk', {iso(risk)}, "
        f"'due', {iso(due)}, 'stopped', {iso(stopped)}, "
        f"'late', CASE WHEN {stopped} IS NULL THEN NULL ELSE {late} END, "
        f"'state', CASE WHEN {stopped} > {due} THEN 'breached' ELSE 'on_track' END, "
        "'escalated', false)"
    )


# --- the orders -------------------------------------------------------------------------
def orders_sql(run) -> str:
    """One batch ``%(lo)s`` … ``%(hi)s`` of orders. Each layer ends in ``OFFSET 0`` so
    PostgreSQL computes its expressions once per row instead of inlining them into every
    place the next layer uses them."""
    residents = run.ids["residents"]
    rate = rating(run, "g")
    dl = lambda start, minutes: deadline_after(run, "policy", start, minutes)  # noqa: E731
    layer1 = f"""
        SELECT g, b.start_at + ((g - b.g_first) + {run.r("g", S_POS)}) * (interval '1 hour' / b.n)
                   AS submitted_at,
               {pick([(f"'{t}'", w) for t, w in catalog.REQUEST_TYPES], run.r("g", S_TYPE))}
                   AS rtype,
               {pick([(f"'{c}'", w) for c, w in catalog.CHANNELS], run.r("g", S_CHANNEL))}
                   AS channel,
               {run.r("g", S_HOUSE)} AS r_house, {run.r("g", S_CAT)} AS r_cat,
               {run.r("g", S_TECH)} AS r_tech, {run.r("g", S_RESP)} AS r_resp,
               {run.r("g", S_DISP)} AS r_disp, {run.r("g", S_TAKE)} AS r_take,
               {run.r("g", S_ARR)} AS r_arr, {run.r("g", S_RES)} AS r_res,
               {run.r("g", S_FATE)} AS r_fate, {run.r("g", S_REOPEN)} AS r_reopen,
               {run.r("g", S_DESC)} AS r_desc, {run.r("g", S_CANCEL)} AS r_cancel,
               {run.r("g", S_URGE)} AS r_urge, {run.r("g", S_LABOUR)} AS r_labour,
               {run.r("g", S_ENTER)} AS r_enter, {run.r("g", S_CLOSE)} AS r_close,
               {reopen_gap(run, "g")} AS gap,
               {rate["rated"]} AS rated_draw, {rate["overall"]}::int AS overall,
               {rate["delay"]} AS rate_delay
        FROM gen_bucket b
        CROSS JOIN LATERAL generate_series(greatest(b.g_first, %(lo)s),
                                           least(b.g_first + b.n - 1, %(hi)s)) AS g
        WHERE b.g_first <= %(hi)s AND b.g_first + b.n > %(lo)s
        OFFSET 0"""
    layer2 = f"""
        SELECT l.*, h.house_id, h.community_id, h.company_id, h.user_id AS res_user,
               h.name AS res_name, h.mobile AS res_mobile, c.category_id, c.code AS cat_code,
               c.dispatch_mode, c.urgency, c.return_visit, c.is_paid, c.policy, c.descr,
               c.resolution AS done_text, t.staff_id AS tech_staff, t.user_id AS tech_user,
               cm.desk_user, p.snapshot, p.response, p.arrival, p.resolution, p.pct,
               l.channel IN ('phone', 'walk_in') AS desk_intake,
               CASE WHEN l.r_fate < 0.90 THEN 'done' WHEN l.r_fate < 0.96 THEN 'cancelled'
                    ELSE 'rejected' END AS fate,
               CASE c.urgency WHEN 'emergency' THEN 0.08 WHEN 'urgent' THEN 0.3 ELSE 1.0 END
                   AS uf,
               CASE c.urgency WHEN 'emergency' THEN 5 WHEN 'urgent' THEN 10 ELSE 30 END
                   AS take_limit
        FROM ({layer1}) AS l
        JOIN gen_res h ON h.rn = 1 + floor(l.r_house * {residents})::bigint
        JOIN gen_cat c ON c.company_id = h.company_id AND c.request_type = l.rtype
                      AND l.r_cat >= c.lo AND l.r_cat < c.hi
        JOIN gen_comm cm ON cm.community_id = h.community_id
        JOIN gen_tech t ON t.community_id = h.community_id
                       AND t.k = floor(l.r_tech * cm.techs)::int
        JOIN gen_policy p ON p.company_id = h.company_id AND p.code = c.policy
        OFFSET 0"""
    layer3 = f"""
        SELECT l.*,
               CASE WHEN l.desk_intake THEN l.submitted_at
                    ELSE {desk_open("l.submitted_at")} + (2 + 178 * l.r_resp ^ 3 * l.uf) * {MIN}
               END AS acc_raw,
               l.submitted_at + (10 + 600 * l.r_cancel) * {MIN} AS cancel_at,
               l.rtype = 'repair' AS repair,
               l.fate = 'done' AND l.rtype = 'repair' AND l.r_reopen < 0.03
                   AND l.submitted_at < %(anchor)s - interval '30 days' AS reopen
        FROM ({layer2}) AS l OFFSET 0"""
    layer4 = f"""
        SELECT l.*,
               CASE WHEN NOT l.repair THEN NULL
                    WHEN l.dispatch_mode IN ('auto', 'round_robin') THEN l.acc_raw
                    WHEN l.dispatch_mode = 'grab'
                        THEN l.acc_raw + (2 + 58 * l.r_disp ^ 2 * l.uf) * {MIN}
                    ELSE l.acc_raw + (1 + 29 * l.r_disp ^ 2 * l.uf) * {MIN} END AS d_raw
        FROM ({layer3}) AS l OFFSET 0"""
    layer5 = f"""
        SELECT l.*,
               CASE WHEN l.dispatch_mode = 'grab' THEN l.d_raw
                    ELSE l.d_raw + (0.5 + 0.8 * l.take_limit * l.r_take ^ 2) * {MIN} END AS t_raw
        FROM ({layer4}) AS l OFFSET 0"""
    layer6 = f"""
        SELECT l.*,
               greatest(l.t_raw + 5 * {MIN},
                        l.submitted_at + (20 + 1420 * l.r_arr ^ 3) * l.uf * {MIN}) AS a_raw
        FROM ({layer5}) AS l OFFSET 0"""
    layer7 = f"""
        SELECT l.*,
               CASE WHEN l.repair
                    THEN greatest(l.a_raw + (10 + 50 * l.r_res) * {MIN},
                                  l.submitted_at + (60 + 10020 * l.r_res ^ 4) * l.uf * {MIN})
                    ELSE l.acc_raw + (10 + 2870 * l.r_res ^ 3)
                         * CASE WHEN l.rtype = 'complaint' THEN 2 ELSE 1 END * {MIN}
               END AS c_raw
        FROM ({layer6}) AS l OFFSET 0"""
    # A reopened order's second round keeps the first round's pace from the reopening.
    layer8 = f"""
        SELECT l.*,
               CASE WHEN l.reopen THEN l.c_raw + l.gap END AS reopened_at,
               CASE WHEN l.reopen THEN l.c_raw + l.gap - l.acc_raw ELSE interval '0' END
                   AS shift
        FROM ({layer7}) AS l OFFSET 0"""
    layer9 = f"""
        SELECT l.*, l.d_raw + l.shift AS fd, l.t_raw + l.shift AS ft, l.a_raw + l.shift AS fa,
               l.c_raw + l.shift AS fc
        FROM ({layer8}) AS l OFFSET 0"""
    needs_visit = (
        "(l.overall <= 2 OR l.return_visit = 'always' "
        "OR (l.return_visit = 'unless_rated_well' AND l.overall < 4))"
    )
    layer10 = f"""
        SELECT l.*, l.fate = 'done' AND l.rated_draw AS rated, l.fc + l.rate_delay AS rated_at,
               CASE WHEN l.fate <> 'done' THEN NULL
                    WHEN l.rated_draw AND {needs_visit} THEN 'return_visit'
                    WHEN l.rated_draw THEN 'rated'
                    WHEN l.rtype = 'complaint' THEN 'return_visit'
                    ELSE 'not_rated' END AS close_how
        FROM ({layer9}) AS l OFFSET 0"""
    layer11 = f"""
        SELECT l.*,
               CASE l.close_how
                    WHEN 'rated' THEN l.rated_at
                    WHEN 'return_visit' THEN CASE WHEN l.rated AND l.overall <= 2
                        THEN l.rated_at + (20 + 200 * l.r_close) * {MIN}
                        WHEN l.rated THEN l.rated_at + (60 + 1380 * l.r_close) * {MIN}
                        ELSE l.fc + (120 + 1300 * l.r_close) * {MIN} END
                    WHEN 'not_rated' THEN l.fc + interval '48 hours'
                                          + 60 * l.r_close * interval '1 second'
               END AS closed_raw
        FROM ({layer10}) AS l OFFSET 0"""
    # Cut at the anchor: what would happen later has not happened yet.
    a = "%(anchor)s"
    layer12 = f"""
        SELECT l.*,
               CASE WHEN l.fate = 'rejected' THEN NULL
                    WHEN l.fate = 'cancelled' AND l.acc_raw >= l.cancel_at THEN NULL
                    WHEN l.acc_raw <= {a} THEN l.acc_raw END AS acc,
               CASE WHEN l.fate = 'done' AND l.fd <= {a} THEN l.fd END AS dsp,
               CASE WHEN l.fate = 'done' AND l.ft <= {a} THEN l.ft END AS tkn,
               CASE WHEN l.fate = 'done' AND l.repair AND l.fa <= {a} THEN l.fa END AS arr,
               CASE WHEN l.fate = 'done' AND l.fc <= {a} THEN l.fc END AS cmp,
               l.rated AND l.rated_at <= {a} AS rated_now,
               CASE l.fate WHEN 'cancelled' THEN l.cancel_at WHEN 'rejected' THEN l.acc_raw
                    ELSE l.closed_raw END AS end_raw,
               coalesce(l.reopened_at, l.submitted_at) AS start2,
               {slaclock.minutes("l.submitted_at", run.ids["sla_origin"])} AS xs,
               {slaclock.minutes("coalesce(l.reopened_at, l.submitted_at)", run.ids["sla_origin"])}
                   AS x2
        FROM ({layer11}) AS l OFFSET 0"""
    # Business minutes used at the submission and at the (re)start: once per order.
    layer12b = f"""
        SELECT l.*, {used(run, "l.policy", "l.xs")} AS bs,
               CASE WHEN l.reopen THEN {used(run, "l.policy", "l.x2")} END AS b2
        FROM ({layer12}) AS l OFFSET 0"""
    status = f"""CASE
        WHEN l.end_raw <= {a} THEN CASE l.fate WHEN 'done' THEN 'closed' ELSE l.fate END
        WHEN l.rated_now THEN 'rated'
        WHEN l.cmp IS NOT NULL THEN 'completed'
        WHEN l.arr IS NOT NULL THEN 'in_progress'
        WHEN l.tkn IS NOT NULL THEN 'taken'
        WHEN l.dsp IS NOT NULL THEN 'dispatched'
        WHEN l.acc IS NOT NULL THEN 'accepted'
        ELSE 'submitted' END"""
    b2 = "coalesce(l.b2, l.bs)"  # business minutes at the (re)start
    layer13 = f"""
        SELECT l.*, {status} AS status,
               CASE WHEN l.end_raw <= {a} THEN l.end_raw END AS closed_at,
               {dl("l.bs", "l.response")} AS response_due,
               CASE WHEN l.arrival IS NOT NULL THEN {dl(b2, "l.arrival")} END
                   AS arrival_due,
               CASE WHEN l.resolution IS NOT NULL THEN {dl(b2, "l.resolution")} END
                   AS resolution_due,
               l.fate = 'done' AND l.channel IN ('resident_h5', 'api') AND l.r_urge < 0.4
                   AND NOT l.reopen AND l.fc - l.submitted_at > {URGE_AFTER}
                   AND l.submitted_at + {URGE_AFTER} <= {a} AS urged
        FROM ({layer12b}) AS l OFFSET 0"""
    pct = "* l.pct / 100::float8"
    next_check = (
        "least(CASE WHEN l.acc IS NULL THEN l.risk_response END, "
        "CASE WHEN l.arr IS NULL THEN l.risk_arrival END, l.risk_resolution)"
    )
    clocks = (
        f"jsonb_build_object('response', {_clock('l.submitted_at', 'l.response', 'l.risk_response', 'l.response_due', 'l.acc')})"  # noqa: E501
        f" || CASE WHEN l.arrival IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('arrival', {_clock('l.start2', 'l.arrival', 'l.risk_arrival', 'l.arrival_due', 'l.arr')}) END"  # noqa: E501
        f" || CASE WHEN l.resolution IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('resolution', {_clock('l.start2', 'l.resolution', 'l.risk_resolution', 'l.resolution_due', 'NULL::timestamptz')}) END"  # noqa: E501
    )
    layer14 = f"""
        SELECT l.*, l.status IN {OPEN} AS is_open,
               CASE WHEN l.status IN {OPEN}
                    THEN {dl("l.bs", f"l.response {pct}")} END AS risk_response,
               CASE WHEN l.status IN {OPEN} AND l.arrival IS NOT NULL
                    THEN {dl(b2, f"l.arrival {pct}")} END AS risk_arrival,
               CASE WHEN l.status IN {OPEN} AND l.resolution IS NOT NULL
                    THEN {dl(b2, f"l.resolution {pct}")} END AS risk_resolution,
               CASE WHEN l.acc > l.response_due OR l.arr > l.arrival_due
                         OR l.cmp > l.resolution_due THEN 'breached' ELSE 'on_track' END
                   AS sla_state
        FROM ({layer13}) AS l OFFSET 0"""
    first = run.ids["first_order"]
    return f"""
        INSERT INTO {WorkOrder._meta.db_table} (id, company_id, community_id, house_id,
            common_area_id, asset_id, number, request_type, category_id, dispatch_mode, channel,
            urgency, priority, description, preferred_time, may_enter, contact_name,
            contact_mobile, reporter_id, created_by_id, status, assignee_id, paused_from,
            pause_reason, submitted_at, accepted_at, dispatched_at, taken_at, arrived_at,
            completed_at, closed_at, close_reason, resolution, labour_amount, urge_count,
            reopen_count, merged_into_id, sla, response_due, arrival_due, resolution_due,
            sla_state, sla_next_check, paused_at)
        SELECT {first - 1} + l.g, l.company_id, l.community_id, l.house_id, NULL, NULL,
               to_char({local_ts("l.submitted_at")}, 'YYYYMMDD')
                   || {zero_padded(f"{first - 1} + l.g", 6)},
               l.rtype, l.category_id, l.dispatch_mode, l.channel, l.urgency,
               CASE WHEN l.reopen THEN 1 ELSE 0 END,
               l.descr[1 + floor(l.r_desc * array_length(l.descr, 1))::int], '',
               l.r_enter < 0.15, l.res_name, l.res_mobile,
               CASE WHEN l.channel IN ('resident_h5', 'api') THEN l.res_user END,
               CASE WHEN l.channel IN ('resident_h5', 'api') THEN l.res_user
                    WHEN l.channel = 'staff' THEN l.tech_user ELSE l.desk_user END,
               l.status, CASE WHEN l.dsp IS NOT NULL THEN l.tech_staff END, '', '',
               l.submitted_at, l.acc, l.dsp, l.tkn, l.arr, l.cmp, l.closed_at,
               CASE WHEN l.status = 'closed' THEN l.close_how ELSE '' END,
               CASE WHEN l.cmp IS NOT NULL THEN l.done_text ELSE '' END,
               CASE WHEN l.cmp IS NOT NULL AND l.is_paid
                    THEN 20 + 10 * floor(l.r_labour * 14) ELSE 0 END,
               CASE WHEN l.urged THEN 1 ELSE 0 END, CASE WHEN l.reopen THEN 1 ELSE 0 END, NULL,
               CASE WHEN l.is_open
                    THEN jsonb_build_object('policy', l.snapshot, 'clocks', {clocks})
                    ELSE '{{}}'::jsonb END,
               l.response_due, l.arrival_due, l.resolution_due, l.sla_state,
               CASE WHEN l.is_open THEN {next_check} END, NULL
        FROM ({layer14}) AS l
        """


def stage(run) -> None:
    stage_buckets(run)
    stage_categories(run)
    run.ids["sla_functions"] = stage_policies(run)


def generate(run) -> None:
    stage(run)
    count = run.options.orders
    run.ids["first_order"] = run.reserve_ids(WorkOrder._meta.db_table, count)
    sql = orders_sql(run)
    # Hash joins for the lookups: estimates of the generated rows are poor, and a nested
    # loop over a few hundred communities or thousands of technicians per order is not.
    run.execute("SET LOCAL enable_nestloop = off")
    timer = Timer()
    with indexes_dropped(run, WorkOrder._meta.db_table, count):
        for lo, hi in batches(1, count, BATCH):
            run.execute(
                sql, {"lo": lo, "hi": hi, "anchor": run.anchor}, table=WorkOrder._meta.db_table
            )
            done = run.rows[WorkOrder._meta.db_table]
            run.progress(f"orders {done:,} of {count:,} ({done / max(timer.seconds, 1e-9):,.0f}/s)")
