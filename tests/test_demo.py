"""The demo dataset: its shape, its invariants, its logins, and the real ``wuye demo``."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Count, F, Sum
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from wuye import demo
from wuye.accounts.actor import Actor
from wuye.accounts.models import User
from wuye.estates.models import Building, CommonArea, Community, Company, House
from wuye.people.models import Residency, Resident
from wuye.staff.models import RosterEntry, Shift, StaffMember
from wuye.staff.policy import DEFAULT_ROLES
from wuye.workorders import selectors
from wuye.workorders.models import (
    OPEN_STATUSES,
    EventType,
    Feedback,
    RequestType,
    SlaState,
    Status,
    WorkOrder,
    WorkOrderEvent,
)
from wuye.workorders.timeouts import run_timeouts

pytestmark = pytest.mark.django_db

HOMES = {
    "admin": "console",
    "manager": "console",
    "dispatcher": "console",
    "supervisor": "console",
    "tech": "field",
    "guard": "field",
    "cleaner": "field",
    "gardener": "field",
    "finance": "console",
    "quality": "console",
    demo.RESIDENT_MOBILE: "resident",
    "hexin_admin": "console",
}


@pytest.fixture(scope="module")
def _demo_once(django_db_setup, django_db_blocker):
    """Load the demo once for the module (it takes seconds), inside a transaction rolled
    back at the end; each test runs in a savepoint within it, so what one test changes
    the next does not see. Tests that need an empty database live in test_demo_command."""
    fast_hashing = override_settings(  # as conftest's per-test fixture, which runs later
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast_hashing, transaction.atomic():
        assert demo.load() is True
        yield
        transaction.set_rollback(True)


@pytest.fixture
def loaded(_demo_once, db):
    return {c.code: c for c in Community.objects.all()}


def test_two_companies_three_communities_and_their_houses(loaded):
    anju = Company.objects.get(code="anju")
    hexin = Company.objects.get(code="hexin")
    assert set(anju.communities.values_list("code", "kind")) == {
        ("cuihu", "residential"),
        ("jinxiu", "residential"),
        ("qianjiang", "office"),
    }
    assert list(hexin.communities.values_list("code", flat=True)) == ["fenglin"]
    for community in loaded.values():
        assert community.province and community.city and community.district and community.address

    def kinds(code):
        rows = House.objects.filter(community=loaded[code]).values_list("kind")
        return dict(rows.annotate(n=Count("id")))

    assert kinds("cuihu") == {"residence": 624, "parking": 150, "shop": 24}
    assert kinds("jinxiu") == {"residence": 480, "parking": 110, "shop": 12, "storage": 40}
    assert kinds("qianjiang") == {"office": 156, "shop": 8}
    assert kinds("fenglin") == {"residence": 88}
    residential = House.objects.filter(community__code__in=["cuihu", "jinxiu"]).count()
    assert 1300 <= residential <= 1500
    # Offices are laid out by floor: six per floor from the 3rd to the 28th.
    offices = House.objects.filter(community=loaded["qianjiang"], kind="office")
    per_floor = dict(offices.values_list("floor").annotate(n=Count("id")))
    assert per_floor == {floor: 6 for floor in range(3, 29)}
    # Every occupancy state occurs in the residential estates.
    flats = House.objects.filter(community=loaded["cuihu"], kind="residence")
    assert set(flats.values_list("occupancy", flat=True)) == set(House.Occupancy.values)


def test_houses_carry_their_ancestry(loaded):
    houses = House.objects.all()
    assert not houses.exclude(community_id=F("building__community_id")).exists()
    assert not houses.exclude(company_id=F("community__company_id")).exists()
    in_units = houses.filter(unit__isnull=False)
    assert not in_units.exclude(unit__building_id=F("building_id")).exists()
    assert not houses.filter(indoor_area__gt=F("built_area")).exists()
    flats = houses.filter(kind="residence")
    assert not flats.filter(unit__isnull=True).exists()
    # Numbers repeat across estates, never inside a unit.
    same = flats.filter(number="0802", unit__name="1单元", building__name="1栋")
    assert set(same.values_list("community__code", flat=True)) == {"cuihu", "jinxiu", "fenglin"}


def test_common_areas_of_every_community(loaded):
    for code in ("cuihu", "jinxiu", "qianjiang"):
        names = set(
            CommonArea.objects.filter(community=loaded[code]).values_list("name", flat=True)
        )
        assert "地下车库" in names
        assert any("泵房" in n for n in names)
        assert any("配电房" in n for n in names)
        assert any("大堂" in n for n in names)
    cuihu = set(CommonArea.objects.filter(community=loaded["cuihu"]).values_list("kind", flat=True))
    assert {"lobby", "garage", "garden", "pump_room", "power_room", "entrance"} <= cuihu


def test_residents_look_real_and_respect_the_residency_rules(loaded):
    residents = Resident.objects.all()
    assert residents.count() > 2500
    mobiles = [m for m in residents.values_list("mobile", flat=True) if m]
    assert all(re.fullmatch(r"1[3-9]\d{9}", m) for m in mobiles)
    assert len(mobiles) == len(set(mobiles))
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    for number in residents.exclude(id_number="").values_list("id_number", flat=True):
        check = "10X98765432"[
            sum(int(c) * w for c, w in zip(number[:17], weights, strict=True)) % 11
        ]
        assert len(number) == 18 and number[-1] == check
    names = list(residents.values_list("name", flat=True))
    assert all(2 <= len(n) <= 3 and re.fullmatch(r"[\u4e00-\u9fff]+", n) for n in names)
    # Every resident with a mobile has the login account that link_resident_login would give.
    with_mobile = residents.exclude(mobile="")
    assert not with_mobile.filter(user__isnull=True).exists()
    assert not with_mobile.exclude(user__mobile=F("mobile")).exists()

    ties = Residency.objects.all()
    assert not ties.exclude(resident__company_id=F("house__company_id")).exists()
    assert not ties.filter(move_out__lt=F("move_in")).exists()
    assert ties.filter(move_out__isnull=False).count() > 50  # moved-out history
    open_ties = ties.filter(move_out__isnull=True).values("resident", "house")
    assert not open_ties.annotate(n=Count("id")).filter(n__gt=1).exists()
    for relation in Residency.Relation.values:
        assert ties.filter(relation=relation).exists()

    active = Residency.objects.active()
    flats = House.objects.filter(kind="residence")
    owner_occupied = flats.filter(occupancy="owner_occupied")
    assert not owner_occupied.exclude(
        id__in=active.filter(relation="owner").values("house")
    ).exists()
    rented = flats.filter(occupancy="rented")
    assert not rented.exclude(id__in=active.filter(relation="tenant").values("house")).exists()
    vacant = flats.filter(occupancy="vacant")
    assert vacant.exclude(id__in=active.values("house")).exists()  # unsold, nobody tied
    # One resident holding several houses (a flat and a parking space).
    multi = active.values("resident").annotate(n=Count("house")).filter(n__gt=1)
    assert multi.exists()


def test_staff_in_every_role_with_communities_trades_and_a_roster(loaded):
    anju = Company.objects.get(code="anju")
    members = StaffMember.objects.filter(company=anju)
    for code in DEFAULT_ROLES:
        assert members.filter(roles__code=code).exists(), code
    for code in ("cuihu", "jinxiu", "qianjiang"):
        for role in ("project_manager", "dispatcher", "technician", "guard", "cleaner"):
            assert members.filter(roles__code=role, communities=loaded[code]).exists()
    assert not members.filter(roles__company_wide=False, communities__isnull=True).exists()
    technicians = members.filter(roles__code="technician")
    assert not technicians.filter(trades__isnull=True).exists()
    assert technicians.filter(trades__code="elevator").exists()
    assert members.filter(status=StaffMember.Status.OFF_DUTY).exists()
    assert Shift.objects.filter(company=anju).count() >= 4

    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    entries = RosterEntry.objects.filter(staff__company=anju)
    dates = set(entries.values_list("date", flat=True))
    assert dates == {monday + datetime.timedelta(days=i) for i in range(-14, 14)}
    # Each entry is in one of the member's communities, with a shift of the same company.
    for entry in entries.select_related("shift", "staff"):
        assert entry.shift.company_id == anju.id
        assert entry.staff.communities.filter(pk=entry.community_id).exists()
    # Guards cover early, late and night shifts every day in each estate.
    guard_days = entries.filter(staff__roles__code="guard", community=loaded["cuihu"])
    for day in range(-14, 14):
        shifts = guard_days.filter(date=monday + datetime.timedelta(days=day))
        assert set(shifts.values_list("shift__name", flat=True)) == {"早班", "中班", "夜班"}


def test_every_login_authenticates_and_lands_on_its_home(loaded):
    logins = demo.logins()
    assert {u for _label, u in logins} == set(HOMES)
    covered = set()
    for label, username in logins:
        user = authenticate(None, username=username, password=demo.PASSWORD)
        assert user is not None, label
        actor = Actor(user)
        assert actor.home == HOMES[username], username
        covered |= actor.role_codes
    assert covered == set(DEFAULT_ROLES)

    manager = Actor(User.objects.get(username="manager"))
    assert manager.community_ids == {loaded["cuihu"].id}
    admin = Actor(User.objects.get(username="admin"))
    assert admin.community_ids == {loaded[c].id for c in ("cuihu", "jinxiu", "qianjiang")}
    other = Actor(User.objects.get(username="hexin_admin"))
    assert other.company_ids == {Company.objects.get(code="hexin").id}
    resident = Actor(User.objects.get(mobile=demo.RESIDENT_MOBILE))
    houses = resident.resident_houses()
    assert set(houses.values_list("kind", flat=True)) == {"residence", "parking"}
    assert resident.resident_community_ids() == [loaded["cuihu"].id]
    assert House.objects.visible_to(resident).count() == 2
    # Only the printed resident has a usable password; others sign in by SMS first.
    assert (
        authenticate(
            None,
            username=Resident.objects.exclude(mobile__in=["", demo.RESIDENT_MOBILE]).first().mobile,
            password=demo.PASSWORD,
        )
        is None
    )


def test_second_load_finds_the_data_and_writes_nothing(loaded):
    def counts():
        return (
            House.objects.count(),
            Resident.objects.count(),
            User.objects.count(),
            WorkOrder.objects.count(),
            WorkOrderEvent.objects.count(),
            Feedback.objects.count(),
        )

    before = counts()
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        assert demo.load() is False
    assert before == counts()
    assert not [q for q in queries.captured_queries if not q["sql"].startswith("SELECT")]


# --- work orders ---------------------------------------------------------------------
def stories():
    """The live service stories of the last two weeks; the quality demo's year of
    history lies further back (see test_a_year_of_history_behind_the_quality_pages)."""
    return WorkOrder.objects.filter(submitted_at__gt=timezone.now() - datetime.timedelta(days=14))


def test_work_orders_in_every_status_type_and_sla_state(loaded):
    orders = stories().select_related("category")
    assert 35 <= orders.count() <= 45
    assert set(orders.values_list("status", flat=True)) == set(Status.values)
    assert set(orders.values_list("request_type", flat=True)) == set(RequestType.values)
    assert orders.values("category").distinct().count() >= 15
    codes = {"cuihu", "jinxiu", "qianjiang"}
    assert set(orders.values_list("community__code", flat=True)) == codes
    # The dispatch board has colours: open orders at risk and breached, most on track.
    open_states = set(orders.filter(status__in=OPEN_STATUSES).values_list("sla_state", flat=True))
    assert open_states == set(SlaState.values)
    assert orders.filter(status=Status.SUBMITTED, sla_state=SlaState.BREACHED).exists()
    assert WorkOrderEvent.objects.filter(type=EventType.SLA_BREACHED).exists()
    assert WorkOrderEvent.objects.filter(type=EventType.SLA_ESCALATED).exists()
    # Paused with a reason, urged, reopened, a duplicate merged, cancelled with a reason.
    assert not orders.filter(status=Status.PAUSED, pause_reason="").exists()
    assert orders.filter(urge_count__gt=0, status__in=OPEN_STATUSES).count() >= 2
    reopened = orders.filter(reopen_count__gt=0)
    assert reopened.filter(status=Status.ACCEPTED).exists()
    assert reopened.filter(status=Status.TAKEN, priority__gt=0).exists()
    assert orders.filter(status=Status.REJECTED, merged_into__isnull=False).exists()
    cancels = WorkOrderEvent.objects.filter(type=EventType.CANCELLED, order__in=orders)
    assert cancels.count() == orders.filter(status=Status.CANCELLED).count() >= 2
    assert not cancels.filter(note="").exists()
    # Rated with all five dimensions and comments; some closed by a return visit.
    feedback = Feedback.objects.filter(order__in=orders)
    assert feedback.count() >= 15
    for field in Feedback.DIMENSIONS:
        assert not feedback.filter(**{f"{field}__isnull": True}).exists()
    assert feedback.exclude(comment="").count() >= 10
    assert set(feedback.values_list("overall", flat=True)) >= {2, 3, 4, 5}
    visited = orders.filter(status=Status.CLOSED, events__type=EventType.RETURN_VISITED)
    assert visited.count() >= 4
    # Paid repairs carry materials and labour.
    assert orders.filter(materials__isnull=False, labour_amount__gt=0).count() >= 4


def test_work_order_timelines_are_plausible(loaded):
    now = timezone.now()
    zone = timezone.get_current_timezone()
    earliest = now - datetime.timedelta(days=14)
    for order in stories().prefetch_related("events"):
        assert earliest < order.submitted_at <= now
        assert order.number.startswith(f"{order.submitted_at.astimezone(zone):%Y%m%d}")
        times = [e.created_at for e in order.events.all()]
        assert times == sorted(times) and times[0] == order.submitted_at and times[-1] <= now
        steps = [order.accepted_at, order.dispatched_at, order.taken_at, order.arrived_at]
        steps = [t for t in steps if t is not None] + [order.completed_at or now]
        assert steps == sorted(steps), order.number


def test_the_minute_jobs_find_nothing_left_to_do(loaded):
    assert run_timeouts() == {"expired": 0, "closed": 0}


def test_the_replay_knows_when_a_timeout_is_due():
    now = timezone.now()
    ago = lambda minutes: now - datetime.timedelta(minutes=minutes)  # noqa: E731
    due = demo._WorkOrders.timed_out
    sent = "dispatched"
    assert due(SimpleNamespace(status=sent, urgency="urgent", dispatched_at=ago(10)), now)
    assert not due(SimpleNamespace(status=sent, urgency="normal", dispatched_at=ago(29)), now)
    assert due(SimpleNamespace(status="completed", completed_at=ago(48 * 60)), now)
    assert not due(SimpleNamespace(status="completed", completed_at=ago(47 * 60)), now)
    assert not due(SimpleNamespace(status="taken"), now)


@pytest.mark.parametrize("hour", [0, 7, 12, 23])
def test_no_story_ends_in_the_future_at_any_hour(hour):
    now = datetime.datetime(2026, 3, 4, hour, 0, tzinfo=datetime.UTC)
    assert all(demo.story_fits_before(story, now) for story in demo.STORIES)
    assert len({story.key for story in demo.STORIES}) == len(demo.STORIES)


def test_the_printed_resident_follows_her_own_orders(loaded, client):
    user = User.objects.get(mobile=demo.RESIDENT_MOBILE)
    actor = Actor(user)
    mine = selectors.reported_or_household(actor, WorkOrder.objects.visible_to(actor))
    assert mine.count() >= 6
    assert not mine.exclude(reporter=user).exists()
    statuses = set(mine.values_list("status", flat=True))
    assert {Status.SUBMITTED, Status.IN_PROGRESS, Status.COMPLETED, Status.CLOSED} <= statuses
    waiting = mine.get(status=Status.COMPLETED)
    assert "rate" in selectors.actions_for(actor, waiting)
    assert mine.filter(urge_count__gt=0).exists()

    client.force_login(user)
    page = client.get(reverse("orders_resident:my_orders")).content.decode()
    assert "厨房水槽下水管漏水，地板已经湿了" in page
    assert page.count('class="order-item') == mine.count()
    detail = client.get(reverse("orders_resident:order_detail", args=[waiting.pk]))
    assert reverse("orders_resident:rate", args=[waiting.pk]) in detail.content.decode()


def test_the_technician_has_tasks_and_the_pool_one_order(loaded, client):
    client.force_login(User.objects.get(username="tech"))
    tasks = client.get(reverse("orders_field:tasks")).content.decode()
    assert tasks.count('class="order-item') >= 4
    pool = client.get(reverse("orders_field:pool")).content.decode()
    assert pool.count('class="order-item') == 1
    tech = Actor(User.objects.get(username="tech"))
    mine = selectors.assigned_to(tech, WorkOrder.objects.all())
    assert {Status.DISPATCHED, Status.TAKEN, Status.IN_PROGRESS, Status.PAUSED} <= set(
        mine.values_list("status", flat=True)
    )
    for username in ("cleaner", "gardener", "guard"):
        client.force_login(User.objects.get(username=username))
        page = client.get(reverse("orders_field:tasks")).content.decode()
        assert 'class="order-item' in page, username


def test_notices_activities_surveys_and_votes_in_cuihu(loaded, client):
    from wuye.activities.models import Activity, SignupStatus
    from wuye.notices import selectors as notice_selectors
    from wuye.notices.models import Notice, NoticeReceipt
    from wuye.notices.models import Status as NoticeStatus
    from wuye.notifications.models import Notification
    from wuye.surveys import selectors as survey_selectors
    from wuye.surveys.models import Channel, Dimension, Survey
    from wuye.surveys.services import verify_vote

    cuihu = loaded["cuihu"]
    me = Actor(User.objects.get(mobile=demo.RESIDENT_MOBILE))
    notices = Notice.objects.filter(company=cuihu.company)
    assert set(notices.values_list("community__code", flat=True)) == {"cuihu"}
    assert sorted(notices.values_list("status", flat=True)) == sorted(
        [NoticeStatus.PUBLISHED] * 2 + [NoticeStatus.SCHEDULED, NoticeStatus.DRAFT]
    )
    outage = notices.get(kind="outage")
    assert outage.is_emergency and outage.status == NoticeStatus.PUBLISHED
    receipts = NoticeReceipt.objects.filter(notice=outage)
    assert outage.households == receipts.count() > 100
    buildings = set(
        Building.objects.filter(id__in=receipts.values("building_id").distinct()).values_list(
            "name", flat=True
        )
    )
    assert buildings == {"1栋", "2栋"}
    for notice in notices.filter(status=NoticeStatus.PUBLISHED):
        counts = notice_selectors.read_counts(notice)
        assert 0.25 < counts["read"] / counts["households"] < 0.5
        readers = Notification.objects.filter(
            dedupe_key=f"notice:{notice.pk}", read_at__isnull=False
        ).count()
        assert 0.9 * counts["read"] <= readers <= counts["read"]  # one reader, two homes
    assert notices.get(kind="tip").is_pinned
    # The printed resident: the urgent notice unread on her home page, the survey open.
    assert notice_selectors.urgent_unread(me) == [outage]
    mine = survey_selectors.resident_surveys(me)
    servqual = mine.get(servqual="performance")
    assert servqual.status == "open"
    assert survey_selectors.answered_ids(me, list(mine)) == set()
    client.force_login(me.user)
    home = client.get(reverse("web:resident_home")).content.decode()
    assert outage.title in home
    # Another community's resident sees none of it.
    jinxiu_home = Residency.objects.filter(
        house__community=loaded["jinxiu"], resident__user__isnull=False
    ).first()
    other = Actor(jinxiu_home.resident.user)
    assert not notice_selectors.resident_notices(other).exists()
    assert not survey_selectors.resident_surveys(other).exists()

    fair = Activity.objects.get(community=cuihu, title="中秋游园会")
    signups = fair.signups.all()
    assert fair.capacity == 80 and fair.max_party_size == 4
    assert fair.confirmed_people <= 80 < fair.confirmed_people + fair.waitlisted_people
    assert signups.filter(status=SignupStatus.WAITLISTED).exists()
    assert signups.filter(status=SignupStatus.CANCELLED).count() == 1
    assert signups.filter(promoted_at__isnull=False).count() >= 1
    ticket = signups.get(house__in=me.resident_house_ids)
    assert ticket.status == SignupStatus.CONFIRMED and ticket.code
    past = Activity.objects.get(community=cuihu, ends_at__lt=timezone.now())
    assert past.recap and past.signups.filter(checked_in_at__isnull=False).count() >= 10

    assert servqual.responses_count == 40
    assert servqual.responses.filter(channel=Channel.PHONE).count() == 8
    scores = {
        row.dimension: row.perception
        for row in survey_selectors.servqual_scores(servqual).dimensions
    }
    assert min(scores, key=scores.get) == Dimension.RESPONSIVENESS
    assert all(3.5 < float(value) < 6.5 for value in scores.values())
    lift = Survey.objects.get(kind="vote", status="open", community=cuihu)
    assert lift.title == "是否更换电梯维保单位" and lift.responses_count == 30
    assert verify_vote(survey=lift)["ok"]
    closed = Survey.objects.get(kind="vote", status="closed", community=cuihu)
    assert closed.result_digest and closed.closed_at < timezone.now() - datetime.timedelta(days=20)
    assert verify_vote(survey=closed)["ok"]


# --- quality ---------------------------------------------------------------------------
def test_a_year_of_history_behind_the_quality_pages(loaded, client):
    from django.db.models import Avg

    from wuye.quality.models import (
        Attendance,
        CareSnapshot,
        DailyRollup,
        MonthlyReport,
        QuizAttempt,
        SpotCheck,
    )

    now = timezone.now()
    history = WorkOrder.objects.filter(submitted_at__lte=now - datetime.timedelta(days=14))
    assert 3000 <= history.count() <= 3500
    assert history.filter(submitted_at__lt=now - datetime.timedelta(days=330)).exists()
    assert not history.filter(status__in=OPEN_STATUSES).exists()
    # Every finished order has its timeline; the rollups hold every order once.
    assert not history.exclude(events__type__in=[EventType.CLOSED, EventType.CANCELLED]).exists()
    rolled = DailyRollup.objects.filter(dimension="").aggregate(n=Sum("created"))["n"]
    assert rolled == WorkOrder.objects.count()
    # 锦绣苑 got worse over its last two months: lower ratings than before.
    jinxiu = Feedback.objects.filter(order__in=history.filter(community=loaded["jinxiu"]))
    recent = now - datetime.timedelta(days=60)
    before = jinxiu.filter(order__submitted_at__lt=recent).aggregate(a=Avg("overall"))["a"]
    lately = jinxiu.filter(order__submitted_at__gte=recent).aggregate(a=Avg("overall"))["a"]
    assert lately < before - 0.3
    # What the quality team made of it.
    assert CareSnapshot.objects.filter(day=timezone.localdate()).exists()
    cleaner, guard = SpotCheck.objects.order_by("subject__user__username")
    assert (cleaner.subject.user.username, cleaner.score) == ("cleaner", 100)
    assert guard.subject.user.username == "guard" and guard.score < 100
    assert Attendance.objects.filter(present=True).count() == 6
    assert QuizAttempt.objects.count() == 5
    report = MonthlyReport.objects.get(community=loaded["cuihu"])
    assert report.pdf.read(4) == b"%PDF" and report.xlsx.size > 0
    # And the pages show it.
    client.force_login(User.objects.get(username="quality"))
    for name in ("quality:dashboard", "quality_complaints:overview", "care:ranked"):
        assert client.get(reverse(name)).status_code == 200, name
