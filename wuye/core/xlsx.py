"""The pieces every Excel workbook we hand out is built from.

Workbooks are written with openpyxl's write-only mode, row by row from chunked
queries, so memory stays flat however many rows there are. Cells that need a number
format are ``WriteOnlyCell`` objects; plain values go into the row as they are.
Times are local wall-clock times of the project's time zone (Excel has no time
zones, so the headers name the zone); money is the stored Decimal, two decimals.
"""

import tempfile

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MONEY_FORMAT = "0.00"
ONE_DECIMAL = "0.0"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
# Codes, house numbers, mobiles: text, so Excel keeps leading zeros and long digit strings.
TEXT_FORMAT = "@"

BOLD = Font(bold=True)


def spooled_file():
    """A temporary file for a workbook being built (kept on disk above 8 MB)."""
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


def bold_row(sheet, values) -> list:
    """Header cells: each value as text, in bold."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.font = BOLD
        cells.append(cell)
    return cells


def new_book(title: str, headers):
    """A write-only workbook with one sheet ``title``, headed by ``headers`` in bold."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(bold_row(sheet, headers))
    return book, sheet


def typed_cell(sheet, value, number_format=None):
    """``value`` with ``number_format``; None for a missing value, so the cell stays empty."""
    if value is None or value == "":
        return None
    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    return cell


def time_cell(sheet, moment):
    """An aware datetime as the local wall-clock time (Excel has no time zones)."""
    if moment is None:
        return None
    return typed_cell(sheet, timezone.localtime(moment).replace(tzinfo=None), TIME_FORMAT)


def date_cell(sheet, day):
    return typed_cell(sheet, day, DATE_FORMAT)


def text_cell(sheet, value):
    """``value`` formatted as text. Written even when empty: whatever is typed into the
    cell later (a mobile, an ID number in a file to import) stays text too."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = TEXT_FORMAT
    return cell
