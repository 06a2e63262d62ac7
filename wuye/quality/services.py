"""Writes of the quality app (keyword-only, ``actor=``, atomic). Split by feature as it
grows: ``spot_checks``, ``training``, ``care`` and ``reports`` hold their own."""


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
