"""The notification centre page, the unread badge in both layouts, and the API."""

from urllib.parse import parse_qs, urlsplit

import pytest
from api_helpers import get, ids, post, results
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuye.notifications import views
from wuye.notifications.models import Notification

LIST = "/notifications/"


def make(user, n=1, prefix="通知", **fields):
    return [
        Notification.objects.create(
            recipient=user,
            kind="test.made",
            title=f"{prefix}{i}",
            dedupe_key=f"{prefix}:{i}",
            **fields,
        )
        for i in range(n)
    ]


def unread(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- the page -------------------------------------------------------------------------
def test_anonymous_is_sent_to_sign_in(cast):
    response = cast.client(None).get(LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("dispatcher", "console-shell"),
        ("company_admin", "console-shell"),
        ("technician", 'class="tabbar"'),
        ("resident_a", 'class="tabbar"'),
        ("nobody", 'class="tabbar"'),
    ],
)
def test_layout_follows_the_actors_home(cast, name, layout):
    make(cast.users[name], 1, prefix="我的通知")
    response = cast.client(name).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert layout in html
    assert "我的通知0" in html


def test_newest_first_unread_highlighted_others_absent(cast):
    user = cast.users["resident_a"]
    first, second = make(user, 2)
    second.read_at = second.created_at
    second.save()
    make(cast.users["resident_b"], 1, prefix="别人的")
    html = cast.client("resident_a").get(LIST).content.decode()
    assert html.index("通知1") < html.index("通知0")
    assert f'class="notification unread" id="notification-{first.id}"' in html
    assert f'class="notification" id="notification-{second.id}"' in html
    assert "别人的" not in html
    unread_only = cast.client("resident_a").get(LIST, {"show": "unread"}).content.decode()
    assert "通知0" in unread_only and "通知1" not in unread_only


def test_links_and_bodies_are_shown(cast):
    make(cast.users["resident_a"], 1, url="/h5/", body="<b>明天</b> 9:00 停水")
    html = cast.client("resident_a").get(LIST).content.decode()
    assert 'href="/h5/">通知0</a>' in html
    assert "&lt;b&gt;明天&lt;/b&gt; 9:00 停水" in html


def test_empty_states(cast):
    make(cast.users["resident_a"], 1, read_at="2026-01-01T00:00:00+08:00")
    client = cast.client("resident_a")
    everything = client.get(LIST).content.decode()
    assert 'class="notification-list"' in everything and 'class="empty"' not in everything
    only_unread = client.get(LIST, {"show": "unread"}).content.decode()
    assert 'class="notification-list"' not in only_unread and 'class="empty"' in only_unread
    assert reverse("notifications:read_all") not in only_unread


def test_keyset_pages(cast, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    notes = make(cast.users["dispatcher"], 5)
    client = cast.client("dispatcher")
    page1 = client.get(LIST)
    assert [n.title for n in page1.context["page"].items] == ["通知4", "通知3"]
    assert f"after={notes[3].id}" in page1.content.decode()
    page2 = client.get(LIST, {"after": notes[3].id})
    assert [n.title for n in page2.context["page"].items] == ["通知2", "通知1"]
    page3 = client.get(LIST, {"after": notes[1].id})
    assert [n.title for n in page3.context["page"].items] == ["通知0"]
    assert not page3.context["page"].has_next


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "١٢", "9" * 30])
def test_bad_cursor_is_400(cast, cursor):
    response = cast.client("dispatcher").get(LIST, {"after": cursor})
    assert response.status_code == 400
    assert "after" in response.content.decode()


def test_mark_one_read_with_htmx(cast):
    user = cast.users["resident_a"]
    note, _other = make(user, 2)
    response = cast.client("resident_a").post(
        reverse("notifications:read", args=[note.id]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'class="notification" id="notification-{note.id}"' in html
    assert reverse("notifications:read", args=[note.id]) not in html
    # The badge in the layout is updated out of band with the new count.
    assert 'id="notification-badge" hx-swap-oob="true"' in html
    assert ">1</span>" in html
    note.refresh_from_db()
    assert note.read_at is not None


def test_mark_one_read_without_htmx_redirects(cast):
    note = make(cast.users["resident_a"])[0]
    response = cast.client("resident_a").post(reverse("notifications:read", args=[note.id]))
    assert response.status_code == 302 and response.url == LIST
    assert unread(cast.users["resident_a"]) == 0


def test_someone_elses_notification_is_404_and_unchanged(cast):
    note = make(cast.users["resident_b"])[0]
    for name in ("resident_a", "company_admin", "other_admin"):
        response = cast.client(name).post(reverse("notifications:read", args=[note.id]))
        assert response.status_code == 404
    assert unread(cast.users["resident_b"]) == 1
    missing = cast.client("resident_a").post(reverse("notifications:read", args=[10**12]))
    assert missing.status_code == 404


def test_mark_read_needs_post(cast):
    note = make(cast.users["resident_a"])[0]
    response = cast.client("resident_a").get(reverse("notifications:read", args=[note.id]))
    assert response.status_code == 405
    assert unread(cast.users["resident_a"]) == 1


def test_mark_all_read_up_to_what_was_shown(cast):
    user = cast.users["technician"]
    shown = make(user, 3)
    client = cast.client("technician")
    page = client.get(LIST)
    assert f'name="up_to" value="{shown[-1].id}"' in page.content.decode()
    late = make(user, 1, prefix="刚到")[0]
    response = client.post(reverse("notifications:read_all"), {"up_to": shown[-1].id})
    assert response.status_code == 302
    assert unread(user) == 1
    late.refresh_from_db()
    assert late.read_at is None
    client.post(reverse("notifications:read_all"))
    assert unread(user) == 0


def test_mark_all_read_bad_input_changes_nothing(cast):
    user = cast.users["technician"]
    make(user, 2)
    response = cast.client("technician").post(reverse("notifications:read_all"), {"up_to": "x"})
    assert response.status_code == 400
    assert "up_to" in response.content.decode()
    assert unread(user) == 2


def test_mark_all_read_touches_only_ones_own(cast):
    make(cast.users["resident_a"], 2)
    make(cast.users["resident_b"], 2)
    cast.client("resident_a").post(reverse("notifications:read_all"))
    assert unread(cast.users["resident_a"]) == 0
    assert unread(cast.users["resident_b"]) == 2


# --- the badge ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "page"), [("dispatcher", "web:console"), ("resident_a", "web:resident_home")]
)
def test_badge_on_every_page_one_query(cast, name, page):
    make(cast.users[name], 3)
    client = cast.client(name)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse(page)).content.decode()
    assert f'href="{LIST}"' in html
    assert 'id="notification-badge"' in html and ">3</span>" in html
    hits = [q for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(hits) == 1


def test_badge_caps_at_99(cast):
    user = cast.users["dispatcher"]
    Notification.objects.bulk_create(
        Notification(recipient=user, kind="t.k", title="x", dedupe_key=str(i)) for i in range(120)
    )
    html = cast.client("dispatcher").get(reverse("web:console")).content.decode()
    assert ">99+</span>" in html


def test_badge_is_empty_without_unread(cast):
    html = cast.client("resident_a").get(reverse("accounts:profile")).content.decode()
    assert 'id="notification-badge"></span>' in html


# --- API ------------------------------------------------------------------------------
def test_api_list_newest_first_own_only(cast):
    mine = make(cast.users["resident_a"], 3)
    make(cast.users["resident_b"], 2, prefix="别人")
    rows = results(get(cast.client("resident_a"), "/notifications"))
    assert [r["id"] for r in rows] == [n.id for n in reversed(mine)]
    assert rows[0]["title"] == "通知2" and rows[0]["read_at"] is None
    assert ids(get(cast.client("company_admin"), "/notifications")) == set()


def test_api_list_unread_filter_and_cursor(cast):
    notes = make(cast.users["resident_a"], 5)
    notes[4].read_at = notes[4].created_at
    notes[4].save()
    client = cast.client("resident_a")
    assert ids(get(client, "/notifications", {"unread": "true"})) == {n.id for n in notes[:4]}
    page = get(client, "/notifications", {"page_size": 2}).json()
    assert [r["id"] for r in page["results"]] == [notes[4].id, notes[3].id]
    cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
    rest = get(client, "/notifications", {"page_size": 2, "cursor": cursor}).json()
    assert [r["id"] for r in rest["results"]] == [notes[2].id, notes[1].id]
    bad = get(client, "/notifications", {"cursor": "not-a-cursor"})
    assert bad.status_code == 422


def test_api_unread_count(cast):
    client = cast.client("technician")
    assert get(client, "/notifications/unread-count").json() == {"count": 0, "display": ""}
    make(cast.users["technician"], 4)
    assert get(client, "/notifications/unread-count").json() == {"count": 4, "display": "4"}
    assert get(cast.client(None), "/notifications/unread-count").status_code == 401


def test_api_mark_read(cast):
    note = make(cast.users["resident_a"])[0]
    response = post(cast.client("resident_a"), f"/notifications/{note.id}/read")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    other = make(cast.users["resident_b"])[0]
    assert post(cast.client("resident_a"), f"/notifications/{other.id}/read").status_code == 404
    assert unread(cast.users["resident_b"]) == 1
    assert post(cast.client("resident_a"), "/notifications/0/read").status_code == 422


def test_api_mark_all_read(cast):
    user = cast.users["resident_a"]
    notes = make(user, 3)
    client = cast.client("resident_a")
    response = post(client, f"/notifications/read-all?up_to_id={notes[1].id}")
    assert response.json() == {"marked": 2}
    assert unread(user) == 1
    # No body at all is fine too.
    assert client.post("/api/v1/notifications/read-all").json() == {"marked": 1}
    for bad in ("x", "0", str(2**63), "1%00"):
        assert post(client, f"/notifications/read-all?up_to_id={bad}").status_code == 422
    assert post(cast.client(None), "/notifications/read-all").status_code == 401
