"""The facilities part of the demo: vendors, the equipment ledger with certificates and
downtime history, checklists, checkpoints, plans of the five round kinds, and two weeks
of rounds done, late or missed, so the task board and the reports have something to show.

Ledger, checklists and plans go through the services (they are few); the rounds'
history is written in bulk (thousands of answers), keeping the rules the services keep:
one visit per stop and task, answers only on visited stops, timing from the window.
One abnormal pump reading yesterday is replayed through the real services, so the
resulting repair order exists with its whole timeline.
"""

import datetime
import random
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from wuye.accounts.actor import Actor
from wuye.estates.models import Building, CommonArea
from wuye.facilities import rounds
from wuye.facilities import services as fac
from wuye.facilities.models import (
    Answer,
    AssetCategory,
    Certificate,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    Downtime,
    ItemType,
    PlanStop,
    RoundKind,
    Task,
    Vendor,
    Visit,
)
from wuye.facilities.plans import create_plan, generate_tasks
from wuye.notifications.services import delivered_together
from wuye.staff.models import RosterEntry
from wuye.workorders import services as wo
from wuye.workorders.models import Category
from wuye.workorders.notices import remembered_audiences

HISTORY_DAYS = 14
LIFT = "elevator_fault"
REPAIR_REASONS = ("门机故障", "平层不准", "安全回路故障", "更换钢丝绳")
DONE_SHARE, LATE_SHARE = 0.86, 0.06  # the rest of the past tasks were missed
ABNORMAL_SHARE = 0.015

# name, kind, asset category code or None, items:
# (label, type, unit, min, max, choices, abnormal choices, photo required, order category)
CHECKLISTS = [
    (
        "水泵房巡检",
        RoundKind.INSPECTION,
        "water_pump",
        [
            ("出水压力", ItemType.NUMBER, "MPa", "0.30", "0.60", [], [], False, "water_leak"),
            ("电机温度", ItemType.NUMBER, "℃", None, "70", [], [], False, "power_cut"),
            ("运行声音", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            ("有无渗漏", ItemType.OK_ABNORMAL, "", None, None, [], [], False, "water_leak"),
        ],
    ),
    (
        "配电房巡检",
        RoundKind.INSPECTION,
        "power",
        [
            ("进线电压", ItemType.NUMBER, "V", "360", "420", [], [], False, "power_cut"),
            ("变压器温度", ItemType.NUMBER, "℃", None, "85", [], [], False, "power_cut"),
            ("总电表读数", ItemType.METER, "kWh", None, None, [], [], False, None),
            ("柜门与警示标识", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
        ],
    ),
    (
        "电梯周检",
        RoundKind.INSPECTION,
        "elevator",
        [
            (
                "运行平稳无异响",
                ItemType.OK_ABNORMAL,
                "",
                None,
                None,
                [],
                [],
                False,
                LIFT,
            ),
            ("轿厢照明与通风", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            ("五方通话", ItemType.OK_ABNORMAL, "", None, None, [], [], False, LIFT),
            (
                "层门地坎",
                ItemType.SINGLE,
                "",
                None,
                None,
                ["干净", "有杂物", "变形"],
                ["变形"],
                False,
                None,
            ),
        ],
    ),
    (
        "电梯月度保养",
        RoundKind.MAINTENANCE,
        "elevator",
        [
            ("曳引机润滑", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            ("制动器间隙", ItemType.NUMBER, "mm", "0.2", "0.7", [], [], False, LIFT),
            (
                "安全钳与限速器",
                ItemType.OK_ABNORMAL,
                "",
                None,
                None,
                [],
                [],
                False,
                LIFT,
            ),
            ("保养后照片", ItemType.PHOTO, "", None, None, [], [], True, None),
        ],
    ),
    (
        "夜间安全巡逻",
        RoundKind.PATROL,
        None,
        [
            (
                "现场情况",
                ItemType.SINGLE,
                "",
                None,
                None,
                ["正常", "消防通道占用", "可疑人员", "设施损坏"],
                ["消防通道占用", "可疑人员", "设施损坏"],
                False,
                None,
            ),
            ("备注", ItemType.TEXT, "", None, None, [], [], False, None),
        ],
    ),
    (
        "公共区域保洁",
        RoundKind.CLEANING,
        None,
        [
            ("地面与台阶", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            ("垃圾桶清运", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            ("完成照片", ItemType.PHOTO, "", None, None, [], [], False, None),
        ],
    ),
    (
        "绿化养护",
        RoundKind.GREENING,
        None,
        [
            ("浇水", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            ("修剪", ItemType.OK_ABNORMAL, "", None, None, [], [], False, None),
            (
                "病虫害",
                ItemType.MULTIPLE,
                "",
                None,
                None,
                ["无", "蚜虫", "白粉病", "枯枝"],
                ["蚜虫", "白粉病"],
                False,
                None,
            ),
        ],
    ),
]

PATROL_POINTS = ["南大门", "北大门", "地下车库入口", "中心花园", "儿童游乐场", "垃圾分类投放点"]
CLEANING_AREAS = ["1-3栋大堂", "4-6栋大堂", "中心花园步道", "地下车库"]
GREEN_AREAS = ["中心花园", "南侧绿化带", "北侧绿化带"]


class FacilitiesDemo:
    def __init__(self, rng: random.Random, today: datetime.date, company, communities, staff):
        self.rng, self.today, self.company = rng, today, company
        self.communities = communities  # code -> Community (company 安居)
        self.staff = staff  # [(StaffMember, (username, role, communities, trades, off))]
        self.admin = Actor(next(m for m, p in staff if p[1] == "company_admin").user)
        self.categories = {c.code: c for c in AssetCategory.objects.filter(company=company)}
        self.order_categories = {c.code: c for c in Category.objects.filter(company=company)}
        self.tz = timezone.get_current_timezone()

    def member(self, role, community_code, trade=None, n=0):
        return [
            m
            for m, (_u, r, comms, trades, off) in self.staff
            if r == role
            and not off
            and community_code in {c.code for c in comms}
            and (trade is None or trade in trades)
        ][n]

    def last_workday(self, member, community) -> datetime.date:
        """The member's latest rostered day before today (the monthly maintenance done
        then waits for acceptance), else today."""
        days = RosterEntry.objects.filter(
            staff=member,
            community=community,
            date__lt=self.today,
            date__gte=self.today - datetime.timedelta(days=5),
        ).values_list("date", flat=True)
        return max(days, default=self.today)

    def team(self, role, community_code) -> dict:
        """The first member of the role as assignee, their team as the fallback."""
        member = self.member(role, community_code)
        return {"assignee": member, "trade": member.trades.get()}

    # --- ledger ---------------------------------------------------------------------
    def build(self) -> None:
        self.vendors = self.make_vendors()
        self.templates = self.make_checklists()
        for community in self.communities.values():
            assets = self.make_assets(community)
            self.make_plans(community, assets)
        generate_tasks(
            start=self.today - datetime.timedelta(days=HISTORY_DAYS), days=HISTORY_DAYS + 2
        )
        self.play_history()
        self.replay_abnormal_reading()
        rounds.mark_missed()  # past tasks nobody on shift could take

    def make_vendors(self):
        rows = [
            ("杭州奥速电梯工程有限公司", "周建国", "WB-DT-2026-01", "电梯维保"),
            ("浙江安泰消防技术服务有限公司", "陈立", "WB-XF-2026-03", "消防设施检测与维保"),
            ("杭州清源供水设备有限公司", "王海", "WB-GS-2025-11", "二次供水设备维保"),
            ("杭州明光电力安装有限公司", "赵磊", "WB-PD-2026-02", "高低压配电维保"),
        ]
        vendors = {}
        for name, contact, contract, scope in rows:
            vendors[scope[:2]] = Vendor.objects.create(
                company=self.company,
                name=name,
                contact_name=contact,
                contact_mobile=f"139{self.rng.randrange(10**8):08d}",
                contract_no=contract,
                contract_start=datetime.date(self.today.year, 1, 1),
                contract_end=datetime.date(self.today.year, 12, 31),
                scope=scope,
            )
        return vendors

    def make_assets(self, community) -> dict:
        areas = {a.name: a for a in CommonArea.objects.filter(community=community)}
        buildings = list(Building.objects.filter(community=community).order_by("sort_order", "id"))
        pump_room = next((a for n, a in areas.items() if "泵房" in n), None)
        power_room = next((a for n, a in areas.items() if "配电房" in n), None)

        def add(category, name, **fields):
            return fac.create_asset(
                actor=self.admin,
                community=community,
                category=self.categories[category],
                name=name,
                **fields,
            )

        lifts = []
        for building in buildings[:6]:
            for n in (1, 2):
                lifts.append(
                    add(
                        "elevator",
                        f"{building.name}{n}号客梯",
                        building=building,
                        brand="奥的斯",
                        model_no="GeN2-MR",
                        serial_no=f"OT{self.rng.randrange(10**7):07d}",
                        installed_on=datetime.date(2016 + self.rng.randrange(4), 6, 1),
                        vendor=self.vendors["电梯"],
                        importance="critical",
                    )
                )
        pumps = [
            add(
                "water_pump",
                f"{n}号生活水泵",
                common_area=pump_room,
                location="生活泵房",
                brand="格兰富",
                model_no="CR 32-4",
                installed_on=datetime.date(2018, 3, 15),
                warranty_until=datetime.date(2021, 3, 15),
                vendor=self.vendors["二次"],
                importance="critical",
            )
            for n in (1, 2, 3)
        ]
        power = [
            add(
                "power",
                name,
                common_area=power_room,
                location=power_room.name if power_room else "",
                brand="正泰",
                vendor=self.vendors["高低"],
                importance="critical",
            )
            for name in ("1号变压器", "低压进线柜")
        ]
        fire = add(
            "fire",
            "消防喷淋泵",
            location="消防泵房",
            vendor=self.vendors["消防"],
            importance="critical",
        )
        add("cctv", "监控中心硬盘录像机", location="监控中心", brand="海康威视")
        add("access", "南大门人行闸机", location="南大门", brand="大华")
        add("lighting", "地下车库照明回路", location="地下车库", importance="normal")
        self.certificates(lifts, fire, pumps)
        self.downtime_history(lifts)
        return {"lifts": lifts, "pumps": pumps, "power": power, "fire": fire}

    def certificates(self, lifts, fire, pumps) -> None:
        for n, lift in enumerate(lifts):
            # Spread over the year; the first is overdue, two expire within a month.
            days = (-3, 12, 25)[n] if n < 3 else 40 + n * 23
            expires = self.today + datetime.timedelta(days=days)
            Certificate.objects.create(
                asset=lift,
                kind=Certificate.Kind.ELEVATOR,
                number=f"TSX-{expires.year}-{self.rng.randrange(10**5):05d}",
                issuer="杭州市特种设备检测研究院",
                issued_on=expires - datetime.timedelta(days=365),
                expires_on=expires,
            )
        Certificate.objects.create(
            asset=fire,
            kind=Certificate.Kind.FIRE,
            number=f"XF-{self.today.year}-{self.rng.randrange(10**4):04d}",
            issuer="浙江安泰消防技术服务有限公司",
            expires_on=self.today + datetime.timedelta(days=150),
            remind_days=60,
        )
        Certificate.objects.create(
            asset=pumps[0],
            kind=Certificate.Kind.WATER,
            number=f"WS-{self.today.year}-{self.rng.randrange(10**4):04d}",
            issuer="西湖区疾病预防控制中心",
            expires_on=self.today + datetime.timedelta(days=70),
        )

    def downtime_history(self, lifts) -> None:
        """Past repairs of a few lifts (for MTBF / MTTR) and one lift under repair now."""
        now = timezone.now()
        rows = []
        for lift in lifts[:4]:
            for _ in range(self.rng.randrange(1, 4)):
                start = now - datetime.timedelta(days=self.rng.randrange(5, 170), hours=3)
                hours = self.rng.choice((2, 4, 6, 20, 30))
                rows.append(
                    Downtime(
                        asset=lift,
                        status="repairing",
                        started_at=start,
                        ended_at=start + datetime.timedelta(hours=hours),
                        reason=self.rng.choice(
                            ("门机故障", "平层不准", "安全回路故障", "更换钢丝绳")
                        ),
                    )
                )
        Downtime.objects.bulk_create(rows)
        fac.change_status(
            actor=self.admin,
            asset=lifts[-1],
            status="repairing",
            reason="主板故障，等待厂家配件",
            at=now - datetime.timedelta(hours=26),
        )

    # --- checklists, checkpoints, plans -----------------------------------------------
    def make_checklists(self) -> dict:
        templates = {}
        for name, kind, category, items in CHECKLISTS:
            template = ChecklistTemplate.objects.create(
                company=self.company,
                name=name,
                kind=kind,
                asset_category=self.categories[category] if category else None,
            )
            for position, row in enumerate(items, 1):
                label, type_, unit, low, high, choices, abnormal, photo, order = row
                item = ChecklistItem(
                    template=template,
                    position=position,
                    label=label,
                    type=type_,
                    unit=unit,
                    min_value=Decimal(low) if low else None,
                    max_value=Decimal(high) if high else None,
                    choices=choices,
                    abnormal_choices=abnormal,
                    required=photo if type_ == ItemType.PHOTO else type_ != ItemType.TEXT,
                    creates_order=order is not None,
                    order_category=self.order_categories.get(order) if order else None,
                )
                item.full_clean()
                item.save()
            templates[name] = template
        return templates

    def checkpoints(self, community, names):
        areas = {a.name: a for a in CommonArea.objects.filter(community=community)}
        return [
            Checkpoint.objects.create(
                company=self.company, community=community, name=name, common_area=areas.get(name)
            )
            for name in names
        ]

    def make_plans(self, community, assets) -> None:
        code = community.code
        tech = self.member("technician", code, "plumbing_electric")
        year_start = self.today - datetime.timedelta(days=60)

        def plan(name, template, stops, staff, start, end, **fields):
            made = create_plan(
                actor=self.admin,
                community=community,
                template=self.templates[template],
                name=name,
                window_start=datetime.time(*start),
                window_end=datetime.time(*end),
                starts_on=year_start,
                **staff,
                **fields,
            )
            PlanStop.objects.bulk_create(
                PlanStop(
                    plan=made,
                    position=n,
                    asset=stop if not isinstance(stop, Checkpoint) else None,
                    checkpoint=stop if isinstance(stop, Checkpoint) else None,
                )
                for n, stop in enumerate(stops, 1)
            )

        plumbers = {"assignee": tech, "trade": tech.trades.get(code="plumbing_electric")}
        plan("生活泵房日检", "水泵房巡检", assets["pumps"], plumbers, (9,), (11,))
        if assets["power"][0].common_area_id:
            plan(
                "配电房巡检",
                "配电房巡检",
                assets["power"],
                plumbers,
                (14,),
                (16,),
                recurrence="weekdays",
            )
        plan(
            "电梯周检",
            "电梯周检",
            assets["lifts"],
            plumbers,  # the community's engineers check; the vendor services (below)
            (9,),
            (12,),
            recurrence="weekly",
            days=[1, 4],
        )
        plan(
            "电梯月度保养",
            "电梯月度保养",
            assets["lifts"][:4],
            plumbers,
            (13,),
            (17,),
            recurrence="monthly",
            days=[self.last_workday(tech, community).day],
            requires_acceptance=True,
        )
        if community.kind != "residential":
            return
        points = self.checkpoints(community, PATROL_POINTS)
        plan("夜间安全巡逻", "夜间安全巡逻", points, self.team("guard", code), (22,), (23, 30))
        plan(
            "公共区域保洁",
            "公共区域保洁",
            self.checkpoints(community, CLEANING_AREAS),
            self.team("cleaner", code),
            (9,),
            (11,),
        )
        plan(
            "绿化养护",
            "绿化养护",
            self.checkpoints(community, GREEN_AREAS),
            self.team("gardener", code),
            (9, 30),
            (11, 30),
            recurrence="weekly",
            days=[2, 5],
        )

    # --- two weeks of rounds ------------------------------------------------------------
    def play_history(self) -> None:
        """Tasks whose window has closed: done (mostly on time), done late, or missed;
        maintenance waits for acceptance when finished in the last two days."""
        now = timezone.now()
        tasks = list(
            Task.objects.filter(company=self.company, closes_at__lt=now, assignee__isnull=False)
            .select_related("plan")
            .order_by("opens_at", "id")
        )
        stops = {}
        for stop in PlanStop.objects.filter(plan__company=self.company).order_by("position"):
            stops.setdefault(stop.plan_id, []).append(stop)
        items = {}
        for item in ChecklistItem.objects.filter(template__company=self.company):
            items.setdefault(item.template_id, []).append(item)
        visits, answers, changed = [], [], []
        for task in tasks:
            roll = self.rng.random()
            if roll >= DONE_SHARE + LATE_SHARE:
                task.status = Task.Status.MISSED
                changed.append(task)
                continue
            late = roll >= DONE_SHARE
            window = (task.closes_at - task.opens_at).total_seconds()
            at = task.opens_at + datetime.timedelta(seconds=self.rng.uniform(0, window * 0.4))
            if late:
                at = task.closes_at + datetime.timedelta(minutes=self.rng.randrange(5, 50))
            task.started_at = at
            for stop in stops.get(task.plan_id, []):
                visit = Visit(
                    task=task,
                    stop=stop,
                    scanned_at=at,
                    timing=Visit.Timing.LATE if at > task.closes_at else Visit.Timing.ON_TIME,
                )
                visits.append(visit)
                for item in items[task.plan.template_id]:
                    value, abnormal = self.answer(item)
                    task.abnormal_count += abnormal
                    answers.append((visit, Answer(item=item, value=value, is_abnormal=abnormal)))
                at += datetime.timedelta(minutes=self.rng.randrange(3, 9))
            task.completed_at = at
            recent = task.date >= self.today - datetime.timedelta(days=2)
            task.status = (
                Task.Status.AWAITING_ACCEPTANCE
                if task.plan.requires_acceptance and recent
                else Task.Status.DONE
            )
            changed.append(task)
        Visit.objects.bulk_create(visits, batch_size=1000)
        for visit, answer in answers:
            answer.visit = visit
        Answer.objects.bulk_create([a for _v, a in answers], batch_size=1000)
        Task.objects.bulk_update(
            changed, ["status", "started_at", "completed_at", "abnormal_count"], batch_size=500
        )

    def answer(self, item) -> tuple[object, bool]:
        """A plausible answer; rarely an abnormal one on items that do not open orders
        (orders from rounds come from the replay below, with their full timeline)."""
        odd = not item.creates_order and self.rng.random() < ABNORMAL_SHARE
        if item.type == ItemType.OK_ABNORMAL:
            return (not odd), odd
        if item.type == ItemType.NUMBER:
            low = item.min_value if item.min_value is not None else item.max_value / 2
            high = item.max_value if item.max_value is not None else low * 2
            value = low + (high - low) * Decimal(str(round(self.rng.uniform(0.3, 0.7), 3)))
            return str(value.quantize(Decimal("0.001"))), False
        if item.type == ItemType.METER:
            return str(
                Decimal(self.rng.randrange(120000, 180000)).quantize(Decimal("0.001"))
            ), False
        if item.type == ItemType.SINGLE:
            return (item.abnormal_choices[0] if odd else item.choices[0]), odd
        if item.type == ItemType.MULTIPLE:
            return ([item.abnormal_choices[0]] if odd else [item.choices[0]]), odd
        if item.type == ItemType.TEXT:
            return "", False
        return None, False

    def replay_abnormal_reading(self) -> None:
        """Yesterday's pump check in 翠湖花园 found the outlet pressure low: the answer
        opened a repair order through the service engine, which was then worked and
        completed in the afternoon (awaiting the rating)."""
        yesterday = self.today - datetime.timedelta(days=1)
        task = (
            Task.objects.filter(
                plan__name="生活泵房日检",
                community=self.communities["cuihu"],
                date=yesterday,
                assignee__isnull=False,
            )
            .select_related("plan", "assignee__user")
            .first()
        )
        if task is None:
            return
        Task.objects.filter(pk=task.pk).update(
            status=Task.Status.PENDING, started_at=None, completed_at=None, abnormal_count=0
        )
        Visit.objects.filter(task=task).delete()
        me = Actor(task.assignee.user)
        desk = Actor(self.member("dispatcher", "cuihu").user)
        clock = {"now": task.opens_at + datetime.timedelta(minutes=25)}

        def tick(minutes):
            clock["now"] += datetime.timedelta(minutes=minutes)
            return clock["now"]

        with (
            mock.patch.object(timezone, "now", lambda: clock["now"]),
            remembered_audiences(),
            delivered_together(),
        ):
            task = Task.objects.get(pk=task.pk)
            for n, stop in enumerate(task.plan.stops.order_by("position")):
                visit = rounds.scan(actor=me, token=stop.asset.qr_token, at=tick(6))
                values = {}
                for item in task.plan.template.items.all():
                    value, _odd = self.answer(item)
                    values[item.pk] = value
                    if n == 1 and item.label == "出水压力":
                        values[item.pk] = "0.18"
                rounds.record_answers(actor=me, visit=visit, answers=values)
            task = rounds.finish(actor=me, task=task, at=tick(3))
            order = (
                Answer.objects.filter(visit__task=task, work_order__isnull=False).get().work_order
            )
            tick(10)
            if order.status == "submitted":
                order = wo.accept_order(actor=desk, order=order)
            if order.status == "accepted":
                tick(5)
                order = wo.dispatch_order(actor=desk, order=order, assignee=task.assignee)
            worker = Actor(order.assignee.user)  # auto-dispatch may have chosen another
            tick(8)
            order = wo.take_order(actor=worker, order=order)
            tick(20)
            order = wo.arrive(actor=worker, order=order)
            tick(95)
            wo.complete_order(
                actor=worker, order=order, resolution="更换2号泵进水阀密封圈，压力恢复至0.45MPa"
            )
