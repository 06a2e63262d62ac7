"""Pieces every API router shares: the actor, id types, cursor pagination, errors."""

import datetime
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import CursorPagination
from pydantic import AfterValidator, WithJsonSchema, field_validator
from pydantic import ValidationError as PydanticValidationError

from wuye.accounts.actor import request_actor
from wuye.core.keyset import IdsFirst
from wuye.core.scoping import get_visible_or_404

# Database ids are 64-bit; anything outside is bad input (422), never an overflow (500).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# Text that reaches a database lookup: PostgreSQL rejects NUL characters outright.
NO_NUL = r"^[^\x00]*$"


def _naive_time(value: datetime.time) -> datetime.time:
    if value.tzinfo is not None:
        raise ValueError("Give a local (Beijing) time without a time zone, e.g. 08:30.")
    return value


# A wall-clock time of day (shift hours, quiet hours, round windows), stored without a zone.
# JSON Schema's "time" format is RFC 3339's, which requires an offset, so the schema names
# the shape instead; an offset in the input is a 422, not a database error.
LocalTime = Annotated[
    datetime.time,
    AfterValidator(_naive_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "examples": ["08:30"],
        }
    ),
]


class InputSchema(Schema):
    """Base of every request body: no text field may carry a NUL character
    (PostgreSQL refuses them; SQLite would store them)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("NUL characters are not allowed.")
        return value


def choices_literal(choices):
    """A ``Literal`` of a TextChoices' values: invalid values are a 422 naming the field,
    and the OpenAPI schema lists them inline (no clashing enum names)."""
    return Literal[tuple(choices.values)]


def actor(request):
    return request_actor(request)


class ErrorOut(Schema):
    """``detail`` is a message, or a map of field name to messages."""

    detail: Any


# Response codes shared by operations (add 201/200 with the payload schema). Every
# operation needs a signed-in caller (401); a path id or query value out of its range is
# a 422.
READ_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
LIST_ERRORS = {401: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def visible_ref(queryset, actor, pk, field: str):
    """An object named by id in a request body; unknown or out-of-scope → 400 on ``field``.

    The message is the same for "does not exist" and "not yours".
    """
    if pk is None:
        return None
    try:
        return get_visible_or_404(queryset, actor, pk=pk)
    except Http404 as exc:
        raise ValidationError({field: _("No such item, or it is outside your scope.")}) from exc


def visible_refs(queryset, actor, pks, field: str) -> list:
    """Several objects by id; all must be visible (duplicates are ignored)."""
    wanted = set(pks or ())
    if not wanted:
        return []
    found = list(queryset.visible_to(actor).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({field: _("No such item, or it is outside your scope.")})
    return found


@contextmanager
def api_field_names(names: dict):
    """Re-raise a service's ValidationError under the API's field names: ``names`` maps
    the model field the service names to the body field (``{"community": "community_id"}``)."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, api_field in names.items():
                if field in exc.error_dict:
                    exc.error_dict[api_field] = exc.error_dict.pop(field)
        raise


def filter_by(queryset, filters, **lookups):
    """``queryset`` narrowed by each list filter that is given (not None or empty):
    ``lookups`` maps a field of the filters schema to its lookup, e.g.
    ``community="community_id"``."""
    for name, lookup in lookups.items():
        value = getattr(filters, name)
        if value:
            queryset = queryset.filter(**{lookup: value})
    return queryset


PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class IdCursorPagination(CursorPagination):
    """Keyset pagination on the primary key: one indexed query per page, no COUNT(*),
    the same cost on page 1 and page 20,000. Cursors are opaque; a tampered cursor
    is a 422, never a 500.

    ``row`` (optional) turns each object of the page into what the response schema
    validates, e.g. a dict for a plain pydantic model (``workorders.schemas.list_row``).
    """

    def __init__(self, *, row=None, **kwargs):
        self.row = row
        kwargs.setdefault("ordering", ("id",))
        kwargs.setdefault("page_size", PAGE_SIZE)
        kwargs.setdefault("max_page_size", MAX_PAGE_SIZE)
        super().__init__(**kwargs)

    class Input(Schema):
        page_size: int | None = Field(
            None, description="Rows per page (default 50, at most 200; larger asks get 200)."
        )
        cursor: str | None = Field(
            None, max_length=200, description="Opaque cursor from `next` or `previous`."
        )

    def paginate_queryset(self, queryset, pagination, request, **params):
        self._check_cursor(pagination.cursor)
        page = super().paginate_queryset(IdsFirst(queryset), pagination, request, **params)
        if self.row is not None:
            page[self.items_attribute] = [self.row(item) for item in page[self.items_attribute]]
        return page

    def _check_cursor(self, encoded: str | None) -> None:
        if not encoded:
            return
        try:
            cursor = self.Cursor.from_encoded_param(encoded)
        except (PydanticValidationError, UnicodeDecodeError) as exc:
            raise self._bad_cursor() from exc
        if cursor.p is not None:
            try:
                position = int(cursor.p)
            except ValueError as exc:
                raise self._bad_cursor() from exc
            if not 0 <= position <= MAX_ID:
                raise self._bad_cursor()

    @staticmethod
    def _bad_cursor():
        return NinjaValidationError(
            [{"loc": ["query", "cursor"], "msg": _("Invalid cursor."), "type": "value_error"}]
        )
