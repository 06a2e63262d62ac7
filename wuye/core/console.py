"""Small helpers shared by the office console views (estates, people, staff).

- ``console_view(perm)``: login required, then ``require(actor, perm)`` (403 otherwise).
- ``keyset_page``: cursor pagination on ``id`` — ``WHERE id > after ORDER BY id LIMIT n+1``;
  no OFFSET and no COUNT, so page 1 and page 10,000 cost the same.
- ``add_service_errors``: put a service's ``ValidationError`` onto a bound form.
- ``ConsoleModelForm``: model field validation, constraints left to the service.
"""

import dataclasses
import functools

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.http import QueryDict

from wuye.core.keyset import page_rows
from wuye.core.services import require

PAGE_SIZE = 50


def console_view(perm: str):
    """Decorate a view: signed in, and the actor's roles grant ``perm``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            require(request.actor, perm)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


@dataclasses.dataclass
class KeysetPage:
    items: list
    after: int | None
    next_after: int | None
    query: QueryDict | None = None

    @property
    def has_next(self) -> bool:
        return self.next_after is not None

    def next_query(self) -> str:
        """The current filters with ``after`` moved to the last id of this page."""
        params = self.query.copy() if self.query is not None else QueryDict(mutable=True)
        params["after"] = str(self.next_after)
        return params.urlencode()

    def first_query(self) -> str:
        params = self.query.copy() if self.query is not None else QueryDict(mutable=True)
        params.pop("after", None)
        return params.urlencode()


def keyset_page(queryset, *, after: int | None, query=None, size: int = PAGE_SIZE) -> KeysetPage:
    qs = queryset.order_by("id")
    if after:
        qs = qs.filter(id__gt=after)
    rows = page_rows(qs, 0, size + 1)
    next_after = rows[size - 1].id if len(rows) > size else None
    return KeysetPage(items=rows[:size], after=after, next_after=next_after, query=query)


def newest_first_page(queryset, *, before: int | None, query=None, size: int = PAGE_SIZE):
    """Keyset pages from the newest id down (the pager's ``after`` is the last id seen)."""
    if before:
        queryset = queryset.filter(id__lt=before)
    rows = page_rows(queryset.order_by("-id"), 0, size + 1)
    next_after = rows[size - 1].id if len(rows) > size else None
    return KeysetPage(items=rows[:size], after=before, next_after=next_after, query=query)


def after_param(request) -> int | None:
    """The pager's ``after`` id; anything but a plausible id (too long for a bigint
    included) is the first page."""
    raw = request.GET.get("after", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def add_service_errors(form, exc: ValidationError) -> None:
    """Attach a service ValidationError to ``form``: known fields get their own
    message, anything else (constraints, other fields) becomes a form-level error."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.error_list)
        return
    for field, errors in exc.error_dict.items():
        for error in errors:
            form.add_error(_target_field(form, field, error), error)


def _target_field(form, field: str, error: ValidationError) -> str | None:
    if field in form.fields:
        return field
    # "X with this company and name already exists" belongs next to the last field
    # of the unique set that the form shows (name), not at the top of the form.
    unique_check = (getattr(error, "params", None) or {}).get("unique_check") or ()
    shown = [name for name in unique_check if name in form.fields]
    return shown[-1] if shown else None


class ConsoleModelForm(forms.ModelForm):
    """A ModelForm that validates fields against the model but leaves uniqueness and
    constraints to the service (whose errors land on the form), so a constraint is
    never reported twice or with its generic message next to ours."""

    def _post_clean(self):
        exclude = self._get_validation_exclusions()
        instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        try:
            instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            self._update_errors(exc)
