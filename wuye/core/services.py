"""Helpers shared by every app's service functions."""

from django.core.exceptions import PermissionDenied, ValidationError


def require(actor, perm: str) -> None:
    """Raise 403 unless the actor's roles grant ``perm``."""
    if not actor.is_authenticated or not actor.has_perm(perm):
        raise PermissionDenied(perm)


def full_clean(instance, *, exclude=None) -> None:
    """Validate a model instance; ValidationError carries field-named messages."""
    instance.full_clean(exclude=exclude, validate_constraints=True)


__all__ = ["PermissionDenied", "ValidationError", "full_clean", "require"]
