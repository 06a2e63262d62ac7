"""``Idempotency-Key`` for API create endpoints.

A client that retries a create (timeout, flaky mobile network) sends the same
``Idempotency-Key`` header. The first successful (2xx) response is stored per user
and key, in the same transaction as the write; a retry with the same request gets
that stored response back (header ``Idempotent-Replayed: true``) and nothing is
written twice. Reusing a key for a different request is refused with 422. Failed
requests are not stored: nothing was written, so the client may simply retry.

Usage, below the route decorator::

    @router.post("/houses", response={201: HouseOut, ...})
    @idempotent
    def create_house(request, payload: HouseIn): ...
"""

import datetime
import functools
import hashlib

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse, RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from wuye.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEEP_FOR = datetime.timedelta(hours=24)

_PENDING = "_wuye_idempotency"


class _LostRace(Exception):
    """Another request with the same key committed first."""


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode()):
        digest.update(part)
        digest.update(b"\0")
    try:
        digest.update(request.body or b"")
    except RawPostDataException:
        # A multipart upload was parsed as a stream (files): hash what it carried.
        for name, values in sorted(request.POST.lists()):
            digest.update(f"{name}={values!r}\0".encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"{name}:{upload.name}:{upload.size}\0".encode())
                upload.seek(0)
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    return digest.hexdigest()


def _error(status: int, field: str, message: str) -> JsonResponse:
    return JsonResponse({"detail": {field: [message]}}, status=status)


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        stored.response_body, status=stored.response_status, content_type="application/json"
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _check_stored(request):
    """Runs after authentication, inside the view: replay, refuse, or mark as pending."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
        return _error(
            400,
            HEADER,
            _("The Idempotency-Key header must be 1 to %(max)d printable ASCII characters.")
            % {"max": MAX_KEY_LENGTH},
        )
    print_ = fingerprint(request)
    stored = IdempotencyKey.objects.filter(user_id=request.user.pk, key=key).first()
    if stored is not None:
        if stored.fingerprint != print_:
            return _error(
                422,
                HEADER,
                _(
                    "This Idempotency-Key was already used for a different request. "
                    "Use a new key for a new request."
                ),
            )
        return _replay(stored)
    setattr(request, _PENDING, (key, print_))
    return None


def _store_successful_response(run):
    """Wraps the whole operation: the write and the stored key commit together."""

    @functools.wraps(run)
    def wrapped(request, *args, **kwargs):
        try:
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                pending = getattr(request, _PENDING, None)
                if pending and 200 <= response.status_code < 300:
                    key, print_ = pending
                    try:
                        with transaction.atomic():
                            IdempotencyKey.objects.create(
                                user_id=request.user.pk,
                                key=key,
                                fingerprint=print_,
                                response_status=response.status_code,
                                response_body=response.content.decode(),
                            )
                    except IntegrityError as exc:
                        raise _LostRace from exc
                return response
        except _LostRace:
            # Our write was rolled back; answer as the retry of the winner would be answered.
            delattr(request, _PENDING)
            response = _check_stored(request)
            return response or _error(
                409, HEADER, _("A request with this Idempotency-Key is still in progress.")
            )

    return wrapped


def idempotent(view):
    """Make a POST create endpoint honour the ``Idempotency-Key`` header."""

    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        early = _check_stored(request)
        if early is not None:
            return early
        return view(request, *args, **kwargs)

    decorate_view(_store_successful_response)(inner)
    contribute_operation_callback(inner, _document_header)
    return inner


def _document_header(operation) -> None:
    extra = operation.openapi_extra or {}
    extra.setdefault("parameters", []).append(
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
            "description": (
                "Retry-safe creation: a repeated request with the same key returns the "
                "stored response; the same key with a different body is refused (422)."
            ),
        }
    )
    operation.openapi_extra = extra


def purge_old_keys(now=None) -> int:
    """Forget keys older than a day; clients retry within minutes, not days."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
