"""The resident H5 and field-staff mobile pages for work orders."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import make_staff
from wuye.staff.models import Trade
from wuye.workorders import services as wo
from wuye.workorders.models import (
    Category,
    Channel,
    EventType,
    Feedback,
    Material,
    Status,
    WorkOrder,
    WorkOrderEvent,
)


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read messages in English; Chinese is covered by the catalogue check."""
    settings.LANGUAGE_CODE = "en"


NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code, company=None):
    return Category.objects.get(company=company or cast.company, code=code)


def submit(cast, code="windows_glass", who="resident_a", house=None):
    return wo.submit_order(
        actor=cast.actor(who),
        category=category(cast, code),
        house=house or (cast.house_a if who == "resident_a" else cast.house_b),
        channel=Channel.RESIDENT_H5,
        description="窗户玻璃裂了",
    )


def dispatched(cast, code="windows_glass", to="technician"):
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=submit(cast, code))
    return wo.dispatch_order(actor=desk, order=order, assignee=cast.staff[to])


def in_progress(cast, code="windows_glass"):
    me = cast.actor("technician")
    order = wo.take_order(actor=me, order=dispatched(cast, code))
    return wo.arrive(actor=me, order=order)


def completed(cast, code="windows_glass"):
    return wo.complete_order(
        actor=cast.actor("technician"), order=in_progress(cast, code), resolution="换了玻璃"
    )


def pool_order(cast, code="drain_blocked"):
    """An accepted grab-mode order of community X (管道疏通 is grab by default)."""
    return wo.accept_order(actor=cast.actor("dispatcher"), order=submit(cast, code))


def give_trade(member, code="pipes"):
    member.trades.add(Trade.objects.get(company=member.company, code=code))


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def form_data(cast, cat, **overrides):
    data = {
        "category": cat.pk,
        "place": f"h{cast.house_a.pk}",
        "description": "厨房水龙头漏水",
        "preferred_time": "明天上午",
        "may_enter": "on",
        "contact_name": "张伟",
        "contact_mobile": "13800000001",
    }
    data.update(overrides)
    return data


# --- reporting in three taps ----------------------------------------------------------
def test_three_taps_type_category_details(cast, frozen):
    client = cast.client("resident_a")
    step1 = client.get(reverse("orders_resident:report"))
    assert step1.status_code == 200
    step2_url = reverse("orders_resident:report_category", args=["repair"])
    assert step2_url in step1.content.decode()

    step2 = client.get(step2_url)
    page = step2.content.decode()
    taps = category(cast, "taps_toilets")
    assert "水电" in page and "水龙头/马桶" in page
    assert "邻里噪音" not in page  # a complaint category, not a repair one
    step3_url = reverse("orders_resident:report_form", args=["repair"])
    assert f"{step3_url}?category={taps.pk}" in page
    # a parent with children is a heading, not a choice
    assert f'?category={category(cast, "water_electric").pk}"' not in page

    step3 = client.get(step3_url, {"category": taps.pk})
    assert step3.status_code == 200
    form = step3.context["form"]
    assert form["place"].value() == f"h{cast.house_a.pk}"  # the only house by default
    assert form["contact_mobile"].value() == "13800000001"
    assert "翠湖花园大堂" in step3.content.decode()  # common areas of the community

    response = client.post(step3_url, form_data(cast, taps))
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders_resident:submitted", args=[order.pk])
    assert (order.category, order.house, order.channel) == (taps, cast.house_a, "resident_h5")
    assert order.may_enter and order.preferred_time == "明天上午"
    done = client.get(response.url)
    assert order.number in done.content.decode()


def test_report_for_a_common_area(cast, frozen):
    area = cast.community_x.common_areas.get()
    lighting = category(cast, "lighting")
    response = cast.client("resident_a").post(
        reverse("orders_resident:report_form", args=["repair"]),
        form_data(cast, lighting, place=f"a{area.pk}", may_enter=""),
    )
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.common_area == area and order.house is None and not order.may_enter


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("place", lambda c: f"h{c.house_b.pk}"),  # another resident's house
        ("place", lambda c: f"h{c.other_house.pk}"),
        ("place", lambda c: f"a{c.community_y.common_areas.get().pk}"),  # not their community
        ("place", lambda c: "x1"),
        ("category", lambda c: category(c, "noise_neighbour").pk),  # a complaint category
        ("category", lambda c: category(c, "taps_toilets", c.other_company).pk),
        ("category", lambda c: category(c, "water_electric").pk),  # has sub-categories
        ("category", lambda c: "abc"),
        ("description", lambda c: "   "),
        ("contact_mobile", lambda c: "12345"),
    ],
)
def test_report_bad_input_is_a_form_error_and_creates_nothing(cast, frozen, field, bad):
    taps = category(cast, "taps_toilets")
    response = cast.client("resident_a").post(
        reverse("orders_resident:report_form", args=["repair"]),
        form_data(cast, taps, **{field: bad(cast)}),
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert WorkOrder.objects.count() == 0 and WorkOrderEvent.objects.count() == 0


def test_report_steps_refuse_unknown_types_and_categories(cast):
    client = cast.client("resident_a")
    assert client.get(reverse("orders_resident:report_category", args=["bogus"])).status_code == 404
    form_url = reverse("orders_resident:report_form", args=["repair"])
    other = category(cast, "taps_toilets", cast.other_company)
    response = client.get(form_url, {"category": other.pk})
    assert response.status_code == 302
    assert response.url == reverse("orders_resident:report_category", args=["repair"])


def test_report_categories_are_the_residents_company_only(cast):
    page = cast.client("other_resident").get(
        reverse("orders_resident:report_category", args=["repair"])
    )
    ours = category(cast, "taps_toilets").pk
    theirs = category(cast, "taps_toilets", cast.other_company).pk
    assert f"category={theirs}" in page.content.decode()
    assert f'category={ours}"' not in page.content.decode()


def test_staff_are_sent_home_and_strangers_see_the_unlinked_page(cast):
    response = cast.client("dispatcher").get(reverse("orders_resident:report"))
    assert response.status_code == 302
    response = cast.client("nobody").get(reverse("orders_resident:report"))
    assert response.templates[0].name == "web/unlinked.html"


# --- following an order ---------------------------------------------------------------
def test_my_orders_lists_mine_newest_first_and_nothing_else(
    cast, frozen, django_assert_max_num_queries
):
    first = submit(cast, "windows_glass")
    second = submit(cast, "taps_toilets")
    theirs = submit(cast, "windows_glass", who="resident_b")
    client = cast.client("resident_a")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orders_resident:my_orders"))
    orders = response.context["orders"]
    assert orders == [second, first]
    assert theirs.number not in response.content.decode()
    assert "status-submitted" in response.content.decode()


def test_dispatcher_sees_no_orders_on_the_resident_pages(cast, frozen):
    order = submit(cast)
    client = cast.client("dispatcher")
    assert client.get(reverse("orders_resident:my_orders")).status_code == 302
    detail = reverse("orders_resident:order_detail", args=[order.pk])
    assert client.get(detail).status_code == 404


@pytest.mark.parametrize("who", ["resident_b", "other_resident", "technician", "nobody"])
def test_someone_elses_order_is_404(cast, frozen, who):
    order = submit(cast)
    client = cast.client(who)
    for name in ("order_detail", "submitted", "rate", "reopen"):
        assert client.get(reverse(f"orders_resident:{name}", args=[order.pk])).status_code == 404
    for name in ("urge", "cancel"):
        url = reverse(f"orders_resident:{name}", args=[order.pk])
        assert client.post(url).status_code == 404
    order.refresh_from_db()
    assert order.status == Status.SUBMITTED and order.urge_count == 0


def test_timeline_hides_staff_only_events_and_names_the_assignee(cast, frozen):
    order = dispatched(cast)
    order = wo.return_order(actor=cast.actor("technician"), order=order, reason="内部原因XYZ")
    order = wo.dispatch_order(
        actor=cast.actor("dispatcher"), order=order, assignee=cast.staff["technician"]
    )
    response = cast.client("resident_a").get(
        reverse("orders_resident:order_detail", args=[order.pk])
    )
    page = response.content.decode()
    assert "内部原因XYZ" not in page
    types = [event.type for event in response.context["events"]]
    assert EventType.RETURNED not in types
    assert types == ["submitted", "accepted", "dispatched", "dispatched"]
    assert "technician" in page  # the assignee's name once dispatched


def test_assignee_name_is_not_shown_before_dispatch(cast, frozen):
    order = submit(cast)
    response = cast.client("resident_a").get(
        reverse("orders_resident:order_detail", args=[order.pk])
    )
    assert not response.context["order"].assignee
    assert "Handled by" not in response.content.decode()


def test_urge_then_the_limit_message(cast, frozen):
    order = submit(cast)
    client = cast.client("resident_a")
    url = reverse("orders_resident:urge", args=[order.pk])
    for _ in range(wo.URGES_PER_HOUR):
        response = client.post(url, {"note": "快点"}, follow=True)
        assert "We have reminded the staff handling your request." in messages_of(response)
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["You urged this order 3 times in the last hour; we are on it."]
    order.refresh_from_db()
    assert order.urge_count == wo.URGES_PER_HOUR


def test_urge_a_closed_order_is_a_message(cast, frozen):
    order = submit(cast)
    wo.cancel_order(actor=cast.actor("resident_a"), order=order)
    response = cast.client("resident_a").post(
        reverse("orders_resident:urge", args=[order.pk]), follow=True
    )
    assert messages_of(response) == ["Only open orders can be urged."]


def test_cancel_before_dispatch_only(cast, frozen):
    client = cast.client("resident_a")
    order = submit(cast)
    detail = client.get(reverse("orders_resident:order_detail", args=[order.pk]))
    assert detail.context["can_cancel"]
    response = client.post(
        reverse("orders_resident:cancel", args=[order.pk]), {"reason": "自己修好了"}, follow=True
    )
    assert "Your request was cancelled." in messages_of(response)
    order.refresh_from_db()
    assert order.status == Status.CANCELLED

    late = dispatched(cast)
    detail = client.get(reverse("orders_resident:order_detail", args=[late.pk]))
    assert not detail.context["can_cancel"]
    response = client.post(reverse("orders_resident:cancel", args=[late.pk]), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["This order is Dispatched; it cannot be cancelled."]
    late.refresh_from_db()
    assert late.status == Status.DISPATCHED


def test_rate_with_stars_dimensions_and_reasons(cast, frozen):
    order = completed(cast)
    client = cast.client("resident_a")
    detail = client.get(reverse("orders_resident:order_detail", args=[order.pk]))
    assert detail.context["can_rate"]
    url = reverse("orders_resident:rate", args=[order.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "overall": "5",
            "professionalism": "5",
            "empathy": "4",
            "reasons": ["on_time", "clean"],
            "comment": "很满意",
        },
        follow=True,
    )
    assert "Thank you for your rating." in messages_of(response)
    feedback = Feedback.objects.get(order=order)
    assert (feedback.overall, feedback.professionalism, feedback.empathy) == (5, 5, 4)
    assert feedback.responsibility is None and feedback.reasons == ["on_time", "clean"]
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert "Came on time" in response.content.decode()
    # rated once: the form is gone
    again = client.get(url, follow=True)
    assert messages_of(again) == ["This request cannot be rated now."]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"overall": "6"},
        {"overall": "0"},
        {"overall": "5", "empathy": "9"},
        {"overall": "5", "reasons": ["bogus"]},
        {"overall": "5", "comment": "x" * 1001},
    ],
)
def test_rate_bad_input_is_a_form_error(cast, frozen, data):
    order = completed(cast)
    response = cast.client("resident_a").post(
        reverse("orders_resident:rate", args=[order.pk]), data
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not Feedback.objects.exists()
    order.refresh_from_db()
    assert order.status == Status.COMPLETED


def test_rate_before_completion_is_a_message(cast, frozen):
    order = submit(cast)
    response = cast.client("resident_a").post(
        reverse("orders_resident:rate", args=[order.pk]), {"overall": "1"}, follow=True
    )
    assert messages_of(response) == ["This order is Submitted; it cannot be rated."]
    assert not Feedback.objects.exists()


def test_reopen_within_seven_days_with_a_reason(cast, frozen):
    order = completed(cast)
    client = cast.client("resident_a")
    url = reverse("orders_resident:reopen", args=[order.pk])
    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    order.refresh_from_db()
    assert order.status == Status.COMPLETED

    response = client.post(url, {"reason": "还是漏水"}, follow=True)
    assert "Your request was reopened; we will come back to it." in messages_of(response)
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED and order.priority == 1


def test_reopen_after_seven_days_is_refused(cast, frozen):
    order = completed(cast)
    frozen.move_to(NOW + datetime.timedelta(days=8), tick=False)
    client = cast.client("resident_a")
    url = reverse("orders_resident:reopen", args=[order.pk])
    detail = client.get(reverse("orders_resident:order_detail", args=[order.pk]))
    assert not detail.context["can_reopen"]
    assert messages_of(client.get(url, follow=True)) == ["This request cannot be reopened."]
    response = client.post(url, {"reason": "还是漏水"}, follow=True)
    assert messages_of(response) == ["This order was completed too long ago to reopen."]
    order.refresh_from_db()
    assert order.status == Status.COMPLETED


# --- field staff ------------------------------------------------------------------------
def test_tasks_by_urgency_then_age_and_only_mine(cast, frozen, django_assert_max_num_queries):
    old = dispatched(cast, "windows_glass")
    frozen.move_to(NOW + datetime.timedelta(minutes=5), tick=False)
    urgent = dispatched(cast, "water_leak")  # urgent by default
    newer = dispatched(cast, "windows_glass")
    others = dispatched(cast, "windows_glass", to="guard")
    client = cast.client("technician")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("orders_field:tasks"))
    assert response.context["orders"] == [urgent, old, newer]
    assert others.number not in response.content.decode()


def test_technician_y_sees_nothing_of_x(cast, frozen):
    mine = dispatched(cast)
    pooled = pool_order(cast)
    give_trade(cast.staff["technician_y"])
    client = cast.client("technician_y")
    assert client.get(reverse("orders_field:tasks")).context["orders"] == []
    assert client.get(reverse("orders_field:pool")).context["orders"] == []
    for order in (mine, pooled):
        url = reverse("orders_field:order_detail", args=[order.pk])
        assert client.get(url).status_code == 404
    assert client.post(reverse("orders_field:grab", args=[pooled.pk])).status_code == 404
    assert client.post(reverse("orders_field:take", args=[mine.pk])).status_code == 404
    pooled.refresh_from_db()
    mine.refresh_from_db()
    assert pooled.assignee is None and mine.status == Status.DISPATCHED


def test_pool_is_for_my_trades(cast, frozen):
    order = pool_order(cast)  # 管道疏通 is for the pipes trade
    client = cast.client("technician")
    give_trade(cast.staff["technician"], "doors_windows")
    assert client.get(reverse("orders_field:pool")).context["orders"] == []
    give_trade(cast.staff["technician"], "pipes")
    response = client.get(reverse("orders_field:pool"))
    assert response.context["orders"] == [order]
    detail = client.get(reverse("orders_field:order_detail", args=[order.pk]))
    assert detail.context["actions"] == ["grab"]


def test_residents_and_office_staff_cannot_use_the_field_pages(cast, frozen):
    for who in ("resident_a", "dispatcher", "finance"):
        assert cast.client(who).get(reverse("orders_field:tasks")).status_code == 403


def test_take_arrive_pause_resume_complete(cast, frozen):
    order = dispatched(cast)
    client = cast.client("technician")
    detail = reverse("orders_field:order_detail", args=[order.pk])
    assert client.get(detail).context["actions"] == ["take", "transfer", "return"]

    response = client.post(reverse("orders_field:take", args=[order.pk]), follow=True)
    assert "You took this order." in messages_of(response)
    assert response.context["actions"] == ["arrive", "pause", "transfer", "return"]
    client.post(reverse("orders_field:arrive", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS

    response = client.post(reverse("orders_field:pause", args=[order.pk]), {"pause-reason": ""})
    assert response.status_code == 400 and response.context["open_form"] == "pause"
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS
    client.post(reverse("orders_field:pause", args=[order.pk]), {"pause-reason": "等配件"})
    order.refresh_from_db()
    assert (order.status, order.pause_reason) == (Status.PAUSED, "等配件")
    assert client.get(detail).context["actions"] == ["resume"]
    client.post(reverse("orders_field:resume", args=[order.pk]))

    complete = reverse("orders_field:complete", args=[order.pk])
    page = client.get(complete)
    assert page.status_code == 200
    assert page.context["materials"] is not None  # 窗户/玻璃 is a paid category
    response = client.post(
        complete,
        {
            "resolution": "更换玻璃",
            "labour_amount": "50",
            "materials-TOTAL_FORMS": "3",
            "materials-INITIAL_FORMS": "0",
            "materials-0-name": "玻璃",
            "materials-0-quantity": "1.5",
            "materials-0-unit_price": "80",
        },
    )
    assert response.status_code == 302 and response.url == reverse("orders_field:tasks")
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.resolution == "更换玻璃"
    assert [(m.name, str(m.amount)) for m in order.materials.all()] == [("玻璃", "120.00")]
    assert str(order.total_amount) == "170.00"


def test_free_category_completes_without_materials(cast, frozen):
    order = in_progress(cast, "locks_access")  # free
    client = cast.client("technician")
    url = reverse("orders_field:complete", args=[order.pk])
    page = client.get(url)
    assert page.context["materials"] is None and "labour_amount" not in page.context["form"].fields
    response = client.post(
        url,
        {"resolution": "调整门锁", "materials-TOTAL_FORMS": "1", "materials-0-name": "锁芯"},
    )
    assert response.status_code == 302
    assert not Material.objects.exists()


@pytest.mark.parametrize(
    "row",
    [
        {"materials-0-name": "玻璃"},  # started but incomplete
        {"materials-0-quantity": "1", "materials-0-unit_price": "80"},  # no item
        {"materials-0-name": "玻璃", "materials-0-quantity": "0", "materials-0-unit_price": "8"},
        {"materials-0-name": "玻璃", "materials-0-quantity": "1", "materials-0-unit_price": "-1"},
        {"materials-0-name": "玻璃", "materials-0-quantity": "x", "materials-0-unit_price": "1"},
        {"labour_amount": "-5"},
        {"resolution": ""},
        {"materials-TOTAL_FORMS": "25"},
    ],
)
def test_complete_bad_input_is_a_form_error(cast, frozen, row):
    order = in_progress(cast)
    data = {"resolution": "更换玻璃", "materials-TOTAL_FORMS": "3", "materials-INITIAL_FORMS": "0"}
    data.update(row)
    response = cast.client("technician").post(
        reverse("orders_field:complete", args=[order.pk]), data
    )
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS and not Material.objects.exists()


def test_complete_too_early_is_a_message(cast, frozen):
    order = dispatched(cast)
    response = cast.client("technician").get(
        reverse("orders_field:complete", args=[order.pk]), follow=True
    )
    assert messages_of(response) == ["This order cannot be completed now."]


def test_grab_and_the_losing_race_message(cast, frozen):
    order = pool_order(cast)
    rival = make_staff(cast.company, "technician2", ["technician"], [cast.community_x])
    give_trade(rival)
    give_trade(cast.staff["technician"])
    mine, theirs = cast.client("technician"), Client()
    theirs.force_login(rival.user)
    assert mine.get(reverse("orders_field:order_detail", args=[order.pk])).status_code == 200

    response = theirs.post(reverse("orders_field:grab", args=[order.pk]), follow=True)
    assert "The order is yours." in messages_of(response)
    response = mine.post(reverse("orders_field:grab", args=[order.pk]), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["Someone else took this order first."]
    order.refresh_from_db()
    assert order.assignee == rival and order.status == Status.TAKEN


def test_transfer_to_a_colleague_of_the_community_only(cast, frozen):
    order = dispatched(cast)
    client = cast.client("technician")
    detail = client.get(reverse("orders_field:order_detail", args=[order.pk]))
    colleagues = list(detail.context["transfer_form"].fields["assignee"].queryset)
    assert cast.staff["guard"] in colleagues
    assert cast.staff["technician"] not in colleagues
    assert cast.staff["technician_y"] not in colleagues
    assert cast.staff["dispatcher"] not in colleagues  # does no field work

    url = reverse("orders_field:transfer", args=[order.pk])
    response = client.post(
        url, {"transfer-assignee": cast.staff["technician_y"].pk, "transfer-reason": "不在"}
    )
    assert response.status_code == 400
    assert "assignee" in response.context["transfer_form"].errors
    response = client.post(url, {"transfer-assignee": cast.staff["guard"].pk})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.assignee == cast.staff["technician"]

    response = client.post(
        url, {"transfer-assignee": cast.staff["guard"].pk, "transfer-reason": "他更近"}
    )
    assert response.status_code == 302 and response.url == reverse("orders_field:tasks")
    order.refresh_from_db()
    assert order.assignee == cast.staff["guard"]
    assert client.get(reverse("orders_field:order_detail", args=[order.pk])).status_code == 404


def test_return_needs_a_reason_and_leaves_my_tasks(cast, frozen):
    order = dispatched(cast)
    client = cast.client("technician")
    url = reverse("orders_field:return", args=[order.pk])
    response = client.post(url, {"return-reason": ""})
    assert response.status_code == 400 and response.context["open_form"] == "return"
    response = client.post(url, {"return-reason": "不是我的专业"}, follow=True)
    assert "The order was returned." in messages_of(response)
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED and order.assignee is None
    assert response.context["orders"] == []


def test_a_stale_button_is_a_message_not_an_error(cast, frozen):
    order = in_progress(cast)
    response = cast.client("technician").post(
        reverse("orders_field:take", args=[order.pk]), follow=True
    )
    assert response.status_code == 200
    assert messages_of(response) == ["This order is In progress; it cannot be taken."]


def test_staff_timeline_shows_staff_only_events(cast, frozen):
    order = dispatched(cast)
    order = wo.return_order(actor=cast.actor("technician"), order=order, reason="内部原因XYZ")
    order = wo.dispatch_order(
        actor=cast.actor("dispatcher"), order=order, assignee=cast.staff["technician"]
    )
    response = cast.client("technician").get(reverse("orders_field:order_detail", args=[order.pk]))
    assert "内部原因XYZ" in response.content.decode()


def test_complete_without_the_materials_management_form_is_a_form_error(cast, frozen):
    order = in_progress(cast)
    response = cast.client("technician").post(
        reverse("orders_field:complete", args=[order.pk]), {"resolution": "更换玻璃"}
    )
    assert response.status_code == 400
    assert response.context["materials"].non_form_errors()
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS


def test_a_resident_files_a_complaint_with_party_and_demand(cast, frozen):
    from wuye.workorders.models import Complaint

    noise = category(cast, "noise_neighbour")
    url = reverse("orders_resident:report_form", args=["complaint"])
    client = cast.client("resident_a")
    page = client.get(url, {"category": noise.pk}).content.decode()
    assert 'name="demand"' in page and 'value="staff"' not in page
    repair_page = client.get(
        reverse("orders_resident:report_form", args=["repair"]),
        {"category": category(cast, "taps_toilets").pk},
    ).content.decode()
    assert 'name="demand"' not in repair_page

    bad = client.post(url, form_data(cast, noise, party_kind="staff"))
    assert bad.status_code == 200 and "party_kind" in bad.context["form"].errors
    assert not WorkOrder.objects.exists()

    response = client.post(
        url,
        form_data(
            cast, noise, party_kind="neighbour", party_name="0201", demand="晚上十点后请安静"
        ),
    )
    assert response.status_code == 302
    details = Complaint.objects.get()
    assert (details.party_kind, details.party_name, details.demand) == (
        "neighbour",
        "0201",
        "晚上十点后请安静",
    )
