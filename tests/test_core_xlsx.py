"""The shared workbook pieces (wuye.core.xlsx): a workbook written with them and read
back with openpyxl shows the number formats, bold headers, empty cells and local times."""

import datetime
import zoneinfo
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from wuye.core import xlsx

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def reopen(book):
    out = xlsx.spooled_file()
    book.save(out)
    out.seek(0)
    return openpyxl.load_workbook(out)


def test_formats_and_header_read_back(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    book, sheet = xlsx.new_book("Bills", ["Number", "Amount (¥)", 3])
    moment = datetime.datetime(2026, 1, 31, 18, 5, tzinfo=datetime.UTC)  # 02:05 next day
    sheet.append(
        [
            xlsx.text_cell(sheet, "0302"),
            xlsx.typed_cell(sheet, Decimal("1234.50"), xlsx.MONEY_FORMAT),
            xlsx.date_cell(sheet, datetime.date(2026, 2, 1)),
            xlsx.time_cell(sheet, moment),
            xlsx.typed_cell(sheet, Decimal("87.25"), xlsx.ONE_DECIMAL),
            xlsx.typed_cell(sheet, 7),
        ]
    )
    read = reopen(book)
    assert read.sheetnames == ["Bills"]
    rows = list(read["Bills"].iter_rows())
    header = rows[0]
    assert [c.value for c in header[:3]] == ["Number", "Amount (¥)", "3"]  # headers as text
    assert all(c.font.b for c in header[:3])
    number, money, day, time, rate, plain = rows[1]
    assert (number.value, number.number_format, number.data_type) == ("0302", "@", "s")
    assert money.value == pytest.approx(1234.5) and money.number_format == "0.00"
    assert day.value == datetime.datetime(2026, 2, 1) and day.number_format == "yyyy-mm-dd"
    # The Shanghai wall-clock time, naive: Excel has no time zones.
    assert time.value == datetime.datetime(2026, 2, 1, 2, 5)
    assert time.number_format == "yyyy-mm-dd hh:mm"
    assert rate.number_format == "0.0"
    assert plain.value == 7 and plain.number_format == "General"
    assert not any(c.font.b for c in rows[1])


def test_time_cell_uses_the_active_time_zone(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    sheet = openpyxl.Workbook().active
    moment = datetime.datetime(2026, 6, 1, 9, 30, tzinfo=SHANGHAI)
    cell = xlsx.time_cell(sheet, moment)
    assert cell.value == datetime.datetime(2026, 6, 1, 9, 30)
    assert cell.value.tzinfo is None
    # The same instant stored in UTC comes out in local time too.
    cell = xlsx.time_cell(sheet, moment.astimezone(datetime.UTC))
    assert cell.value == datetime.datetime(2026, 6, 1, 9, 30)
    with timezone.override("UTC"):
        assert xlsx.time_cell(sheet, moment).value == datetime.datetime(2026, 6, 1, 1, 30)


def test_missing_values_stay_empty():
    book, sheet = xlsx.new_book("Empty", ["a", "b", "c", "d", "e", "f"])
    row = [
        xlsx.typed_cell(sheet, None, xlsx.MONEY_FORMAT),
        xlsx.typed_cell(sheet, "", xlsx.TEXT_FORMAT),
        xlsx.date_cell(sheet, None),
        xlsx.time_cell(sheet, None),
        xlsx.typed_cell(sheet, Decimal("0.00"), xlsx.MONEY_FORMAT),
        xlsx.text_cell(sheet, None),
    ]
    assert row[:4] == [None, None, None, None]
    sheet.append(row)
    cells = reopen(book)["Empty"][2]
    assert [c.value for c in cells[:4]] == [None, None, None, None]
    assert all(c.number_format == "General" for c in cells[:4])
    # Zero is a value, not a missing one.
    assert cells[4].value == 0 and cells[4].number_format == "0.00"
    # An empty text cell keeps its text format, so what is typed into it later stays text.
    assert cells[5].value is None and cells[5].number_format == "@"


def test_spooled_file_and_content_type():
    out = xlsx.spooled_file()
    out.write(b"x" * 1024)
    assert not out._rolled  # small workbooks stay in memory
    assert xlsx.XLSX_TYPE == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_billing_console_keeps_its_cell_helpers():
    # New billing exports import these from exports_console; they are the shared ones.
    from wuye.billing import exports_console

    assert exports_console.bold_row is xlsx.bold_row
    assert exports_console.typed_cell is xlsx.typed_cell
