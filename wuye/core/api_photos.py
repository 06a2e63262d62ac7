"""``/api/v1/photos`` — upload a photo, then attach it by id (``photo_ids``) when
submitting, completing or rating a work order.

The upload is checked and re-encoded by ``wuye.core.images`` (JPEG, PNG or WebP in;
a metadata-free JPEG out). Only the uploader can attach it; who else sees it follows
what it is attached to.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from wuye.core.apitools import WRITE_ERRORS, Id, actor
from wuye.core.idempotency import idempotent
from wuye.core.images import save_photo
from wuye.estates.models import Company

router = Router(tags=["photos"])

COMPANY_ID = Form(
    None,
    description="Whose photo it is: defaults to your employer (staff) or the company "
    "managing your home (residents).",
)


class PhotoOut(Schema):
    id: int
    url: str = Field(description="The photo (JPEG, longer side at most 2560 px).")
    thumbnail_url: str = Field(description="A small JPEG for lists and timelines.")
    width: int
    height: int

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("photos:file", args=[obj.pk])

    @staticmethod
    def resolve_thumbnail_url(obj) -> str:
        return reverse("photos:thumbnail", args=[obj.pk])


def _company(who, company_id: int | None) -> Company:
    """The company the photo belongs to: the one asked for, else the caller's own
    (staff: their employer; residents: the company managing their homes)."""
    if company_id is None:
        if who.staff:
            company_id = who.staff.company_id
        elif len(who.company_ids) == 1:
            (company_id,) = who.company_ids
        elif who.company_ids:
            raise ValidationError(
                {"company_id": _("Your homes are managed by several companies; choose one.")}
            )
        else:
            raise PermissionDenied
    if company_id not in who.company_ids:
        raise PermissionDenied
    return Company.objects.get(pk=company_id)


@router.post(
    "/photos",
    response={201: PhotoOut, **WRITE_ERRORS},
    summary="Upload a photo",
    description=(
        "multipart/form-data with the image in `file` (JPEG, PNG or WebP, at most 10 MB "
        "and 40 megapixels by default). It is re-encoded as a JPEG without EXIF/GPS "
        "metadata. Attach it with `photo_ids` when submitting, completing or rating a "
        "work order; only you can attach it. A type, size or damaged-file problem is a "
        "400 on `file`."
    ),
)
@idempotent
def upload_photo(
    request,
    file: File[UploadedFile],
    company_id: Id | None = COMPANY_ID,
):
    who = actor(request)
    company = _company(who, company_id)
    photo = save_photo(actor=who, uploaded=file, company=company, field="file")
    return Status(201, photo)
