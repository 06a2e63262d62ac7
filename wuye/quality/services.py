"""Writes of the quality app (keyword-only, ``actor=``, atomic). Split by feature as it
grows: ``spot_checks``, ``training``, ``care`` and ``reports`` hold their own."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wuye.core.services import require


def seed_quality_defaults(*, company) -> None:
    """The conduct checklist and the first course of a new company (idempotent)."""
    from wuye.quality.defaults import seed
    from wuye.quality.models import ConductItem, Course, QuizQuestion

    seed(
        company=company,
        conduct_item_model=ConductItem,
        course_model=Course,
        question_model=QuizQuestion,
    )


SETTINGS_FIELDS = (
    "weight_reliability",
    "weight_responsiveness",
    "weight_assurance",
    "weight_empathy",
    "weight_tangibles",
    "iceberg_factor",
    "care_threshold",
)


def update_quality_settings(*, actor, **fields):
    """Change the company's quality settings (the five weights, which must add up to
    100, the iceberg factor, the care threshold); company-wide ``quality.manage`` only.
    Fields left out keep their value (the defaults for a company without settings)."""
    from wuye.quality.models import QualitySettings

    require(actor, "quality.manage")
    if not actor.company_wide:
        raise PermissionDenied
    unknown = set(fields) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown settings: %s") % ", ".join(sorted(unknown)))
    with transaction.atomic():
        company_id = actor.staff.company_id
        stored = QualitySettings.objects.select_for_update().filter(company_id=company_id)
        settings = stored.first() or QualitySettings(company_id=company_id)
        for name, value in fields.items():
            setattr(settings, name, value)
        settings.full_clean()
        weights = sum(Decimal(getattr(settings, name)) for name in SETTINGS_FIELDS[:5])
        if weights != 100:
            raise ValidationError(
                _("The five weights must add up to 100 (now %(sum)s).") % {"sum": weights}
            )
        settings.save()
    return settings
