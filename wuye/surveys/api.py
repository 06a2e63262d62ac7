"""``/api/v1/surveys`` — satisfaction surveys and owner votes.

Staff (``engagement.*``) list, read, create (a survey, the SERVQUAL template, a vote),
build the questions of a draft, open and close, read results, verify a vote's ballots
and enter answers taken by phone. Residents list the surveys reaching their houses,
read one and answer it. Reads are scoped with ``visible_to``; writes call
``wuye.surveys.services`` (a refusal is a 400 naming the field and writes nothing).
Every POST takes an Idempotency-Key: a retry returns the first response.
"""

import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    api_field_names,
    choices_literal,
    filter_by,
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates.audience import Audience
from wuye.estates.models import Building, Community, House, Unit
from wuye.people.models import Resident
from wuye.surveys import selectors, services
from wuye.surveys.models import (
    Channel,
    Dimension,
    Kind,
    Question,
    QuestionKind,
    RespondentUnit,
    Servqual,
    Survey,
)
from wuye.surveys.models import (
    Status as SurveyStatus,
)

router = Router(tags=["engagement"])

KindValue = choices_literal(Kind)
StatusValue = choices_literal(SurveyStatus)
AudienceValue = choices_literal(Audience)
RespondentValue = choices_literal(RespondentUnit)
QuestionKindValue = choices_literal(QuestionKind)
DimensionValue = Literal[tuple(["", *Dimension.values])]
ServqualValue = Literal[tuple(Servqual.values)]
REF_FIELDS = {
    "community": "community_id",
    "buildings": "building_ids",
    "units": "unit_ids",
    "houses": "house_ids",
    "house": "house_id",
    "resident": "resident_id",
}


# --- schemas ----------------------------------------------------------------------------
class QuestionOut(Schema):
    id: int
    position: int
    kind: QuestionKindValue
    text: str
    options: list[str]
    dimension: DimensionValue = Field(description="SERVQUAL dimension, or empty.")
    required: bool
    scale_max: int | None = Field(description="5 or 7 for scales.")


class SurveyOut(Schema):
    id: int
    kind: KindValue
    title: str
    intro: str
    community_id: int | None
    audience: AudienceValue
    respondent: RespondentValue
    anonymous: bool
    servqual: ServqualValue
    status: StatusValue
    opens_at: datetime.datetime | None
    closes_at: datetime.datetime
    closed_at: datetime.datetime | None
    eligible_households: int = Field(
        description="Households (one answer per resident: residents) reached when it opened."
    )
    eligible_area: Decimal
    responses_count: int
    result_digest: str = Field(description="SHA-256 over every ballot, stored at closing.")


class SurveyDetailOut(SurveyOut):
    questions: list[QuestionOut]
    answered_house_ids: list[int] | None = Field(
        None, description="Residents: which of their houses have answered (or voted)."
    )

    @staticmethod
    def resolve_questions(obj):
        return list(obj.questions.order_by("position", "id"))


class SurveyFilters(Schema):
    community: Id | None = Field(None, description="Community id.")
    kind: KindValue | None = None
    status: StatusValue | None = None
    q: str | None = Field(None, max_length=60, description="Part of the title.")


class AudienceIn(InputSchema):
    title: str = Field("", max_length=120)
    intro: str = Field("", max_length=5000)
    community_id: Id | None = Field(None, description="Required unless the audience is company.")
    audience: AudienceValue = Audience.COMMUNITY
    building_ids: list[Id] = Field(default_factory=list, max_length=500)
    unit_ids: list[Id] = Field(default_factory=list, max_length=2000)
    house_ids: list[Id] = Field(default_factory=list, max_length=5000)
    closes_at: datetime.datetime


class SurveyIn(AudienceIn):
    respondent: RespondentValue = RespondentUnit.HOUSEHOLD
    anonymous: bool = False


class ServqualIn(SurveyIn):
    mode: Literal["performance", "gap"] = "performance"
    scale: Literal[5, 7] = 7


class VoteIn(AudienceIn):
    question: str = Field("", max_length=300, description="Defaults to the title.")
    options: list[str] | None = Field(
        None, max_length=20, description="Defaults to 同意 / 反对 / 弃权."
    )


class QuestionIn(InputSchema):
    kind: QuestionKindValue
    text: str = Field(max_length=300)
    options: list[str] = Field(default_factory=list, max_length=20)
    dimension: DimensionValue = ""
    required: bool = True


class OrderIn(InputSchema):
    question_ids: list[Id] = Field(max_length=100, description="Every question id, in order.")


class AnswerIn(InputSchema):
    question_id: Id
    choices: list[str] = Field(default_factory=list, max_length=20)
    score: int | None = Field(None, ge=1, le=7)
    expected: int | None = Field(None, ge=1, le=7, description="SERVQUAL gap surveys.")
    text: str = Field("", max_length=2000)


class ResponseIn(InputSchema):
    house_id: Id | None = Field(None, description="Needed when several of your houses are reached.")
    answers: list[AnswerIn] = Field(max_length=200)


class PhoneResponseIn(InputSchema):
    house_id: Id
    channel: Literal["phone", "paper"] = "phone"
    resident_id: Id | None = Field(
        None, description="The resident who answered; required for one answer per resident."
    )
    answers: list[AnswerIn] = Field(max_length=200)


class ResponseOut(Schema):
    id: int
    survey_id: int
    channel: choices_literal(Channel)
    submitted_at: datetime.datetime
    ballot_hash: str = Field(description="Votes: this ballot's link in the hash chain.")


class BarOut(Schema):
    label: str
    count: int
    percent: Decimal | None


class QuestionResultOut(Schema):
    question_id: int
    kind: QuestionKindValue
    text: str
    answered: int
    bars: list[BarOut]
    mean: Decimal | None
    expected_mean: Decimal | None
    texts: list[str] = Field(description="Latest text answers (at most 50).")


class DimensionOut(Schema):
    dimension: str
    weight: Decimal
    items: int
    answers: int
    perception: Decimal | None
    expectation: Decimal | None
    gap: Decimal | None


class ServqualOut(Schema):
    scale_max: int
    index: Decimal | None
    index_percent: Decimal | None
    gap_index: Decimal | None
    dimensions: list[DimensionOut]


class BuildingRateOut(Schema):
    building_id: int
    name: str
    eligible: int
    answered: int
    rate: Decimal | None


class VoteRowOut(Schema):
    option: str
    houses: int
    area: Decimal
    houses_of_votes: Decimal | None
    area_of_votes: Decimal | None
    houses_of_all: Decimal | None
    area_of_all: Decimal | None


class VoteOut(Schema):
    rows: list[VoteRowOut]
    voted: int
    voted_area: Decimal
    eligible: int
    eligible_area: Decimal
    participation: Decimal | None
    participation_area: Decimal | None
    quorum: bool


class ResultsOut(Schema):
    survey_id: int
    eligible: int
    answered: int
    rate: Decimal | None = Field(description="Percent.")
    buildings: list[BuildingRateOut]
    questions: list[QuestionResultOut] = Field(default_factory=list)
    servqual: ServqualOut | None = None
    vote: VoteOut | None = None


class VerificationOut(Schema):
    ok: bool
    expected: str
    computed: str | None
    ballots: int
    broken_at: int | None = Field(description="The first ballot that does not match.")
    reason: str


# --- helpers ----------------------------------------------------------------------------
def _audience_args(who, payload: AudienceIn) -> dict:
    community = visible_ref(Community.objects, who, payload.community_id, "community_id")
    return {
        "title": payload.title,
        "intro": payload.intro,
        "community": community,
        "audience": payload.audience,
        "buildings": visible_refs(Building.objects, who, payload.building_ids, "building_ids"),
        "units": visible_refs(Unit.objects, who, payload.unit_ids, "unit_ids"),
        "houses": visible_refs(House.objects, who, payload.house_ids, "house_ids"),
        "closes_at": payload.closes_at,
    }


def _answers(items: list[AnswerIn]) -> dict:
    found = {}
    for item in items:
        if item.question_id in found:
            raise ValidationError({"answers": _("Each question is answered once.")})
        found[item.question_id] = {
            "choices": item.choices,
            "score": item.score,
            "expected": item.expected,
            "text": item.text,
        }
    return found


def _staff_survey(who, survey_id) -> Survey:
    """A survey the caller sees as staff (residents get 404 on staff endpoints)."""
    if not who.staff:
        raise Http404
    return get_visible_or_404(selectors.surveys(), who, pk=survey_id)


def _managed(who, survey_id) -> Survey:
    survey = _staff_survey(who, survey_id)
    if not services.may_manage(who, survey):
        raise PermissionDenied(services.MANAGE)
    return survey


def _question(survey, question_id) -> Question:
    try:
        return survey.questions.get(pk=question_id)
    except Question.DoesNotExist as exc:
        raise Http404 from exc


def _detail(survey, who=None) -> Survey:
    survey = selectors.surveys().get(pk=survey.pk)
    survey.answered_house_ids = None
    if who is not None and who.is_resident and not who.staff:
        houses = sorted(who.resident_house_ids)
        keys = {services.key_for(survey, house_id=h, user_id=who.user.pk): h for h in houses}
        done = survey.responses.filter(respondent_key__in=list(keys)).values_list(
            "respondent_key", flat=True
        )
        survey.answered_house_ids = sorted({keys[k] for k in done})
    return survey


# --- reading ------------------------------------------------------------------------------
@router.get(
    "/surveys",
    response={200: list[SurveyOut], **LIST_ERRORS},
    summary="List surveys and votes",
    description="Newest first. Staff with engagement.view, .manage or .assist see their "
    "communities' surveys (drafts included); residents the open and closed ones reaching "
    "their houses.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_surveys(request, filters: Query[SurveyFilters]):
    qs = Survey.objects.visible_to(actor(request))
    qs = filter_by(qs, filters, community="community_id", kind="kind", status="status")
    if filters.q:
        qs = qs.filter(title__icontains=filters.q.strip())
    return qs


@router.post(
    "/surveys/servqual",
    response={201: SurveyDetailOut, **WRITE_ERRORS},
    summary="Create a survey from the SERVQUAL template (draft)",
    description="The 22 SERVQUAL items adapted to property service, each with its quality "
    "dimension, on a 1–7 (or 1–5) scale; mode gap asks expectation and perception.",
)
@idempotent
def create_servqual_survey(request, payload: ServqualIn):
    who = actor(request)
    with api_field_names(REF_FIELDS):
        survey = services.create_from_servqual_template(
            actor=who,
            mode=payload.mode,
            scale=payload.scale,
            respondent=payload.respondent,
            anonymous=payload.anonymous,
            **_audience_args(who, payload),
        )
    return Status(201, _detail(survey))


@router.post(
    "/surveys/votes",
    response={201: SurveyDetailOut, **WRITE_ERRORS},
    summary="Create an owner vote (draft)",
    description="One single-choice question; one named ballot per house, counted by number "
    "of owners and by area.",
)
@idempotent
def create_vote(request, payload: VoteIn):
    who = actor(request)
    with api_field_names(REF_FIELDS):
        survey = services.create_vote(
            actor=who,
            question=payload.question,
            options=payload.options,
            **_audience_args(who, payload),
        )
    return Status(201, _detail(survey))


@router.get(
    "/surveys/{survey_id}",
    response={200: SurveyDetailOut, **READ_ERRORS},
    summary="A survey or vote with its questions",
    description="Residents also get which of their houses have answered.",
)
def get_survey(request, survey_id: Id):
    who = actor(request)
    survey = get_visible_or_404(selectors.surveys(), who, pk=survey_id)
    return _detail(survey, who)


@router.get(
    "/surveys/{survey_id}/results",
    response={200: ResultsOut, **READ_ERRORS},
    summary="Results of a survey or vote",
    description="Staff (engagement.view). Response rate overall and per building; per "
    "question counts and percentages (means for scales); SERVQUAL dimensions and the "
    "weighted index; a vote's count by houses and by area. Anonymous surveys never say "
    "who answered.",
)
def survey_results(request, survey_id: Id):
    who = actor(request)
    survey = _staff_survey(who, survey_id)
    rates = selectors.response_rates(survey)
    out = {
        "survey_id": survey.pk,
        "eligible": rates["eligible"],
        "answered": rates["answered"],
        "rate": rates["rate"],
        "buildings": [
            {
                "building_id": row.building_id,
                "name": row.name,
                "eligible": row.eligible,
                "answered": row.answered,
                "rate": row.rate,
            }
            for row in rates["buildings"]
        ],
    }
    if survey.is_vote:
        vote = selectors.vote_results(survey)
        out["vote"] = {**vote, "rows": [row.__dict__ for row in vote["rows"]]}
        out["vote"].pop("question")
        return out
    out["questions"] = [
        {
            "question_id": r.question.pk,
            "kind": r.question.kind,
            "text": r.question.text,
            "answered": r.answered,
            "bars": [bar.__dict__ for bar in r.bars],
            "mean": r.mean,
            "expected_mean": r.expected_mean,
            "texts": [answer.text for answer in r.texts],
        }
        for r in selectors.question_results(survey)
    ]
    scores = selectors.servqual_scores(survey)
    if scores is not None:
        out["servqual"] = {
            "scale_max": scores.scale_max,
            "index": scores.index,
            "index_percent": scores.index_percent,
            "gap_index": scores.gap_index,
            "dimensions": [
                {
                    "dimension": d.dimension,
                    "weight": d.weight,
                    "items": d.items,
                    "answers": d.answers,
                    "perception": d.perception,
                    "expectation": d.expectation,
                    "gap": d.gap,
                }
                for d in scores.dimensions
            ],
        }
    return out


@router.get(
    "/surveys/{survey_id}/verification",
    response={200: VerificationOut, **READ_ERRORS},
    summary="Recount a vote's ballot chain",
    description="Staff (engagement.view). Recomputes every ballot's hash and compares the "
    "end of the chain with the fingerprint stored at closing; names the first ballot "
    "that does not match.",
)
def verify_vote(request, survey_id: Id):
    survey = _staff_survey(actor(request), survey_id)
    if not survey.is_vote:
        raise Http404
    check = services.verify_vote(survey=survey)
    return {**check, "reason": str(check.get("reason") or ""), "expected": check["expected"] or ""}


# --- creating and building ----------------------------------------------------------------
@router.post(
    "/surveys",
    response={201: SurveyDetailOut, **WRITE_ERRORS},
    summary="Create a survey (draft)",
    description="engagement.manage in the community (a company-wide audience: company-wide "
    "staff). Add questions next, then open it.",
)
@idempotent
def create_survey(request, payload: SurveyIn):
    who = actor(request)
    with api_field_names(REF_FIELDS):
        survey = services.create_survey(
            actor=who,
            respondent=payload.respondent,
            anonymous=payload.anonymous,
            **_audience_args(who, payload),
        )
    return Status(201, _detail(survey))


@router.post(
    "/surveys/{survey_id}/questions",
    response={201: QuestionOut, **WRITE_ERRORS},
    summary="Add a question to a draft",
    description="Choice questions have 2–20 distinct options; a dimension only on scales.",
)
@idempotent
def add_question(request, survey_id: Id, payload: QuestionIn):
    who = actor(request)
    survey = _managed(who, survey_id)
    question = services.add_question(actor=who, survey=survey, **payload.dict())
    return Status(201, question)


@router.post(
    "/surveys/{survey_id}/questions/order",
    response={200: list[QuestionOut], **WRITE_ERRORS},
    summary="Reorder a draft's questions",
)
@idempotent
def reorder_questions(request, survey_id: Id, payload: OrderIn):
    who = actor(request)
    survey = _managed(who, survey_id)
    return services.reorder_questions(actor=who, survey=survey, order=payload.question_ids)


@router.put(
    "/surveys/{survey_id}/questions/{question_id}",
    response={200: QuestionOut, **WRITE_ERRORS},
    summary="Change a draft's question",
)
def edit_question(request, survey_id: Id, question_id: Id, payload: QuestionIn):
    who = actor(request)
    question = _question(_managed(who, survey_id), question_id)
    return services.edit_question(actor=who, question=question, **payload.dict())


@router.delete(
    "/surveys/{survey_id}/questions/{question_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a draft's question",
)
def remove_question(request, survey_id: Id, question_id: Id):
    who = actor(request)
    question = _question(_managed(who, survey_id), question_id)
    services.remove_question(actor=who, question=question)
    return Status(204, None)


@router.post(
    "/surveys/{survey_id}/open",
    response={200: SurveyDetailOut, **WRITE_ERRORS},
    summary="Open a draft",
    description="Counts the households and area reached, notifies the residents and sends "
    "the survey.opened webhook.",
)
@idempotent
def open_survey(request, survey_id: Id):
    who = actor(request)
    survey = services.open_survey(actor=who, survey=_managed(who, survey_id))
    return _detail(survey)


@router.post(
    "/surveys/{survey_id}/close",
    response={200: SurveyDetailOut, **WRITE_ERRORS},
    summary="Close an open survey or vote now",
    description="A vote stores its result fingerprint. Surveys past their closing time are "
    "closed by the scheduler.",
)
@idempotent
def close_survey(request, survey_id: Id):
    who = actor(request)
    survey = services.close_survey(actor=who, survey=_managed(who, survey_id))
    return _detail(survey)


# --- answering ------------------------------------------------------------------------------
@router.post(
    "/surveys/{survey_id}/responses",
    response={201: ResponseOut, **WRITE_ERRORS},
    summary="Answer a survey or cast a ballot (residents)",
    description="For one of your houses the survey reaches (a vote: a house you own). One "
    "response per household (or per resident); a closed survey or a second answer is a "
    "400 and writes nothing.",
)
@idempotent
def submit_response(request, survey_id: Id, payload: ResponseIn):
    who = actor(request)
    if not who.is_resident:
        raise PermissionDenied("resident")
    survey = get_visible_or_404(selectors.resident_surveys(who), who, pk=survey_id)
    house = None
    if payload.house_id is not None:
        house = visible_ref(House.objects, who, payload.house_id, "house_id")
    with api_field_names(REF_FIELDS):
        response = services.submit_response(
            actor=who, survey=survey, answers=_answers(payload.answers), house=house
        )
    return Status(201, response)


@router.post(
    "/surveys/{survey_id}/phone-responses",
    response={201: ResponseOut, **WRITE_ERRORS},
    summary="Enter an answer taken by phone or on paper",
    description="engagement.assist in the survey's community, for a house the survey "
    "reaches; resident_id names who answered (required for one answer per resident).",
)
@idempotent
def phone_response(request, survey_id: Id, payload: PhoneResponseIn):
    who = actor(request)
    survey = _staff_survey(who, survey_id)
    if not services.may_assist(who, survey):
        raise PermissionDenied(services.ASSIST)
    house = visible_ref(House.objects, who, payload.house_id, "house_id")
    resident_user = None
    if payload.resident_id is not None:
        resident = visible_ref(Resident.objects, who, payload.resident_id, "resident_id")
        if resident.user_id is None:
            raise ValidationError({"resident_id": _("This resident has no account.")})
        resident_user = resident.user
    with api_field_names(REF_FIELDS):
        response = services.submit_response(
            actor=who,
            survey=survey,
            answers=_answers(payload.answers),
            house=house,
            channel=payload.channel,
            resident_user=resident_user,
        )
    return Status(201, response)
