"""Console pages of routine rounds (issue 4, parts 3, 4, 5 and 8): checklists and their
items, checkpoints and their labels, plans with stops, the preview and the staffing
warning, the task board and a task's record with acceptance."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.facility_helpers import make_pump_round
from wuye.facilities import checklists, plans, rounds
from wuye.facilities.models import (
    AssetCategory,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    Plan,
    PlanStop,
    RoundKind,
    Task,
)
from wuye.facilities.services import create_asset
from wuye.staff.models import Trade
from wuye.staff.policy import DEFAULT_ROLES
from wuye.workorders.models import Category

CST = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2026, 11, 30)  # a Monday
STAFF_OF_X = set(DEFAULT_ROLES)  # the cast has one member of each default role in X


def at(hour, minute=0, day=DAY):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=CST)


def url(name, *args):
    return reverse(f"rounds:{name}", args=args)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(at(9, 30), tick=False)
    return time_machine


@pytest.fixture
def pump_round(cast, frozen):
    return make_pump_round(cast, DAY)


def body(response) -> str:
    return response.content.decode()


def plan_post(cast, template, **overrides):
    data = {
        "community": cast.community_x.pk,
        "name": "夜班巡逻",
        "template": template.pk,
        "recurrence": "daily",
        "window_start": "20:00",
        "window_end": "22:00",
        "assignee": cast.staff["guard"].pk,
        "starts_on": DAY.isoformat(),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def patrol(cast):
    return ChecklistTemplate.objects.create(
        company=cast.company, name="安全巡逻", kind=RoundKind.PATROL
    )


# --- scoping ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "sees"),
    [("project_manager", True), ("company_admin", True), ("manager_y", False)],
)
def test_plan_list_and_board_are_scoped_to_communities(cast, pump_round, who, sees):
    client = cast.client(who)
    plan = pump_round["plan"]
    plans_page = client.get(url("plan_list"))
    board = client.get(url("task_board"))
    assert plans_page.status_code == board.status_code == 200
    assert (plan.name in body(plans_page)) is sees
    assert (url("task_detail", pump_round["task"].pk) in body(board)) is sees


def test_other_company_gets_404_on_every_object(cast, pump_round):
    client = cast.client("other_admin")
    plan, task = pump_round["plan"], pump_round["task"]
    assert pump_round["template"].name not in body(client.get(url("template_list")))
    for page in (
        url("plan_detail", plan.pk),
        url("plan_edit", plan.pk),
        url("plan_stops", plan.pk),
        url("task_detail", task.pk),
        url("template_detail", pump_round["template"].pk),
        url("item_edit", pump_round["pressure"].pk),
    ):
        assert client.get(page).status_code == 404, page
    assert client.post(url("task_accept", task.pk)).status_code == 404


def test_manager_of_y_sees_x_tasks_nowhere(cast, pump_round):
    client = cast.client("manager_y")
    assert client.get(url("task_detail", pump_round["task"].pk)).status_code == 404
    assert client.get(url("plan_detail", pump_round["plan"].pk)).status_code == 404


@pytest.mark.parametrize("who", ["technician", "guard", "finance", "resident_a", "nobody"])
def test_console_is_forbidden_without_facilities_view(cast, pump_round, who):
    client = cast.client(who)
    for page in (url("task_board"), url("plan_list"), url("template_list")):
        assert client.get(page).status_code == 403
    assert client.get(url("task_detail", pump_round["task"].pk)).status_code == 403


def test_viewers_cannot_change_anything(cast, pump_round):
    client = cast.client("dispatcher")  # facilities.view, not manage
    plan = pump_round["plan"]
    assert client.get(url("plan_detail", plan.pk)).status_code == 200
    assert "Edit stops" not in body(client.get(url("plan_detail", plan.pk)))
    assert client.post(url("plan_toggle", plan.pk)).status_code == 403
    assert client.get(url("template_create")).status_code == 403
    plan.refresh_from_db()
    assert plan.is_active


# --- checklists ------------------------------------------------------------------
def test_create_a_checklist_then_its_items(cast):
    client = cast.client("project_manager")
    response = client.post(url("template_create"), {"name": "电梯月保", "kind": "maintenance"})
    template = ChecklistTemplate.objects.get(name="电梯月保")
    assert response.url == url("template_detail", template.pk)
    leak = Category.objects.get(company=cast.company, code="water_leak")
    client.post(
        url("item_create", template.pk),
        {
            "label": "曳引机温度",
            "type": "number",
            "unit": "℃",
            "min_value": "0",
            "max_value": "70",
            "required": "on",
            "creates_order": "on",
            "order_category": leak.pk,
        },
    )
    client.post(
        url("item_create", template.pk),
        {
            "label": "门锁",
            "type": "single",
            "choices": "正常\n松动\n损坏",
            "abnormal_choices": "松动\n损坏",
            "required": "on",
        },
    )
    first, second = template.items.all()
    assert (first.position, first.max_value, first.order_category) == (1, Decimal("70"), leak)
    assert (second.position, second.choices, second.abnormal_choices) == (
        2,
        ["正常", "松动", "损坏"],
        ["松动", "损坏"],
    )
    page = body(client.get(url("template_detail", template.pk)))
    assert "曳引机温度" in page and "0 – 70" in page

    client.post(url("item_move", second.pk, "up"))
    assert list(template.items.values_list("label", flat=True)) == ["门锁", "曳引机温度"]
    client.post(url("item_remove", first.pk))
    assert list(template.items.values_list("label", flat=True)) == ["门锁"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"type": "number", "min_value": "0.6", "max_value": "0.3", "unit": "MPa"},
            "max_value",
            "The highest value cannot be below the lowest.",
        ),
        ({"type": "number", "unit": "MPa"}, "min_value", "Give the acceptable range."),
        ({"type": "single", "choices": "正常"}, "choices", "Give at least two choices."),
        (
            {"type": "single", "choices": "正常\n异响", "abnormal_choices": "漏水"},
            "abnormal_choices",
            "Abnormal answers must be among the choices.",
        ),
        (
            {"type": "ok_abnormal", "creates_order": "on"},
            None,
            "Choose the work-order category to open.",
        ),
    ],
)
def test_bad_items_show_the_model_error_and_write_nothing(cast, data, field, message):
    template = patrol(cast)
    client = cast.client("project_manager")
    response = client.post(url("item_create", template.pk), {"label": "压力", **data})
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field or "__all__", [])
    assert message in errors, form.errors
    assert not ChecklistItem.objects.exists()


def test_fields_the_item_type_does_not_use_are_hidden_and_emptied(cast):
    template = patrol(cast)
    client = cast.client("project_manager")
    page = body(client.get(url("item_create", template.pk) + "?type=text"))
    assert 'name="min_value"' in page and "hidden>" in page
    # A range typed before switching to a text item is dropped, not refused.
    client.post(
        url("item_create", template.pk),
        {"label": "备注", "type": "text", "min_value": "1", "unit": "m"},
    )
    item = ChecklistItem.objects.get()
    assert (item.min_value, item.unit) == (None, "")


def test_an_answered_item_is_not_removed(cast, pump_round):
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.4", pump_round["noise"].pk: "1"},
    )
    response = cast.client("project_manager").post(url("item_remove", pump_round["noise"].pk))
    assert response.status_code == 302
    assert ChecklistItem.objects.filter(pk=pump_round["noise"].pk).exists()


def test_a_checklist_name_is_unique_in_the_company(cast):
    patrol(cast)
    response = cast.client("project_manager").post(
        url("template_create"), {"name": "安全巡逻", "kind": "patrol"}
    )
    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert ChecklistTemplate.objects.count() == 1


# --- checkpoints ------------------------------------------------------------------
def test_checkpoints_created_listed_and_printed(cast):
    client = cast.client("project_manager")
    lobby = cast.community_x.common_areas.get()
    client.post(
        url("checkpoint_create"),
        {
            "community": cast.community_x.pk,
            "name": "北门岗",
            "common_area": lobby.pk,
            "is_active": "on",
        },
    )
    point = Checkpoint.objects.get()
    assert (point.community, point.common_area, point.company) == (
        cast.community_x,
        lobby,
        cast.company,
    )
    assert "北门岗" in body(client.get(url("checkpoint_list")))
    assert "北门岗" not in body(cast.client("manager_y").get(url("checkpoint_list")))
    pdf = client.get(url("checkpoint_labels") + f"?layout=a4-3x8&ids={point.pk}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # another community's checkpoint is not printed for manager Y
    other = cast.client("manager_y").get(
        url("checkpoint_labels") + f"?layout=a4-3x8&ids={point.pk}"
    )
    assert other.status_code == 404


def test_a_checkpoint_cannot_take_another_communitys_area(cast):
    client = cast.client("company_admin")
    area_y = cast.community_y.common_areas.get()
    response = client.post(
        url("checkpoint_create"),
        {"community": cast.community_x.pk, "name": "北门岗", "common_area": area_y.pk},
    )
    assert response.status_code == 200 and response.context["form"].errors["common_area"]
    assert not Checkpoint.objects.exists()


# --- plans ------------------------------------------------------------------
def test_create_a_plan_then_its_stops(cast, frozen):
    template = patrol(cast)
    client = cast.client("project_manager")
    response = client.post(
        url("plan_create"),
        plan_post(cast, template, recurrence="weekly", days=["1", "3"], trade=""),
    )
    plan = Plan.objects.get()
    assert response.url == url("plan_stops", plan.pk)
    assert (plan.days, plan.kind, plan.community) == ([1, 3], "patrol", cast.community_x)

    gate = checklists.create_checkpoint(
        actor=cast.actor("project_manager"), community=cast.community_x, name="北门岗"
    )
    garage = checklists.create_checkpoint(
        actor=cast.actor("project_manager"), community=cast.community_x, name="地库"
    )
    client.post(url("plan_stops", plan.pk), {"add": f"c{gate.pk}"})
    client.post(url("plan_stops", plan.pk), {"add": f"c{garage.pk}"})
    first, second = plan.stops.all()
    assert [first.checkpoint, second.checkpoint] == [gate, garage]
    # renumber: the garage first, then the gate
    client.post(
        url("plan_stops", plan.pk), {f"position_{first.pk}": "2", f"position_{second.pk}": "1"}
    )
    assert [s.checkpoint for s in plan.stops.all()] == [garage, gate]
    client.post(
        url("plan_stops", plan.pk),
        {f"position_{first.pk}": "2", f"position_{second.pk}": "1", f"remove_{second.pk}": "on"},
    )
    assert [s.checkpoint for s in plan.stops.all()] == [gate]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"window_start": "22:00", "window_end": "20:00"},
            "window_end",
            "The window must close after it opens.",
        ),
        ({"recurrence": "weekly"}, "days", "Give days between 1 and 7."),
        ({"recurrence": "every_n_days"}, "interval_days", None),
        ({"assignee": None}, None, "Choose an assignee or a team."),
        ({"ends_on": "2026-11-01"}, None, "The plan cannot end before it starts."),
    ],
)
def test_bad_plans_show_errors_and_write_nothing(cast, overrides, field, message):
    template = patrol(cast)
    response = cast.client("project_manager").post(
        url("plan_create"), plan_post(cast, template, **overrides)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.get(field or "__all__")
    assert errors, response.context["form"].errors
    if message:
        assert message in errors
    assert not Plan.objects.exists()


def test_a_manager_cannot_plan_in_another_community(cast):
    template = patrol(cast)
    response = cast.client("manager_y").post(
        url("plan_create"), plan_post(cast, template, assignee=None, trade=None)
    )
    assert response.status_code == 200 and response.context["form"].errors["community"]
    assert not Plan.objects.exists()


def test_a_stop_from_another_community_is_refused(cast, pump_round):
    plan = pump_round["plan"]
    pump_y = create_asset(
        actor=cast.actor("company_admin"),
        community=cast.community_y,
        category=AssetCategory.objects.get(company=cast.company, code="water_pump"),
        name="Y 水泵",
    )
    client = cast.client("company_admin")
    response = client.post(url("plan_stops", plan.pk), {"add": f"a{pump_y.pk}"})
    assert response.status_code == 200 and response.context["form"].errors["add"]
    assert list(plan.stops.values_list("asset", flat=True)) == [pump_round["pump"].pk]
    with pytest.raises(plans.ValidationError):
        plans.set_stops(
            actor=cast.actor("company_admin"), plan=plan, targets=[pump_round["pump"], pump_y]
        )
    assert PlanStop.objects.filter(plan=plan).count() == 1


def test_a_visited_stop_stays_on_the_plan(cast, pump_round):
    rounds.scan(actor=cast.actor("technician"), token=pump_round["pump"].qr_token)
    plan, stop = pump_round["plan"], pump_round["plan"].stops.get()
    response = cast.client("project_manager").post(
        url("plan_stops", plan.pk), {f"position_{stop.pk}": "1", f"remove_{stop.pk}": "on"}
    )
    assert "have check-ins on record" in " ".join(response.context["form"].non_field_errors())
    assert plan.stops.count() == 1


def test_edit_a_plan_keeps_its_community_and_follows_the_checklist(cast, pump_round):
    plan = pump_round["plan"]
    client = cast.client("project_manager")
    page = body(client.get(url("plan_edit", plan.pk)))
    assert 'name="community"' not in page
    response = client.post(
        url("plan_edit", plan.pk),
        plan_post(
            cast,
            pump_round["template"],
            name="水泵房月检",
            recurrence="monthly",
            days=["15", "31"],
            assignee=cast.staff["technician"].pk,
            window_start="09:00",
            window_end="11:00",
            community=cast.community_y.pk,
        ),
    )
    assert response.url == url("plan_detail", plan.pk)
    plan.refresh_from_db()
    assert (plan.name, plan.recurrence, plan.days, plan.community) == (
        "水泵房月检",
        "monthly",
        [15, 31],
        cast.community_x,
    )


def test_recurrence_fields_follow_the_chosen_recurrence(cast):
    template = patrol(cast)
    client = cast.client("project_manager")
    page = body(client.get(url("plan_create") + "?recurrence=weekly"))
    assert "Monday" in page and 'name="interval_days"' in page
    days_field = page.split('name="days"')[0].rsplit('<div class="field', 1)[1]
    assert "hidden" not in days_field.split(">")[0]
    # Days typed for a weekly plan are dropped when it becomes daily.
    client.post(url("plan_create"), plan_post(cast, template, days=["1"]))
    assert Plan.objects.get().days == []


def test_plan_detail_previews_the_next_14_dates(cast, frozen):
    plan = plans.create_plan(
        actor=cast.actor("project_manager"),
        community=cast.community_x,
        template=patrol(cast),
        name="周一三巡逻",
        recurrence="weekly",
        days=[1, 3],
        window_start=datetime.time(9),
        window_end=datetime.time(10),
        assignee=cast.staff["guard"],
        starts_on=DAY,
    )
    response = cast.client("project_manager").get(url("plan_detail", plan.pk))
    upcoming = response.context["upcoming"]
    assert len(upcoming) == 14
    assert upcoming[:3] == [DAY, DAY + datetime.timedelta(days=2), DAY + datetime.timedelta(7)]
    assert {d.isoweekday() for d in upcoming} == {1, 3}


def test_a_plan_with_no_eligible_staff_says_so(cast, frozen):
    nobody_team = Trade.objects.create(company=cast.company, code="greening", name="绿化组")
    plan = plans.create_plan(
        actor=cast.actor("project_manager"),
        community=cast.community_x,
        template=patrol(cast),
        name="绿化巡查",
        trade=nobody_team,
        window_start=datetime.time(9),
        window_end=datetime.time(10),
        starts_on=DAY,
    )
    page = body(cast.client("project_manager").get(url("plan_detail", plan.pk)))
    assert "This plan has no eligible staff." in page
    assert "The team “绿化组” has no active member in 翠湖花园." in page


def test_an_assignee_off_the_roster_is_warned_about(cast, pump_round):
    # The technician is rostered on DAY only; the next 13 days nobody is.
    page = body(cast.client("project_manager").get(url("plan_detail", pump_round["plan"].pk)))
    assert "Nobody eligible is on the roster at 09:00 on 13 of the next 14 round dates." in page
    assert "Put technician on the roster" in page


def test_deactivate_and_activate(cast, pump_round):
    plan = pump_round["plan"]
    client = cast.client("project_manager")
    client.post(url("plan_toggle", plan.pk))
    plan.refresh_from_db()
    assert not plan.is_active
    assert "Inactive: no tasks are generated." in body(client.get(url("plan_detail", plan.pk)))
    client.post(url("plan_toggle", plan.pk))
    plan.refresh_from_db()
    assert plan.is_active


# --- the task board and acceptance ----------------------------------------------------------
def do_the_round(cast, pump_round, pressure="0.45", late=False, time_machine=None):
    me = cast.actor("technician")
    if late:
        time_machine.move_to(at(11, 20), tick=False)
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: pressure, pump_round["noise"].pk: "正常"},
    )
    return rounds.finish(actor=me, task=pump_round["task"])


def test_acceptance_of_maintenance_from_the_board(cast, pump_round):
    Plan.objects.filter(pk=pump_round["plan"].pk).update(requires_acceptance=True)
    task = do_the_round(cast, pump_round)
    assert task.status == Task.Status.AWAITING_ACCEPTANCE
    client = cast.client("project_manager")
    board = body(client.get(url("task_board") + "?status=awaiting_acceptance"))
    assert url("task_accept", task.pk) in board
    # a viewer may look but not accept; manager Y does not find it
    assert cast.client("dispatcher").post(url("task_accept", task.pk)).status_code == 403
    assert cast.client("manager_y").post(url("task_accept", task.pk)).status_code == 404
    task.refresh_from_db()
    assert task.status == Task.Status.AWAITING_ACCEPTANCE

    back = url("task_board") + "?status=awaiting_acceptance"
    response = client.post(url("task_accept", task.pk), {"next": back})
    assert response.url == back
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    # accepting twice says why instead of failing
    response = client.post(url("task_accept", task.pk), follow=True)
    assert "This task is not waiting for acceptance." in body(response)


def test_accept_ignores_an_outside_next(cast, pump_round):
    Plan.objects.filter(pk=pump_round["plan"].pk).update(requires_acceptance=True)
    task = do_the_round(cast, pump_round)
    response = cast.client("project_manager").post(
        url("task_accept", task.pk), {"next": "https://evil.example/"}
    )
    assert response.url == url("task_detail", task.pk)


def test_task_detail_shows_visits_answers_and_the_work_order(cast, pump_round, frozen):
    task = do_the_round(cast, pump_round, pressure="0.8", late=True, time_machine=frozen)
    response = cast.client("project_manager").get(url("task_detail", task.pk))
    page = body(response)
    assert "Late" in page and '<tr class="abnormal">' in page and "0.800 MPa" in page
    order = task.plan.template.items.get(position=1)  # the pressure item opened an order
    assert order.creates_order
    number = response.context["stops"][0][1].answers.get(item=order).work_order.number
    assert number in page


def test_board_filters(cast, pump_round, frozen):
    second = make_pump_round(cast, DAY, community=cast.community_x, assignee="technician")
    do_the_round(cast, pump_round, pressure="0.8", late=True, time_machine=frozen)
    client = cast.client("project_manager")

    def shown(query=""):
        response = client.get(url("task_board") + query)
        assert response.status_code == 200
        return {t.pk for t in response.context["page"].items}

    first, other = pump_round["task"].pk, second["task"].pk
    assert shown() == {first, other}  # today by default
    assert shown("?date_from=2026-12-01") == set()
    assert shown("?abnormal=on") == {first}
    assert shown("?late=on") == {first}
    assert shown("?status=pending") == {other}
    assert shown(f"?plan={second['plan'].pk}") == {other}
    assert shown(f"?assignee={cast.staff['technician'].pk}") == {first, other}
    assert shown("?kind=patrol") == set()
    assert shown(f"?community={cast.community_x.pk}") == {first, other}
    admin = cast.client("company_admin").get(
        url("task_board") + f"?community={cast.community_y.pk}"
    )
    assert admin.context["page"].items == []
    counts = {v: n for v, _label, n, _q in client.get(url("task_board")).context["counts"]}
    assert counts["pending"] == 1 and counts["done"] == 1


def test_board_refuses_a_range_over_a_month(cast, frozen):
    response = cast.client("project_manager").get(
        url("task_board") + "?date_from=2026-11-01&date_to=2026-12-31"
    )
    assert response.context["page"] is None
    assert "Show at most 31 days at once." in body(response)


def test_board_pages_by_window(cast, frozen, monkeypatch):
    from wuye.facilities import views_rounds

    monkeypatch.setattr(views_rounds, "BOARD_PAGE_SIZE", 1)
    make_pump_round(cast, DAY)
    make_pump_round(cast, DAY, community=cast.community_x)
    client = cast.client("project_manager")
    first = client.get(url("task_board")).context["page"]
    second = client.get(url("task_board") + "?" + first.next_query()).context["page"]
    assert first.has_next and not second.has_next
    assert {t.pk for t in first.items + second.items} == set(
        Task.objects.values_list("pk", flat=True)
    )


def test_board_query_count_does_not_grow_with_tasks(cast, frozen, django_assert_max_num_queries):
    for _ in range(3):
        make_pump_round(cast, DAY)
    client = cast.client("project_manager")
    client.get(url("task_board"))
    with django_assert_max_num_queries(14):
        client.get(url("task_board"))


def test_services_refuse_what_the_forms_refuse(cast):
    """The checks hold without the forms too (the API and imports call the services)."""
    manager = cast.actor("project_manager")
    template = patrol(cast)
    with pytest.raises(checklists.ValidationError) as inverted:
        checklists.add_item(
            actor=manager,
            template=template,
            label="压力",
            type="number",
            min_value=Decimal("0.6"),
            max_value=Decimal("0.3"),
        )
    assert "The highest value cannot be below the lowest." in str(inverted.value)
    with pytest.raises(checklists.PermissionDenied):
        checklists.add_item(
            actor=cast.actor("other_admin"), template=template, label="x", type="text"
        )
    with pytest.raises(plans.ValidationError):
        plans.create_plan(
            actor=manager,
            community=cast.community_x,
            template=template,
            name="倒置窗口",
            assignee=cast.staff["guard"],
            window_start=datetime.time(22),
            window_end=datetime.time(20),
            starts_on=DAY,
        )
    assert not ChecklistItem.objects.exists() and not Plan.objects.exists()


def _jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (480, 400), (40, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile("pump.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_answer_photos_show_on_the_task_and_are_seen_by_its_overseers(
    cast, pump_round, settings, tmp_path
):
    from wuye.core.images import save_photo
    from wuye.facilities.selectors_rounds import photo_visible

    settings.MEDIA_ROOT = tmp_path
    me = cast.actor("technician")
    photo = save_photo(actor=me, uploaded=_jpeg(), company=cast.company)
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.4", pump_round["noise"].pk: "正常"},
        photos={pump_round["noise"].pk: [photo]},
    )
    page = body(cast.client("project_manager").get(url("task_detail", pump_round["task"].pk)))
    assert reverse("photos:thumbnail", args=[photo.pk]) in page
    seen = {name for name in cast.users if photo_visible(cast.actor(name), photo.pk)}
    overseers = {n for n in STAFF_OF_X if "facilities.view" in DEFAULT_ROLES[n][3]}
    assert seen == overseers | {"technician"}  # the assignee took it
    assert "manager_y" not in seen and "other_admin" not in seen
