"""Who may look at a stored photo, and its thumbnail.

Photos are never public media: ``/photos/<id>/`` answers only to the uploader and to
whoever can see something the photo is attached to. Each app that attaches photos
names a check in ``ATTACHMENT_CHECKS`` (``check(actor, photo_id) -> bool``), imported
lazily so ``core`` does not depend on the apps built on it.

Thumbnails are made on first request from the stored JPEG and kept beside it as
``thumbs/<sha256>-<side>.jpg`` (the photo's content never changes, so neither does
its thumbnail).
"""

import io
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.module_loading import import_string
from PIL import Image

from wuye.core.images import store_photo
from wuye.core.models import Photo

ATTACHMENT_CHECKS = (
    "wuye.workorders.selectors.photo_visible",
    "wuye.facilities.selectors_rounds.photo_visible",
    "wuye.activities.selectors.photo_visible",
    "wuye.quality.spot_checks.photo_visible",
)

THUMBNAIL_SIDE = 360
THUMBNAIL_QUALITY = 80


def may_see(actor, photo: Photo) -> bool:
    """The uploader, or anyone who sees a record the photo is attached to."""
    if not actor.is_authenticated:
        return False
    if photo.uploaded_by_id == actor.user.pk:
        return True
    return any(import_string(path)(actor, photo.pk) for path in ATTACHMENT_CHECKS)


def thumbnail_name(photo: Photo, side: int = THUMBNAIL_SIDE) -> str:
    return f"thumbs/{photo.sha256[:2]}/{photo.sha256}-{side}.jpg"


def thumbnail(photo: Photo, side: int = THUMBNAIL_SIDE) -> str:
    """The storage name of the photo's thumbnail (longer side ``side``), made if missing.

    Photos already at most ``side`` pixels use the photo itself."""
    if max(photo.width, photo.height) <= side:
        return photo.file.name
    name = thumbnail_name(photo, side)
    if default_storage.exists(name):
        return name
    with default_storage.open(photo.file.name, "rb") as source, Image.open(source) as image:
        image.draft("RGB", (side, side))  # JPEG decodes at 1/2, 1/4, 1/8 scale: fast
        image = image.convert("RGB")
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        output = io.BytesIO()
        image.save(output, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    saved = default_storage.save(name, ContentFile(output.getvalue()))
    if saved != name:  # another request made it at the same moment: keep theirs
        default_storage.delete(saved)
    return name


@contextmanager
def stored_photos(*, actor, images, company):
    """Store images a form already cleaned (``clean_image``) as the actor's photos
    for the block that attaches them: if the block raises, the rows roll back and the
    files are deleted, so a refused request leaves nothing behind."""
    with transaction.atomic():
        stored = []
        try:
            for image in images:
                stored.append(store_photo(actor=actor, clean=image, company=company))
            yield stored
        except BaseException:
            for photo in stored:
                photo.file.delete(save=False)
            raise
