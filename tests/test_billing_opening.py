"""Opening balances (期初欠费) from Excel: every row checked before anything is written,
errors naming row and column, houses only of the community imported into, amounts in
yuan and fen, re-importing the same file writes nothing new."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import Workbook

from wuye.billing import services
from wuye.billing.imports import OpeningImportInvalid, import_opening_balances
from wuye.billing.models import Bill, FeeItem

D = Decimal
HEADERS = ["房屋编号", "楼栋", "单元", "房号", "收费项目", "所属期间", "应收金额", "已收金额"]


@pytest.fixture(autouse=True)
def _english(settings, time_machine):
    settings.LANGUAGE_CODE = "en"
    time_machine.move_to(datetime.datetime(2026, 3, 10, 9, tzinfo=datetime.UTC), tick=False)


@pytest.fixture
def finance(cast):
    return cast.actor("finance")


@pytest.fixture
def fee(cast, finance):
    return services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.AREA,
        unit_price=D("2.35"),
        effective_from=datetime.date(2026, 3, 1),
    )


def xlsx(rows, headers=HEADERS, name="期初欠费.xlsx"):
    book = Workbook()
    sheet = book.active
    sheet.title = "期初欠费"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = name
    return out


def good_rows(cast):
    return [
        [None, "1栋", "1单元", "0101", "wuye", "2025-11", 210.33, None],
        [None, "1栋", "1单元", "0101", "物业费", "2025-12", "210.33", "100"],
        [cast.house_b.id, None, None, None, "wuye", datetime.datetime(2026, 1, 1), 210.33, 210.33],
    ]


def test_opening_balances_become_bills_with_their_status_and_source(cast, finance, fee):
    result = import_opening_balances(
        actor=finance, community=cast.community_x, file=xlsx(good_rows(cast))
    )
    assert (result.rows, result.created, result.already_there) == (3, 3, 0)
    assert result.total_amount == D("630.99") and result.total_paid == D("310.33")
    bills = list(Bill.objects.order_by("id"))
    assert [(b.house_id, b.period_start, b.period_end) for b in bills] == [
        (cast.house_a.id, datetime.date(2025, 11, 1), datetime.date(2025, 11, 30)),
        (cast.house_a.id, datetime.date(2025, 12, 1), datetime.date(2025, 12, 31)),
        (cast.house_b.id, datetime.date(2026, 1, 1), datetime.date(2026, 1, 31)),
    ]
    assert [b.status for b in bills] == ["open", "partially_paid", "paid"]
    assert [b.balance for b in bills] == [D("210.33"), D("110.33"), D("0.00")]
    assert {b.origin for b in bills} == {Bill.Origin.OPENING}
    assert bills[1].detail["source"] == "opening balance import"
    assert bills[1].detail["file"] == "期初欠费.xlsx" and bills[1].detail["row"] == 3
    assert bills[0].due_date == datetime.date(2025, 11, 16)  # period start + 15 due days
    assert "3 opening balances imported" in result.message


def test_importing_the_same_file_again_writes_nothing_new(cast, finance, fee):
    import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(good_rows(cast)))
    again = import_opening_balances(
        actor=finance, community=cast.community_x, file=xlsx(good_rows(cast))
    )
    assert (again.created, again.already_there, again.total_amount) == (0, 3, D("0"))
    assert "3 were already there" in again.message
    assert Bill.objects.count() == 3


def test_a_bad_row_among_good_ones_writes_nothing_and_names_row_and_column(cast, finance, fee):
    rows = good_rows(cast)
    rows.insert(1, [None, "1栋", "1单元", "0102", "wuye", "2025-11", "12.345", None])
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.message_dict["file"] == [
        "Row 3, amount: must be an amount in yuan with at most 2 decimals, e.g. 1280.50"
    ]
    assert [(e.row, e.column) for e in err.value.row_errors] == [(3, "应收金额")]
    assert not Bill.objects.exists()


def test_every_bad_row_is_reported(cast, finance, fee):
    rows = [
        [None, "1栋", "1单元", "0999", "wuye", "2025-11", 10, None],
        [None, "1栋", "1单元", "0101", "water", "2025-13", None, None],
        [None, "1栋", "1单元", "0101", "wuye", "2026-04", 10, None],
        [None, "1栋", "1单元", "0101", "wuye", "2025-10", 10, None],
        [None, "1栋", "1单元", "0101", "wuye", "2025-10", 10, None],
    ]
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.message_dict["file"] == [
        "Row 2, house number: no such house in this community",
        "Row 3, fee item: no fee item of this community has this code or name",
        "Row 3, period: must be a month written YYYY-MM, e.g. 2025-12",
        "Row 3, amount: is required",
        "Row 4, period: must be a month from 2000-01 to this month",
        "Row 6, period: repeats row 5 (same house, fee item and month)",
    ]
    assert not Bill.objects.exists()


@pytest.mark.parametrize(
    "amount, paid, message",
    [
        (-5, None, "Row 2, amount: cannot be negative"),
        (0, None, "Row 2, amount: must be above zero"),
        (100, -1, "Row 2, paid: cannot be negative"),
        (100, "100.01", "Row 2, paid: cannot be more than the amount owed (100.00)"),
    ],
)
def test_negative_amounts_and_paying_more_than_owed_are_refused(
    cast, finance, fee, amount, paid, message
):
    rows = [[None, "1栋", "1单元", "0101", "wuye", "2025-11", amount, paid]]
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.message_dict["file"] == [message]
    assert not Bill.objects.exists()


@pytest.mark.parametrize("house", ["house_y", "other_house"])
def test_a_house_of_another_community_or_company_is_refused(cast, finance, fee, house):
    rows = [[getattr(cast, house).id, None, None, None, "wuye", "2025-11", 10, None]]
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.message_dict["file"] == ["Row 2, house id: is not a house of this community"]
    assert not Bill.objects.exists()


def test_house_id_and_address_must_agree(cast, finance, fee):
    rows = [[cast.house_b.id, "1栋", "1单元", "0101", "wuye", "2025-11", 10, None]]
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.row_errors[0].column == "房屋编号"


def test_a_changed_amount_or_a_month_already_billed_by_a_run_is_refused(cast, finance, fee):
    import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(good_rows(cast)))
    rows = [[None, "1栋", "1单元", "0101", "wuye", "2025-11", 999, None]]
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.message_dict["file"] == [
        "Row 2, amount: was imported before as 210.33; correct that bill with an adjustment instead"
    ]
    from wuye.billing import runs

    run = runs.preview_run(
        actor=finance,
        period_kind="month",
        period_start=datetime.date(2026, 3, 1),
        community=cast.community_x,
    )
    runs.issue_run(actor=finance, run=run)
    rows = [[None, "1栋", "1单元", "0102", "wuye", "2026-03", 10, None]]
    with pytest.raises(OpeningImportInvalid) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx(rows))
    assert err.value.message_dict["file"] == [
        "Row 2, period: this month is already billed by a bill run"
    ]
    assert Bill.objects.filter(origin=Bill.Origin.OPENING).count() == 3


@pytest.mark.parametrize(
    "who, community",
    [
        ("other_admin", "community_x"),
        ("manager_y", "community_y"),
        ("project_manager", "community_x"),
        ("technician", "community_x"),
        ("resident_a", "community_x"),
        ("finance", "other_community"),
    ],
)
def test_only_billing_managers_of_the_community_import(cast, fee, who, community):
    with pytest.raises(PermissionDenied):
        import_opening_balances(
            actor=cast.actor(who), community=getattr(cast, community), file=xlsx(good_rows(cast))
        )
    assert not Bill.objects.exists()


def test_whole_file_problems_are_one_clear_message(cast, finance, fee):
    broken = io.BytesIO(b"not a workbook")
    with pytest.raises(ValidationError) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=broken)
    assert err.value.message_dict["file"] == ["The file is not an Excel .xlsx workbook."]
    with pytest.raises(ValidationError) as err:
        import_opening_balances(
            actor=finance, community=cast.community_x, file=xlsx([], headers=["房号", "金额"])
        )
    assert err.value.message_dict["file"] == [
        "The sheet misses these columns: 收费项目、所属期间、应收金额、楼栋."
    ]
    with pytest.raises(ValidationError) as err:
        import_opening_balances(actor=finance, community=cast.community_x, file=xlsx([]))
    assert err.value.message_dict["file"] == ["The sheet has no data rows."]
