"""Documents kept with an asset in the equipment ledger (issue 4, part 1): manuals,
contracts, inspection reports, drawings and photos. Type by name AND content, a size
limit, private storage served only through a scoped download; a refused upload leaves
no row and no file behind."""

import io
import zipfile
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wuye.facilities import services as fac
from wuye.facilities.models import AssetAttachment, AssetCategory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


@pytest.fixture
def lift(cast):
    return fac.create_asset(
        actor=cast.actor("company_admin"),
        community=cast.community_x,
        category=AssetCategory.objects.get(company=cast.company, code="elevator"),
        name="1号客梯",
    )


def upload_url(asset):
    return reverse("ledger:attachment_upload", args=[asset.pk])


def send(cast, who, asset, name, content, description=""):
    return cast.client(who).post(
        upload_url(asset),
        {
            "attachment-file": SimpleUploadedFile(name, content),
            "attachment-description": description,
        },
    )


def attach(cast, asset, name="说明书.pdf", content=PDF):
    return fac.add_attachment(
        actor=cast.actor("project_manager"),
        asset=asset,
        upload=SimpleUploadedFile(name, content),
    )


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def test_upload_then_download_gives_back_the_same_bytes_and_name(cast, lift, media):
    response = send(cast, "project_manager", lift, "maintenance-contract.pdf", PDF, "维保合同")
    assert response.status_code == 302
    assert response.url.endswith("#attachments")

    attachment = AssetAttachment.objects.get(asset=lift)
    assert (attachment.name, attachment.size, attachment.description) == (
        "maintenance-contract.pdf",
        len(PDF),
        "维保合同",
    )
    assert attachment.content_type == "application/pdf"
    assert attachment.uploaded_by == cast.users["project_manager"]
    # stored under a random name in the private media folder, not under the user's name
    assert attachment.file.name.startswith("facility-files/")
    assert "contract" not in attachment.file.name

    download = cast.client("dispatcher").get(
        reverse("ledger:attachment_download", args=[attachment.pk])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="maintenance-contract.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"

    page = cast.client("project_manager").get(reverse("ledger:asset_detail", args=[lift.pk]))
    html = page.content.decode()
    assert "maintenance-contract.pdf" in html
    assert "维保合同" in html
    assert reverse("ledger:attachment_download", args=[attachment.pk]) in html


def test_chinese_file_names_survive_the_round_trip(cast, lift):
    send(cast, "project_manager", lift, "电梯维保合同（2026）.pdf", PDF)
    attachment = AssetAttachment.objects.get(asset=lift)
    assert attachment.name == "电梯维保合同（2026）.pdf"

    download = cast.client("project_manager").get(
        reverse("ledger:attachment_download", args=[attachment.pk])
    )
    disposition = download["Content-Disposition"]
    assert disposition == f"attachment; filename*=utf-8''{quote('电梯维保合同（2026）.pdf')}"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32),
        ("plan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
        ("manual.docx", docx()),
        ("readings.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32),
        ("machine-room.dwg", b"AC1027" + b"\x00" * 32),
        ("notes.TXT", "机房温度 28℃\n".encode("gb18030")),
    ],
)
def test_the_allowed_types_are_accepted(cast, lift, name, content):
    attachment = attach(cast, lift, name, content)
    assert attachment.name == name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, "cannot be kept with an asset"),
        ("report.pdf", b"MZ\x90\x00" + b"\x00" * 64, "is not a real PDF file"),
        ("manual.docx", b"PK\x03\x04 not really a zip", "is not a real DOCX file"),
        ("notes.txt", b"\x00\x01\x02binary", "is not a real TXT file"),
        ("no-extension", PDF, "cannot be kept with an asset"),
    ],
)
def test_a_wrong_type_is_refused_by_name_with_nothing_stored(
    cast, lift, media, name, content, message
):
    response = send(cast, "project_manager", lift, name, content)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert name in html
    assert not AssetAttachment.objects.exists()
    assert stored_files(media) == []


def test_a_file_over_the_limit_is_refused(cast, lift, media, settings):
    settings.FACILITY_ATTACHMENT_MAX_MB = 1
    response = send(cast, "project_manager", lift, "drawings.pdf", PDF + b"0" * 1024 * 1024)

    assert response.status_code == 400
    assert "“drawings.pdf” is larger than 1 MB." in response.content.decode()
    assert not AssetAttachment.objects.exists()
    assert stored_files(media) == []


def test_the_upload_form_is_shown_to_managers_only(cast, lift):
    url = reverse("ledger:asset_detail", args=[lift.pk])
    assert (
        'enctype="multipart/form-data"' in cast.client("project_manager").get(url).content.decode()
    )
    assert "attachment-file" not in cast.client("dispatcher").get(url).content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("manager_y", 404),  # manages community Y, not X
        ("other_admin", 404),  # another company
        ("resident_a", 403),
        ("technician", 403),  # works the rounds at the asset, no office documents
        (None, 302),  # sent to sign in
    ],
)
def test_outsiders_neither_download_nor_upload(cast, lift, media, who, status):
    attachment = attach(cast, lift)
    files_before = stored_files(media)

    download = cast.client(who).get(reverse("ledger:attachment_download", args=[attachment.pk]))
    upload = send(cast, who, lift, "other.pdf", PDF)
    delete = cast.client(who).post(reverse("ledger:attachment_delete", args=[attachment.pk]))

    assert (download.status_code, upload.status_code, delete.status_code) == (status,) * 3
    assert list(AssetAttachment.objects.all()) == [attachment]
    assert stored_files(media) == files_before


def test_delete_removes_the_row_and_the_file(cast, lift, media, django_capture_on_commit_callbacks):
    attachment = attach(cast, lift)
    assert len(stored_files(media)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("project_manager").post(
            reverse("ledger:attachment_delete", args=[attachment.pk])
        )

    assert response.status_code == 302
    assert not AssetAttachment.objects.exists()
    assert stored_files(media) == []
    gone = cast.client("project_manager").get(
        reverse("ledger:attachment_download", args=[attachment.pk])
    )
    assert gone.status_code == 404


def test_delete_from_the_page_sends_the_card_again(cast, lift, django_capture_on_commit_callbacks):
    keep, drop = attach(cast, lift, "keep.pdf"), attach(cast, lift, "drop.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("project_manager").post(
            reverse("ledger:attachment_delete", args=[drop.pk]), HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    card = response.content.decode()
    assert card.lstrip().startswith('<section class="card" id="attachments">')
    assert "keep.pdf" in card
    assert "drop.pdf" not in card
    assert list(AssetAttachment.objects.all()) == [keep]
