"""Photo uploads: sniffed, size-limited, decoded once and re-encoded without metadata.

Every photo a resident or staff member uploads goes through ``clean_image``:

1. the size is checked before the file is read, and at most ``PHOTO_MAX_BYTES`` + 1
   bytes are ever read (a client can lie about the size);
2. the type comes from the content (Pillow's JPEG, PNG and WebP decoders only; the file
   name and the Content-Type header are ignored), the header's dimensions are checked
   against ``PHOTO_MAX_PIXELS`` before any pixel is decoded (decompression bombs), and
   the file must decode completely (truncated or corrupt files are refused);
3. the pixels are turned upright (EXIF orientation), converted to sRGB (an embedded
   colour profile such as an iPhone's Display P3 is applied, then dropped),
   transparency is flattened onto white, the longer side is scaled down to
   ``PHOTO_MAX_SIDE`` and the result is written as a progressive JPEG, quality 85,
   with no EXIF, GPS, XMP, ICC or comment segments at all;
4. the file is named by the SHA-256 of the output, so the same upload always gets
   the same name and names cannot be guessed.

``save_photo`` stores the result as a ``Photo`` row (``store_photo`` stores an image
``clean_image`` already checked); domain models (work orders,
inspections, activities) link photos with their own foreign keys.
"""

import dataclasses
import hashlib
import io

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps

from wuye.core.models import Photo

# The only Pillow decoders that get near uploaded bytes. The JPEG decoder also
# opens the multi-picture JPEGs many phones write (Pillow calls them "MPO").
DECODERS = ("JPEG", "PNG", "WEBP")
OUTPUT_FORMAT = "JPEG"
OUTPUT_EXTENSION = ".jpg"
JPEG_QUALITY = 85
CHUNK = 64 * 1024
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@dataclasses.dataclass(frozen=True)
class CleanImage:
    """A re-encoded photo ready to store. ``content.name`` is ``<sha256>.jpg``."""

    content: ContentFile
    width: int
    height: int
    format: str  # of ``content``: always "JPEG"
    source_format: str  # what the upload turned out to be: "JPEG", "MPO", "PNG" or "WEBP"
    sha256: str


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _type_error(field: str) -> ValidationError:
    return _error(field, _("Upload a JPEG, PNG or WebP photo."), "photo_type")


def _damaged_error(field: str) -> ValidationError:
    return _error(
        field,
        _("The photo is damaged or incomplete. Take or choose it again."),
        "photo_damaged",
    )


def _read_bounded(uploaded, field: str) -> bytes:
    """The upload's bytes, refusing anything over the limit without reading it all."""
    limit = settings.PHOTO_MAX_BYTES
    too_large = _error(
        field,
        _("The photo is larger than %(limit)s MB.") % {"limit": f"{limit / (1024 * 1024):g}"},
        "photo_too_large",
    )
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise too_large
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    buffer = bytearray()
    while len(buffer) <= limit:
        chunk = uploaded.read(min(CHUNK, limit + 1 - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    if len(buffer) > limit:
        raise too_large
    return bytes(buffer)


def _open(data: bytes, field: str) -> Image.Image:
    """Identify and fully decode the first frame; every failure is the user's file."""
    if not data:
        raise _type_error(field)
    try:
        probe = Image.open(io.BytesIO(data), formats=DECODERS)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(field) from exc
    except Exception as exc:  # Pillow raises many types on hostile input
        raise _type_error(field) from exc
    if probe.width * probe.height > settings.PHOTO_MAX_PIXELS:
        raise _too_many_pixels(field)
    try:
        probe.verify()
        image = Image.open(io.BytesIO(data), formats=DECODERS)
        # Large JPEGs decode straight at 1/2, 1/4 or 1/8 scale when that still
        # covers the output size: less memory and time, same result.
        image.draft("RGB", (settings.PHOTO_MAX_SIDE, settings.PHOTO_MAX_SIDE))
        image.load()
    except Exception as exc:  # truncated data, bad checksums, broken chunks, …
        raise _damaged_error(field) from exc
    return image


def _too_many_pixels(field: str) -> ValidationError:
    limit = settings.PHOTO_MAX_PIXELS
    return _error(
        field,
        _("The photo is larger than %(limit)s megapixels.") % {"limit": f"{limit / 1e6:g}"},
        "photo_pixels",
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "RGBa", "La", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB; transparency flattened onto white."""
    icc = image.info.get("icc_profile")
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode.startswith("I"):  # 16-bit greyscale PNG: scale, don't clip to white
        image = image.convert("I").point(lambda value: value / 256).convert("RGB")
    elif image.mode not in ("RGB", "CMYK"):
        image = image.convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken or mismatched profile: read the pixels as sRGB
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def clean_image(uploaded, *, field: str = "photo") -> CleanImage:
    """Check an uploaded photo and return it re-encoded as a metadata-free JPEG.

    Raises ``ValidationError({field: …})`` with code ``photo_too_large``,
    ``photo_type``, ``photo_pixels`` or ``photo_damaged``.
    """
    data = _read_bounded(uploaded, field)
    image = _open(data, field)
    source_format = image.format
    try:
        image = ImageOps.exif_transpose(image)
        image = _to_srgb(image)
        max_side = settings.PHOTO_MAX_SIDE
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except Exception as exc:  # malformed EXIF or pixel data Pillow only notices now
        raise _damaged_error(field) from exc
    image.info = {}  # nothing of the source's metadata may reach the encoder
    output = io.BytesIO()
    image.save(output, OUTPUT_FORMAT, quality=JPEG_QUALITY, optimize=True, progressive=True)
    content = output.getvalue()
    sha256 = hashlib.sha256(content).hexdigest()
    return CleanImage(
        content=ContentFile(content, name=f"{sha256}{OUTPUT_EXTENSION}"),
        width=image.width,
        height=image.height,
        format=OUTPUT_FORMAT,
        source_format=source_format,
        sha256=sha256,
    )


def save_photo(*, actor, uploaded, company, field: str = "photo") -> Photo:
    """Clean ``uploaded`` and store it as a photo of ``company``.

    Any signed-in resident or staff member of the company may upload; what a photo
    is attached to decides who else sees it.
    """
    _require_member(actor, company)
    return store_photo(actor=actor, clean=clean_image(uploaded, field=field), company=company)


def _require_member(actor, company) -> None:
    if not actor.is_authenticated or company.id not in actor.company_ids:
        raise PermissionDenied


def store_photo(*, actor, clean: CleanImage, company) -> Photo:
    """Store a photo already checked by ``clean_image`` (forms clean every file first,
    then store them together with what they belong to)."""
    _require_member(actor, company)
    photo = Photo(
        company=company,
        uploaded_by=actor.user,
        width=clean.width,
        height=clean.height,
        sha256=clean.sha256,
    )
    clean.content.seek(0)
    photo.file.save(clean.content.name, clean.content, save=False)
    try:
        with transaction.atomic():
            photo.save()
    except Exception:
        photo.file.delete(save=False)
        raise
    return photo
