"""Helpers shared by every app's service functions."""

from django.core.exceptions import PermissionDenied, ValidationError


def require(actor, perm: str) -> None:
    """Raise 403 unless the actor's roles grant ``perm``."""
    if not actor.is_authenticated or not actor.has_perm(perm):
        raise PermissionDenied(perm)


def full_clean(instance, *, exclude=None) -> None:
    """Validate a model instance; ValidationError carries field-named messages.

    Django skips the fields with ``blank=True`` holding an empty value, None included, so a
    None put in a NOT NULL text column (``PATCH {"city": null}``) failed only at save, as a
    500: such fields are named here."""
    nulls = {
        field.name: [field.error_messages["null"]]
        for field in instance._meta.concrete_fields
        if field.editable
        and not field.primary_key
        and field.blank
        and not field.null
        and field.name not in (exclude or ())
        and getattr(instance, field.attname) is None
    }
    if nulls:
        raise ValidationError(nulls)
    instance.full_clean(exclude=exclude, validate_constraints=True)


__all__ = ["PermissionDenied", "ValidationError", "full_clean", "require"]
