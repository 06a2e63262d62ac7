"""Writes of surveys (满意度调查) and owner votes (业主投票).

Rules (a refusal raises ``ValidationError`` naming the field and writes nothing):

- ``engagement.manage`` creates, edits, opens and closes surveys of its communities
  (a company-wide audience: company-wide staff); the audience is checked with
  ``wuye.estates.audience.check_audience``.
- Questions are added, edited, reordered and removed while the survey is a draft.
  Choice questions have 2–20 distinct options; scales are 1–5 or 1–7; SERVQUAL items
  (a quality dimension) are scales. A vote has exactly one single-choice question.
- Opening counts the households (residents, for one answer per resident) and the
  built-up area the audience reaches: the response rate is measured against them.
- ``submit_response``: a resident online for one of their current houses the survey
  reaches (a vote: its owner), or staff with ``engagement.assist`` entering an answer
  taken by phone or on paper for a chosen house. Every answer is checked against its
  question; required questions must be answered. One response per household (or per
  resident): ``respondent_key`` is an HMAC of the house (or user), so an anonymous
  survey enforces it without storing who answered.
- A vote's ballots form a SHA-256 chain (``ballot_hash`` = sha256(previous hash +
  canonical JSON of survey, house, option, area and time)); the survey row is locked
  while a ballot is added, so the chain stays linear. Closing stores the head as
  ``result_digest``; ``verify_vote`` recomputes it and names the first ballot that no
  longer matches.
"""

import datetime
import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.core.i18n import site_text
from wuye.core.services import full_clean, require
from wuye.estates.audience import (
    HOUSEHOLD_KINDS,
    VOTING_KINDS,
    Audience,
    audience_houses,
    check_audience,
)
from wuye.estates.models import House
from wuye.notifications.services import notify
from wuye.people.models import Residency
from wuye.surveys import servqual
from wuye.surveys.models import (
    Answer,
    Channel,
    Dimension,
    EventKind,
    Kind,
    Question,
    QuestionKind,
    RespondentUnit,
    Response,
    Servqual,
    Status,
    Survey,
    SurveyEvent,
)
from wuye.webhooks import payloads

logger = logging.getLogger("wuye.surveys")

MANAGE = "engagement.manage"
ASSIST = "engagement.assist"
VIEW = "engagement.view"
MAX_QUESTIONS = 100
MIN_OPTIONS, MAX_OPTIONS = 2, 20
OPTION_LENGTH = 100
TEXT_LENGTH = 2000
GENESIS = "0" * 64  # the "previous hash" of a vote's first ballot
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
SCALE_KINDS = (QuestionKind.SCALE5, QuestionKind.SCALE7)
VOTE_OPTIONS = (gettext_lazy("Agree"), gettext_lazy("Disagree"), gettext_lazy("Abstain"))
OPENED_TITLE = gettext_lazy("New survey: %(title)s")
OPENED_VOTE_TITLE = gettext_lazy("Owner vote: %(title)s")


# --- who may ----------------------------------------------------------------------------
def may_manage(actor, survey: Survey) -> bool:
    return _in_scope(actor, survey, MANAGE)


def may_assist(actor, survey: Survey) -> bool:
    return _in_scope(actor, survey, ASSIST)


def _in_scope(actor, survey, perm) -> bool:
    if not actor.is_authenticated or not actor.staff or not actor.has_perm(perm):
        return False
    if actor.staff.company_id != survey.company_id:
        return False
    if survey.community_id is None:
        return actor.company_wide
    return survey.community_id in actor.community_ids


def _require_manage(actor, survey):
    require(actor, MANAGE)
    if not may_manage(actor, survey):
        raise PermissionDenied(MANAGE)


def _locked(survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk)


def _require_draft(survey):
    if survey.status != Status.DRAFT:
        raise ValidationError({"status": _("Questions change only while the survey is a draft.")})


# --- creating ---------------------------------------------------------------------------
def _clean_closes_at(closes_at, now=None):
    now = now or timezone.now()
    if not isinstance(closes_at, datetime.datetime):
        raise ValidationError({"closes_at": _("Give the closing date and time.")})
    if timezone.is_naive(closes_at):
        closes_at = timezone.make_aware(closes_at)
    if closes_at <= now:
        raise ValidationError({"closes_at": _("The closing time must be in the future.")})
    if closes_at > now + datetime.timedelta(days=366):
        raise ValidationError({"closes_at": _("A survey stays open for at most a year.")})
    return closes_at


def _new_survey(
    *,
    actor,
    title: str,
    closes_at,
    community=None,
    audience: str = Audience.COMMUNITY,
    buildings=(),
    units=(),
    houses=(),
    intro: str = "",
    kind: str = Kind.SURVEY,
    respondent: str = RespondentUnit.HOUSEHOLD,
    anonymous: bool = False,
    servqual_mode: str = Servqual.NONE,
) -> Survey:
    require(actor, MANAGE)
    company_id = actor.staff.company_id
    buildings, units, houses = list(buildings or ()), list(units or ()), list(houses or ())
    check_audience(
        actor=actor,
        perm=MANAGE,
        company_id=company_id,
        community=community if audience != Audience.COMPANY else None,
        audience=audience,
        buildings=buildings,
        units=units,
        houses=houses,
    )
    if audience == Audience.COMPANY:
        community = None
    if kind == Kind.VOTE:
        respondent, anonymous, servqual_mode = RespondentUnit.HOUSEHOLD, False, Servqual.NONE
    survey = Survey(
        company_id=company_id,
        community=community,
        kind=kind,
        title=(title or "").strip(),
        intro=(intro or "").strip(),
        audience=audience,
        respondent=respondent,
        anonymous=bool(anonymous),
        servqual=servqual_mode or Servqual.NONE,
        closes_at=_clean_closes_at(closes_at),
        created_by=actor.user,
    )
    full_clean(survey)
    survey.save()
    # Only the chosen kind of target is kept; the others would be ignored anyway.
    if audience == Audience.BUILDINGS:
        survey.buildings.set(buildings)
    elif audience == Audience.UNITS:
        survey.units.set(units)
    elif audience == Audience.HOUSES:
        survey.houses.set(houses)
    _event(survey, EventKind.CREATED, actor.user, to_status=Status.DRAFT)
    return survey


def _event(survey: Survey, kind: str, user, *, from_status="", to_status="", **payload):
    """Append to the survey's record (``user`` None: the system, e.g. the closing sweep)."""
    SurveyEvent.objects.create(
        survey=survey,
        kind=kind,
        actor=user,
        from_status=from_status,
        to_status=to_status,
        payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
    )


@transaction.atomic
def create_survey(*, actor, **fields) -> Survey:
    """A draft survey (questions are added next). ``fields``: title, closes_at, community,
    audience, buildings/units/houses, intro, respondent, anonymous."""
    fields.pop("kind", None)
    return _new_survey(actor=actor, kind=Kind.SURVEY, **fields)


@transaction.atomic
def create_from_servqual_template(
    *, actor, mode: str = Servqual.PERFORMANCE, scale: int = 7, title: str = "", **fields
) -> Survey:
    """A draft survey holding the 22 SERVQUAL items on a 1–7 (or 1–5) scale, each with
    its dimension; ``mode`` ``gap`` asks expectation and perception of every item."""
    if mode not in (Servqual.PERFORMANCE, Servqual.GAP):
        raise ValidationError({"mode": _("Choose performance only or expectation and perception.")})
    if scale not in (5, 7):
        raise ValidationError({"scale": _("SERVQUAL items are scored on 1–5 or 1–7.")})
    fields.pop("kind", None)
    survey = _new_survey(
        actor=actor,
        kind=Kind.SURVEY,
        title=title or servqual.template_title(),
        intro=fields.pop("intro", "") or servqual.template_intro(),
        servqual_mode=mode,
        **fields,
    )
    kind = QuestionKind.SCALE7 if scale == 7 else QuestionKind.SCALE5
    Question.objects.bulk_create(
        Question(
            survey=survey,
            position=item.number,
            kind=kind,
            text=item.site_text(),
            dimension=item.dimension,
            required=True,
        )
        for item in servqual.ITEMS
    )
    return survey


def default_vote_options() -> list[str]:
    return [site_text(option) for option in VOTE_OPTIONS]


@transaction.atomic
def create_vote(*, actor, title: str, question: str = "", options=None, **fields) -> Survey:
    """An owner vote: one single-choice question (default options 同意/反对/弃权), one
    named ballot per house, counted by head and by area."""
    for name in ("kind", "respondent", "anonymous", "servqual_mode"):
        fields.pop(name, None)
    survey = _new_survey(actor=actor, kind=Kind.VOTE, title=title, **fields)
    options = _clean_options(
        QuestionKind.SINGLE, default_vote_options() if options is None else options
    )
    text = _clean_text(question or title)
    Question.objects.create(
        survey=survey, position=1, kind=QuestionKind.SINGLE, text=text, options=options
    )
    return survey


@transaction.atomic
def update_survey(*, actor, survey: Survey, **changes) -> Survey:
    """Edit a draft's title, introduction, closing time, and (surveys) who answers and
    anonymity. The audience is fixed at creation: make a new survey for another one."""
    _require_manage(actor, survey)
    locked = _locked(survey)
    _require_draft(locked)
    allowed = {"title", "intro", "closes_at", "respondent", "anonymous"}
    if set(changes) - allowed:
        raise TypeError(f"unknown fields {sorted(set(changes) - allowed)}")
    if locked.is_vote:
        changes.pop("respondent", None)
        changes.pop("anonymous", None)
    if "closes_at" in changes:
        changes["closes_at"] = _clean_closes_at(changes["closes_at"])
    for field, value in changes.items():
        setattr(locked, field, value.strip() if isinstance(value, str) else value)
    full_clean(locked)
    locked.save()
    return locked


# --- questions ----------------------------------------------------------------------------
def _clean_text(text) -> str:
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationError({"text": _("Write the question.")})
    if len(text) > 300:
        raise ValidationError({"text": _("A question has at most 300 characters.")})
    return text


def _clean_options(kind, options) -> list[str]:
    if kind not in CHOICE_KINDS:
        if options:
            raise ValidationError({"options": _("Only choice questions have options.")})
        return []
    if isinstance(options, str) or not isinstance(options, list | tuple):
        raise ValidationError({"options": _("Give the options as a list.")})
    cleaned = []
    for option in options:
        if not isinstance(option, str):
            raise ValidationError({"options": _("Each option is a piece of text.")})
        option = option.strip()
        if not option:
            continue
        if len(option) > OPTION_LENGTH:
            raise ValidationError(
                {"options": _("An option has at most %(n)s characters.") % {"n": OPTION_LENGTH}}
            )
        if option in cleaned:
            raise ValidationError(
                {"options": _("Option “%(option)s” is given twice.") % {"option": option}}
            )
        cleaned.append(option)
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS:
        raise ValidationError(
            {
                "options": _("A choice question has %(min)s to %(max)s options.")
                % {"min": MIN_OPTIONS, "max": MAX_OPTIONS}
            }
        )
    return cleaned


def _clean_question(survey, *, kind, text, options, dimension, required) -> dict:
    if kind not in QuestionKind.values:
        raise ValidationError({"kind": _("Choose the question type.")})
    if survey.is_vote and kind != QuestionKind.SINGLE:
        raise ValidationError({"kind": _("A vote's question is a single choice.")})
    dimension = dimension or ""
    if dimension and dimension not in Dimension.values:
        raise ValidationError({"dimension": _("Choose a quality dimension.")})
    if dimension and kind not in SCALE_KINDS:
        raise ValidationError({"dimension": _("Only scale questions measure a quality dimension.")})
    return {
        "kind": kind,
        "text": _clean_text(text),
        "options": _clean_options(kind, options),
        "dimension": dimension,
        "required": True if survey.is_vote else bool(required),
    }


@transaction.atomic
def add_question(
    *, actor, survey: Survey, kind: str, text: str, options=(), dimension="", required=True
) -> Question:
    """Append a question to a draft survey (not to a vote: it has its one question)."""
    _require_manage(actor, survey)
    locked = _locked(survey)
    _require_draft(locked)
    if locked.is_vote:
        raise ValidationError({"kind": _("A vote has exactly one question; edit it instead.")})
    fields = _clean_question(
        locked,
        kind=kind,
        text=text,
        options=list(options or ()),
        dimension=dimension,
        required=required,
    )
    count = locked.questions.count()
    if count >= MAX_QUESTIONS:
        raise ValidationError(
            {"text": _("A survey has at most %(n)s questions.") % {"n": MAX_QUESTIONS}}
        )
    position = (locked.questions.aggregate(top=Max("position"))["top"] or 0) + 1
    return Question.objects.create(survey=locked, position=position, **fields)


@transaction.atomic
def edit_question(*, actor, question: Question, **changes) -> Question:
    """Change a draft's question: type, text, options, dimension, required."""
    survey = question.survey
    _require_manage(actor, survey)
    locked = _locked(survey)
    _require_draft(locked)
    allowed = {"kind", "text", "options", "dimension", "required"}
    if set(changes) - allowed:
        raise TypeError(f"unknown fields {sorted(set(changes) - allowed)}")
    current = Question.objects.get(pk=question.pk, survey=locked)
    merged = {
        "kind": current.kind,
        "text": current.text,
        "options": current.options,
        "dimension": current.dimension,
        "required": current.required,
        **changes,
    }
    if "kind" in changes and changes["kind"] not in CHOICE_KINDS and "options" not in changes:
        merged["options"] = []
    fields = _clean_question(locked, **merged)
    for field, value in fields.items():
        setattr(current, field, value)
    current.save()
    return current


def _renumber(survey, ordered_ids: list[int]) -> None:
    """Positions 1..n in ``ordered_ids`` order, in two passes so the unique
    (survey, position) never sees two questions on one position."""
    rows = {q.pk: q for q in Question.objects.filter(survey=survey)}
    for offset in (1000, 0):
        for index, pk in enumerate(ordered_ids, start=1):
            rows[pk].position = offset + index
        Question.objects.bulk_update([rows[pk] for pk in ordered_ids], ["position"])


@transaction.atomic
def reorder_questions(*, actor, survey: Survey, order) -> list[Question]:
    """Put a draft's questions in ``order`` (every question id of the survey, once)."""
    _require_manage(actor, survey)
    locked = _locked(survey)
    _require_draft(locked)
    current = list(locked.questions.values_list("id", flat=True))
    try:
        wanted = [int(pk) for pk in order]
    except (TypeError, ValueError) as exc:
        raise ValidationError({"order": _("List every question once.")}) from exc
    if sorted(wanted) != sorted(current) or len(set(wanted)) != len(wanted):
        raise ValidationError({"order": _("List every question once.")})
    _renumber(locked, wanted)
    return list(locked.questions.order_by("position"))


@transaction.atomic
def move_question(*, actor, question: Question, up: bool) -> None:
    """Swap a draft's question with the one above (``up``) or below it."""
    survey = question.survey
    _require_manage(actor, survey)
    locked = _locked(survey)
    _require_draft(locked)
    ids = list(locked.questions.order_by("position", "id").values_list("id", flat=True))
    if question.pk not in ids:
        raise ValidationError({"order": _("This question is not in the survey.")})
    index = ids.index(question.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
        _renumber(locked, ids)


@transaction.atomic
def remove_question(*, actor, question: Question) -> None:
    """Delete a draft's question (a vote keeps its one question)."""
    survey = question.survey
    _require_manage(actor, survey)
    locked = _locked(survey)
    _require_draft(locked)
    if locked.is_vote:
        raise ValidationError({"kind": _("A vote has exactly one question; edit it instead.")})
    Question.objects.filter(pk=question.pk, survey=locked).delete()
    ids = list(locked.questions.order_by("position", "id").values_list("id", flat=True))
    _renumber(locked, ids)


# --- opening and closing ----------------------------------------------------------------
def reached_houses(survey: Survey):
    """The houses the survey's audience reaches now (a queryset): homes for a survey,
    every 专有部分 but parking spaces and storage rooms for a vote."""
    return audience_houses(
        company_id=survey.company_id,
        community_id=survey.community_id,
        audience=survey.audience,
        building_ids=survey.buildings.values_list("id", flat=True),
        unit_ids=survey.units.values_list("id", flat=True),
        house_ids=survey.houses.values_list("id", flat=True),
        kinds=VOTING_KINDS if survey.is_vote else HOUSEHOLD_KINDS,
    )


def reached_residencies(survey: Survey, houses=None):
    """Current residencies of the reached houses (a vote: owners only)."""
    houses = reached_houses(survey) if houses is None else houses
    ties = Residency.objects.active().filter(house__in=houses)
    if survey.is_vote:
        ties = ties.filter(relation=Residency.Relation.OWNER)
    return ties


@transaction.atomic
def open_survey(*, actor, survey: Survey) -> Survey:
    """Draft → open: counts what the response rate is measured against, tells the
    residents reached and the company's webhooks."""
    _require_manage(actor, survey)
    locked = _locked(survey)
    if locked.status != Status.DRAFT:
        raise ValidationError({"status": _("Only a draft can be opened.")})
    if not locked.questions.exists():
        raise ValidationError({"status": _("Add at least one question before opening.")})
    now = timezone.now()
    if locked.closes_at <= now:
        raise ValidationError({"closes_at": _("The closing time has passed; set a later one.")})
    houses = reached_houses(locked)
    counted = houses.aggregate(n=Count("id"), area=Sum("built_area"))
    if not counted["n"]:
        raise ValidationError({"audience": _("The audience has no houses.")})
    ties = reached_residencies(locked, houses)
    if locked.respondent == RespondentUnit.PERSON:
        eligible = ties.values("resident_id").distinct().count()
    else:
        eligible = counted["n"]
    locked.status = Status.OPEN
    locked.opens_at = locked.opened_at = now
    locked.eligible_households = eligible
    locked.eligible_area = counted["area"] or 0
    locked.save()
    _event(
        locked,
        EventKind.OPENED,
        actor.user,
        from_status=Status.DRAFT,
        to_status=Status.OPEN,
        eligible=eligible,
        eligible_area=locked.eligible_area,
    )
    payloads.survey_changed(locked, "survey.opened")
    recipients = ties.filter(resident__user__isnull=False).values_list(
        "resident__user_id", flat=True
    )
    title = OPENED_VOTE_TITLE if locked.is_vote else OPENED_TITLE
    notify(
        recipients=list(recipients.distinct()),
        kind="survey.opened",
        title=site_text(title, {"title": locked.title}),
        url=reverse("surveys_resident:detail", args=[locked.pk]),
        obj=locked,
        dedupe_key=f"survey.opened:{locked.pk}",
    )
    return locked


def _close(locked: Survey, now, user=None) -> Survey:
    locked.status = Status.CLOSED
    locked.closed_at = now
    if locked.is_vote:
        locked.result_digest = locked.chain_head or GENESIS
    locked.save()
    _event(
        locked,
        EventKind.CLOSED,
        user,
        from_status=Status.OPEN,
        to_status=Status.CLOSED,
        responses=locked.responses_count,
        result_digest=locked.result_digest,
    )
    payloads.survey_changed(locked, "survey.closed")
    return locked


@transaction.atomic
def close_survey(*, actor, survey: Survey) -> Survey:
    """Open → closed, before its closing time (the sweep closes the rest)."""
    _require_manage(actor, survey)
    locked = _locked(survey)
    if locked.status != Status.OPEN:
        raise ValidationError({"status": _("Only an open survey can be closed.")})
    return _close(locked, timezone.now(), actor.user)


def close_due_surveys(now=None) -> int:
    """Close every open survey whose closing time has passed; safe to run late or
    twice (a survey already closed is skipped). Returns how many it closed."""
    now = now or timezone.now()
    due = list(
        Survey.objects.filter(status=Status.OPEN, closes_at__lte=now)
        .order_by("closes_at", "id")
        .values_list("id", flat=True)[:1000]
    )
    closed = 0
    for pk in due:
        with transaction.atomic():
            locked = Survey.objects.select_for_update().get(pk=pk)
            if locked.status != Status.OPEN or locked.closes_at > now:
                continue
            _close(locked, now)
            closed += 1
    return closed


# --- answering --------------------------------------------------------------------------
def respondent_key(survey_id: int, *, house_id=None, user_id=None) -> str:
    """HMAC-SHA256 of the house (one answer per household) or user (per resident)."""
    if user_id is not None:
        message = f"{survey_id}:user:{user_id}"
    else:
        message = f"{survey_id}:house:{house_id}"
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def key_for(survey: Survey, *, house_id: int, user_id: int | None) -> str:
    if survey.respondent == RespondentUnit.PERSON:
        return respondent_key(survey.pk, user_id=user_id)
    return respondent_key(survey.pk, house_id=house_id)


def canonical_ballot(*, survey_id, house_id, option, area, submitted_at) -> str:
    moment = submitted_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return json.dumps(
        {
            "survey": survey_id,
            "house": house_id,
            "option": option,
            "area": f"{area:.2f}" if area is not None else None,
            "submitted_at": moment,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def ballot_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def _check_answer(survey, question, raw) -> dict | None:
    """The answer's stored fields, or None when an optional question is left empty."""
    field = f"q{question.pk}"
    raw = raw if isinstance(raw, dict) else {}
    empty = _("Answer this question.")
    if question.kind in CHOICE_KINDS:
        choices = raw.get("choices") or []
        if isinstance(choices, str):
            choices = [choices]
        if not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices):
            raise ValidationError({field: _("Choose from the options given.")})
        choices = [c.strip() for c in choices if c.strip()]
        if not choices:
            if question.required:
                raise ValidationError({field: empty})
            return None
        if any(c not in question.options for c in choices) or len(set(choices)) != len(choices):
            raise ValidationError({field: _("Choose from the options given.")})
        if question.kind == QuestionKind.SINGLE and len(choices) != 1:
            raise ValidationError({field: _("Choose one option.")})
        ordered = [option for option in question.options if option in choices]
        return {"choices": ordered}
    if question.kind in SCALE_KINDS:
        top = question.scale_max
        score, expected = _score(raw.get("score"), top, field), None
        gap = survey.servqual == Servqual.GAP and bool(question.dimension)
        if gap:
            expected = _score(raw.get("expected"), top, field)
        if score is None and expected is None:
            if question.required:
                raise ValidationError({field: empty})
            return None
        if score is None or (gap and expected is None):
            raise ValidationError(
                {field: _("Give both what you expect and how it is, from 1 to %(n)s.") % {"n": top}}
            )
        return {"score": score, "expected": expected}
    text = raw.get("text") or ""
    if not isinstance(text, str):
        raise ValidationError({field: _("Write your answer as text.")})
    text = text.strip()
    if not text:
        if question.required:
            raise ValidationError({field: empty})
        return None
    if len(text) > TEXT_LENGTH:
        raise ValidationError(
            {field: _("An answer has at most %(n)s characters.") % {"n": TEXT_LENGTH}}
        )
    return {"text": text}


def _score(value, top, field):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or str(number) != str(value).strip() or not 1 <= number <= top:
        raise ValidationError({field: _("Give a score from 1 to %(n)s.") % {"n": top}})
    return number


def check_answers(survey: Survey, questions, answers) -> dict:
    """Every answer against its question: {question id: stored fields}; all errors at once."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": _("Give the answers by question.")})
    known = {q.pk for q in questions}
    try:
        given = {int(pk): value for pk, value in answers.items()}
    except (TypeError, ValueError) as exc:
        raise ValidationError({"answers": _("Answer only this survey's questions.")}) from exc
    if set(given) - known:
        raise ValidationError({"answers": _("Answer only this survey's questions.")})
    errors, cleaned = {}, {}
    for question in questions:
        try:
            stored = _check_answer(survey, question, given.get(question.pk))
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        if stored is not None:
            cleaned[question.pk] = stored
    if errors:
        raise ValidationError(errors)
    if not cleaned:
        raise ValidationError({"answers": _("Answer at least one question.")})
    return cleaned


def closed_message(survey: Survey) -> str:
    if survey.is_vote:
        return _("This vote is closed; no more ballots are taken.")
    return _("This survey is closed; no more answers are taken.")


def _respondent(actor, survey, *, house, channel, resident_user):
    """(house, user answering, entered_by) for the actor, or a refusal."""
    if channel in (Channel.PHONE, Channel.PAPER):
        require(actor, ASSIST)
        if not may_assist(actor, survey):
            raise PermissionDenied(ASSIST)
        if house is None:
            raise ValidationError({"house": _("Choose the house that answered.")})
        ties = Residency.objects.active().filter(house=house)
        if survey.is_vote:
            ties = ties.filter(relation=Residency.Relation.OWNER)
        user_id = None
        if resident_user is not None:
            if not ties.filter(resident__user=resident_user).exists():
                raise ValidationError({"resident": _("This resident does not live in the house.")})
            user_id = resident_user.pk
        elif survey.respondent == RespondentUnit.PERSON:
            raise ValidationError({"resident": _("Say which resident of the house answered.")})
        return house, user_id, actor.user.pk
    if channel != Channel.ONLINE:
        raise ValidationError({"channel": _("Choose how the answer was given.")})
    if not actor.is_resident:
        raise PermissionDenied("resident")
    mine = sorted(actor.resident_house_ids)
    reached = reached_houses(survey).filter(id__in=mine)
    if house is None:
        options = list(reached.values_list("id", flat=True)[:2])
        if not options:
            raise ValidationError({"house": _("This survey is not for your house.")})
        if len(options) > 1:
            raise ValidationError({"house": _("Choose the house you answer for.")})
        house = House.objects.get(pk=options[0])
    elif house.pk not in actor.resident_house_ids:
        raise ValidationError({"house": _("Choose one of your houses.")})
    if survey.is_vote and not (
        Residency.objects.active()
        .filter(house=house, resident__user=actor.user, relation=Residency.Relation.OWNER)
        .exists()
    ):
        raise ValidationError({"house": _("Only the owner of the house may vote.")})
    return house, actor.user.pk, None


def submit_response(
    *,
    actor,
    survey: Survey,
    answers: dict,
    house: House | None = None,
    channel: str = Channel.ONLINE,
    resident_user=None,
) -> Response:
    """One response (a vote: one ballot) — see the module docstring for the rules."""
    try:
        with transaction.atomic():
            return _submit(
                actor=actor,
                survey=survey,
                answers=answers,
                house=house,
                channel=channel,
                resident_user=resident_user,
            )
    except IntegrityError as exc:  # the unique respondent key, raced past the lock
        raise ValidationError({"answers": _already(survey)}) from exc


def _already(survey) -> str:
    if survey.is_vote:
        return _("This house has already voted; a ballot cannot be changed.")
    if survey.respondent == RespondentUnit.PERSON:
        return _("You have already answered this survey.")
    return _("This household has already answered this survey.")


def _submit(*, actor, survey, answers, house, channel, resident_user) -> Response:
    locked = _locked(survey)  # one writer at a time: a linear ballot chain, exact counts
    now = timezone.now()
    if locked.status != Status.OPEN or locked.closes_at <= now:
        raise ValidationError({"answers": closed_message(locked)})
    house, user_id, entered_by = _respondent(
        actor, locked, house=house, channel=channel, resident_user=resident_user
    )
    if not reached_houses(locked).filter(pk=house.pk).exists():
        raise ValidationError({"house": _("This survey is not for this house.")})
    key = key_for(locked, house_id=house.pk, user_id=user_id)
    if Response.objects.filter(survey=locked, respondent_key=key).exists():
        raise ValidationError({"answers": _already(locked)})
    questions = list(locked.questions.order_by("position", "id"))
    cleaned = check_answers(locked, questions, answers)
    response = Response(
        survey=locked,
        respondent_key=key,
        house=None if locked.anonymous else house,
        user_id=None if locked.anonymous else user_id,
        building_id=house.building_id,
        area=None if locked.anonymous else house.built_area,
        channel=channel,
        entered_by_id=entered_by,
        submitted_at=now,
    )
    if locked.is_vote:
        (question,) = questions
        response.previous_hash = locked.chain_head or GENESIS
        response.ballot_hash = ballot_hash(
            response.previous_hash,
            canonical_ballot(
                survey_id=locked.pk,
                house_id=house.pk,
                option=cleaned[question.pk]["choices"][0],
                area=house.built_area,
                submitted_at=now,
            ),
        )
    response.save()
    Answer.objects.bulk_create(
        Answer(response=response, question_id=pk, **fields) for pk, fields in cleaned.items()
    )
    updates = {"responses_count": F("responses_count") + 1}
    if locked.is_vote:
        updates["chain_head"] = response.ballot_hash
    Survey.objects.filter(pk=locked.pk).update(**updates)
    return response


# --- verifying a vote ---------------------------------------------------------------------
def verify_vote(*, survey: Survey) -> dict:
    """Recompute a vote's ballot chain from the stored rows.

    Returns ``ok``, ``expected`` (the stored digest: ``result_digest`` once closed, the
    live ``chain_head`` before), ``computed`` (the head recomputed), ``ballots``
    (counted), and when something does not match ``broken_at`` (the id of the first
    ballot that does not match, or None when ballots are missing at the end) and
    ``reason``."""
    expected = survey.result_digest if survey.status == Status.CLOSED else survey.chain_head
    question = survey.questions.order_by("position", "id").first()
    options = {}
    if question is not None:
        options = dict(
            Answer.objects.filter(question=question).values_list("response_id", "choices")
        )
    previous, count = GENESIS, 0
    rows = (
        Response.objects.filter(survey=survey)
        .order_by("id")
        .values_list("id", "house_id", "area", "submitted_at", "previous_hash", "ballot_hash")
    )
    result = {"ok": False, "expected": expected, "computed": None, "ballots": 0, "broken_at": None}
    for pk, house_id, area, submitted_at, stored_previous, stored_hash in rows.iterator(
        chunk_size=2000
    ):
        count += 1
        choices = options.get(pk) or []
        computed = ballot_hash(
            previous,
            canonical_ballot(
                survey_id=survey.pk,
                house_id=house_id,
                option=choices[0] if len(choices) == 1 else choices,
                area=area,
                submitted_at=submitted_at,
            ),
        )
        if stored_previous != previous or stored_hash != computed:
            result.update(
                ok=False,
                computed=None,
                ballots=count,
                broken_at=pk,
                reason=_("Ballot #%(id)s does not match its recorded hash.") % {"id": pk},
            )
            return result
        previous = computed
    computed_head = previous if count else GENESIS
    result.update(computed=computed_head, ballots=count)
    if computed_head != (expected or GENESIS):
        result.update(
            ok=False,
            reason=_(
                "The ballots do not add up to the stored fingerprint: a ballot was "
                "removed or added."
            ),
        )
        return result
    if survey.responses_count != count:
        result.update(
            ok=False,
            reason=_("%(counted)s ballots are stored but %(recorded)s were cast.")
            % {"counted": count, "recorded": survey.responses_count},
        )
        return result
    result.update(ok=True, reason="")
    return result
