"""Layouts, the home redirect per role, the console, field and resident homes,
the language switch and the Django admin."""

import datetime
import re

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from wuye.people.models import Residency, Resident
from wuye.staff import services as staff_services
from wuye.staff.models import StaffMember

CONSOLE = ["company_admin", "project_manager", "dispatcher", "finance", "quality", "manager_y"]
FIELD = ["technician", "guard", "cleaner", "gardener", "technician_y"]
RESIDENT = ["resident_a", "resident_b", "other_resident"]


def test_anonymous_home_goes_to_login(db, client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("who", "home"),
    [(name, "/console/") for name in [*CONSOLE, "other_admin"]]
    + [(name, "/m/") for name in FIELD]
    + [(name, "/h5/") for name in [*RESIDENT, "nobody"]],
)
def test_home_redirects_each_cast_member(cast, who, home):
    client = cast.client(who)
    response = client.get("/")
    assert response.status_code == 302 and response.url == home
    assert client.get(home).status_code == 200


@pytest.mark.parametrize("path", ["/console/", "/m/", "/h5/", "/accounts/profile/"])
def test_pages_need_sign_in(db, client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


# --- console home --------------------------------------------------------------
def _counts(response) -> dict[str, int]:
    counts = {key: value for key, value, _url in response.context["counts"]}
    for value in counts.values():
        assert f'stat-value">{value}</span>' in response.text
    return counts


def test_console_counts_company_wide(cast):
    response = cast.client("company_admin").get("/console/")
    html = response.text
    assert response.status_code == 200
    assert cast.company.name in html and cast.other_company.name not in html
    assert _counts(response) == {
        "communities": 2,
        "buildings": 2,
        "houses": 3,
        "residents": 2,
        "staff": StaffMember.objects.filter(company=cast.company).count(),
    }
    assert "翠湖花园" in html and "锦绣苑" in html and "他山小区" not in html


def test_console_counts_scoped_to_own_communities(cast):
    response = cast.client("manager_y").get("/console/")
    html = response.text
    counts = _counts(response)
    assert counts["communities"] == 1 and counts["buildings"] == 1 and counts["houses"] == 1
    assert counts["residents"] == 0  # nobody lives in Y's house
    assert "锦绣苑" in html and "翠湖花园" not in html


def test_console_hides_counts_and_links_without_permission(cast):
    response = cast.client("finance").get("/console/")  # no staff.view
    html = response.text
    assert "staff" not in _counts(response)
    assert reverse("staff:member_list") not in html
    assert reverse("estates:tree") in html
    dispatcher = cast.client("dispatcher").get("/console/").text
    assert reverse("staff:member_list") in dispatcher
    assert reverse("people:resident_list") in dispatcher
    assert reverse("imports:job_list") in dispatcher


@pytest.mark.parametrize("who", ["resident_a", "nobody"])
def test_console_is_forbidden_to_non_staff(cast, who):
    assert cast.client(who).get("/console/").status_code == 403


def test_other_company_admin_sees_only_their_company(cast):
    html = cast.client("other_admin").get("/console/").text
    assert cast.other_company.name in html and cast.company.name not in html
    assert "翠湖花园" not in html


# --- field staff ---------------------------------------------------------------
@pytest.fixture
def day_shift(cast):
    return staff_services.create_shift(
        actor=cast.actor("company_admin"),
        name="白班",
        start_time=datetime.time(8),
        end_time=datetime.time(17),
    )


def test_field_home_shows_communities_and_todays_shift(cast, day_shift):
    today = timezone.localdate()
    manager = cast.actor("company_admin")
    member = cast.staff["technician"]
    staff_services.assign_shift(
        actor=manager, member=member, date=today, shift=day_shift, community=cast.community_x
    )
    staff_services.assign_shift(
        actor=manager,
        member=member,
        date=today + datetime.timedelta(days=2),
        shift=day_shift,
        community=cast.community_x,
    )
    # A colleague's shift today is not "mine".
    staff_services.assign_shift(
        actor=manager,
        member=cast.staff["technician_y"],
        date=today,
        shift=day_shift,
        community=cast.community_y,
    )
    response = cast.client("technician").get("/m/")
    assert response.status_code == 200
    assert response.context["today_entries"][0].shift == day_shift
    assert len(response.context["today_entries"]) == 1
    assert len(response.context["later_entries"]) == 1
    html = response.text
    assert "白班" in html and "08:00" in html
    assert "翠湖花园" in html and "锦绣苑" not in html


def test_field_home_without_shift_says_so(cast):
    client = cast.client("technician")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/m/")
    assert response.context["today_entries"] == []
    assert "No shift today." in response.text
    assert cast.staff["technician"].name in response.text


def test_duty_toggle_with_htmx(cast):
    client = cast.client("technician")
    member = cast.staff["technician"]
    assert member.status == StaffMember.Status.ON_DUTY
    response = client.post(
        reverse("web:field_duty"), {"status": "off_duty"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="duty"' in response.text
    member.refresh_from_db()
    assert member.status == StaffMember.Status.OFF_DUTY
    response = client.post(reverse("web:field_duty"), {"status": "on_duty"})
    assert response.status_code == 302 and response.url == reverse("web:field_home")
    member.refresh_from_db()
    assert member.status == StaffMember.Status.ON_DUTY


@pytest.mark.parametrize("status", ["", "sleeping", "ON_DUTY"])
def test_duty_toggle_bad_status_is_400(cast, status):
    response = cast.client("technician").post(reverse("web:field_duty"), {"status": status})
    assert response.status_code == 400
    assert StaffMember.objects.get(pk=cast.staff["technician"].pk).status == "on_duty"


def test_duty_toggle_refused_to_non_staff(cast):
    client = cast.client("resident_a")
    assert client.post(reverse("web:field_duty"), {"status": "off_duty"}).status_code == 403
    assert client.get(reverse("web:field_duty")).status_code == 405
    assert client.get("/m/").status_code == 403


# --- resident H5 ---------------------------------------------------------------
def test_resident_home_shows_only_own_household(cast):
    cast.community_x.service_phone = "0571-88880001"
    cast.community_x.save(update_fields=["service_phone"])
    spouse = Resident.objects.create(company=cast.company, name="王静", mobile="13811112222")
    Residency.objects.create(resident=spouse, house=cast.house_a, relation="family")
    moved_out = Resident.objects.create(company=cast.company, name="旧租客", mobile="13833334444")
    Residency.objects.create(
        resident=moved_out,
        house=cast.house_a,
        relation="tenant",
        move_in=datetime.date(2020, 1, 1),
        move_out=datetime.date(2021, 1, 1),
    )

    response = cast.client("resident_a").get("/h5/")
    html = response.text
    assert response.status_code == 200
    assert cast.house_a.address in html
    assert str(Residency.Relation.OWNER.label) in html
    assert "王静" in html and "138****2222" in html and "13811112222" not in html
    assert "0571-88880001" in html
    # Not: the neighbour in the same building, the old tenant, other companies.
    assert "0102" not in html and cast.resident_b.name not in html
    assert "旧租客" not in html
    assert "他山" not in html and cast.other_resident.name not in html


def test_resident_b_does_not_see_resident_a(cast):
    html = cast.client("resident_b").get("/h5/").text
    assert cast.house_b.address in html
    assert "0101" not in html and cast.resident_a.name not in html


def test_unlinked_account_gets_a_friendly_page(cast):
    response = cast.client("nobody").get("/h5/")
    assert response.status_code == 200
    assert "web/unlinked.html" in [t.name for t in response.templates]
    assert cast.users["nobody"].display_name in response.text


def test_moved_out_resident_is_unlinked(cast):
    Residency.objects.filter(resident=cast.resident_a).update(
        move_in=datetime.date(2020, 1, 1), move_out=datetime.date(2021, 1, 1)
    )
    response = cast.client("resident_a").get("/h5/")
    assert response.status_code == 200
    assert "web/unlinked.html" in [t.name for t in response.templates]
    assert cast.house_a.address not in response.text


# --- layouts, navigation, language ---------------------------------------------
def test_layouts_include_assets_and_no_cdn(cast):
    for who, path in [
        ("dispatcher", "/console/"),
        ("resident_a", "/h5/"),
        (None, "/accounts/login/"),
    ]:
        html = cast.client(who).get(path).text
        assert "/static/css/wuye.css" in html and "/static/vendor/htmx.min.js" in html
        assert not re.search(r'(src|href)="https?://', html)


def test_nav_link_marks_the_current_section():
    request = RequestFactory().get("/console/estates/houses/")
    template = Template(
        '{% load wuye_web %}{% nav_link "estates:tree" "E" %}|{% nav_link "web:console" "C" '
        "exact=True %}"
    )
    estates, console = template.render(Context({"request": request})).split("|")
    assert "current" in estates and 'href="/console/estates/"' in estates
    assert "current" not in console and 'href="/console/"' in console
    roster = RequestFactory().get("/console/staff/roster/")
    template = Template(
        '{% load wuye_web %}{% nav_link "staff:member_list" "S" not_under="staff:roster" %}|'
        '{% nav_link "staff:roster" "R" %}'
    )
    staff, roster_link = template.render(Context({"request": roster})).split("|")
    assert "current" not in staff and "current" in roster_link


def test_default_language_is_chinese(cast):
    html = cast.client(None).get("/accounts/login/").text
    assert '<html lang="zh-hans">' in html
    assert "密码" in html  # Django's own "Password" label, translated


def test_language_switch_renders_english(cast):
    client = cast.client("dispatcher")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/console/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/console/"
    html = response.text
    assert '<html lang="en">' in html
    assert "Sign out" in html and "Communities" in html
    # And back to Chinese.
    html = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "/console/"}, follow=True
    ).text
    assert '<html lang="zh-hans">' in html


def test_language_switch_on_mobile_and_login(cast):
    client = cast.client(None)
    html = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True
    ).text
    assert '<html lang="en">' in html and "Password" in html and "密码" not in html
    resident = cast.client("resident_a")
    html = resident.post("/i18n/setlang/", {"language": "en", "next": "/h5/"}, follow=True).text
    assert '<html lang="en">' in html and "My home" in html


# --- Django admin --------------------------------------------------------------
ADMIN_MODELS = [
    "accounts/user",
    "accounts/apitoken",
    "accounts/smscode",
    "estates/company",
    "estates/community",
    "estates/building",
    "estates/unit",
    "estates/house",
    "estates/commonarea",
    "people/resident",
    "people/residency",
    "staff/role",
    "staff/trade",
    "staff/staffmember",
    "staff/shift",
    "staff/rosterentry",
    "core/periodictick",
    "core/idempotencykey",
]


@pytest.fixture
def admin_client(cast, client):
    user = make_user("root")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelists_and_search(admin_client, model):
    url = f"/admin/{model}/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "翠湖"}).status_code == 200


def test_admin_masks_resident_ids_in_the_list(admin_client, cast):
    html = admin_client.get("/admin/people/resident/").text
    assert "110101199001011234" not in html and "1101**********1234" in html
    assert "13800000001" not in html


def test_admin_house_form_uses_id_fields(admin_client, cast):
    html = admin_client.get(f"/admin/estates/house/{cast.house_a.pk}/change/").text
    assert 'class="vForeignKeyRawIdAdminField"' in html
    assert "<option" not in html.split('name="unit"')[1].split(">")[0]


def test_admin_is_closed_to_console_users(cast):
    response = cast.client("company_admin").get("/admin/")
    assert response.status_code == 302


def test_denials_use_the_app_pages(cast):
    forbidden = cast.client("resident_a").get("/console/")
    assert forbidden.status_code == 403
    assert "/static/css/wuye.css" in forbidden.text and 'href="/"' in forbidden.text
    missing = cast.client("resident_a").get("/no/such/page/")
    assert missing.status_code == 404
    assert "/static/css/wuye.css" in missing.text


def test_server_error_page_renders_without_context():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "<h1>" in html and 'href="/"' in html


def test_resident_home_queries_do_not_grow_with_household(cast, django_assert_max_num_queries):
    client = cast.client("resident_a")
    client.get("/h5/")  # warm the session
    for i in range(6):
        member = Resident.objects.create(
            company=cast.company, name=f"家人{i}", mobile=f"1380000010{i}"
        )
        Residency.objects.create(resident=member, house=cast.house_a, relation="family")
    with django_assert_max_num_queries(8):  # 6 + the urgent notices and the unread count
        response = client.get("/h5/")
    assert response.text.count("138****010") == 6


def test_console_home_query_count_is_fixed(cast, django_assert_max_num_queries):
    client = cast.client("company_admin")
    client.get("/console/")
    with django_assert_max_num_queries(13):
        assert client.get("/console/").status_code == 200
