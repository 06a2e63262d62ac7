"""Facility rounds: what is inspected, the plans, and their daily tasks with visits.

Per company five checklists (水泵房巡检, 配电房巡检, 电梯周检, 夜间安全巡逻, 公共区域保洁检查)
with typed items (numbers with an acceptable range, normal/abnormal, choices). Per
community its pump and power rooms, garage, gate and garden (common areas), two water
pumps, a power cabinet and one elevator per building of seven floors or more (assets,
codes per company: SB-0001 …), six patrol checkpoints; and five plans: the pump room
daily 09:00–11:00 and the power room daily 14:00–16:00 by a technician, the elevators
every Monday by a technician, a night patrol 20:00–23:00 by a guard, a cleaning check
08:00–10:00 by a cleaner.

Every plan has a task for each day it runs from the start of the data to the anchor day
(that day's still to do): 95 % done (6 % of those finished after the window closed),
5 % missed. A done task has a visit per stop, scanned a few minutes apart (late when
after the window), and an answer per checklist item, 2 % abnormal (out of range, "abnormal"
or the abnormal choice); the task counts its abnormal answers. No work orders are opened
from abnormal answers, and no downtime or certificates are recorded.
"""

from wuye.facilities.models import (
    Answer,
    Asset,
    AssetCategory,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    Plan,
    PlanStop,
    Task,
    Visit,
)
from wuye.gendata.sql import TZ, indexes_dropped, local_date, stage_communities, zero_padded

S_TASK, S_LATE, S_START, S_SCAN, S_ABNORMAL, S_VALUE = 70, 71, 72, 73, 74, 75
# key: (name, round kind, asset category, items: (label, type, unit, min, max, choices, abnormal))
TEMPLATES = {
    "pump": ("水泵房巡检", "inspection", "water_pump", (
        ("出水压力", "number", "MPa", 0.3, 0.6, None, None),
        ("运行声音", "ok_abnormal", "", None, None, None, None),
        ("有无渗漏", "ok_abnormal", "", None, None, None, None),
    )),
    "power": ("配电房巡检", "inspection", "power", (
        ("进线电压", "number", "V", 380, 420, None, None),
        ("柜体温度", "number", "℃", 0, 45, None, None),
        ("指示灯", "ok_abnormal", "", None, None, None, None),
    )),
    "elevator": ("电梯周检", "inspection", "elevator", (
        ("运行平稳", "ok_abnormal", "", None, None, None, None),
        ("轿厢照明", "ok_abnormal", "", None, None, None, None),
        ("应急电话", "ok_abnormal", "", None, None, None, None),
    )),
    "patrol": ("夜间安全巡逻", "patrol", None, (
        ("消防通道", "single", "", None, None, ["畅通", "堵塞"], ["堵塞"]),
        ("可疑人员", "ok_abnormal", "", None, None, None, None),
    )),
    "cleaning": ("公共区域保洁检查", "cleaning", None, (
        ("地面卫生", "single", "", None, None, ["干净", "一般", "脏乱"], ["脏乱"]),
    )),
}  # fmt: skip
# plan number: (template, name, recurrence, days, window, role of the assignee, its number)
PLANS = (
    ("pump", "水泵房日常巡检", "daily", [], ("09:00", "11:00"), "technician", 0),
    ("power", "配电房日常巡检", "daily", [], ("14:00", "16:00"), "technician", 1),
    ("elevator", "电梯周检", "weekly", [1], ("09:00", "17:00"), "technician", 0),
    ("patrol", "夜间安全巡逻", "daily", [], ("20:00", "23:00"), "guard", 0),
    ("cleaning", "公共区域保洁检查", "daily", [], ("08:00", "10:00"), "cleaner", 0),
)
AREAS = (("泵房", "pump_room"), ("配电房", "power_room"), ("地下车库", "garage"),
         ("东大门", "entrance"), ("中心花园", "garden"))  # fmt: skip
CHECKPOINTS = ("东门岗", "西门岗", "地库入口", "中心花园", "消防通道", "垃圾站")


def create_templates(run) -> None:
    """Checklists per company through the ORM (a handful of rows), then ``gen_titem``."""
    categories = {
        (c.company_id, c.code): c
        for c in AssetCategory.objects.filter(company_id__in=run.ids["companies"])
    }
    rows = []
    for company_id in run.ids["companies"]:
        for key, (name, kind, category, items) in TEMPLATES.items():
            template = ChecklistTemplate.objects.create(
                company_id=company_id,
                name=name,
                kind=kind,
                asset_category=categories.get((company_id, category)),
            )
            made = ChecklistItem.objects.bulk_create(
                ChecklistItem(
                    template=template,
                    position=position,
                    label=label,
                    type=kind_,
                    unit=unit,
                    min_value=low,
                    max_value=high,
                    choices=choices or [],
                    abnormal_choices=abnormal or [],
                )
                for position, (label, kind_, unit, low, high, choices, abnormal) in enumerate(
                    items, start=1
                )
            )
            for item, spec in zip(made, items, strict=True):
                rows.append((company_id, key, template.pk, item.pk, item.position, spec))
    run.rows[ChecklistTemplate._meta.db_table] = len(run.ids["companies"]) * len(TEMPLATES)
    run.rows[ChecklistItem._meta.db_table] = len(rows)
    run.execute(
        "CREATE TEMP TABLE gen_titem (company_id bigint, tkey text, template_id bigint, "
        "item_id bigint, position int, type text, low float8, high float8, normal text, "
        "abnormal text)"
    )
    for company_id, key, template_id, item_id, position, spec in rows:
        _label, kind, _unit, low, high, choices, abnormal = spec
        normal = choices[0] if choices else None
        run.execute(
            "INSERT INTO gen_titem VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [company_id, key, template_id, item_id, position, kind, low, high, normal,
             (abnormal or [None])[0]],
        )  # fmt: skip


def create_places(run) -> None:
    """Common areas, assets and checkpoints; ``gen_stop_target`` lists each community's
    targets per plan with their position."""
    from wuye.estates.models import CommonArea

    areas = ", ".join(f"({k}, '{name}', '{kind}')" for k, (name, kind) in enumerate(AREAS))
    run.execute(
        f"""
        INSERT INTO {CommonArea._meta.db_table} (community_id, building_id, name, kind, description)
        SELECT c.community_id, NULL, a.name, a.kind, ''
        FROM gen_community c CROSS JOIN (VALUES {areas}) AS a(k, name, kind)
        ORDER BY c.idx, a.k
        """,
        table=CommonArea._meta.db_table,
    )
    token = f"substr(md5('{run.seed}:' || %s), 1, 16)"
    # Pumps and the power cabinet in their rooms; an elevator per building of 7+ floors.
    run.execute(
        """
        CREATE TEMP TABLE gen_asset AS
        SELECT c.idx AS cidx, c.community_id, c.company_id, x.tkey, x.n, x.name, x.area,
               x.building_id, x.category
        FROM gen_community c CROSS JOIN LATERAL (
            SELECT 'pump' AS tkey, n, n || '号生活水泵' AS name, '泵房' AS area,
                   NULL::bigint AS building_id, 'water_pump' AS category
            FROM generate_series(1, 2) AS n
            UNION ALL SELECT 'power', 1, '低压配电柜', '配电房', NULL, 'power'
            UNION ALL SELECT 'elevator', row_number() OVER (ORDER BY b.sort_order, b.id),
                   b.name || '电梯', NULL, b.id, 'elevator'
            FROM estates_building b WHERE b.community_id = c.community_id AND b.floors_above >= 7
        ) AS x
        """
    )
    run.execute(
        f"""
        INSERT INTO {Asset._meta.db_table} (company_id, community_id, building_id, common_area_id,
            category_id, code, name, location, brand, model_no, serial_no, installed_on,
            warranty_until, vendor_id, importance, status, qr_token, notes, created_at)
        SELECT a.company_id, a.community_id, a.building_id, ca.id, cat.id,
               cat.code_prefix || '-' || {zero_padded("a.seq", 4)},
               a.name, coalesce(a.area, ''), '', '', '', NULL, NULL, NULL,
               CASE a.tkey WHEN 'pump' THEN 'normal' ELSE 'critical' END, 'running',
               {token.replace("%s", "'asset:' || a.cidx || ':' || a.tkey || ':' || a.n")}, '',
               %(start)s
        FROM (SELECT *, row_number() OVER (PARTITION BY company_id, category
                                           ORDER BY cidx, tkey, n) AS seq FROM gen_asset) AS a
        JOIN {AssetCategory._meta.db_table} cat ON cat.company_id = a.company_id
             AND cat.code = a.category
        LEFT JOIN {CommonArea._meta.db_table} ca ON ca.community_id = a.community_id
             AND ca.name = a.area AND ca.building_id IS NULL
        ORDER BY a.cidx, a.tkey, a.n
        """,
        {"start": run.start},
        table=Asset._meta.db_table,
    )
    points = ", ".join(f"({k}, '{name}')" for k, name in enumerate(CHECKPOINTS, start=1))
    run.execute(
        f"""
        INSERT INTO {Checkpoint._meta.db_table} (company_id, community_id, common_area_id, name,
            qr_token, is_active)
        SELECT c.company_id, c.community_id, NULL, p.name,
               {token.replace("%s", "'point:' || c.idx || ':' || p.k")}, true
        FROM gen_community c CROSS JOIN (VALUES {points}) AS p(k, name)
        ORDER BY c.idx, p.k
        """,
        table=Checkpoint._meta.db_table,
    )


def create_plans(run) -> None:
    values = ", ".join(
        f"({p}, '{key}', '{name}', '{rec}', '{days}', '{lo}', '{hi}', '{role}', {k})"
        for p, (key, name, rec, days, (lo, hi), role, k) in enumerate(PLANS)
    )
    run.execute(
        f"""
        CREATE TEMP TABLE gen_plan AS
        SELECT c.idx * {len(PLANS)} + s.p AS pidx, c.idx AS cidx, c.community_id, c.company_id,
               s.*, st.staff_id AS assignee_id, t.template_id,
               (SELECT tr.id FROM staff_trade tr WHERE tr.company_id = c.company_id
                 AND tr.code = CASE s.tkey WHEN 'elevator' THEN 'elevator'
                                           ELSE 'plumbing_electric' END) AS trade_id
        FROM gen_community c
        CROSS JOIN (VALUES {values}) AS s(p, tkey, name, recurrence, days, lo, hi, role, k)
        JOIN gen_staff st ON st.community_id = c.community_id AND st.role = s.role AND st.k = s.k
        JOIN (SELECT DISTINCT company_id, tkey, template_id FROM gen_titem) AS t
             ON t.company_id = c.company_id AND t.tkey = s.tkey
        WHERE s.tkey <> 'elevator' OR EXISTS (
            SELECT 1 FROM gen_asset a WHERE a.community_id = c.community_id
              AND a.tkey = 'elevator')
        """
    )
    first = run.reserve_ids(Plan._meta.db_table, run.options.communities * len(PLANS))
    run.ids["first_plan"] = first
    run.execute(
        f"""
        INSERT INTO {Plan._meta.db_table} (id, company_id, community_id, kind, name, template_id,
            recurrence, days, interval_days, anchor, window_start, window_end, assignee_id,
            trade_id, requires_acceptance, starts_on, ends_on, is_active)
        SELECT {first} + p.pidx, p.company_id, p.community_id, tpl.kind, p.name, p.template_id,
               p.recurrence, p.days::jsonb, NULL, 'schedule', p.lo::time, p.hi::time,
               p.assignee_id, CASE WHEN p.role = 'technician' THEN p.trade_id END, false,
               %(first_day)s, NULL, true
        FROM gen_plan p JOIN {ChecklistTemplate._meta.db_table} tpl ON tpl.id = p.template_id
        ORDER BY p.pidx
        """,
        {"first_day": local_date(run.start)},
        table=Plan._meta.db_table,
    )
    # Stops: the plan's assets (pumps, cabinet, elevators) or checkpoints, numbered from 0.
    run.execute(
        f"""
        CREATE TEMP TABLE gen_stop AS
        SELECT p.pidx, row_number() OVER (PARTITION BY p.pidx ORDER BY x.asset_id, x.point_id)
                   - 1 AS position, x.asset_id, x.point_id
        FROM gen_plan p CROSS JOIN LATERAL (
            SELECT a.id AS asset_id, NULL::bigint AS point_id FROM {Asset._meta.db_table} a
            JOIN {AssetCategory._meta.db_table} cat ON cat.id = a.category_id
            WHERE a.community_id = p.community_id AND p.tkey IN ('pump', 'power', 'elevator')
              AND cat.code = CASE p.tkey WHEN 'pump' THEN 'water_pump' ELSE p.tkey END
            UNION ALL
            SELECT NULL, k.id FROM {Checkpoint._meta.db_table} k
            WHERE k.community_id = p.community_id AND (p.tkey = 'patrol'
                  OR (p.tkey = 'cleaning' AND k.name IN ('中心花园', '垃圾站', '地库入口')))
        ) AS x
        """
    )
    run.ids["stops_stride"] = run.value("SELECT coalesce(max(position), 0) + 1 FROM gen_stop")
    first_stop = run.reserve_ids(PlanStop._meta.db_table, run.options.communities * len(PLANS)
                                 * run.ids["stops_stride"])  # fmt: skip
    run.execute(
        f"ALTER TABLE gen_stop ADD COLUMN id bigint; "
        f"UPDATE gen_stop SET id = {first_stop} + pidx * {run.ids['stops_stride']} + position"
    )
    run.execute(
        f"""
        INSERT INTO {PlanStop._meta.db_table} (id, plan_id, position, asset_id, checkpoint_id)
        SELECT s.id, {first} + s.pidx, s.position, s.asset_id, s.point_id
        FROM gen_stop s ORDER BY s.id
        """,
        table=PlanStop._meta.db_table,
    )
    run.execute("CREATE INDEX ON gen_stop (pidx)")
    run.execute("ANALYZE gen_stop")


def create_tasks(run) -> None:
    """A task per plan and day it runs; ``gen_task`` keeps what visits need."""
    first_day, last_day = local_date(run.start), local_date(run.anchor)
    days = (last_day - first_day).days + 1
    first = run.reserve_ids(Task._meta.db_table, run.options.communities * len(PLANS) * days)
    key = f"(p.pidx * {days} + d.n)"
    opens = f"((d.day + p.lo::time) AT TIME ZONE '{TZ}')"
    closes = f"((d.day + p.hi::time) AT TIME ZONE '{TZ}')"
    run.execute(
        f"""
        CREATE TEMP TABLE gen_task AS
        SELECT {first} + {key} AS id, {key} AS tkey_n, p.pidx, p.company_id, p.community_id,
               p.assignee_id, tpl.kind, d.day::date AS date, {opens} AS opens_at,
               {closes} AS closes_at,
               CASE WHEN d.day >= %(last)s THEN 'pending'
                    WHEN {run.r(key, S_TASK)} < 0.05 THEN 'missed' ELSE 'done' END AS status,
               {run.r(key, S_LATE)} < 0.06 AS late,
               {opens} + (2 + 25 * {run.r(key, S_START)}) * interval '1 minute' AS started_at,
               (SELECT count(*) FROM gen_stop s WHERE s.pidx = p.pidx) AS stops
        FROM gen_plan p
        JOIN {ChecklistTemplate._meta.db_table} tpl ON tpl.id = p.template_id
        CROSS JOIN LATERAL (
            SELECT n, %(first)s::date + n AS day FROM generate_series(0, {days - 1}) AS n
        ) AS d
        WHERE p.recurrence = 'daily' OR extract(isodow FROM d.day) = 1
        """,
        {"first": first_day, "last": last_day},
    )
    with indexes_dropped(run, Task._meta.db_table, run.value("SELECT count(*) FROM gen_task")):
        run.execute(
            f"""
            INSERT INTO {Task._meta.db_table} (id, company_id, community_id, plan_id, kind, date,
                opens_at, closes_at, assignee_id, status, started_at, completed_at,
                abnormal_count)
            SELECT t.id, t.company_id, t.community_id, {run.ids["first_plan"]} + t.pidx, t.kind,
                   t.date, t.opens_at, t.closes_at, t.assignee_id, t.status,
                   CASE WHEN t.status = 'done' THEN t.started_at END,
                   CASE WHEN t.status <> 'done' THEN NULL
                        WHEN t.late THEN t.closes_at + (10 + t.stops) * interval '1 minute'
                        ELSE least(t.started_at + (5 + 4 * t.stops) * interval '1 minute',
                                   t.closes_at - interval '1 minute') END,
                   0
            FROM gen_task t ORDER BY t.id
            """,
            table=Task._meta.db_table,
        )


def create_visits(run) -> None:
    stride = run.ids["stops_stride"]
    run.execute(
        f"""
        CREATE TEMP TABLE gen_visit AS
        SELECT t.id * {stride} + s.position AS vkey, t.id AS task_id, s.id AS stop_id,
               t.company_id, p.tkey, x.scanned_at, x.scanned_at > t.closes_at AS late
        FROM gen_task t JOIN gen_plan p ON p.pidx = t.pidx
        JOIN gen_stop s ON s.pidx = t.pidx
        CROSS JOIN LATERAL (
            SELECT CASE WHEN t.late THEN t.closes_at + (s.position + 1) * interval '1 minute'
                        ELSE least(t.started_at + (4 * s.position
                                   + 3 * {run.r(f"t.id * {stride} + s.position", S_SCAN)})
                                   * interval '1 minute', t.closes_at - interval '2 minutes')
                   END AS scanned_at
        ) AS x
        WHERE t.status = 'done'
        """
    )
    count = run.value("SELECT count(*) FROM gen_visit")
    first = run.reserve_ids(Visit._meta.db_table, count)
    run.execute("ALTER TABLE gen_visit ADD COLUMN id bigint")
    run.execute(
        f"UPDATE gen_visit v SET id = {first} - 1 + n.rn FROM (SELECT vkey, row_number() "
        "OVER (ORDER BY vkey) AS rn FROM gen_visit) AS n WHERE n.vkey = v.vkey"
    )
    with indexes_dropped(run, Visit._meta.db_table, count):
        run.execute(
            f"""
            INSERT INTO {Visit._meta.db_table} (id, task_id, stop_id, scanned_at, timing,
                latitude, longitude)
            SELECT id, task_id, stop_id, scanned_at,
                   CASE WHEN late THEN 'late' ELSE 'on_time' END, NULL, NULL
            FROM gen_visit ORDER BY id
            """,
            table=Visit._meta.db_table,
        )


def create_answers(run) -> None:
    key = "v.vkey * 8 + i.position"
    abnormal = f"({run.r(key, S_ABNORMAL)} < 0.02)"
    value = f"""CASE i.type
        WHEN 'ok_abnormal' THEN to_jsonb(NOT {abnormal})
        WHEN 'number' THEN to_jsonb(round((CASE WHEN {abnormal} THEN i.high + (i.high - i.low) * 0.2
             ELSE i.low + (i.high - i.low) * (0.15 + 0.7 * {run.r(key, S_VALUE)}) END)::numeric,
             2)::text)
        WHEN 'single' THEN to_jsonb(CASE WHEN {abnormal} THEN i.abnormal ELSE i.normal END)
        END"""
    count = run.value(
        "SELECT count(*) FROM gen_visit v JOIN gen_titem i ON i.company_id = v.company_id "
        "AND i.tkey = v.tkey"
    )
    with indexes_dropped(run, Answer._meta.db_table, count):
        run.execute(
            f"""
            INSERT INTO {Answer._meta.db_table} (visit_id, item_id, value, is_abnormal,
                work_order_id)
            SELECT v.id, i.item_id, {value}, {abnormal}, NULL
            FROM gen_visit v JOIN gen_titem i ON i.company_id = v.company_id AND i.tkey = v.tkey
            ORDER BY v.id, i.position
            """,
            table=Answer._meta.db_table,
        )
    run.execute(
        f"""
        UPDATE {Task._meta.db_table} t SET abnormal_count = a.n
        FROM (SELECT v.task_id, count(*) AS n FROM {Answer._meta.db_table} a
              JOIN gen_visit v ON v.id = a.visit_id WHERE a.is_abnormal GROUP BY v.task_id) AS a
        WHERE t.id = a.task_id
        """
    )


def generate(run) -> None:
    stage_communities(run)
    create_templates(run)
    create_places(run)
    create_plans(run)
    create_tasks(run)
    create_visits(run)
    create_answers(run)
