"""Excel import/export of the estate registry and residents (issue part 7)."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.utils import timezone, translation
from django_tasks.backends.immediate import ImmediateBackend

from wuye.core.xlsx import XLSX_TYPE
from wuye.estates.models import Building, House, Unit
from wuye.imports import exports, services
from wuye.imports import workbook as fmt
from wuye.imports.models import ImportJob
from wuye.imports.tasks import run_import
from wuye.people.models import Residency, Resident

H = fmt.HEADERS

# 楼栋 单元 房号 楼层 建筑面积 套内面积 房屋类型 使用状态 业主姓名 业主手机 身份证号 关系 入住日期
GOOD_ROWS = [
    ["2栋", "1单元", "0101", 1, 89.5, 72.3, "住宅", "自住", "赵敏", "13911110001",
     "330106199001011234", "业主", datetime.date(2020, 5, 1)],
    ["2栋", "1单元", "0101", 1, 89.5, 72.3, "住宅", "自住", "赵小宝", None,
     None, "家庭成员", None],
    ["2栋", "1单元", "0102", 1, "120.25", None, "住宅", "出租", "钱多多", "13911110002",
     None, "业主", "2019-03-15"],
    ["2栋", "1单元", "0102", 1, "120.25", None, "住宅", "出租", "孙租", "139 1111 0003",
     None, "租户", "2023/07/01"],
    ["2栋", "2单元", "0201", 2, 100, 80, "住宅", "空置", None, None, None, None, None],
    ["商业楼", None, "S01", 1, 45, None, "商铺", "出租", "李老板", 13911110004.0,
     None, "租户", None],
    ["地下车库", None, "B-001", -1, 12.5, None, "车位", "自住", "赵敏", "13911110001",
     None, None, None],
]  # fmt: skip


def xlsx(rows, headers=H, sheet=fmt.SHEET) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def english(client):
    """Messages below are asserted in English: pick it with the language switch's cookie."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def upload(content: bytes, name="houses.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX_TYPE)


def snapshot(community):
    houses = House.objects.filter(community=community)
    return {
        "buildings": Building.objects.filter(community=community).count(),
        "units": Unit.objects.filter(building__community=community).count(),
        "houses": houses.count(),
        "residents": Resident.objects.count(),
        "residencies": Residency.objects.count(),
        "areas": sorted(houses.values_list("number", "built_area", "indoor_area")),
    }


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def manager(cast):
    return cast.actor("project_manager")  # community X, may see full numbers


def run(actor, community, rows):
    return services.import_file(actor=actor, community=community, fileobj=io.BytesIO(xlsx(rows)))


# --- the write -----------------------------------------------------------------------
def test_valid_import_creates_registry_and_people(cast, manager):
    x = cast.community_x
    counts = run(manager, x, GOOD_ROWS)
    assert counts == {
        "buildings_created": 3,
        "units_created": 2,
        "houses_created": 5,
        "houses_updated": 0,
        "residents_created": 5,
        "residents_updated": 0,
        "residencies_created": 6,
        "residencies_updated": 0,
    }
    b2 = Building.objects.get(community=x, name="2栋")
    assert b2.floors_above == 2
    garage = Building.objects.get(community=x, name="地下车库")
    assert garage.floors_below == 1
    house = House.objects.get(building=b2, unit__name="1单元", number="0101")
    assert (house.company_id, house.floor, house.kind, house.occupancy) == (
        cast.company.id,
        1,
        House.Kind.RESIDENCE,
        House.Occupancy.OWNER_OCCUPIED,
    )
    assert (house.built_area, house.indoor_area) == (Decimal("89.50"), Decimal("72.30"))
    shop = House.objects.get(building__name="商业楼", number="S01")
    assert shop.unit_id is None and shop.kind == House.Kind.SHOP
    space = House.objects.get(number="B-001")
    assert (space.floor, space.kind) == (-1, House.Kind.PARKING)

    zhao = Resident.objects.get(company=cast.company, mobile="13911110001")
    assert zhao.name == "赵敏" and zhao.id_number == "330106199001011234"
    assert zhao.user is not None and zhao.user.mobile == "13911110001"
    assert not zhao.user.has_usable_password()
    ties = {t.house.number: t for t in zhao.residencies.select_related("house")}
    assert set(ties) == {"0101", "B-001"}
    assert ties["0101"].relation == Residency.Relation.OWNER
    assert ties["0101"].move_in == datetime.date(2020, 5, 1)
    assert ties["B-001"].move_in == timezone.localdate()  # empty date: today
    kid = Residency.objects.get(house=house, relation=Residency.Relation.FAMILY).resident
    assert (kid.name, kid.mobile, kid.user_id) == ("赵小宝", "", None)
    tenant = Resident.objects.get(mobile="13911110003")  # spaces removed
    tie = tenant.residencies.get()
    assert tie.relation == Residency.Relation.TENANT and tie.move_in == datetime.date(2023, 7, 1)
    assert Resident.objects.get(mobile="13911110004").name == "李老板"  # number cell
    empty = House.objects.get(number="0201")
    assert empty.occupancy == House.Occupancy.VACANT and not empty.residencies.exists()


def test_reimport_changes_nothing_and_a_changed_area_updates(cast, manager):
    x = cast.community_x
    run(manager, x, GOOD_ROWS)
    before = snapshot(x)
    counts = run(manager, x, GOOD_ROWS)
    assert set(counts.values()) == {0}
    assert snapshot(x) == before

    changed = [list(r) for r in GOOD_ROWS]
    changed[2][4] = changed[3][4] = "121.00"  # both rows of house 0102
    counts = run(manager, x, changed)
    assert counts["houses_updated"] == 1 and counts["houses_created"] == 0
    assert House.objects.get(building__name="2栋", number="0102").built_area == Decimal("121.00")
    after = snapshot(x)
    assert (after["houses"], after["residents"], after["residencies"]) == (
        before["houses"],
        before["residents"],
        before["residencies"],
    )


def test_existing_houses_and_residents_are_matched_and_updated(cast, manager):
    """The cast's 1栋/1单元/0101 and 张伟 (13800000001) exist already."""
    row = ["1栋", "1单元", "0101", 1, 95, None, "住宅", "出租", "张伟伟", "13800000001",
           None, "业主", None]  # fmt: skip
    houses, residents = House.objects.count(), Resident.objects.count()
    counts = run(manager, cast.community_x, [row])
    assert counts["houses_created"] == 0 and counts["houses_updated"] == 1
    assert counts["residents_updated"] == 1 and counts["residencies_created"] == 0
    assert (House.objects.count(), Resident.objects.count()) == (houses, residents)
    cast.house_a.refresh_from_db()
    assert cast.house_a.built_area == Decimal("95.00")
    assert cast.house_a.indoor_area == Decimal("79.50")  # empty optional cell keeps it
    assert cast.house_a.occupancy == House.Occupancy.RENTED
    cast.resident_a.refresh_from_db()
    assert cast.resident_a.name == "张伟伟"
    assert cast.resident_a.id_number == "110101199001011234"


def test_import_needs_both_manage_permissions_and_the_community(cast):
    content = xlsx(GOOD_ROWS)
    for name, community in (
        ("dispatcher", cast.community_x),  # people.manage but not estates.manage
        ("technician", cast.community_x),
        ("manager_y", cast.community_x),  # manages Y only
        ("project_manager", cast.other_community),
        ("other_admin", cast.community_x),
    ):
        with pytest.raises(PermissionDenied):
            services.import_file(
                actor=cast.actor(name), community=community, fileobj=io.BytesIO(content)
            )
    assert not House.objects.filter(number="B-001").exists()


# --- validation ----------------------------------------------------------------------
def bad(row_changes: dict) -> list:
    row = list(GOOD_ROWS[2])
    for column, value in row_changes.items():
        row[H.index(column)] = value
    return row


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"建筑面积": None}, "建筑面积", "is required"),
        ({"建筑面积": 100001}, "建筑面积", "must be a number between 0 and 100000"),
        ({"建筑面积": -5}, "建筑面积", "must be a number between 0 and 100000"),
        ({"建筑面积": "八十"}, "建筑面积", "must be a number between 0 and 100000"),
        ({"建筑面积": 89.555}, "建筑面积", "at most 2 decimals"),
        ({"套内面积": 130}, "套内面积", "must not be larger than the built-up area"),
        ({"楼栋": None}, "楼栋", "is required"),
        ({"房号": "  "}, "房号", "is required"),
        ({"房号": "x" * 33}, "房号", "at most 32 characters"),
        ({"楼层": 2.5}, "楼层", "whole number between -20 and 200"),
        ({"楼层": 300}, "楼层", "whole number between -20 and 200"),
        ({"楼层": None}, "楼层", "is required"),
        ({"房屋类型": "别墅"}, "房屋类型", "must be one of: 住宅、商铺、办公、车位、储藏室"),
        ({"使用状态": "闲置"}, "使用状态", "must be one of: 自住、出租、空置、装修"),
        ({"关系": "朋友"}, "关系", "must be one of: 业主、家庭成员、租户"),
        ({"业主手机": "1380013800"}, "业主手机", "11-digit mainland mobile"),
        ({"业主手机": "23800138000"}, "业主手机", "11-digit mainland mobile"),
        ({"业主手机": None}, "业主手机", "is required for owners and tenants"),
        ({"业主姓名": None}, "业主姓名", "is required when other person columns are filled"),
        ({"身份证号": "12"}, "身份证号", "18-character resident ID"),
        ({"入住日期": "2023-02-30"}, "入住日期", "must be a date"),
        ({"入住日期": "昨天"}, "入住日期", "must be a date"),
        ({"入住日期": datetime.date(1800, 1, 1)}, "入住日期", "must be a date"),
    ],
)
def test_each_bad_cell_is_reported_with_row_and_column(cast, manager, changes, column, reason):
    before = snapshot(cast.community_x)
    rows = [GOOD_ROWS[0], bad(changes)]
    with translation.override("en"), pytest.raises(services.ImportInvalid) as caught:
        run(manager, cast.community_x, rows)
    errors = caught.value.errors
    assert [(e.row, e.column) for e in errors] == [(3, column)]
    assert reason in errors[0].message
    assert snapshot(cast.community_x) == before


@pytest.mark.parametrize(
    ("second", "column", "reason"),
    [
        (GOOD_ROWS[0], "房号", "duplicates row 2 (same house and same person)"),
        (
            [*GOOD_ROWS[1][:4], 90, *GOOD_ROWS[1][5:]],
            "建筑面积",
            "differs from row 2 for the same house",
        ),
        (
            ["2栋", "1单元", "0101", 1, 89.5, 72.3, "住宅", "自住"],
            "房号",
            "duplicates row 2 (same house)",
        ),
        (
            ["2栋", "9单元", "0901", 9, 90, None, "住宅", "自住", "赵明", "13911110001"],
            "业主姓名",
            "row 2 gives another name for the same mobile",
        ),
        (
            ["2栋", "9单元", "0901", 9, 90, None, "住宅", "自住", "赵敏", "13911110001",
             "330106199001019999"],
            "身份证号",
            "row 2 gives another ID number for the same mobile",
        ),
    ],
)  # fmt: skip
def test_duplicates_and_contradictions_inside_the_file(cast, manager, second, column, reason):
    before = snapshot(cast.community_x)
    with translation.override("en"), pytest.raises(services.ImportInvalid) as caught:
        run(manager, cast.community_x, [GOOD_ROWS[0], second])
    assert [(e.row, e.column, e.message) for e in caught.value.errors] == [(3, column, reason)]
    assert snapshot(cast.community_x) == before


def test_every_bad_row_is_listed_not_only_the_first(cast, manager):
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][4] = "abc"
    rows[4][6] = "别墅"
    rows[5][9] = "123"
    rows[6][12] = "2020-13-01"
    with pytest.raises(services.ImportInvalid) as caught:
        run(manager, cast.community_x, rows)
    assert [(e.row, e.column) for e in caught.value.errors] == [
        (2, "建筑面积"),
        (6, "房屋类型"),
        (7, "业主手机"),
        (8, "入住日期"),
    ]
    assert not House.objects.filter(number="B-001").exists()


def test_error_message_reads_row_column_reason():
    with translation.override("en"):
        row, errors = fmt.check_row(12, {fmt.BUILT_AREA: "-1"})
    assert row is None
    error = next(e for e in errors if e.column == fmt.BUILT_AREA)
    assert (error.row, error.column) == (12, "建筑面积")
    assert error.message == "must be a number between 0 and 100000 with at most 2 decimals"


def test_whole_file_problems(cast, manager, monkeypatch):
    def file_error(content):
        with pytest.raises(fmt.FileError) as caught, translation.override("en"):
            services.import_file(
                actor=manager, community=cast.community_x, fileobj=io.BytesIO(content)
            )
        return str(caught.value)

    assert "not an Excel .xlsx" in file_error(b"name,mobile\n")
    assert 'no sheet named "房屋"' in file_error(xlsx(GOOD_ROWS, sheet="Sheet1"))
    assert "misses these columns: 楼层、建筑面积" in file_error(
        xlsx([], headers=[h for h in H if h not in ("楼层", "建筑面积")])
    )
    assert "no data rows" in file_error(xlsx([]))
    monkeypatch.setattr(fmt, "MAX_ROWS", 3)
    assert "more than 3 data rows" in file_error(xlsx(GOOD_ROWS))


def test_columns_may_come_in_any_order_and_extra_columns_are_ignored(cast, manager):
    headers = ["备注", *reversed(H)]
    rows = [["x", *reversed(r)] for r in GOOD_ROWS]
    counts = run_with_headers(manager, cast.community_x, rows, headers)
    assert counts["houses_created"] == 5


def run_with_headers(actor, community, rows, headers):
    content = xlsx(rows, headers=headers)
    return services.import_file(actor=actor, community=community, fileobj=io.BytesIO(content))


# --- upload, job and pages -----------------------------------------------------------
def post_upload(client, community_id, content, name="houses.xlsx"):
    return client.post(
        "/console/imports/new/",
        {"community": community_id, "file": upload(content, name)},
        headers={"Accept-Language": "en"},  # messages are asserted in English
    )


def test_upload_runs_the_job_and_shows_the_result(cast, django_capture_on_commit_callbacks):
    client = cast.client("project_manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, cast.community_x.id, xlsx(GOOD_ROWS))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/console/imports/{job.pk}/"
    # The ImmediateBackend set by conftest ran the task inside the request: django_tasks
    # drops its cached backends when the TASKS setting changes.
    assert isinstance(run_import.get_backend(), ImmediateBackend)
    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows, job.error_count) == (7, 7, 0)
    assert job.counts["houses_created"] == 5 and job.created_total == 21
    assert job.actor == cast.users["project_manager"] and job.company == cast.company
    assert job.started_at and job.finished_at
    page = client.get(job_url(job))
    assert page.status_code == 200
    assert 'id="import-progress"' in page.text and "hx-trigger" not in page.text
    partial = client.get(job_url(job), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith("<section") and "<html" not in partial.text
    assert client.get("/console/imports/").status_code == 200


def job_url(job):
    return f"/console/imports/{job.pk}/"


def test_unfinished_job_polls_every_second(cast):
    job = ImportJob.objects.create(
        company=cast.company,
        community=cast.community_x,
        actor=cast.users["project_manager"],
        original_name="a.xlsx",
        status=ImportJob.Status.VALIDATING,
        total_rows=200,
        processed_rows=50,
    )
    partial = cast.client("project_manager").get(job_url(job), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in partial.text
    assert 'value="25"' in partial.text


def test_upload_with_bad_rows_fails_the_job_and_writes_nothing(
    cast, django_capture_on_commit_callbacks
):
    rows = [GOOD_ROWS[0], bad({"建筑面积": 0, "套内面积": 5})]
    before = snapshot(cast.community_x)
    client = cast.client("project_manager")
    with django_capture_on_commit_callbacks(execute=True):
        post_upload(client, cast.community_x.id, xlsx(rows))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert job.errors == [{"row": 3, "column": "套内面积", "message": job.errors[0]["message"]}]
    assert job.error_count == 1 and job.counts == {}
    assert snapshot(cast.community_x) == before
    assert "套内面积" in client.get(job_url(job)).text

    report = client.get(f"/console/imports/{job.pk}/errors.xlsx")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content)))[fmt.SHEET]
    rows_out = list(sheet.iter_rows(values_only=True))
    assert rows_out[0] == (*H, "错误")
    assert len(rows_out) == 2 and rows_out[1][2] == "0102"
    assert rows_out[1][-1].startswith("套内面积：")


@pytest.mark.parametrize(
    ("name", "content", "setting", "message"),
    [
        ("houses.csv", b"a,b\n", None, "Upload an Excel .xlsx file."),
        ("houses.xlsx", b"not a zip at all", None, "The file is not an Excel .xlsx workbook."),
        ("houses.xlsx", None, 1024, "The file is larger than"),
        ("houses.xlsx", "no-sheet", None, 'The workbook has no sheet named "房屋".'),
    ],
)
def test_upload_rejects_bad_files_with_a_form_error(
    cast, settings, name, content, setting, message
):
    if setting:
        settings.IMPORT_MAX_UPLOAD_BYTES = setting
    if content is None:
        content = xlsx(GOOD_ROWS * 20)
    elif content == "no-sheet":
        content = xlsx(GOOD_ROWS, sheet="Sheet1")
    client = english(cast.client("project_manager"))
    response = post_upload(client, cast.community_x.id, content, name=name)
    assert response.status_code == 400
    assert message in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_other_company_community_is_a_form_error(cast):
    client = cast.client("project_manager")
    for community in (cast.other_community, cast.community_y):
        response = post_upload(client, community.id, xlsx(GOOD_ROWS))
        assert response.status_code == 400
        assert "community" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_upload_page_needs_import_permissions(cast):
    assert cast.client("project_manager").get("/console/imports/new/").status_code == 200
    for name in ("dispatcher", "technician", "finance", "resident_a"):
        response = cast.client(name).post(
            "/console/imports/new/",
            {"community": cast.community_x.id, "file": upload(xlsx(GOOD_ROWS))},
        )
        assert response.status_code == 403, name
    list_page = cast.client("dispatcher").get("/console/imports/")
    assert list_page.status_code == 200  # may export, may not import
    assert "/console/imports/new/" not in list_page.text
    assert "/console/imports/export/" in list_page.text
    assert cast.client("resident_a").get("/console/imports/").status_code == 403
    assert cast.client(None).get("/console/imports/new/").status_code == 302
    assert not ImportJob.objects.exists()


def test_jobs_are_scoped_to_company_and_community(cast):
    job = ImportJob.objects.create(
        company=cast.company,
        community=cast.community_x,
        actor=cast.users["project_manager"],
        original_name="x.xlsx",
    )
    assert cast.client("company_admin").get(job_url(job)).status_code == 200
    for name in ("other_admin", "manager_y"):
        client = cast.client(name)
        assert client.get(job_url(job)).status_code == 404
        assert client.get(f"{job_url(job)}errors.xlsx").status_code == 404
        assert "x.xlsx" not in client.get("/console/imports/").text
    assert "x.xlsx" in cast.client("company_admin").get("/console/imports/").text


# --- template and exports ------------------------------------------------------------
def download(client, url) -> openpyxl.Workbook:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_TYPE
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_template_has_headers_a_sample_and_notes(cast, manager):
    book = download(cast.client("project_manager"), "/console/imports/template.xlsx")
    assert book.sheetnames == [fmt.SHEET, fmt.NOTES_SHEET]
    rows = list(book[fmt.SHEET].iter_rows(values_only=True))
    assert rows[0] == H and len(rows) == 2
    notes = [r[0] for r in book[fmt.NOTES_SHEET].iter_rows(values_only=True)]
    assert set(H) <= set(notes)
    # The sample row itself imports cleanly.
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    counts = services.import_file(actor=manager, community=cast.community_x, fileobj=out)
    assert counts["houses_created"] == 1


def test_export_then_import_changes_nothing(cast, manager):
    run(manager, cast.community_x, GOOD_ROWS)
    before = snapshot(cast.community_x)
    book = download(
        cast.client("project_manager"), f"/console/imports/export/{cast.community_x.id}/houses.xlsx"
    )
    rows = list(book[fmt.SHEET].iter_rows(values_only=True))
    assert rows[0] == H
    assert len(rows) == 1 + 7 + 2  # the file's rows plus the cast's 0101 and 0102
    assert ("1栋", "1单元", "0101", 1, 89.5, 79.5, "住宅", "自住", "张伟", "13800000001",
            "110101199001011234", "业主", datetime.datetime(2024, 1, 1)) in rows  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    counts = services.import_file(actor=manager, community=cast.community_x, fileobj=out)
    assert set(counts.values()) == {0}, counts
    assert snapshot(cast.community_x) == before


def test_exports_mask_numbers_without_view_sensitive(cast):
    url = f"/console/imports/export/{cast.community_x.id}/"
    masked = download(cast.client("dispatcher"), url + "houses.xlsx")[fmt.SHEET]
    people = {r[8]: r for r in masked.iter_rows(min_row=2, values_only=True)}
    assert people["张伟"][9] == "138****0001"
    assert people["张伟"][10] == "1101**********1234"
    residents = download(cast.client("dispatcher"), url + "residents.xlsx")["住户"]
    rows = list(residents.iter_rows(values_only=True))
    assert rows[0] == exports.RESIDENT_HEADERS
    assert ("张伟", "138****0001", "1101**********1234", "1栋 1单元 0101 （业主）") in rows
    full = download(cast.client("project_manager"), url + "residents.xlsx")["住户"]
    assert ("张伟", "13800000001", "110101199001011234", "1栋 1单元 0101 （业主）") in list(
        full.iter_rows(values_only=True)
    )


def test_exports_are_scoped(cast):
    y_houses = f"/console/imports/export/{cast.community_y.id}/houses.xlsx"
    other = f"/console/imports/export/{cast.other_community.id}/residents.xlsx"
    assert cast.client("dispatcher").get(y_houses).status_code == 404
    assert cast.client("company_admin").get(other).status_code == 404
    assert cast.client("technician").get(y_houses).status_code == 403  # no people.view
    assert cast.client("resident_a").get(other).status_code == 403


def queued_job(cast, django_capture_on_commit_callbacks, rows=GOOD_ROWS):
    """A job created by the service with its task not yet run."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.create_import_job(
            actor=cast.actor("project_manager"),
            community=cast.community_x,
            upload=upload(xlsx(rows)),
            language="en",
        )
    assert len(callbacks) == 1 and job.status == ImportJob.Status.PENDING
    return job


def test_job_fails_when_the_uploader_lost_the_right_meanwhile(
    cast, django_capture_on_commit_callbacks
):
    job = queued_job(cast, django_capture_on_commit_callbacks)
    cast.staff["project_manager"].roles.clear()
    before = snapshot(cast.community_x)
    assert services.run_import_job(job_id=job.pk) == ImportJob.Status.FAILED
    job.refresh_from_db()
    assert job.errors[0]["message"].startswith("You may no longer import")
    assert snapshot(cast.community_x) == before
    # A job runs once: a second delivery of the task changes nothing.
    assert services.run_import_job(job_id=job.pk) == ImportJob.Status.FAILED


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (DatabaseError("deadlock"), "The database refused the import"),
        (RuntimeError("bug"), "The import stopped on an internal error"),
    ],
)
def test_job_fails_cleanly_on_errors_while_writing(
    cast, django_capture_on_commit_callbacks, monkeypatch, exc, message
):
    job = queued_job(cast, django_capture_on_commit_callbacks)

    def broken(**kwargs):
        raise exc

    monkeypatch.setattr(services, "apply_rows", broken)
    if isinstance(exc, RuntimeError):
        with pytest.raises(RuntimeError):
            services.run_import_job(job_id=job.pk)
    else:
        services.run_import_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert job.errors[0]["row"] == 0 and job.errors[0]["message"].startswith(message)


def test_missing_columns_fail_the_job_with_a_file_message(cast, django_capture_on_commit_callbacks):
    content = xlsx([["1栋", "0101"]], headers=["楼栋", "房号"])
    client = english(cast.client("project_manager"))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, cast.community_x.id, content)
    assert response.status_code == 302  # sheet found; columns are the task's job
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.language == "en"
    assert job.errors == [
        {
            "row": 0,
            "column": "",
            "message": "The sheet misses these columns: 楼层、建筑面积、房屋类型、使用状态.",
        }
    ]
    assert "misses these columns" in client.get(job_url(job)).text
