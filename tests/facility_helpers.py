"""A pump-room inspection round in community X, shared by the facilities tests:
pump SB-0001 with a pressure item (0.3–0.6 MPa, out of range opens a water-leak order)
and a noise item; the technician is rostered on ``day`` and has the task 09:00–11:00."""

import datetime
from decimal import Decimal

from wuye.facilities import services as fac
from wuye.facilities.models import (
    AssetCategory,
    ChecklistItem,
    ChecklistTemplate,
    PlanStop,
    RoundKind,
    Task,
)
from wuye.facilities.plans import create_plan, generate_tasks
from wuye.staff.models import RosterEntry, Shift
from wuye.workorders.models import Category

CST = datetime.timezone(datetime.timedelta(hours=8))


def make_pump_round(cast, day: datetime.date, *, community=None, assignee="technician") -> dict:
    community = community or cast.community_x
    manager = cast.actor("company_admin")
    pump = fac.create_asset(
        actor=manager,
        community=community,
        category=AssetCategory.objects.get(company=cast.company, code="water_pump"),
        name="1号生活水泵",
        common_area=community.common_areas.first(),
    )
    template, _ = ChecklistTemplate.objects.get_or_create(
        company=cast.company, name="水泵房巡检", defaults={"kind": RoundKind.INSPECTION}
    )
    pressure, _ = ChecklistItem.objects.get_or_create(
        template=template,
        position=1,
        defaults=dict(
            label="出水压力",
            type="number",
            unit="MPa",
            min_value=Decimal("0.3"),
            max_value=Decimal("0.6"),
            creates_order=True,
            order_category=Category.objects.get(company=cast.company, code="water_leak"),
        ),
    )
    noise, _ = ChecklistItem.objects.get_or_create(
        template=template,
        position=2,
        defaults=dict(label="运行声音", type="ok_abnormal"),
    )
    plan = create_plan(
        actor=manager,
        community=community,
        template=template,
        name=f"水泵房日检 {community.name}",
        assignee=cast.staff[assignee],
        window_start=datetime.time(9),
        window_end=datetime.time(11),
        starts_on=day,
    )
    PlanStop.objects.create(plan=plan, position=1, asset=pump)
    RosterEntry.objects.get_or_create(
        staff=cast.staff[assignee],
        community=community,
        date=day,
        defaults={"shift": Shift.objects.get(company=cast.company, name="常白班")},
    )
    generate_tasks(start=day, days=1)
    task = Task.objects.get(plan=plan, date=day)
    return {
        "pump": pump,
        "pressure": pressure,
        "noise": noise,
        "template": template,
        "plan": plan,
        "task": task,
    }
