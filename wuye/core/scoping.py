"""Tenant scoping by construction.

Every aggregate's queryset has ``visible_to(actor)``; every view reaches a single
object through ``get_visible_or_404`` so a missing row and a forbidden row give the
same 404 and nothing leaks about other tenants.
"""

from django.db import models
from django.http import Http404


class ScopedQuerySet(models.QuerySet):
    """A queryset whose subclasses say which rows an actor may see."""

    def visible_to(self, actor):  # pragma: no cover - abstract
        raise NotImplementedError


def get_visible_or_404(queryset, actor, **lookup):
    """The one getter: same 404 for 'does not exist' and 'not yours'."""
    if actor is None or not actor.is_authenticated:
        raise Http404
    try:
        return queryset.visible_to(actor).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
