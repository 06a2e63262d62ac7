"""Community activities (社区活动): places counted in people, the waitlist and its
promotion order (a party that does not fit is skipped but keeps its place), refusals
that write nothing (twice, too many people, past deadlines, other people's houses),
check-in once, figures, the participant workbook, the console, the resident H5 pages,
the API and scoping across companies, communities and residents."""

import datetime
import io
import threading

import openpyxl
import pytest
from api_helpers import bearer_client, get, ids, patch, post, results
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_house, make_resident
from wuye.activities import exports, selectors, services
from wuye.activities.models import Activity, ActivityEvent, EventKind, Signup, SignupStatus
from wuye.notifications.models import Notification

KEY = "Idempotency-Key"
C, W, X = SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.CANCELLED


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def plan(**overrides):
    now = timezone.now()
    values = {
        "title": "中秋游园会",
        "place": "中心花园",
        "starts_at": now + datetime.timedelta(days=7),
        "ends_at": now + datetime.timedelta(days=7, hours=3),
        "capacity": 80,
        "max_party_size": 4,
        "signup_deadline": now + datetime.timedelta(days=6),
        "cancel_deadline": now + datetime.timedelta(days=6),
        "description": "猜灯谜、做月饼",
    }
    values.update(overrides)
    if "max_party_size" not in overrides:
        values["max_party_size"] = min(4, values["capacity"])
    return values


def new_activity(cast, *, community=None, open_it=True, **overrides) -> Activity:
    manager = cast.actor("project_manager" if community is None else "manager_y")
    activity = services.create_activity(
        actor=manager, community=community or cast.community_x, **plan(**overrides)
    )
    if open_it:
        activity = services.open_activity(actor=manager, activity=activity)
    return activity


def houses(cast, n):
    """n more houses of community X, each with a resident (user) living there."""
    made = []
    for i in range(n):
        house = make_house(cast.building_x1, cast.unit_x1, f"05{i:02d}", floor=5)
        resident = make_resident(cast.company, house, f"住户{i}", f"1370000{i:04d}")
        made.append((house, resident))
    return made


def join(cast, activity, house, resident_user, people):
    from wuye.accounts.actor import Actor

    return services.sign_up(
        actor=Actor(resident_user), activity=activity, house=house, party_size=people
    )


def refresh(activity) -> Activity:
    return Activity.objects.get(pk=activity.pk)


def assert_counters(activity):
    """The stored counters equal the sums of the sign-ups."""
    activity = refresh(activity)
    figures = selectors.figures(activity)
    assert activity.confirmed_people == figures.confirmed_people
    assert activity.waitlisted_people == figures.waitlisted_people
    return activity


# --- organising -------------------------------------------------------------------------
def test_create_edit_open_cancel(cast, django_capture_on_commit_callbacks):
    manager = cast.actor("project_manager")
    activity = services.create_activity(actor=manager, community=cast.community_x, **plan())
    assert activity.status == "draft" and activity.checkin_token
    assert not Activity.objects.visible_to(cast.actor("resident_a")).exists()  # a draft
    services.update_activity(actor=manager, activity=activity, capacity=60, place="会所")
    activity = services.open_activity(actor=manager, activity=activity)
    assert activity.status == "open"
    with pytest.raises(ValidationError, match="only a draft"):
        services.open_activity(actor=manager, activity=activity)
    signup = services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=3
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_activity(actor=manager, activity=activity, reason="台风预警")
    activity = refresh(activity)
    assert activity.status == "cancelled" and activity.cancel_reason == "台风预警"
    told = Notification.objects.get(kind="activity.cancelled")
    assert told.recipient_id == cast.users["resident_a"].pk
    kinds = list(activity.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "edited", "opened", "signed_up", "cancelled"]
    with pytest.raises(ValidationError):
        services.update_activity(actor=manager, activity=activity, capacity=90)
    with pytest.raises(ValidationError):  # nothing to check in any more
        services.check_in(actor=manager, signup=signup)


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("ends_at", {"ends_at": timezone.now() + datetime.timedelta(days=6)}),
        ("signup_deadline", {"signup_deadline": timezone.now() + datetime.timedelta(days=8)}),
        ("cancel_deadline", {"cancel_deadline": timezone.now() + datetime.timedelta(days=8)}),
        ("max_party_size", {"capacity": 3, "max_party_size": 4}),
        ("capacity", {"capacity": 0}),
        ("title", {"title": "  "}),
        ("starts_at", {"starts_at": timezone.now() - datetime.timedelta(days=1)}),
    ],
)
def test_bad_plans_are_refused_by_field(cast, field, overrides):
    with pytest.raises(ValidationError) as caught:
        services.create_activity(
            actor=cast.actor("project_manager"), community=cast.community_x, **plan(**overrides)
        )
    assert field in caught.value.message_dict
    assert not Activity.objects.exists()


def test_only_managers_of_the_community_organise(cast):
    with pytest.raises(PermissionDenied):
        services.create_activity(
            actor=cast.actor("dispatcher"), community=cast.community_x, **plan()
        )
    with pytest.raises(ValidationError, match="not one of yours"):
        services.create_activity(
            actor=cast.actor("manager_y"), community=cast.community_x, **plan()
        )
    with pytest.raises(ValidationError):
        services.create_activity(
            actor=cast.actor("other_admin"), community=cast.community_x, **plan()
        )
    activity = new_activity(cast)
    for name in ("manager_y", "other_admin", "dispatcher"):
        with pytest.raises(PermissionDenied):
            services.cancel_activity(actor=cast.actor(name), activity=activity, reason="x")
    assert refresh(activity).status == "open"


def test_capacity_cannot_drop_below_the_confirmed(cast):
    activity = new_activity(cast, capacity=10)
    join(cast, activity, cast.house_a, cast.users["resident_a"], 4)
    with pytest.raises(ValidationError) as caught:
        services.update_activity(
            actor=cast.actor("project_manager"), activity=activity, capacity=3, max_party_size=3
        )
    assert "4 people are already confirmed" in caught.value.message_dict["capacity"][0]
    assert refresh(activity).capacity == 10


# --- the arithmetic ---------------------------------------------------------------------
def test_places_count_people_and_the_waitlist_takes_the_rest(cast):
    activity = new_activity(cast, capacity=10)
    hh = houses(cast, 4)
    a = join(cast, activity, hh[0][0], hh[0][1].user, 4)
    b = join(cast, activity, hh[1][0], hh[1][1].user, 4)
    c = join(cast, activity, hh[2][0], hh[2][1].user, 3)  # 2 left: waits
    d = join(cast, activity, hh[3][0], hh[3][1].user, 2)  # fits the 2 left
    assert [s.status for s in (a, b, c, d)] == [C, C, W, C]
    activity = assert_counters(activity)
    assert (activity.confirmed_people, activity.waitlisted_people, activity.places_left) == (
        10,
        3,
        0,
    )
    assert selectors.waitlist_position(Signup.objects.get(pk=c.pk)) == 1
    assert ActivityEvent.objects.filter(activity=activity, kind=EventKind.WAITLISTED).count() == 1


def test_promotion_in_order_skipping_parties_that_do_not_fit(
    cast, django_capture_on_commit_callbacks
):
    activity = new_activity(cast, capacity=8)
    hh = houses(cast, 5)
    first = join(cast, activity, hh[0][0], hh[0][1].user, 4)
    join(cast, activity, hh[1][0], hh[1][1].user, 4)
    big = join(cast, activity, hh[2][0], hh[2][1].user, 4)  # waits first
    small = join(cast, activity, hh[3][0], hh[3][1].user, 2)  # waits second
    smaller = join(cast, activity, hh[4][0], hh[4][1].user, 1)  # waits third
    assert [s.status for s in (big, small, smaller)] == [W, W, W]
    # 4 people cancel: the first waiting party (4) fits and takes all.
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_signup(actor=hh[0][1].user and _actor(hh[0][1].user), signup=first)
    statuses = dict(Signup.objects.values_list("pk", "status"))
    assert statuses[big.pk] == C and statuses[small.pk] == W and statuses[smaller.pk] == W
    promoted = Notification.objects.get(kind="activity.promoted")
    assert promoted.recipient_id == hh[2][1].user.pk
    assert reverse("activities_resident:ticket", args=[big.pk]) == promoted.url
    # Now the big party cancels... no: a 4-person party cancels, the waitlist has 2 + 1.
    services.cancel_signup(actor=cast.actor("dispatcher"), signup=Signup.objects.get(pk=big.pk))
    statuses = dict(Signup.objects.values_list("pk", "status"))
    assert statuses[small.pk] == C and statuses[smaller.pk] == C
    activity = assert_counters(activity)
    assert (activity.confirmed_people, activity.waitlisted_people) == (7, 0)


def test_a_party_too_big_keeps_its_queue_place(cast):
    activity = new_activity(cast, capacity=6)
    hh = houses(cast, 4)
    two = join(cast, activity, hh[0][0], hh[0][1].user, 2)
    join(cast, activity, hh[1][0], hh[1][1].user, 4)
    four = join(cast, activity, hh[2][0], hh[2][1].user, 4)  # waits first
    one = join(cast, activity, hh[3][0], hh[3][1].user, 1)  # waits second
    services.cancel_signup(actor=_actor(hh[0][1].user), signup=two)  # 2 places free
    assert Signup.objects.get(pk=four.pk).status == W  # skipped: 4 > 2
    assert Signup.objects.get(pk=one.pk).status == C  # the next one fits
    assert selectors.waitlist_position(Signup.objects.get(pk=four.pk)) == 1
    # More places: the big party is next in line, not anyone who came later.
    services.update_activity(actor=cast.actor("project_manager"), activity=activity, capacity=10)
    assert Signup.objects.get(pk=four.pk).status == C
    assert_counters(activity)


def _actor(user):
    from wuye.accounts.actor import Actor

    return Actor(user)


# --- refusals -----------------------------------------------------------------------------
def test_signing_up_twice_is_refused_clearly(cast):
    activity = new_activity(cast)
    resident = cast.actor("resident_a")
    services.sign_up(actor=resident, activity=activity, house=cast.house_a, party_size=2)
    with pytest.raises(ValidationError) as caught:
        services.sign_up(actor=resident, activity=activity, house=cast.house_a, party_size=1)
    assert "already signed up (2 people, confirmed)" in caught.value.message_dict["house"][0]
    with pytest.raises(ValidationError):  # the front desk neither
        services.staff_sign_up(
            actor=cast.actor("dispatcher"),
            activity=activity,
            house=cast.house_a,
            party_size=1,
            contact_name="张伟",
        )
    assert Signup.objects.count() == 1
    assert refresh(activity).confirmed_people == 2


def test_party_size_limits(cast):
    activity = new_activity(cast, max_party_size=3)
    for people in (0, 4):
        with pytest.raises(ValidationError) as caught:
            services.sign_up(
                actor=cast.actor("resident_a"),
                activity=activity,
                house=cast.house_a,
                party_size=people,
            )
        assert "1 to 3 people" in caught.value.message_dict["party_size"][0]
    assert not Signup.objects.exists()


def test_deadlines(cast):
    activity = new_activity(cast)
    signup = services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=2
    )
    past = timezone.now() - datetime.timedelta(minutes=1)
    Activity.objects.filter(pk=activity.pk).update(signup_deadline=past, cancel_deadline=past)
    activity = refresh(activity)
    with pytest.raises(ValidationError, match="Sign-up closed"):
        services.sign_up(
            actor=cast.actor("resident_b"), activity=activity, house=cast.house_b, party_size=1
        )
    with pytest.raises(ValidationError, match="Cancellations closed"):
        services.cancel_signup(actor=cast.actor("resident_a"), signup=signup)
    assert Signup.objects.get(pk=signup.pk).status == C
    # The office still can.
    services.cancel_signup(actor=cast.actor("dispatcher"), signup=signup, reason="电话取消")
    assert Signup.objects.get(pk=signup.pk).status == X
    assert refresh(activity).confirmed_people == 0


def test_residents_sign_up_only_their_own_houses_in_the_community(cast):
    activity = new_activity(cast)
    refusals = [
        ("resident_a", cast.house_b),  # a neighbour's house
        ("other_resident", cast.other_house),  # another company
        ("resident_a", cast.house_y),  # not where they live
    ]
    for name, house in refusals:
        with pytest.raises(ValidationError):
            services.sign_up(actor=cast.actor(name), activity=activity, house=house, party_size=1)
    # A resident of community Y cannot sign up for X's activity even with their house.
    resident_y = make_resident(cast.company, cast.house_y, "赵六", "13700009999")
    with pytest.raises(ValidationError, match="not in this activity's community"):
        services.sign_up(
            actor=_actor(resident_y.user), activity=activity, house=cast.house_y, party_size=1
        )
    with pytest.raises(PermissionDenied):
        services.staff_sign_up(
            actor=cast.actor("technician"),
            activity=activity,
            house=cast.house_a,
            party_size=1,
            contact_name="x",
        )
    assert not Signup.objects.exists()


def test_draft_and_cancelled_activities_take_no_sign_ups(cast):
    activity = new_activity(cast, open_it=False)
    with pytest.raises(ValidationError, match="not open"):
        services.staff_sign_up(
            actor=cast.actor("dispatcher"),
            activity=activity,
            house=cast.house_a,
            party_size=1,
            contact_name="张伟",
        )
    assert not Signup.objects.exists()


# --- at the door --------------------------------------------------------------------------
def test_check_in_once_with_the_people_who_came(cast):
    activity = new_activity(cast, capacity=4)
    signup = services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=3
    )
    waiting = services.sign_up(
        actor=cast.actor("resident_b"), activity=activity, house=cast.house_b, party_size=2
    )
    with pytest.raises(ValidationError, match="waitlist"):
        services.check_in(actor=cast.actor("dispatcher"), signup=waiting)
    with pytest.raises(ValidationError) as caught:
        services.check_in(actor=cast.actor("dispatcher"), signup=signup, attended_people=4)
    assert "attended_people" in caught.value.message_dict
    for name in ("manager_y", "other_admin", "technician", "quality"):
        with pytest.raises(PermissionDenied):
            services.check_in(actor=cast.actor(name), signup=signup)
    done = services.check_in(actor=cast.actor("dispatcher"), signup=signup, attended_people=2)
    assert done.attended_people == 2 and done.checked_in_by == cast.users["dispatcher"]
    with pytest.raises(ValidationError, match="Already checked in"):
        services.check_in(actor=cast.actor("project_manager"), signup=signup)
    with pytest.raises(ValidationError, match="already checked in"):
        services.cancel_signup(actor=cast.actor("dispatcher"), signup=signup)
    figures = selectors.figures(activity)
    assert figures.checked_in_households == 1 and figures.checked_in_people == 2
    assert figures.attendance_rate == 1.0
    assert figures.people_rate == pytest.approx(2 / 3)
    assert figures.signed_up_households == 2 and figures.signed_up_people == 5


def test_default_attendance_is_the_party(cast):
    activity = new_activity(cast)
    signup = services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=3
    )
    assert (
        services.check_in(actor=cast.actor("service_supervisor"), signup=signup).attended_people
        == 3
    )


# --- recap --------------------------------------------------------------------------------
def _jpeg(name="p.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 50, 50)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_recap_after_the_start_with_photos(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    activity = new_activity(cast)
    manager = cast.actor("project_manager")
    with pytest.raises(ValidationError, match="once the activity has started"):
        services.post_recap(actor=manager, activity=activity, text="很热闹")
    Activity.objects.filter(pk=activity.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=1),
        signup_deadline=timezone.now() - datetime.timedelta(hours=2),
        cancel_deadline=timezone.now() - datetime.timedelta(hours=2),
    )
    activity = services.post_recap(
        actor=manager, activity=refresh(activity), text="很热闹", photos=[_jpeg()]
    )
    assert activity.recap == "很热闹" and activity.photos.count() == 1
    photo = activity.photos.get()
    assert selectors.photo_visible(cast.actor("resident_b"), photo.pk)
    assert not selectors.photo_visible(cast.actor("other_resident"), photo.pk)


# --- the workbook --------------------------------------------------------------------------
def test_export_masks_mobiles_unless_allowed(cast):
    activity = new_activity(cast, capacity=3)
    services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=3
    )
    services.staff_sign_up(
        actor=cast.actor("dispatcher"),
        activity=activity,
        house=cast.house_b,
        party_size=2,
        contact_name="李娜",
        contact_mobile="13800000002",
        note="电话报名",
    )

    def rows(name):
        out = io.BytesIO()
        exports.write_participants(
            actor=cast.actor(name),
            activity=activity,
            signups=selectors.participants(activity),
            out=out,
        )
        out.seek(0)
        sheet = openpyxl.load_workbook(out).active
        return [[cell.value for cell in row] for row in sheet.iter_rows()]

    masked = rows("dispatcher")
    assert masked[0][:6] == ["Queue no.", "House", "Contact", "Mobile", "People", "Status"]
    assert masked[1][1:6] == ["翠湖花园 1栋 1单元 0101", "张伟", "138****0001", 3, "Confirmed"]
    assert masked[2][1:6] == [
        "翠湖花园 1栋 1单元 0102",
        "李娜",
        "138****0002",
        2,
        "On the waitlist",
    ]
    assert masked[2][9] == "电话报名"
    full = rows("project_manager")  # people.view_sensitive
    assert full[1][3] == "13800000001"


# --- concurrency ---------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_households_never_take_the_last_place_twice(cast):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    activity = new_activity(cast, capacity=2)
    barrier = threading.Barrier(2)
    results_seen = []

    def attempt(name, house):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            signup = services.sign_up(
                actor=cast.actor(name), activity=activity, house=house, party_size=2
            )
            results_seen.append(signup.status)
        finally:
            thread_connection.close()

    threads = [
        threading.Thread(target=attempt, args=("resident_a", cast.house_a)),
        threading.Thread(target=attempt, args=("resident_b", cast.house_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results_seen) == [C, W]
    activity = assert_counters(activity)
    assert activity.confirmed_people == 2 and activity.waitlisted_people == 2


# --- console --------------------------------------------------------------------------------
def test_console_pages(cast):
    activity = new_activity(cast, capacity=3)
    services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=3
    )
    y = new_activity(cast, community=cast.community_y, title="锦绣苑重阳")
    manager = cast.client("project_manager")
    page = manager.get(reverse("activities:list")).content.decode()
    assert "中秋游园会" in page and "锦绣苑重阳" not in page
    assert "锦绣苑重阳" in cast.client("manager_y").get(reverse("activities:list")).content.decode()
    detail = manager.get(reverse("activities:detail", args=[activity.pk]))
    assert detail.status_code == 200
    assert "13800000001" in detail.content.decode()  # people.view_sensitive
    desk = cast.client("dispatcher").get(reverse("activities:detail", args=[activity.pk]))
    assert "138****0001" in desk.content.decode() and "13800000001" not in desk.content.decode()
    assert (
        cast.client("manager_y").get(reverse("activities:detail", args=[activity.pk])).status_code
        == 404
    )
    assert cast.client("technician").get(reverse("activities:list")).status_code == 403
    assert manager.get(reverse("activities:detail", args=[y.pk])).status_code == 404

    # Create through the form.
    now = timezone.localtime() + datetime.timedelta(days=10)
    fmt = "%Y-%m-%dT%H:%M"
    response = manager.post(
        reverse("activities:create"),
        {
            "community": cast.community_x.pk,
            "title": "重阳登高",
            "place": "南门",
            "starts_at": now.strftime(fmt),
            "ends_at": (now + datetime.timedelta(hours=2)).strftime(fmt),
            "capacity": "30",
            "max_party_size": "2",
            "signup_deadline": (now - datetime.timedelta(days=1)).strftime(fmt),
            "cancel_deadline": (now - datetime.timedelta(days=1)).strftime(fmt),
        },
    )
    created = Activity.objects.get(title="重阳登高")
    assert response.status_code == 302 and created.status == "draft"
    bad = manager.post(
        reverse("activities:edit", args=[created.pk]),
        {
            "title": "重阳登高",
            "place": "南门",
            "starts_at": now.strftime(fmt),
            "ends_at": (now - datetime.timedelta(hours=2)).strftime(fmt),
            "capacity": "30",
            "max_party_size": "2",
            "signup_deadline": now.strftime(fmt),
            "cancel_deadline": now.strftime(fmt),
        },
    )
    assert bad.status_code == 200 and "must end after it starts" in bad.content.decode()
    assert manager.post(reverse("activities:open", args=[created.pk])).status_code == 302
    assert Activity.objects.get(pk=created.pk).status == "open"

    # The front desk signs house B up by building and number: waitlisted (3 of 3 taken).
    desk = cast.client("dispatcher")
    response = desk.post(
        reverse("activities:signup_create", args=[activity.pk]),
        {
            "building": cast.building_x1.pk,
            "unit": cast.unit_x1.pk,
            "number": "0102",
            "party_size": "2",
            "contact_name": "李娜",
            "contact_mobile": "13800000002",
        },
    )
    assert response.status_code == 302
    assert Signup.objects.get(house=cast.house_b).status == W
    again = desk.post(
        reverse("activities:signup_create", args=[activity.pk]),
        {
            "building": cast.building_x1.pk,
            "number": "0102",
            "party_size": "1",
            "contact_name": "李",
        },
    )
    assert again.status_code == 200 and "already signed up" in again.content.decode()
    assert Signup.objects.filter(house=cast.house_b).count() == 1

    # Export.
    response = manager.get(reverse("activities:export", args=[activity.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    # Poster.
    poster = manager.get(reverse("activities:poster", args=[activity.pk]))
    assert poster["Content-Type"] == "application/pdf" and poster.content.startswith(b"%PDF")
    # Cancel with a reason; an empty reason is refused.
    assert (
        manager.post(reverse("activities:cancel", args=[activity.pk]), {"reason": ""}).status_code
        == 400
    )
    assert refresh(activity).status == "open"
    manager.post(reverse("activities:cancel", args=[activity.pk]), {"reason": "下雨"})
    assert refresh(activity).status == "cancelled"


def test_check_in_page(cast):
    activity = new_activity(cast)
    signup = services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=3
    )
    url = reverse("activities:checkin", args=[signup.code])
    desk = cast.client("dispatcher")
    page = desk.get(url)
    assert page.status_code == 200 and "翠湖花园 1栋 1单元 0101" in page.content.decode()
    assert desk.post(url, {"attended_people": "5"}).status_code == 400
    assert desk.post(url, {"attended_people": "2"}).status_code == 302
    assert Signup.objects.get(pk=signup.pk).attended_people == 2
    again = desk.post(url, {"attended_people": "3"})
    assert Signup.objects.get(pk=signup.pk).attended_people == 2
    assert again.status_code in (200, 400)
    assert cast.client("manager_y").get(url).status_code == 404
    assert cast.client("resident_a").get(url).status_code == 403
    entry = desk.get(reverse("activities:checkin_entry"), {"code": f"https://x/y/{signup.code}/"})
    assert entry.status_code == 302 and entry.url == url
    assert desk.get(reverse("activities:checkin", args=["nope"])).status_code == 404


# --- resident H5 ----------------------------------------------------------------------------
def test_resident_pages(cast):
    activity = new_activity(cast, capacity=3)
    draft = new_activity(cast, open_it=False, title="草稿活动")
    y = new_activity(cast, community=cast.community_y, title="锦绣苑重阳")
    a = cast.client("resident_a")
    page = a.get(reverse("activities_resident:list")).content.decode()
    assert "中秋游园会" in page and "草稿活动" not in page and "锦绣苑重阳" not in page
    assert a.get(reverse("activities_resident:detail", args=[draft.pk])).status_code == 404
    assert a.get(reverse("activities_resident:detail", args=[y.pk])).status_code == 404
    other = cast.client("other_resident")
    assert other.get(reverse("activities_resident:detail", args=[activity.pk])).status_code == 404

    response = a.post(
        reverse("activities_resident:detail", args=[activity.pk]),
        {"house": cast.house_a.pk, "party_size": "3"},
    )
    signup = Signup.objects.get(house=cast.house_a)
    assert response.status_code == 302
    assert response.url == reverse("activities_resident:ticket", args=[signup.pk])
    twice = a.post(
        reverse("activities_resident:detail", args=[activity.pk]),
        {"house": cast.house_a.pk, "party_size": "1"},
    )
    assert twice.status_code == 400 and "already signed up" in twice.content.decode()
    ticket = a.get(reverse("activities_resident:ticket", args=[signup.pk])).content.decode()
    assert "<svg" in ticket and signup.code in ticket
    # Neighbour B: the places are taken, so the waitlist.
    b = cast.client("resident_b")
    response = b.post(
        reverse("activities_resident:detail", args=[activity.pk]),
        {"house": cast.house_b.pk, "party_size": "2"},
    )
    assert response.status_code == 302
    assert Signup.objects.get(house=cast.house_b).status == W
    assert b.get(reverse("activities_resident:ticket", args=[signup.pk])).status_code == 404
    assert b.post(reverse("activities_resident:cancel", args=[signup.pk])).status_code == 404
    assert "No. 1 in line" in b.get(reverse("activities_resident:mine")).content.decode()
    # A cancels: B moves up.
    assert a.post(reverse("activities_resident:cancel", args=[signup.pk])).status_code == 302
    assert Signup.objects.get(house=cast.house_b).status == C
    assert cast.client("dispatcher").get(reverse("activities_resident:list")).status_code == 403


# --- API ------------------------------------------------------------------------------------
def api_plan(cast, **overrides):
    values = plan(**overrides)
    return {"community_id": cast.community_x.pk, **values}


def test_api_staff_flow(cast):
    manager = bearer_client(cast.users["project_manager"])
    body = api_plan(cast)
    response = post(manager, "/activities", body, **{KEY: "a-1"})
    assert response.status_code == 201, response.content
    activity_id = response.json()["id"]
    again = post(manager, "/activities", body, **{KEY: "a-1"})
    assert again.json()["id"] == activity_id and Activity.objects.count() == 1
    bad = post(manager, "/activities", api_plan(cast, capacity=2, max_party_size=3))
    assert bad.status_code in (400, 422)
    assert Activity.objects.count() == 1
    assert post(cast.client("manager_y"), "/activities", api_plan(cast)).status_code == 400
    response = patch(manager, f"/activities/{activity_id}", {"capacity": 5})
    assert response.status_code == 200 and response.json()["capacity"] == 5
    assert post(manager, f"/activities/{activity_id}/open").json()["status"] == "open"

    resident = bearer_client(cast.users["resident_a"])
    response = post(
        resident,
        f"/activities/{activity_id}/signups",
        {"house_id": cast.house_a.pk, "party_size": 4},
    )
    assert response.status_code == 201, response.content
    mine = response.json()
    assert (
        mine["status"] == "confirmed" and mine["code"] and mine["contact_mobile"] == "13800000001"
    )
    twice = post(
        resident,
        f"/activities/{activity_id}/signups",
        {"house_id": cast.house_a.pk, "party_size": 1},
    )
    assert twice.status_code == 400 and "house" in twice.json()["detail"]
    desk = bearer_client(cast.users["dispatcher"])
    response = post(
        desk,
        f"/activities/{activity_id}/signups",
        {"house_id": cast.house_b.pk, "party_size": 2, "contact_name": "李娜"},
    )
    assert response.status_code == 201 and response.json()["status"] == "waitlisted"
    assert response.json()["waitlist_position"] == 1 and response.json()["code"] is None

    rows = results(get(desk, f"/activities/{activity_id}/participants"))
    assert [r["status"] for r in rows] == ["confirmed", "waitlisted"]
    assert rows[0]["contact_mobile"] == "138****0001"
    waiting = results(
        get(desk, f"/activities/{activity_id}/participants", {"status": "waitlisted"})
    )
    assert [r["house_id"] for r in waiting] == [cast.house_b.pk]
    figures = get(manager, f"/activities/{activity_id}/figures").json()
    assert figures["confirmed_people"] == 4 and figures["waitlisted_people"] == 2

    response = post(
        desk, "/activities/signups/check-in", {"code": mine["code"], "attended_people": 3}
    )
    assert response.status_code == 200 and response.json()["attended_people"] == 3
    assert post(desk, "/activities/signups/check-in", {"code": mine["code"]}).status_code == 400
    assert post(desk, "/activities/signups/check-in", {"code": "nope"}).status_code == 400
    other = bearer_client(cast.users["manager_y"])
    assert get(other, f"/activities/{activity_id}/participants").status_code == 404
    assert get(resident, f"/activities/{activity_id}/participants").status_code == 404

    response = post(manager, f"/activities/{activity_id}/cancel", {"reason": "下雨"})
    assert response.json()["status"] == "cancelled"


def test_api_resident_list_and_cancel(cast):
    activity = new_activity(cast, capacity=2)
    new_activity(cast, open_it=False, title="草稿")
    y = new_activity(cast, community=cast.community_y, title="Y")
    a = bearer_client(cast.users["resident_a"])
    assert ids(get(a, "/activities")) == {activity.pk}
    assert ids(get(bearer_client(cast.users["other_resident"]), "/activities")) == set()
    assert get(a, f"/activities/{y.pk}").status_code == 404
    signup = post(
        a, f"/activities/{activity.pk}/signups", {"house_id": cast.house_a.pk, "party_size": 2}
    ).json()
    b = bearer_client(cast.users["resident_b"])
    post(b, f"/activities/{activity.pk}/signups", {"house_id": cast.house_b.pk, "party_size": 1})
    assert [r["id"] for r in results(get(a, "/activities/signups/mine"))] == [signup["id"]]
    assert post(b, f"/activities/signups/{signup['id']}/cancel").status_code == 404
    response = post(a, f"/activities/signups/{signup['id']}/cancel", {"reason": ""})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Signup.objects.get(house=cast.house_b).status == C
    staff_ids = ids(get(bearer_client(cast.users["quality"]), "/activities"))
    assert staff_ids == {activity.pk, y.pk} | set(
        Activity.objects.filter(title="草稿").values_list("pk", flat=True)
    )
