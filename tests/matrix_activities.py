"""Access-matrix rows for activities (see the loader at the end of test_access_matrix.py).

The fixtures: an open activity of community X (capacity 20) with resident A's house
signed up for 2 people, a draft of X, and an open activity of X that has started (for
the recap). Every cell runs in a rolled-back transaction, so each helper finds or makes
its row."""

import datetime

from django.urls import reverse
from django.utils import timezone

OPEN_TITLE, DRAFT_TITLE, STARTED_TITLE = "矩阵中秋活动", "矩阵草稿活动", "矩阵已开始活动"


def _plan(**overrides):
    now = timezone.now()
    values = {
        "place": "中心花园",
        "starts_at": now + datetime.timedelta(days=7),
        "ends_at": now + datetime.timedelta(days=7, hours=3),
        "capacity": 20,
        "max_party_size": 4,
        "signup_deadline": now + datetime.timedelta(days=6),
        "cancel_deadline": now + datetime.timedelta(days=6),
    }
    values.update(overrides)
    return values


def _make(cast, title, *, open_it=True):
    from wuye.activities import services
    from wuye.activities.models import Activity

    found = Activity.objects.filter(title=title).first()
    if found is not None:
        return found
    manager = cast.actor("project_manager")
    activity = services.create_activity(
        actor=manager, community=cast.community_x, title=title, **_plan()
    )
    if open_it:
        activity = services.open_activity(actor=manager, activity=activity)
    return activity


def _activity(cast):
    return _make(cast, OPEN_TITLE)


def _draft(cast):
    return _make(cast, DRAFT_TITLE, open_it=False)


def _started(cast):
    from wuye.activities.models import Activity

    activity = _make(cast, STARTED_TITLE)
    past = timezone.now() - datetime.timedelta(hours=1)
    Activity.objects.filter(pk=activity.pk).update(
        starts_at=past, signup_deadline=past, cancel_deadline=past
    )
    return activity


def _signup(cast):
    """Resident A's sign-up (house A, 2 people) for the open activity."""
    from wuye.activities import services
    from wuye.activities.models import Signup

    activity = _activity(cast)
    found = Signup.objects.filter(activity=activity, house=cast.house_a).first()
    if found is not None:
        return found
    return services.sign_up(
        actor=cast.actor("resident_a"), activity=activity, house=cast.house_a, party_size=2
    )


def _form_fields(cast, n):
    fmt = "%Y-%m-%dT%H:%M"
    values = _plan()
    data = {"community": cast.community_x.pk, "title": f"矩阵活动{n}"}
    for key, value in values.items():
        data[key] = timezone.localtime(value).strftime(fmt) if hasattr(value, "hour") else value
    return data


def _api_plan(cast, n):
    values = {k: v.isoformat() if hasattr(v, "hour") else v for k, v in _plan().items()}
    return {"community_id": cast.community_x.pk, "title": f"矩阵活动{n}", **values}


def rows(m):
    view_x = m.either(
        m.staff_may("engagement.view"),
        m.staff_may("engagement.assist"),
        m.staff_may("engagement.manage"),
    )
    manage_x = m.staff_may("engagement.manage")
    assist_x = m.staff_may("engagement.assist")
    door_x = m.either(assist_x, manage_x)
    door_anywhere = m.either(m.staff_has("engagement.assist"), m.staff_has("engagement.manage"))
    x_residents = m.only("resident_a", "resident_b")

    pages = {
        "activities:list": m.page(
            "activities:list",
            view_x,
            target=lambda c: reverse("activities:detail", args=[_activity(c).id]),
        ),
        "activities:create": m.page(
            "activities:create", manage_x, data=lambda c, n: _form_fields(c, m._n(n))
        ),
        "activities:detail": m.page(
            "activities:detail", view_x, args=lambda c: [_signup(c).activity_id]
        ),
        "activities:edit": m.page(
            "activities:edit",
            manage_x,
            args=lambda c: [_activity(c).id],
            data=lambda c, n: _form_fields(c, m._n(n)),
        ),
        "activities:open": m.page(
            "activities:open", manage_x, args=lambda c: [_draft(c).id], data=lambda c, n: {}
        ),
        "activities:cancel": m.page(
            "activities:cancel",
            manage_x,
            args=lambda c: [_signup(c).activity_id],
            data=lambda c, n: {"reason": "矩阵取消"},
        ),
        "activities:recap": m.page(
            "activities:recap",
            manage_x,
            args=lambda c: [_started(c).id],
            data=lambda c, n: {"recap": f"矩阵回顾{m._n(n)}"},
        ),
        "activities:export": m.page(
            "activities:export", view_x, args=lambda c: [_signup(c).activity_id]
        ),
        "activities:poster": m.page("activities:poster", view_x, args=lambda c: [_activity(c).id]),
        "activities:signup_create": m.page(
            "activities:signup_create",
            assist_x,
            args=lambda c: [_activity(c).id],
            data=lambda c, n: {
                "building": c.building_x1.id,
                "unit": c.unit_x1.id,
                "number": "0102",
                "party_size": "2",
                "contact_name": "李娜",
                "contact_mobile": "13800000002",
            },
        ),
        "activities:signup_cancel": m.page(
            "activities:signup_cancel",
            door_x,
            args=lambda c: [_signup(c).id],
            data=lambda c, n: {"reason": "电话取消"},
        ),
        "activities:checkin_entry": m.page("activities:checkin_entry", door_anywhere),
        "activities:checkin": m.Case(
            "POST",
            lambda c: reverse("activities:checkin", args=[_signup(c).code]),
            door_x,
            data=lambda c, n: {"attended_people": "2"},
        ),
        # Resident H5.
        "activities_resident:list": m.page(
            "activities_resident:list",
            x_residents,
            target=lambda c: reverse("activities_resident:detail", args=[_activity(c).id]),
        ),
        "activities_resident:detail": m.page(
            "activities_resident:detail", x_residents, args=lambda c: [_activity(c).id]
        ),
        "activities_resident:mine": m.page(
            "activities_resident:mine",
            m.only("resident_a"),
            target=lambda c: reverse("activities_resident:ticket", args=[_signup(c).id]),
        ),
        "activities_resident:ticket": m.page(
            "activities_resident:ticket", m.only("resident_a"), args=lambda c: [_signup(c).id]
        ),
        "activities_resident:cancel": m.page(
            "activities_resident:cancel",
            m.only("resident_a"),
            args=lambda c: [_signup(c).id],
            data=lambda c, n: {},
        ),
    }

    def api(path):
        return m._api(path)

    operations = {
        "wuye_activities_api_list_activities": m.op(
            "GET",
            api(lambda c: "/activities"),
            m.either(view_x, x_residents),
            target=lambda c: _activity(c).id,
        ),
        "wuye_activities_api_get_activity": m.op(
            "GET",
            api(lambda c: f"/activities/{_activity(c).id}"),
            m.either(view_x, x_residents),
        ),
        "wuye_activities_api_create_activity": m.op(
            "POST", api(lambda c: "/activities"), manage_x, data=lambda c, n: _api_plan(c, m._n(n))
        ),
        "wuye_activities_api_update_activity": m.op(
            "PATCH",
            api(lambda c: f"/activities/{_activity(c).id}"),
            manage_x,
            data=lambda c, n: {"title": f"矩阵改名{m._n(n)}"},
        ),
        "wuye_activities_api_open_activity": m.op(
            "POST",
            api(lambda c: f"/activities/{_draft(c).id}/open"),
            manage_x,
            data=lambda c, n: {},
        ),
        "wuye_activities_api_cancel_activity": m.op(
            "POST",
            api(lambda c: f"/activities/{_signup(c).activity_id}/cancel"),
            manage_x,
            data=lambda c, n: {"reason": "矩阵取消"},
        ),
        "wuye_activities_api_activity_figures": m.op(
            "GET", api(lambda c: f"/activities/{_signup(c).activity_id}/figures"), view_x
        ),
        "wuye_activities_api_list_participants": m.op(
            "GET", api(lambda c: f"/activities/{_signup(c).activity_id}/participants"), view_x
        ),
        "wuye_activities_api_sign_up": m.op(
            "POST",
            api(lambda c: f"/activities/{_activity(c).id}/signups"),
            m.either(x_residents, assist_x),
            data=lambda c, n: {
                "house_id": (c.house_a if n == "resident_a" else c.house_b).id,
                "party_size": 1,
                "contact_name": "矩阵",
            },
        ),
        "wuye_activities_api_my_signups": m.op(
            "GET",
            api(lambda c: "/activities/signups/mine"),
            m.only("resident_a"),
            target=lambda c: _signup(c).id,
        ),
        "wuye_activities_api_cancel_signup": m.op(
            "POST",
            api(lambda c: f"/activities/signups/{_signup(c).id}/cancel"),
            m.either(m.only("resident_a"), door_x),
            data=lambda c, n: {"reason": ""},
        ),
        "wuye_activities_api_check_in": m.op(
            "POST",
            api(lambda c: "/activities/signups/check-in"),
            door_x,
            data=lambda c, n: {"code": _signup(c).code, "attended_people": 1},
        ),
    }
    return pages, operations
