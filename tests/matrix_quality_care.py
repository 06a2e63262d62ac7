"""Access-matrix rows for quality: care (loader: end of test_access_matrix.py)."""


def _snapshot(cast):
    """House A of community X with a breached open request and a complaint (score 30),
    snapshotted today (once per cell)."""
    from wuye.quality import care
    from wuye.quality.models import CareSnapshot

    found = CareSnapshot.objects.filter(house=cast.house_a).first()
    if found is not None:
        return found
    _signal(cast)
    care.snapshot_community(cast.community_x)
    return CareSnapshot.objects.get(house=cast.house_a)


def _signal(cast):
    """A complaint from house A past its SLA, recorded by the desk (once per cell)."""
    from wuye.workorders import services as wo
    from wuye.workorders.models import Category, Channel, WorkOrder

    if WorkOrder.objects.filter(house=cast.house_a, request_type="complaint").exists():
        return
    order = wo.submit_order(
        actor=cast.actor("company_admin"),
        category=Category.objects.get(company=cast.company, code="noise_neighbour"),
        house=cast.house_a,
        channel=Channel.PHONE,
        description="矩阵投诉",
        contact_name="张伟",
        contact_mobile="13800000001",
    )
    WorkOrder.objects.filter(pk=order.pk).update(sla_state="breached")


def rows(m):
    view_x = m.staff_may("quality.view")
    manage_x = m.staff_may("quality.manage")
    # The visit is a service request: the engine also asks for workorders.create.
    visit_x = lambda name: manage_x(name) and m.staff_may("workorders.create")(name)  # noqa: E731
    address = lambda c: _snapshot(c).house.address  # noqa: E731

    pages = {
        "care:ranked": m.page("care:ranked", view_x, target=address),
        "care:export": m.page("care:export", m.staff_has("quality.view")),
        "care:recompute": m.page(
            "care:recompute",
            manage_x,
            data=lambda c, _n: _signal(c) or {"community": c.community_x.id},
        ),
        "care:house": m.page("care:house", view_x, args=lambda c: [_snapshot(c).house_id]),
        "care:visit": m.page(
            "care:visit",
            visit_x,
            args=lambda c: [c.house_a.id],
            data=lambda c, _n: {"note": "矩阵"},
        ),
    }
    api = {
        "wuye_quality_api_care_care_list": m.op(
            "GET",
            lambda c: "/api/v1/quality/care?threshold=1",
            view_x,
            target=lambda c: _snapshot(c).id,
        ),
        "wuye_quality_api_care_care_house": m.op(
            "GET", lambda c: f"/api/v1/quality/care/houses/{_snapshot(c).house_id}", view_x
        ),
        "wuye_quality_api_care_care_visit": m.op(
            "POST",
            lambda c: f"/api/v1/quality/care/houses/{c.house_a.id}/visit",
            visit_x,
            data=lambda c, _n: {"note": "矩阵"},
        ),
    }
    return pages, api
