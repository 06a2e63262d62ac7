"""Dunning (催缴): the list's figures and filters, scoping (other communities and companies
see nothing, their houses and batches are 404), reminders by notice, SMS, letter, call and
visit, the residents' notifications, the letter PDF, refused sends that write nothing, the
batch limit, the Excel export and the reminder history on a bill and a house."""

import datetime
import io
from decimal import Decimal as D

import openpyxl
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from pypdf import PdfReader

from wuye.billing import dunning, services
from wuye.billing.dunning_letters import render_letters
from wuye.billing.models import Bill, DunningNotice, FeeItem
from wuye.notifications.models import Notification

TODAY = datetime.date(2026, 12, 7)
NOW = datetime.datetime(2026, 12, 7, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Beijing


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def item(cast, community, code="repair", name="Repair"):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=community,
        code=code,
        name=name,
        kind=FeeItem.Kind.ONE_OFF,
        unit_price=D("100"),
        effective_from=datetime.date(2026, 1, 1),
    )


def bill(house, fee_item, *, due, amount, paid="0.00"):
    return Bill.objects.create(
        company_id=house.company_id,
        community_id=house.community_id,
        house=house,
        fee_item=fee_item,
        origin=Bill.Origin.ONE_OFF,
        period_start=due,
        period_end=due,
        amount=D(amount),
        paid_amount=D(paid),
        due_date=due,
        status=services.status_for(D(amount), D(paid)),
    )


@pytest.fixture
def owing(cast):
    """House A owes 130.00 overdue in 2 bills (oldest 40 days), house B 500.00 (200 days),
    house Y (community Y) 70.00 (5 days); the other company's house 99.00. Bills not due
    yet, paid or void count for nothing."""
    x = item(cast, cast.community_x)
    y = item(cast, cast.community_y)
    other = FeeItem.objects.create(
        company=cast.other_company,
        community=cast.other_community,
        code="repair",
        name="Repair",
        kind=FeeItem.Kind.ONE_OFF,
        house_kinds=["residence"],
    )
    a_old = bill(cast.house_a, x, due=days_ago(40), amount="100.00")
    bill(cast.house_a, x, due=days_ago(10), amount="50.00", paid="20.00")
    bill(cast.house_a, x, due=TODAY, amount="999.00")  # due today: not overdue yet
    bill(cast.house_a, x, due=days_ago(90), amount="60.00", paid="60.00")  # paid
    void = bill(cast.house_a, x, due=days_ago(100), amount="70.00")
    services.void_bill(actor=cast.actor("finance"), bill=void, reason="wrong house")
    bill(cast.house_b, x, due=days_ago(200), amount="500.00")
    bill(cast.house_y, y, due=days_ago(5), amount="70.00")
    bill(cast.other_house, other, due=days_ago(50), amount="99.00")
    return {"x": x, "a_old": a_old}


def rows(cast, name="finance", **filters):
    found = dunning.dunning_houses(cast.actor(name), as_of=TODAY, **filters)
    return {row["house_id"]: row for row in found}


def send(cast, name="finance", *, houses, channel, note="", query=""):
    url = reverse("billing:dunning_send") + (f"?{query}" if query else "")
    data = {"channel": channel, "note": note, "houses": [h.id for h in houses]}
    return cast.client(name).post(url, data)


# --- the list -----------------------------------------------------------------------------------


def test_figures_per_house(cast, owing):
    found = rows(cast)
    assert set(found) == {cast.house_a.id, cast.house_b.id, cast.house_y.id}
    a = found[cast.house_a.id]
    assert (D(a["owed"]), a["bills"], a["oldest"]) == (D("130.00"), 2, days_ago(40))
    assert D(found[cast.house_b.id]["owed"]) == D("500.00")
    # longest overdue first
    listed = dunning.dunning_houses(cast.actor("finance"), as_of=TODAY)
    assert [row["house_id"] for row in listed] == [
        cast.house_b.id,
        cast.house_a.id,
        cast.house_y.id,
    ]
    assert dunning.totals(listed) == {"houses": 3, "bills": 4, "owed": D("700.00")}
    described = dunning.describe(cast.actor("finance"), list(listed), TODAY)
    assert [(r["bucket"], r["days"]) for r in described] == [
        ("over180", 200),
        ("d60", 40),
        ("d30", 5),
    ]
    assert described[1]["residents"] == ["张伟"]
    assert described[1]["reminders"] == 0 and described[1]["last"] is None


def test_the_page_shows_the_houses_with_their_figures(cast, owing):
    page = cast.client("finance").get(reverse("billing:dunning")).content.decode()
    assert "翠湖花园 1栋 1单元 0101" in page and "张伟" in page
    assert "¥130.00" in page and "¥500.00" in page and "¥700.00" in page
    assert "31–60 days" in page and "Over 180 days" in page
    assert 'name="houses"' in page and "Send reminder" in page
    assert reverse("billing:dunning_house", args=[cast.house_a.id]) in page
    assert reverse("billing:dunning_house", args=[cast.other_house.id]) not in page


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"community": "x"}, {"house_a", "house_b"}),
        ({"community": "y"}, {"house_y"}),
        ({"bucket": "over180"}, {"house_b"}),
        ({"bucket": "d60"}, {"house_a"}),
        ({"bucket": "d90"}, set()),
        ({"min_amount": "130"}, {"house_a", "house_b"}),
        ({"min_amount": "130.01"}, {"house_b"}),
    ],
)
def test_filters(cast, owing, filters, expected):
    args = dict(filters)
    if "community" in args:
        args["community"] = getattr(cast, f"community_{args['community']}")
    if "min_amount" in args:
        args["min_amount"] = D(args["min_amount"])
    assert set(rows(cast, **args)) == {getattr(cast, name).id for name in expected}


def test_filter_by_building_and_through_the_page(cast, owing):
    assert set(rows(cast, building=cast.building_x1)) == {cast.house_a.id, cast.house_b.id}
    query = {"community": cast.community_x.id, "building": cast.building_x1.id, "bucket": "d60"}
    page = cast.client("finance").get(reverse("billing:dunning"), query).content.decode()
    assert reverse("billing:dunning_house", args=[cast.house_a.id]) in page
    assert reverse("billing:dunning_house", args=[cast.house_b.id]) not in page


def test_not_reminded_in_n_days(cast, owing):
    dunning.send_reminders(
        actor=cast.actor("finance"), house_ids=[cast.house_a.id], channel="phone", note="下周交"
    )
    assert cast.house_a.id not in rows(cast, quiet_days=30)
    assert cast.house_b.id in rows(cast, quiet_days=30)
    with time_machine.travel(NOW + datetime.timedelta(days=31), tick=False):
        later = dunning.dunning_houses(cast.actor("finance"), as_of=TODAY, quiet_days=30)
        assert cast.house_a.id in {row["house_id"] for row in later}
    described = dunning.describe(cast.actor("finance"), [rows(cast)[cast.house_a.id]], TODAY)
    assert described[0]["reminders"] == 1
    assert described[0]["last"].channel == "phone"


def test_keyset_pages(cast, owing):
    listed = dunning.dunning_houses(cast.actor("finance"), as_of=TODAY)
    first = dunning.page_of(listed, after=None, query=QueryDict(mutable=True), size=2)
    assert [r["house_id"] for r in first.items] == [cast.house_b.id, cast.house_a.id]
    second = dunning.page_of(listed, after=first.next_after, query=QueryDict(), size=2)
    assert [r["house_id"] for r in second.items] == [cast.house_y.id]
    assert not second.has_next
    assert "after=" in first.next_query()


def test_bad_filters_show_errors(cast, owing):
    response = cast.client("finance").get(
        reverse("billing:dunning"), {"min_amount": "-5", "after": "nonsense"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Correct the filters above" in page
    assert reverse("billing:dunning_house", args=[cast.house_a.id]) not in page


# --- scoping ----------------------------------------------------------------------------------


def test_each_sees_their_own_communities_only(cast, owing):
    assert set(rows(cast, "project_manager")) == {cast.house_a.id, cast.house_b.id}
    assert set(rows(cast, "manager_y")) == {cast.house_y.id}
    assert set(rows(cast, "other_admin")) == {cast.other_house.id}
    assert rows(cast, "technician") == {}
    page = cast.client("other_admin").get(reverse("billing:dunning")).content.decode()
    assert "¥99.00" in page and "¥130.00" not in page


def test_other_houses_and_batches_are_404(cast, owing):
    sent = dunning.send_reminders(
        actor=cast.actor("finance"), house_ids=[cast.house_a.id], channel="letter"
    )
    house = reverse("billing:dunning_house", args=[cast.house_a.id])
    batch = reverse("billing:dunning_batch", args=[sent.batch])
    letters = reverse("billing:dunning_letters", args=[sent.batch])
    for name in ("other_admin", "manager_y"):
        client = cast.client(name)
        assert client.get(house).status_code == 404
        assert client.get(batch).status_code == 404
    assert cast.client("other_admin").get(letters).status_code == 404
    assert (
        cast.client("other_admin")
        .get(reverse("billing:dunning_house", args=[cast.other_house.id]))
        .status_code
        == 200
    )
    assert cast.client("resident_a").get(house).status_code == 403


def test_viewers_see_the_list_but_cannot_send(cast, owing):
    client = cast.client("project_manager")  # billing.view, not billing.collect
    page = client.get(reverse("billing:dunning")).content.decode()
    assert "¥130.00" in page and 'name="houses"' not in page and "Send reminder" not in page
    response = send(cast, "project_manager", houses=[cast.house_a], channel="notice")
    assert response.status_code == 403
    assert not DunningNotice.objects.exists()
    house = client.get(reverse("billing:dunning_house", args=[cast.house_a.id])).content
    assert b"Record a reminder" not in house


# --- sending ----------------------------------------------------------------------------------


def test_an_in_app_notice_reaches_the_residents(cast, owing, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(cast, houses=[cast.house_a, cast.house_b], channel="notice", note="月底前")
    [batch] = DunningNotice.objects.order_by().values_list("batch", flat=True).distinct()
    assert response.status_code == 302
    assert response.url == reverse("billing:dunning_batch", args=[batch])
    notices = {n.house_id: n for n in DunningNotice.objects.all()}
    a = notices[cast.house_a.id]
    assert (a.amount_due, a.bills_count, a.oldest_due_date) == (D("130.00"), 2, days_ago(40))
    assert (a.channel, a.recipients_count, a.note) == ("notice", 1, "月底前")
    assert a.sent_by == cast.users["finance"] and a.community_id == cast.community_x.id
    assert notices[cast.house_b.id].amount_due == D("500.00")
    mine = Notification.objects.get(recipient=cast.users["resident_a"])
    assert mine.kind == "billing.dunning"
    assert "¥130.00" in mine.title and "月底前" in mine.body and "0101" in mine.body
    assert mine.url == reverse("billing_resident:bill_list")
    assert mine.dedupe_key == f"billing.dunning:{a.pk}"
    assert (mine.object_type, mine.object_id) == ("billing.dunningnotice", a.pk)
    theirs = Notification.objects.get(recipient=cast.users["resident_b"])
    assert "¥500.00" in theirs.title
    assert not Notification.objects.filter(recipient=cast.users["other_resident"]).exists()
    batch_page = cast.client("finance").get(response.url).content.decode()
    assert "¥630.00" in batch_page and "张伟" in batch_page


def test_sms_is_a_notification_for_the_configured_channels(
    cast, owing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(cast, houses=[cast.house_a], channel="sms")
    notice = DunningNotice.objects.get()
    assert (notice.channel, notice.recipients_count) == ("sms", 1)
    assert Notification.objects.get().kind == "billing.dunning.sms"


def test_a_phone_call_is_recorded_with_its_note_and_notifies_nobody(
    cast, owing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = send(cast, houses=[cast.house_a], channel="phone", note="答应周五交")
    assert callbacks == []
    assert response.status_code == 302
    notice = DunningNotice.objects.get()
    assert (notice.channel, notice.note, notice.recipients_count) == ("phone", "答应周五交", 0)
    assert not Notification.objects.exists()


def test_a_visit_from_the_house_page_returns_there(cast, owing):
    house = reverse("billing:dunning_house", args=[cast.house_a.id])
    response = cast.client("finance").post(
        reverse("billing:dunning_send"),
        {"houses": [cast.house_a.id], "channel": "visit", "note": "上门", "next": house},
    )
    assert response.status_code == 302 and response.url == house
    page = cast.client("finance").get(house).content.decode()
    assert "Home visit" in page and "上门" in page and "¥130.00" in page


def test_a_letter_pdf_per_house(cast, owing):
    response = send(cast, houses=[cast.house_a, cast.house_b], channel="letter", note="请尽快缴纳")
    batch = DunningNotice.objects.first().batch
    page = cast.client("finance").get(response.url).content.decode()
    letters = reverse("billing:dunning_letters", args=[batch])
    assert letters in page
    pdf = cast.client("finance").get(letters)
    assert pdf["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 2
    first, second = (p.extract_text() for p in reader.pages)
    for text in (first, second):
        assert "安居物业" in text and "Payment reminder" in text
        assert "请尽快缴纳" in text and "2026-12-22" in text  # pay by: 15 days on
    assert "翠湖花园 1栋 1单元 0101" in first and "张伟" in first
    assert "Repair" in first and "¥100.00" in first and "¥30.00" in first
    assert "¥130.00" in first and "壹佰叁拾元整" in first
    assert "999" not in first  # not due yet: not on the letter
    assert "0102" in second and "李娜" in second and "¥500.00" in second
    one = cast.client("finance").get(letters, {"house": cast.house_b.id})
    assert len(PdfReader(io.BytesIO(one.content)).pages) == 1
    # viewers see the batch but print no letters
    assert cast.client("project_manager").get(letters).status_code == 403


def test_letters_mention_late_fees_only_when_charged(cast, owing):
    dunning.send_reminders(
        actor=cast.actor("finance"), house_ids=[cast.house_a.id], channel="letter"
    )
    text = PdfReader(io.BytesIO(render_letters(DunningNotice.objects.all()))).pages[0]
    assert "late fee" not in text.extract_text()
    policy = services.policy_for(cast.company)
    policy.late_fee_enabled = True
    policy.save()
    text = PdfReader(io.BytesIO(render_letters(DunningNotice.objects.all()))).pages[0]
    assert "late fee" in text.extract_text()


def test_every_house_matching_the_filters(cast, owing):
    query = f"community={cast.community_x.id}"
    response = cast.client("finance").post(
        reverse("billing:dunning_send") + "?" + query,
        {"all_matching": "on", "channel": "phone", "note": "批量"},
    )
    assert response.status_code == 302
    assert set(DunningNotice.objects.values_list("house_id", flat=True)) == {
        cast.house_a.id,
        cast.house_b.id,
    }


def test_more_than_the_batch_limit_is_refused(cast, owing, monkeypatch):
    monkeypatch.setattr(dunning, "MAX_BATCH", 1)
    response = cast.client("finance").post(
        reverse("billing:dunning_send") + f"?community={cast.community_x.id}",
        {"all_matching": "on", "channel": "notice"},
    )
    assert response.status_code == 400
    assert "More than 1 houses match" in response.content.decode()
    with pytest.raises(ValidationError, match="at most 1 at a time"):
        dunning.send_reminders(
            actor=cast.actor("finance"),
            house_ids=[cast.house_a.id, cast.house_b.id],
            channel="notice",
        )
    assert not DunningNotice.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "notice"}, "Tick at least one house"),
        ({"channel": "fax", "houses": "A"}, "Select a valid choice"),
        ({"channel": "", "houses": "A"}, "This field is required"),
        ({"channel": "phone", "houses": "A"}, "Say what was agreed"),
        ({"channel": "notice", "houses": "x1"}, "Choose houses from the list"),
        ({"channel": "notice", "houses": "OTHER"}, "not in your communities"),
        ({"channel": "notice", "houses": "Y_NOT_OWING"}, "owes anything overdue"),
    ],
)
def test_refused_sends_write_nothing(
    cast, owing, data, message, django_capture_on_commit_callbacks
):
    Bill.objects.filter(house=cast.house_y).update(paid_amount=D("70.00"), status="paid")
    ids = {"A": cast.house_a.id, "OTHER": cast.other_house.id, "Y_NOT_OWING": cast.house_y.id}
    if "houses" in data:
        data = {**data, "houses": ids.get(data["houses"], data["houses"])}
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("finance").post(reverse("billing:dunning_send"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DunningNotice.objects.exists() and not Notification.objects.exists()


def test_houses_that_paid_meanwhile_are_left_out(cast, owing):
    Bill.objects.filter(house=cast.house_b).update(paid_amount=D("500.00"), status="paid")
    sent = dunning.send_reminders(
        actor=cast.actor("finance"),
        house_ids=[cast.house_a.id, cast.house_b.id],
        channel="notice",
    )
    assert sent.skipped == 1 and [n.house_id for n in sent.notices] == [cast.house_a.id]


# --- export and history -----------------------------------------------------------------------


def test_excel_export(cast, owing):
    dunning.send_reminders(
        actor=cast.actor("finance"), house_ids=[cast.house_a.id], channel="phone", note="x"
    )
    response = cast.client("finance").get(
        reverse("billing:dunning_export"), {"community": cast.community_x.id}
    )
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["Overdue as of", "2026-12-07"]
    assert values[1][:6] == ["Community", "Building", "Unit", "House", "Residents", "Owed (¥)"]
    assert [row[3] for row in values[2:]] == ["0102", "0101"]
    b, a = values[2], values[3]
    assert (b[4], b[5], b[6], b[9], b[12]) == ("李娜", 500, 1, "Over 180 days", 0)
    assert (a[5], a[6], a[7].date(), a[8], a[11], a[12]) == (
        130,
        2,
        days_ago(40),
        40,
        "Phone call",
        1,
    )
    bad = cast.client("finance").get(reverse("billing:dunning_export"), {"min_amount": "x"})
    assert bad.status_code == 400


def test_the_bill_page_shows_the_house_reminders(cast, owing):
    dunning.send_reminders(
        actor=cast.actor("finance"), house_ids=[cast.house_a.id], channel="phone", note="周五"
    )
    page = cast.client("finance").get(reverse("billing:bill_detail", args=[owing["a_old"].id]))
    text = page.content.decode()
    assert "Reminders (催缴)" in text and "Phone call" in text and "周五" in text
    assert "¥130.00" in text
