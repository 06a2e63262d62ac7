"""Workbook imports of the fees console: meter readings (/console/billing/readings/import/)
and opening balances (/console/billing/opening/). All or nothing: any bad row and
nothing is written, the page listing every error by row and column; spikes are saved
and counted as held for review; a bad file is a form error, never a 500; templates
open with openpyxl and come back filled in."""

import datetime
import io
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.billing import meters, services
from wuye.billing.models import Bill, FeeItem, MeterReading

TODAY = datetime.date(2026, 6, 30)
READINGS = reverse("billing:reading_import")
OPENING = reverse("billing:opening_import")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READING_HEADERS = ["楼栋", "单元", "房号", "收费项目", "抄表日期", "本次读数", "换表"]
OPENING_HEADERS = [
    "房屋编号",
    "楼栋",
    "单元",
    "房号",
    "收费项目",
    "所属期间",
    "应收金额",
    "已收金额",
]


@pytest.fixture(autouse=True)
def _english(settings, time_machine, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(datetime.datetime(2026, 6, 30, 4, tzinfo=datetime.UTC), tick=False)


@pytest.fixture
def water(cast):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=cast.community_x,
        code="water",
        name="水费",
        kind=FeeItem.Kind.METERED,
        unit_price=D("3.45"),
        effective_from=datetime.date(2026, 1, 1),
    )


@pytest.fixture
def fee(cast):
    return services.create_fee_item(
        actor=cast.actor("finance"),
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.AREA,
        unit_price=D("2.35"),
        effective_from=datetime.date(2026, 3, 1),
    )


def workbook(rows, headers=READING_HEADERS, sheet="抄表", name="抄表.xlsx"):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def upload(cast, url, file, who="finance", community=None):
    community = community or cast.community_x
    return cast.client(who).post(url, {"community": community.pk, "file": file})


def history(cast, water, house=None, start="100"):
    """Four monthly readings using 10 a month (the usual usage is 10)."""
    value = D(start)
    for month in (2, 3, 4, 5):
        meters.record_reading(
            actor=cast.actor("finance"),
            house=house or cast.house_a,
            fee_item=water,
            reading_date=datetime.date(2026, month, 25),
            value=value,
        )
        value += 10
    return value - 10  # the last reading


# --- meter readings ----------------------------------------------------------------------


def test_readings_are_imported_and_spikes_counted_as_held(cast, water):
    last = history(cast, water)  # house A: 130 on 05-25
    rows = [
        ["1栋", "1单元", "0101", "水费", "2026-06-25", float(last + 500), None],  # a spike
        ["1栋", "1单元", "0102", "water", datetime.datetime(2026, 6, 25), 42.5, None],
    ]
    response = upload(cast, READINGS, workbook(rows))
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 readings imported, 1 of them held for review" in html
    assert "1 reading held for review" in html and "over 3× the usual 10" in html
    assert reverse("billing:reading_list") + "?held=on" in html
    new = MeterReading.objects.filter(reading_date=datetime.date(2026, 6, 25)).order_by("house_id")
    assert [(r.house_id, r.value, r.needs_review) for r in new] == [
        (cast.house_a.id, D("630.00"), True),
        (cast.house_b.id, D("42.50"), False),
    ]
    assert new[0].recorded_by == cast.users["finance"]


def test_several_months_of_one_meter_chain_up_whatever_the_row_order(cast, water):
    rows = [
        ["1栋", "1单元", "0101", "水费", "2026-05-25", 120, None],
        ["1栋", "1单元", "0101", "水费", "2026-04-25", 110, None],
    ]
    assert upload(cast, READINGS, workbook(rows)).status_code == 200
    may = MeterReading.objects.get(reading_date=datetime.date(2026, 5, 25))
    assert (may.previous, may.usage) == (D("110"), D("10"))


def test_a_replaced_meter_counts_from_its_start(cast, water):
    history(cast, water)
    headers = [*READING_HEADERS, "新表起数"]
    rows = [["1栋", "1单元", "0101", "水费", "2026-06-25", 7, "是", 0]]
    assert upload(cast, READINGS, workbook(rows, headers=headers)).status_code == 200
    reading = MeterReading.objects.get(reading_date=datetime.date(2026, 6, 25))
    assert (reading.replaced, reading.previous, reading.usage) == (True, D("0"), D("7"))


def test_bad_rows_are_all_listed_by_row_and_column_and_nothing_is_written(cast, water):
    history(cast, water)  # house A last read 130
    before = MeterReading.objects.count()
    rows = [
        ["1栋", "1单元", "0102", "水费", "2026-06-25", 50, None],  # fine on its own
        ["1栋", "1单元", "0101", "水费", "2026-06-25", 99, None],  # backwards
        ["1栋", "1单元", "0999", "水费", "2026-06-25", 10, None],  # unknown house
        ["1栋", "1单元", "0102", "水费", "2026-13-45", 10, None],  # bad date
        ["1栋", "1单元", "0102", "水费", "2026-06-20", -4, None],  # negative
        ["1栋", "1单元", "0102", "电费", "2026-06-21", 4, None],  # unknown fee item
        ["1栋", "1单元", "0102", "水费", "2026-06-22", 4, "也许"],  # 换表 not yes/no
        ["1栋", "1单元", "0101", "水费", "2026-06-26", 140, "是"],  # replaced, no start
    ]
    response = upload(cast, READINGS, workbook(rows))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 7 errors" in html
    errors = response.context["row_errors"]
    assert [(e["row"], e["column"]) for e in errors] == [
        (3, "本次读数"),
        (4, "房号"),
        (5, "抄表日期"),
        (6, "本次读数"),
        (7, "收费项目"),
        (8, "换表"),
        (9, "新表起数"),
    ]
    assert "99.00 is lower than the previous reading 130.00" in errors[0]["message"]
    assert errors[1]["message"] == "no such house in this community"
    assert errors[2]["message"] == "must be a date such as 2026-03-25"
    assert errors[3]["message"] == "cannot be negative"
    for error in errors:
        assert f'<td class="num">{error["row"]}</td>' in html
        assert f"<strong>{error['column']}</strong>" in html
    assert MeterReading.objects.count() == before  # not even row 2


def test_a_reading_already_there_is_counted_and_another_value_that_day_refused(cast, water):
    rows = [["1栋", "1单元", "0101", "水费", "2026-06-25", 100, None]]
    assert upload(cast, READINGS, workbook(rows)).status_code == 200
    again = upload(cast, READINGS, workbook(rows))
    assert again.status_code == 200
    assert "0 readings imported, 0 of them held for review; 1 were already there" in (
        again.content.decode()
    )
    rows[0][5] = 101
    changed = upload(cast, READINGS, workbook(rows))
    assert changed.status_code == 400
    assert "already has the reading 100.00 that day" in changed.content.decode()
    assert MeterReading.objects.count() == 1


def test_the_reading_template_downloads_and_comes_back_filled_in(cast, water):
    history(cast, water)
    client = cast.client("technician")
    blank = client.get(reverse("billing:reading_template"))
    assert blank.status_code == 200 and blank["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(b"".join(blank.streaming_content)))
    assert book.sheetnames == ["抄表", "说明"]
    headers = [c.value for c in book["抄表"][1]]
    assert headers[:7] == READING_HEADERS and "新表起数" in headers
    assert book["抄表"].max_row == 1

    filled = client.get(reverse("billing:reading_template") + f"?community={cast.community_x.pk}")
    assert filled.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(filled.streaming_content)))
    sheet = book["抄表"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("上次抄表日期", "上次读数")
    assert [r[:4] for r in rows[1:]] == [
        ("1栋", "1单元", "0101", "水费"),
        ("1栋", "1单元", "0102", "水费"),
    ]
    assert rows[1][-1] == 130 and rows[1][-2] == datetime.datetime(2026, 5, 25)
    assert rows[2][-1] is None  # house B never read
    # The reader fills in house A only; house B's row stays empty and is skipped.
    sheet_rw = openpyxl.load_workbook(
        io.BytesIO(
            b"".join(
                client.get(
                    reverse("billing:reading_template") + f"?community={cast.community_x.pk}"
                ).streaming_content
            )
        )
    )
    ws = sheet_rw["抄表"]
    ws.cell(row=2, column=5, value=datetime.date(2026, 6, 25))
    ws.cell(row=2, column=6, value=141.5)
    out = io.BytesIO()
    sheet_rw.save(out)
    response = upload(
        cast, READINGS, SimpleUploadedFile("filled.xlsx", out.getvalue()), who="technician"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 readings imported, 0 of them held for review; 0 were already there" in html
    assert "1 rows had no reading" in html
    assert MeterReading.objects.get(reading_date=datetime.date(2026, 6, 25)).value == D("141.50")


def test_a_template_of_another_community_is_not_found(cast, water):
    url = reverse("billing:reading_template") + f"?community={cast.community_x.pk}"
    assert cast.client("technician_y").get(url).status_code == 404
    assert cast.client("other_admin").get(url).status_code == 404


def test_a_file_with_only_empty_readings_is_a_form_error(cast, water):
    rows = [["1栋", "1单元", "0101", "水费", None, None, None]]
    response = upload(cast, READINGS, workbook(rows))
    assert response.status_code == 400
    assert "No row has a reading to import." in response.content.decode()


@pytest.mark.parametrize(
    "file, message",
    [
        (SimpleUploadedFile("readings.csv", b"a,b\n"), "Upload an Excel .xlsx file."),
        (SimpleUploadedFile("readings.xlsx", b"not a workbook"), "is not an Excel .xlsx workbook"),
        (SimpleUploadedFile("readings.xlsx", b"PK\x03\x04broken zip"), "is not an Excel .xlsx"),
        (None, "The sheet misses these columns: 收费项目、本次读数"),
        (None, "The sheet has no data rows."),
    ],
)
def test_a_bad_file_is_a_form_error_never_a_500(cast, water, file, message):
    if file is None and "columns" in message:
        file = workbook([["1栋", "0101"]], headers=["楼栋", "房号"])
    elif file is None:
        file = workbook([])
    response = upload(cast, READINGS, file)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MeterReading.objects.exists()


def test_a_file_too_large_is_refused_before_it_is_read(cast, water, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = upload(cast, READINGS, workbook([["1栋", "1单元", "0101", "水费", "2026-06-25", 1]]))
    assert response.status_code == 400
    assert "The file is larger than" in response.content.decode()


@pytest.mark.parametrize("who", ["technician_y", "manager_y", "other_admin"])
def test_staff_of_another_community_cannot_import_into_it(cast, water, who):
    rows = [["1栋", "1单元", "0101", "水费", "2026-06-25", 10, None]]
    response = upload(cast, READINGS, workbook(rows), who=who)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not MeterReading.objects.exists()


def test_houses_are_looked_up_in_the_chosen_community_only(cast, water):
    """Community Y has a house 1栋 1单元 0101 too: importing into X never reaches it."""
    rows = [["1栋", "1单元", "0101", "水费", "2026-06-25", 10, None]]
    assert upload(cast, READINGS, workbook(rows), who="finance").status_code == 200
    assert MeterReading.objects.get().house == cast.house_a


@pytest.mark.parametrize("who, status", [("guard", 403), ("dispatcher", 403), ("resident_a", 403)])
def test_only_meter_readers_open_the_reading_import(cast, who, status):
    client = cast.client(who)
    assert client.get(READINGS).status_code == status
    assert client.get(reverse("billing:reading_template")).status_code == status


def test_the_reading_list_links_to_the_import(cast):
    html = cast.client("finance").get(reverse("billing:reading_list")).content.decode()
    assert READINGS in html


# --- opening balances --------------------------------------------------------------------


def opening_rows(cast):
    return [
        [None, "1栋", "1单元", "0101", "wuye", "2025-11", 210.33, None],
        [cast.house_b.id, None, None, None, "物业费", "2025-12", "210.33", "100"],
    ]


def test_opening_balances_are_imported_from_the_page(cast, fee):
    file = workbook(opening_rows(cast), headers=OPENING_HEADERS, sheet="期初欠费")
    response = upload(cast, OPENING, file)
    assert response.status_code == 200
    assert "2 opening balances imported (420.66 yuan owed, 100.00 yuan already collected)" in (
        response.content.decode()
    )
    assert Bill.objects.filter(origin=Bill.Origin.OPENING).count() == 2


def test_bad_opening_rows_are_listed_and_nothing_is_written(cast, fee):
    rows = [
        *opening_rows(cast),
        [None, "1栋", "1单元", "0999", "wuye", "2025-11", 10, None],
        [None, "1栋", "1单元", "0101", "wuye", "2025/11", -3, None],
    ]
    response = upload(cast, OPENING, workbook(rows, headers=OPENING_HEADERS, sheet="期初欠费"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported: 3 errors" in html
    assert [(e["row"], e["column"]) for e in response.context["row_errors"]] == [
        (4, "房号"),
        (5, "所属期间"),
        (5, "应收金额"),
    ]
    assert "cannot be negative" in html
    assert not Bill.objects.exists()


def test_the_opening_template_downloads_and_comes_back_filled_in(cast, fee):
    client = cast.client("finance")
    response = client.get(reverse("billing:opening_template"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["期初欠费", "说明"]
    ws = book["期初欠费"]
    assert [c.value for c in ws[1]] == OPENING_HEADERS
    ws.append([None, "1栋", "1单元", "0101", "物业费", "2026-01", 210.33, 10])
    out = io.BytesIO()
    book.save(out)
    result = upload(cast, OPENING, SimpleUploadedFile("期初.xlsx", out.getvalue()))
    assert result.status_code == 200
    bill = Bill.objects.get()
    assert (bill.house, bill.amount, bill.period_start) == (
        cast.house_a,
        D("210.33"),
        datetime.date(2026, 1, 1),
    )


@pytest.mark.parametrize("who", ["project_manager", "technician", "manager_y", "resident_a"])
def test_only_billing_managers_import_opening_balances(cast, fee, who):
    client = cast.client(who)
    assert client.get(OPENING).status_code == 403
    assert client.get(reverse("billing:opening_template")).status_code == 403
    file = workbook(opening_rows(cast), headers=OPENING_HEADERS, sheet="期初欠费")
    assert upload(cast, OPENING, file, who=who).status_code == 403
    assert not Bill.objects.exists()


def test_a_manager_of_another_community_cannot_import_into_it(cast, fee):
    file = workbook(opening_rows(cast), headers=OPENING_HEADERS, sheet="期初欠费")
    response = upload(cast, OPENING, file, who="other_admin")
    assert response.status_code == 400
    assert not Bill.objects.exists()


def test_the_bill_list_links_to_the_opening_import_for_managers_only(cast):
    assert OPENING in cast.client("finance").get(reverse("billing:bill_list")).content.decode()
    manager = cast.client("project_manager").get(reverse("billing:bill_list")).content.decode()
    assert OPENING not in manager
