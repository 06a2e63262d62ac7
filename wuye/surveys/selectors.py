"""Reads of surveys and votes: lists, response rates, per-question distributions,
SERVQUAL dimensions and vote counts. Every figure is a database aggregate (GROUP BY),
never a Python loop over answers, so a survey of a million households costs a handful
of queries."""

import dataclasses
from decimal import Decimal

from django.db.models import Avg, Count, Q, Sum

from wuye.estates.models import Building
from wuye.surveys import servqual
from wuye.surveys.models import Answer, QuestionKind, RespondentUnit, Response, Status, Survey
from wuye.surveys.services import CHOICE_KINDS, SCALE_KINDS, reached_houses, reached_residencies

TEXT_LIMIT = 50
HUNDRED = Decimal(100)


def surveys():
    return Survey.objects.select_related("community")


def percent(part, whole) -> Decimal | None:
    """``part`` of ``whole`` in percent with one decimal (None when whole is 0)."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


# --- response rates ---------------------------------------------------------------------
@dataclasses.dataclass
class BuildingRate:
    building_id: int
    name: str
    eligible: int
    answered: int

    @property
    def rate(self):
        return percent(self.answered, self.eligible)


def response_rates(survey: Survey) -> dict:
    """Overall (against what was counted when it opened) and per building (against the
    audience's houses, or residents, as they are now)."""
    answered = dict(
        Response.objects.filter(survey=survey)
        .values_list("building_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    houses = reached_houses(survey)
    if survey.respondent == RespondentUnit.PERSON:
        eligible = dict(
            reached_residencies(survey, houses)
            .values_list("house__building_id")
            .annotate(n=Count("resident_id", distinct=True))
            .order_by()
        )
    else:
        eligible = dict(houses.values_list("building_id").annotate(n=Count("id")).order_by())
    ids = sorted(set(eligible) | {pk for pk in answered if pk is not None})
    names = dict(Building.objects.filter(id__in=ids).values_list("id", "name"))
    rows = [
        BuildingRate(pk, names.get(pk, "—"), eligible.get(pk, 0), answered.get(pk, 0)) for pk in ids
    ]
    rows.sort(key=lambda row: (row.name, row.building_id))
    return {
        "eligible": survey.eligible_households,
        "answered": survey.responses_count,
        "rate": percent(survey.responses_count, survey.eligible_households),
        "buildings": rows,
    }


# --- per question ---------------------------------------------------------------------------
@dataclasses.dataclass
class Bar:
    label: str
    count: int
    percent: Decimal | None


@dataclasses.dataclass
class QuestionResult:
    question: object
    answered: int
    bars: list
    mean: Decimal | None = None
    expected_mean: Decimal | None = None
    texts: list = dataclasses.field(default_factory=list)
    more_texts: int = 0

    @property
    def gap(self):
        if self.mean is None or self.expected_mean is None:
            return None
        return self.mean - self.expected_mean


def _mean(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def question_results(survey: Survey, *, text_limit: int = TEXT_LIMIT) -> list[QuestionResult]:
    questions = list(survey.questions.order_by("position", "id"))
    answers = Answer.objects.filter(question__survey=survey)
    answered = dict(answers.values_list("question_id").annotate(n=Count("id")).order_by())
    combos: dict[int, list] = {}
    for question_id, choices, n in (
        answers.filter(question__kind__in=CHOICE_KINDS)
        .values_list("question_id", "choices")
        .annotate(n=Count("id"))
        .order_by()
    ):
        combos.setdefault(question_id, []).append((choices or [], n))
    scores: dict[int, dict] = {}
    for question_id, score, n in (
        answers.filter(question__kind__in=SCALE_KINDS, score__isnull=False)
        .values_list("question_id", "score")
        .annotate(n=Count("id"))
        .order_by()
    ):
        scores.setdefault(question_id, {})[score] = n
    means = {
        row["question_id"]: row
        for row in answers.filter(question__kind__in=SCALE_KINDS)
        .values("question_id")
        .annotate(mean=Avg("score"), expected=Avg("expected"))
        .order_by()
    }
    results = []
    for question in questions:
        total = answered.get(question.pk, 0)
        result = QuestionResult(question=question, answered=total, bars=[])
        if question.kind in CHOICE_KINDS:
            counts = dict.fromkeys(question.options, 0)
            for choices, n in combos.get(question.pk, []):
                for choice in choices:
                    counts[choice] = counts.get(choice, 0) + n
            result.bars = [Bar(label, n, percent(n, total)) for label, n in counts.items()]
        elif question.kind in SCALE_KINDS:
            given = scores.get(question.pk, {})
            result.bars = [
                Bar(str(score), given.get(score, 0), percent(given.get(score, 0), total))
                for score in range(1, question.scale_max + 1)
            ]
            row = means.get(question.pk) or {}
            result.mean = _mean(row.get("mean"))
            result.expected_mean = _mean(row.get("expected"))
        else:
            texts = text_answers(survey, question)
            result.texts = list(texts[:text_limit])
            result.more_texts = max(total - len(result.texts), 0)
        results.append(result)
    return results


def text_answers(survey: Survey, question):
    """The text answers of ``question``, newest first. Anonymous surveys never say who:
    their responses carry no house, and the rows here carry none either."""
    rows = (
        Answer.objects.filter(question=question)
        .exclude(text="")
        .order_by("-response_id")
        .select_related("response")
    )
    if not survey.anonymous:
        rows = rows.select_related(
            "response__house__community", "response__house__building", "response__house__unit"
        )
    return rows


# --- SERVQUAL -------------------------------------------------------------------------------
def servqual_scores(survey: Survey):
    """Per-dimension mean perception, expectation and gap, and the weighted index: for
    SERVQUAL surveys and any survey whose scale questions carry a dimension."""
    if survey.is_vote or not survey.questions.exclude(dimension="").exists():
        return None
    answers = Answer.objects.filter(question__survey=survey).exclude(question__dimension="")
    rows = list(
        answers.values("question__dimension")
        .annotate(
            answers=Count("score"),
            perception=Avg("score"),
            expectation=Avg("expected"),
        )
        .order_by()
    )
    items = dict(
        survey.questions.exclude(dimension="")
        .values_list("dimension")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {row["question__dimension"]: row for row in rows}
    data = [
        {
            "dimension": dimension,
            "items": n,
            "answers": found.get(dimension, {}).get("answers", 0),
            "perception": found.get(dimension, {}).get("perception"),
            "expectation": found.get(dimension, {}).get("expectation"),
        }
        for dimension, n in items.items()
    ]
    top = survey.questions.exclude(dimension="").filter(kind=QuestionKind.SCALE5).exists()
    return servqual.score(
        data,
        scale_max=5 if top else 7,
        weights_in_force=servqual.weights(company=survey.company_id),
    )


# --- votes ------------------------------------------------------------------------------------
@dataclasses.dataclass
class VoteRow:
    option: str
    houses: int
    area: Decimal
    houses_of_votes: Decimal | None
    area_of_votes: Decimal | None
    houses_of_all: Decimal | None
    area_of_all: Decimal | None


def vote_results(survey: Survey) -> dict:
    """Each option's ballots by head count (houses) and by 专有部分面积 (the built-up
    area recorded with the ballot), as shares of those who voted and of all houses the
    vote reached; participation by count and by area."""
    question = survey.questions.order_by("position", "id").first()
    counted = {}
    if question is not None:
        for choices, n, area in (
            Answer.objects.filter(question=question)
            .values_list("choices")
            .annotate(n=Count("id"), area=Sum("response__area"))
            .order_by()
        ):
            for choice in choices or []:
                houses, total = counted.get(choice, (0, Decimal(0)))
                counted[choice] = (houses + n, total + (area or 0))
    totals = Response.objects.filter(survey=survey).aggregate(n=Count("id"), area=Sum("area"))
    voted, voted_area = totals["n"] or 0, totals["area"] or Decimal("0.00")
    eligible, eligible_area = survey.eligible_households, survey.eligible_area or Decimal(0)
    rows = []
    for option in question.options if question is not None else []:
        houses, area = counted.get(option, (0, Decimal("0.00")))
        rows.append(
            VoteRow(
                option=option,
                houses=houses,
                area=Decimal(area).quantize(Decimal("0.01")),
                houses_of_votes=percent(houses, voted),
                area_of_votes=percent(area, voted_area),
                houses_of_all=percent(houses, eligible),
                area_of_all=percent(area, eligible_area),
            )
        )
    return {
        "question": question,
        "rows": rows,
        "voted": voted,
        "voted_area": Decimal(voted_area).quantize(Decimal("0.01")),
        "eligible": eligible,
        "eligible_area": Decimal(eligible_area).quantize(Decimal("0.01")),
        "participation": percent(voted, eligible),
        "participation_area": percent(voted_area, eligible_area),
        # 民法典 第278条: a matter is decided by owners with at least two thirds of the
        # area and two thirds of the owners taking part.
        "quorum": bool(eligible)
        and voted * 3 >= eligible * 2
        and Decimal(voted_area) * 3 >= Decimal(eligible_area) * 2,
    }


# --- residents --------------------------------------------------------------------------------
def resident_surveys(actor):
    """Open and closed surveys reaching the resident's houses, open ones first."""
    return (
        Survey.objects.visible_to(actor)
        .filter(status__in=(Status.OPEN, Status.CLOSED))
        .select_related("community")
    )


def answered_ids(actor, surveys_) -> set[int]:
    """Which of ``surveys_`` the resident (or their household) has answered."""
    from wuye.surveys.services import key_for

    keys = {}
    houses = sorted(actor.resident_house_ids)
    for survey in surveys_:
        for house_id in houses:
            keys[key_for(survey, house_id=house_id, user_id=actor.user.pk)] = survey.pk
    if not keys:
        return set()
    found = Response.objects.filter(
        Q(survey_id__in=[s.pk for s in surveys_]) & Q(respondent_key__in=list(keys))
    ).values_list("respondent_key", flat=True)
    return {keys[key] for key in found}
