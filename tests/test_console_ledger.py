"""Office console of the equipment ledger (issue 4, parts 1, 2 and 8): asset list with
filters, keyset pages, Excel export and QR label sheets; asset create/edit, status
changes and certificates; vendors; certificates across assets. Scoped by community and
company; bad input lands on the form and writes nothing."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from tests.facility_helpers import make_pump_round
from wuye.facilities import labels, rounds
from wuye.facilities import services as fac
from wuye.facilities.models import Asset, AssetCategory, Certificate, Downtime, Vendor
from wuye.workorders.models import WorkOrder

CST = datetime.timezone(datetime.timedelta(hours=8))
TODAY = datetime.date(2026, 11, 30)
NOW = datetime.datetime(2026, 11, 30, 9, 30, tzinfo=CST)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code="elevator", company=None):
    return AssetCategory.objects.get(company=company or cast.company, code=code)


def asset(cast, community=None, code="elevator", name="1号客梯", **fields):
    return fac.create_asset(
        actor=cast.actor("company_admin"),
        community=community or cast.community_x,
        category=category(cast, code),
        name=name,
        **fields,
    )


def other_asset(cast):
    return fac.create_asset(
        actor=cast.actor("other_admin"),
        community=cast.other_community,
        category=category(cast, company=cast.other_company),
        name="他山客梯",
    )


def vendor(cast, name="奥的斯电梯", company=None):
    return Vendor.objects.create(company=company or cast.company, name=name, contract_no="HT-001")


def certificate(item, expires_on, kind="elevator", **fields):
    return Certificate.objects.create(asset=item, kind=kind, expires_on=expires_on, **fields)


def get(cast, who, name, *args, **params):
    return cast.client(who).get(reverse(name, args=args), params)


def post(cast, who, name, *args, data):
    return cast.client(who).post(reverse(name, args=args), data)


def workbook_rows(response) -> list[tuple]:
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


# --- the asset list -------------------------------------------------------------------------
def test_the_asset_list_shows_each_actor_their_communities_only(cast):
    x, y, o = asset(cast), asset(cast, cast.community_y, name="Y客梯"), other_asset(cast)
    expectations = {
        "project_manager": {x},
        "dispatcher": {x},
        "quality": {x, y},
        "company_admin": {x, y},
        "manager_y": {y},
        "other_admin": {o},
    }
    for who, seen in expectations.items():
        response = get(cast, who, "ledger:asset_list")
        assert response.status_code == 200, who
        shown = {
            a for a in (x, y, o) if f">{a.code}</a>" in response.text and a.name in response.text
        }
        assert shown == seen, who
    for who in ("technician", "guard", "finance", "resident_a", "nobody"):
        assert get(cast, who, "ledger:asset_list").status_code == 403, who
    assert get(cast, None, "ledger:asset_list").status_code == 302


def test_the_asset_list_searches_and_filters(cast):
    otis = vendor(cast)
    lift = asset(cast, brand="奥的斯", serial_no="SN-77", vendor=otis)
    pump = asset(cast, code="water_pump", name="生活水泵", importance="critical")
    fac.change_status(
        actor=cast.actor("company_admin"), asset=pump, status="repairing", reason="漏水"
    )
    certificate(lift, TODAY + datetime.timedelta(days=20))

    def codes(**params):
        response = get(cast, "project_manager", "ledger:asset_list", **params)
        return {a.code for a in (lift, pump) if f">{a.code}</a>" in response.text}

    assert codes() == {lift.code, pump.code}
    assert codes(q="奥的斯") == codes(q="sn-7") == codes(q="DT-") == {lift.code}
    assert codes(q="水泵") == {pump.code}
    assert codes(status="repairing") == codes(importance="critical") == {pump.code}
    assert codes(category=category(cast).pk) == codes(vendor=otis.pk) == {lift.code}
    assert codes(certificate_due="on") == {lift.code}
    # renewed for another year: last year's certificate no longer counts as due
    certificate(lift, TODAY + datetime.timedelta(days=385))
    assert codes(certificate_due="on") == set()
    assert codes(community=cast.community_y.pk) == set()
    bad = get(cast, "project_manager", "ledger:asset_list", status="broken")
    assert bad.status_code == 200 and "Correct the filters" in bad.text


def test_the_asset_list_pages_by_keyset(cast, django_assert_max_num_queries):
    for n in range(55):
        asset(cast, name=f"灯{n:02d}", code="lighting")
    client = cast.client("project_manager")
    # 14: the page's ids, then its rows with their joins (wuye.core.keyset).
    with django_assert_max_num_queries(14):
        first = client.get(
            reverse("ledger:asset_list"), {"category": category(cast, "lighting").pk}
        )
    assert first.text.count('name="ids"') == 50 and 'rel="next"' in first.text
    cursor = first.context["page"].next_after
    second = client.get(
        reverse("ledger:asset_list"), {"category": category(cast, "lighting").pk, "after": cursor}
    )
    assert second.text.count('name="ids"') == 5 and 'rel="next"' not in second.text


# --- Excel export -------------------------------------------------------------------------
def test_the_ledger_export_has_the_filtered_rows_with_every_column(cast):
    otis = vendor(cast)
    lift = asset(
        cast,
        building=cast.building_x1,
        common_area=cast.community_x.common_areas.first(),
        vendor=otis,
        serial_no="0077",
        installed_on=datetime.date(2020, 5, 1),
        warranty_until=datetime.date(2027, 5, 1),
    )
    fac.change_status(
        actor=cast.actor("company_admin"), asset=lift, status="stopped", reason="年检"
    )
    asset(cast, code="water_pump", name="生活水泵")
    asset(cast, cast.community_y, name="Y客梯")
    rows = workbook_rows(
        get(cast, "project_manager", "ledger:asset_export", category=category(cast).pk)
    )
    header, *data = rows
    assert len(data) == 1  # the pump is another category, Y's lift another community
    row = dict(zip(header, data[0], strict=True))
    assert row["Asset code"] == "DT-0001" and row["Name"] == "1号客梯"
    assert (row["Community"], row["Building"], row["Common area"]) == (
        "翠湖花园",
        "1栋",
        "翠湖花园大堂",
    )
    assert row["Serial number"] == "0077"  # text: leading zeros kept
    assert row["Maintenance vendor"] == "奥的斯电梯" and row["Under warranty"] == "Yes"
    assert row["Warranty until"] == datetime.datetime(2027, 5, 1)
    assert row["Status"] == "Stopped" and row["Downtime reason"] == "年检"
    assert row["Down since (Asia/Shanghai)"] == datetime.datetime(2026, 11, 30, 9, 30)
    assert get(cast, "project_manager", "ledger:asset_export", status="x").status_code == 400
    assert get(cast, "technician", "ledger:asset_export").status_code == 403


# --- QR labels ---------------------------------------------------------------------------
def test_labels_of_ticked_assets_print_as_a_pdf(cast):
    lift, pump = asset(cast), asset(cast, code="water_pump", name="生活水泵")
    foreign = other_asset(cast)
    response = get(
        cast, "project_manager", "ledger:asset_labels", layout="a4-2x5", ids=[lift.pk, pump.pk]
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    # another company's asset is not found, alone or among the actor's
    for ids in ([foreign.pk], [lift.pk, foreign.pk]):
        response = get(cast, "project_manager", "ledger:asset_labels", layout="a4-3x8", ids=ids)
        assert response.status_code == 404
    single = get(cast, "dispatcher", "ledger:asset_label", lift.pk, layout="a4-2x4")
    assert single.content.startswith(b"%PDF")
    assert get(cast, "dispatcher", "ledger:asset_label", lift.pk, layout="a5").status_code == 400
    assert (
        get(cast, "other_admin", "ledger:asset_label", lift.pk, layout="a4-2x4").status_code == 404
    )


def test_the_label_labels_point_at_the_qr_landing_page(cast, rf):
    from wuye.facilities.labels import place_label

    lift = asset(cast, building=cast.building_x1)
    label = place_label(rf.get("/"), Asset.objects.get(pk=lift.pk))
    assert label.url == f"http://testserver/q/{lift.qr_token}/"
    assert (label.title, label.code) == ("1号客梯", "DT-0001")
    assert label.subtitle == "翠湖花园 1栋 · DT-0001"


def test_printing_all_that_match_is_capped(cast, monkeypatch):
    for n in range(3):
        asset(cast, name=f"灯{n}", code="lighting")
    asset(cast, name="Y灯", code="lighting", community=cast.community_y)
    monkeypatch.setattr(labels, "LABEL_CAP", 2)
    client = cast.client("company_admin")
    response = client.get(
        reverse("ledger:asset_labels"),
        {"layout": "a4-3x8", "all": "1", "community": cast.community_x.pk},
        follow=True,
    )
    assert "More than 2 match" in response.text
    assert response.redirect_chain[-1][0].endswith(f"?community={cast.community_x.pk}")
    response = client.get(
        reverse("ledger:asset_labels"),
        {"layout": "a4-3x8", "all": "1", "community": cast.community_y.pk},
    )
    assert response.content.startswith(b"%PDF")
    response = client.get(reverse("ledger:asset_labels"), {"layout": "a4-3x8"}, follow=True)
    assert "Tick the rows to print" in response.text


# --- create and edit ------------------------------------------------------------------------
def asset_form(cast, **overrides):
    return {
        "community": cast.community_x.pk,
        "category": category(cast).pk,
        "code": "",
        "name": "2号客梯",
        "building": cast.building_x1.pk,
        "common_area": "",
        "location": "2单元",
        "brand": "三菱",
        "model_no": "",
        "serial_no": "",
        "installed_on": "2021-03-01",
        "warranty_until": "2026-03-01",
        "vendor": "",
        "importance": "critical",
        "notes": "",
        **overrides,
    }


def test_a_manager_registers_an_asset(cast):
    otis = vendor(cast)
    response = post(
        cast, "project_manager", "ledger:asset_create", data=asset_form(cast, vendor=otis.pk)
    )
    created = Asset.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "ledger:asset_detail", args=[created.pk]
    )
    assert (created.code, created.building, created.vendor) == ("DT-0001", cast.building_x1, otis)
    assert created.company == cast.company and created.importance == "critical"


@pytest.mark.parametrize(
    ("who", "overrides", "field"),
    [
        ("project_manager", {"warranty_until": "2020-01-01"}, None),  # before installation
        ("project_manager", {"name": ""}, "name"),
        ("project_manager", {"community": "y"}, "community"),
        ("manager_y", {}, "community"),  # X is not theirs
        ("project_manager", {"building": "building_y"}, "building"),
        ("project_manager", {"vendor": "other_vendor"}, "vendor"),
        ("project_manager", {"category": "other_category"}, "category"),
    ],
)
def test_bad_asset_input_lands_on_the_form_and_writes_nothing(cast, who, overrides, field):
    others = {
        "y": cast.community_y.pk,
        "building_y": cast.house_y.building_id,
        "other_vendor": vendor(cast, company=cast.other_company).pk,
        "other_category": category(cast, company=cast.other_company).pk,
    }
    data = asset_form(cast, **{k: others.get(v, v) for k, v in overrides.items()})
    response = post(cast, who, "ledger:asset_create", data=data)
    assert response.status_code == 200 and not Asset.objects.exists()
    form = response.context["form"]
    assert form.errors
    if field:
        assert field in form.errors
    else:
        assert "The warranty cannot end before installation." in response.text


def test_the_create_form_lists_the_chosen_communitys_buildings(cast):
    response = get(cast, "project_manager", "ledger:asset_create", community=cast.community_x.pk)
    buildings = [label for _v, label in response.context["form"].fields["building"].widget.choices]
    assert "1栋" in str(buildings)
    communities = list(response.context["form"].fields["community"].queryset)
    assert communities == [cast.community_x]
    assert get(cast, "dispatcher", "ledger:asset_create").status_code == 403


def test_editing_an_asset(cast):
    lift, pump = asset(cast), asset(cast, code="water_pump", name="生活水泵")
    data = asset_form(cast, name="1号客梯（东）", code="DT-0101", warranty_until="")
    data.pop("community")
    response = post(cast, "project_manager", "ledger:asset_edit", lift.pk, data=data)
    assert response.status_code == 302
    lift.refresh_from_db()
    assert (lift.name, lift.code, lift.warranty_until) == ("1号客梯（东）", "DT-0101", None)
    taken = post(
        cast, "project_manager", "ledger:asset_edit", lift.pk, data={**data, "code": pump.code}
    )
    assert taken.status_code == 200 and "code" in taken.context["form"].errors
    lift.refresh_from_db()
    assert lift.code == "DT-0101"
    assert post(cast, "manager_y", "ledger:asset_edit", lift.pk, data=data).status_code == 404
    assert post(cast, "dispatcher", "ledger:asset_edit", lift.pk, data=data).status_code == 403


# --- the asset page ------------------------------------------------------------------------
def test_the_asset_page_shows_downtime_certificates_orders_and_round_visits(cast):
    pump_round = make_pump_round(cast, TODAY)
    pump = pump_round["pump"]
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump.qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.2", pump_round["noise"].pk: "正常"},
    )
    order = WorkOrder.objects.get(asset=pump)
    admin = cast.actor("company_admin")
    fac.change_status(
        actor=admin,
        asset=pump,
        status="repairing",
        reason="压力低",
        at=NOW - datetime.timedelta(days=2, hours=3),
    )
    fac.change_status(
        actor=admin, asset=pump, status="running", at=NOW - datetime.timedelta(hours=5)
    )
    fac.change_status(
        actor=admin,
        asset=pump,
        status="stopped",
        reason="检修",
        at=NOW - datetime.timedelta(minutes=40),
    )
    certificate(pump, TODAY - datetime.timedelta(days=1), kind="water", number="W-1")

    response = get(cast, "project_manager", "ledger:asset_detail", pump.pk)
    text = response.text
    assert response.status_code == 200
    assert "1 d 22 h" in text and "40 min" in text and "ongoing" in text  # durations
    assert "W-1" in text and "Expired" in text
    assert reverse("orders_console:order_detail", args=[order.pk]) in text
    assert "出水压力" in text and "0.2 MPa" in text and "Abnormal" in text
    assert response.context["status_form"] and response.context["certificate_form"]

    viewer = get(cast, "dispatcher", "ledger:asset_detail", pump.pk)
    assert viewer.status_code == 200 and viewer.context["status_form"] is None
    quality = get(cast, "quality", "ledger:asset_detail", pump.pk)  # views, no work orders of X?
    assert quality.status_code == 200 and quality.context["certificate_form"] is None
    for who in ("manager_y", "other_admin"):
        assert get(cast, who, "ledger:asset_detail", pump.pk).status_code == 404, who
    for who in ("technician", "resident_a"):
        assert get(cast, who, "ledger:asset_detail", pump.pk).status_code == 403, who


def test_changing_status_needs_a_reason_unless_back_to_running(cast):
    lift = asset(cast)
    missing = post(
        cast,
        "project_manager",
        "ledger:asset_status",
        lift.pk,
        data={"status-status": "stopped", "status-reason": " "},
    )
    assert missing.status_code == 400 and "Give a reason." in missing.text
    assert not Downtime.objects.exists() and Asset.objects.get().status == "running"
    same = post(
        cast,
        "project_manager",
        "ledger:asset_status",
        lift.pk,
        data={"status-status": "running", "status-reason": ""},
    )
    assert same.status_code == 400 and not Downtime.objects.exists()

    stopped = post(
        cast,
        "project_manager",
        "ledger:asset_status",
        lift.pk,
        data={"status-status": "stopped", "status-reason": "年检停梯"},
    )
    assert stopped.status_code == 302
    assert Downtime.objects.get().reason == "年检停梯"
    running = post(
        cast,
        "project_manager",
        "ledger:asset_status",
        lift.pk,
        data={"status-status": "running", "status-reason": ""},
    )
    assert running.status_code == 302 and Downtime.objects.get().ended_at == NOW
    data = {"status-status": "stopped", "status-reason": "x"}
    assert post(cast, "dispatcher", "ledger:asset_status", lift.pk, data=data).status_code == 403
    assert post(cast, "manager_y", "ledger:asset_status", lift.pk, data=data).status_code == 404
    assert Downtime.objects.count() == 1


def test_adding_a_certificate(cast):
    lift = asset(cast)
    good = {
        "cert-kind": "elevator",
        "cert-number": "TS-2026-01",
        "cert-issuer": "市特检院",
        "cert-issued_on": "2026-11-01",
        "cert-expires_on": "2027-10-31",
        "cert-remind_days": "30",
    }
    bad = post(
        cast,
        "project_manager",
        "ledger:certificate_add",
        lift.pk,
        data={**good, "cert-expires_on": "2026-10-01"},
    )
    assert bad.status_code == 400 and "cannot expire before it is issued" in bad.text
    empty = post(
        cast,
        "project_manager",
        "ledger:certificate_add",
        lift.pk,
        data={**good, "cert-expires_on": "", "cert-remind_days": "400"},
    )
    assert set(empty.context["certificate_form"].errors) == {"expires_on", "remind_days"}
    assert not Certificate.objects.exists()
    response = post(cast, "project_manager", "ledger:certificate_add", lift.pk, data=good)
    assert response.status_code == 302
    assert Certificate.objects.get().number == "TS-2026-01"
    assert post(cast, "quality", "ledger:certificate_add", lift.pk, data=good).status_code == 403
    assert Certificate.objects.count() == 1


# --- vendors ----------------------------------------------------------------------------------
def vendor_form(**overrides):
    return {
        "name": "迅达电梯",
        "contact_name": "王工",
        "contact_mobile": "13900001111",
        "phone": "",
        "contract_no": "WB-2026-07",
        "contract_start": "2026-01-01",
        "contract_end": "2026-12-31",
        "scope": "电梯维保",
        "is_active": "on",
        **overrides,
    }


def test_vendors_are_created_edited_and_checked(cast):
    response = post(cast, "project_manager", "ledger:vendor_create", data=vendor_form())
    created = Vendor.objects.get()
    assert response.status_code == 302 and created.company == cast.company
    for overrides, field in [
        ({}, "name"),  # the same name again
        ({"name": "甲", "contract_end": "2025-01-01"}, None),
        ({"name": "乙", "contact_mobile": "12345"}, "contact_mobile"),
    ]:
        response = post(
            cast, "project_manager", "ledger:vendor_create", data=vendor_form(**overrides)
        )
        assert response.status_code == 200 and Vendor.objects.count() == 1
        errors = response.context["form"].errors
        assert (
            (field in errors)
            if field
            else "The contract cannot end before it starts." in response.text
        )
    edited = post(
        cast, "manager_y", "ledger:vendor_edit", created.pk, data=vendor_form(scope="电梯与扶梯")
    )
    assert edited.status_code == 302 and Vendor.objects.get().scope == "电梯与扶梯"
    assert (
        post(cast, "other_admin", "ledger:vendor_edit", created.pk, data=vendor_form()).status_code
        == 404
    )
    assert (
        post(cast, "dispatcher", "ledger:vendor_create", data=vendor_form(name="丙")).status_code
        == 403
    )


def test_vendor_pages_show_only_the_actors_assets(cast):
    otis = vendor(cast)
    vendor(cast, name="迅达电梯")
    x_lift = asset(cast, vendor=otis)
    y_lift = asset(cast, cast.community_y, name="Y客梯", vendor=otis)
    listing = get(cast, "project_manager", "ledger:vendor_list", q="奥的斯")
    assert "奥的斯电梯" in listing.text and "迅达电梯" not in listing.text
    assert [v.asset_count for v in listing.context["page"].items] == [1]
    detail = get(cast, "project_manager", "ledger:vendor_detail", otis.pk)
    assert x_lift.name in detail.text and y_lift.name not in detail.text
    assert get(cast, "other_admin", "ledger:vendor_detail", otis.pk).status_code == 404
    assert "奥的斯电梯" not in get(cast, "other_admin", "ledger:vendor_list").text
    assert get(cast, "technician", "ledger:vendor_list").status_code == 403


# --- certificates ----------------------------------------------------------------------------
def test_the_certificate_list_filters_sorts_and_exports(cast):
    lift, pump = asset(cast), asset(cast, code="water_pump", name="生活水泵")
    y_lift = asset(cast, cast.community_y, name="Y客梯")
    expired = certificate(lift, TODAY - datetime.timedelta(days=3), number="E-1")
    soon = certificate(pump, TODAY + datetime.timedelta(days=10), kind="water", number="S-1")
    later = certificate(pump, TODAY + datetime.timedelta(days=200), kind="pressure", number="L-1")
    certificate(y_lift, TODAY + datetime.timedelta(days=5), number="Y-1")
    old = certificate(pump, TODAY - datetime.timedelta(days=355), kind="water", number="OLD")

    def numbers(**params):
        response = get(cast, "project_manager", "ledger:certificate_list", **params)
        return [c.number for c in response.context["page"].items]

    assert numbers() == ["E-1", "S-1", "L-1"]  # soonest first; renewed OLD and Y's not listed
    assert numbers(due="expired") == ["E-1"]
    assert numbers(due="expiring", days=30) == ["E-1", "S-1"]
    assert numbers(due="expiring", days=365) == ["E-1", "S-1", "L-1"]
    assert numbers(kind="water") == ["S-1"]
    text = get(cast, "project_manager", "ledger:certificate_list").text
    assert "Expired 3 days ago" in text and "10 days left" in text
    assert "Y-1" in get(cast, "company_admin", "ledger:certificate_list").text
    assert get(cast, "project_manager", "ledger:certificate_list", days=0).context["page"] is None

    header, *rows = workbook_rows(
        get(cast, "project_manager", "ledger:certificate_export", due="expiring", days=30)
    )
    assert [(r[0], r[4], r[8], r[9]) for r in rows] == [
        ("DT-0001", "E-1", -3, "Expired"),
        ("SB-0001", "S-1", 10, "Expiring"),
    ]
    assert header[3] == "Kind" and expired.pk and soon.pk and later.pk and old.pk
    assert get(cast, "guard", "ledger:certificate_list").status_code == 403


def test_the_certificate_list_pages_by_expiry(cast):
    lift = asset(cast)
    pump = asset(cast, code="water_pump", name="生活水泵")
    for n in range(52):  # equal expiry: none replaces another, the cursor's id breaks ties
        certificate(lift if n % 2 else pump, TODAY + datetime.timedelta(days=n % 2))
    client = cast.client("project_manager")
    first = client.get(reverse("ledger:certificate_list"))
    page = first.context["page"]
    assert page.has_next
    second = client.get(reverse("ledger:certificate_list"), {"after": page.next_after})
    items = [*page.items, *second.context["page"].items]
    assert [(c.expires_on, c.pk) for c in items] == sorted((c.expires_on, c.pk) for c in items)
    assert len({c.pk for c in items}) == len(items)
