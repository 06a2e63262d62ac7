"""Document uploads (PDF, Office, text, …) kept as they are, checked by name and content.

Each app keeps its own list of allowed types (``{extension: (MIME type, content check)}``,
built from ``DOCUMENT_TYPES`` and the checks here) and its own size setting;
``check_document`` refuses a file whose extension is not on the list, that is empty or
too large, or whose first bytes do not match its extension. Photos go through
``wuye.core.images`` instead (re-encoded, metadata dropped)."""

import codecs
import re
import zipfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SNIFF_BYTES = 8192
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc and .xls (Office 97–2003)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def starts_with(magic: bytes):
    return lambda head, upload: head.startswith(magic)


def zip_holding(folder: str):
    """A Word or Excel file is a ZIP archive with its own top folder (word/, xl/)."""

    def check(head, upload) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                return any(name.startswith(folder) for name in archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return False

    return check


def plain_text(head, upload) -> bool:
    """No NUL bytes and readable as UTF-8 or GB18030 (Chinese Windows Notepad)."""
    if not head or b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:  # a character cut at the end of the sample is not an error
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


# extension: (MIME type stored and sent, content check (first bytes, upload) -> bool)
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", starts_with(b"%PDF-")),
    "jpg": ("image/jpeg", starts_with(b"\xff\xd8\xff")),
    "jpeg": ("image/jpeg", starts_with(b"\xff\xd8\xff")),
    "png": ("image/png", starts_with(b"\x89PNG\r\n\x1a\n")),
    "doc": ("application/msword", starts_with(OLE2)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        zip_holding("word/"),
    ),
    "xls": ("application/vnd.ms-excel", starts_with(OLE2)),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        zip_holding("xl/"),
    ),
}
TEXT_TYPE = ("text/plain", plain_text)


def original_name(upload) -> str:
    """The name the user's computer gave the file, without any folder or control
    characters (it is shown on the page and sent back on download); may be empty."""
    name = re.split(r"[\\/]", str(upload.name or ""))[-1]
    name = CONTROL.sub("", name).strip()
    if len(name) > 255:  # keep the extension
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 254 - len(extension)]}{dot}{extension}" if dot else name[:255]
    return name


def check_document(upload, name: str, *, types: dict, limit_mb, refused: str) -> tuple[str, str]:
    """(extension, MIME type) when both the name and the content say one of ``types``
    and the size is within ``limit_mb``; a ValidationError on ``file`` naming the file
    otherwise (``refused`` % {"name": name} for a type not on the list)."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in types:
        raise ValidationError({"file": refused % {"name": name}})
    if upload.size > limit_mb * 1024 * 1024:
        raise ValidationError(
            {
                "file": _("“%(name)s” is larger than %(limit)s MB.")
                % {"name": name, "limit": limit_mb}
            }
        )
    if not upload.size:
        raise ValidationError({"file": _("“%(name)s” is empty.") % {"name": name}})
    content_type, looks_right = types[extension]
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    if not looks_right(head, upload):
        raise ValidationError(
            {
                "file": _(
                    "“%(name)s” is not a real %(type)s file: its content does not match its name."
                )
                % {"name": name, "type": extension.upper()}
            }
        )
    return extension, content_type
