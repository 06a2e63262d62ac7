"""Work-order journeys shared by the test modules: orders driven through the real
services to the state a test starts from."""

from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel


def completed_repair(cast, code: str = "windows_glass"):
    """Resident A's repair, accepted and dispatched by the desk, done by the technician."""
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code=code),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="窗户关不严",
    )
    desk, tech = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.arrive(actor=tech, order=wo.take_order(actor=tech, order=order))
    return wo.complete_order(actor=tech, order=order, resolution="调整合页")
