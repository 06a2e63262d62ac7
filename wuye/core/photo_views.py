"""``/photos/<id>/`` and ``/photos/<id>/thumb/``: stored photos, scoped like what
they are attached to (see ``wuye.core.photos``). Anyone else gets a 404, whether
the photo exists or not."""

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from wuye.core import photos
from wuye.core.apitools import MAX_ID
from wuye.core.models import Photo

# Photo bytes never change; access might, so only the browser may keep them, briefly.
CACHE_CONTROL = "private, max-age=3600"


def _photo_or_404(request, pk) -> Photo:
    photo = Photo.objects.filter(pk=pk).first() if pk <= MAX_ID else None
    if photo is None or not photos.may_see(request.actor, photo):
        raise Http404
    return photo


def _send(name: str) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def photo_file(request, pk):
    return _send(_photo_or_404(request, pk).file.name)


@login_required
@require_GET
def photo_thumbnail(request, pk):
    photo = _photo_or_404(request, pk)
    try:
        name = photos.thumbnail(photo)
    except OSError as exc:  # the stored file is gone or unreadable
        raise Http404 from exc
    return _send(name)
