"""Satisfaction surveys (满意度调查) and owner votes (业主投票).

A survey asks typed questions (single, multiple, 1–5 and 1–7 scales, text) of the
households or residents of an audience; SERVQUAL items carry the quality dimension
they measure, so results come out per dimension (可靠/响应/保证/移情/有形). A vote is a
survey with one single-choice question, one ballot per house, counted both by
专有部分面积 and by head count. Each ballot extends a SHA-256 chain, and closing stores
the chain's head: recounting later shows whether any ballot was changed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.accounts.actor import NOTHING
from wuye.core.scoping import ScopedQuerySet
from wuye.estates.audience import Audience

SURVEY_PERMISSIONS = ("engagement.view", "engagement.manage", "engagement.assist")


class Kind(models.TextChoices):
    SURVEY = "survey", _("Survey")
    VOTE = "vote", _("Owner vote")


class Status(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("survey", "Draft")
    OPEN = "open", pgettext_lazy("survey", "Open")
    CLOSED = "closed", pgettext_lazy("survey", "Closed")


class RespondentUnit(models.TextChoices):
    HOUSEHOLD = "household", _("One answer per household")
    PERSON = "person", _("One answer per resident")


class Servqual(models.TextChoices):
    """How SERVQUAL items are asked: perception only (SERVPERF), or expectation and
    perception of each item with the gap reported (Parasuraman et al. 1988)."""

    NONE = "", _("Not a SERVQUAL survey")
    PERFORMANCE = "performance", _("Performance only")
    GAP = "gap", _("Expectation and perception (gap)")


class Dimension(models.TextChoices):
    """The five quality factors of the seed, with their default weights in
    ``wuye.surveys.servqual``."""

    RELIABILITY = "reliability", _("Reliability (专业性/可靠)")
    RESPONSIVENESS = "responsiveness", _("Responsiveness (责任心/响应)")
    ASSURANCE = "assurance", _("Assurance (仪表/保证)")
    EMPATHY = "empathy", _("Empathy (人情味/移情)")
    TANGIBLES = "tangibles", _("Tangibles (软硬件/有形)")


class SurveyQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff who view, manage or assist see the surveys of their communities
        (company-wide ones: company-wide staff). Residents see open and closed surveys
        that reach one of their current houses (``Survey.reaches`` checks the audience)."""
        q = NOTHING
        perm = next((p for p in SURVEY_PERMISSIONS if actor.has_perm(p)), None)
        if perm is not None:
            q |= actor.staff_q(community="community_id", company="company_id", perm=perm)
        if actor.is_resident:
            houses = sorted(actor.resident_house_ids)
            q |= Q(status__in=(Status.OPEN, Status.CLOSED)) & (
                Q(audience=Audience.COMPANY, company_id__in=_companies_of(houses))
                | Q(audience=Audience.COMMUNITY, community_id__in=actor.resident_community_ids())
                | Q(audience=Audience.BUILDINGS, buildings__houses__in=houses)
                | Q(audience=Audience.UNITS, units__houses__in=houses)
                | Q(audience=Audience.HOUSES, houses__in=houses)
            )
        return self.filter(q).distinct()


def _companies_of(house_ids):
    from wuye.estates.models import House

    return House.objects.filter(id__in=house_ids).values("company_id")


class Survey(models.Model):
    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind, default=Kind.SURVEY)
    title = models.CharField(_("title"), max_length=120)
    intro = models.TextField(_("introduction"), max_length=5000, blank=True)
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience, default=Audience.COMMUNITY
    )
    buildings = models.ManyToManyField(
        "estates.Building", related_name="+", blank=True, verbose_name=_("buildings")
    )
    units = models.ManyToManyField(
        "estates.Unit", related_name="+", blank=True, verbose_name=_("units")
    )
    houses = models.ManyToManyField(
        "estates.House", related_name="+", blank=True, verbose_name=_("houses")
    )
    respondent = models.CharField(
        _("who answers"),
        max_length=10,
        choices=RespondentUnit,
        default=RespondentUnit.HOUSEHOLD,
    )
    anonymous = models.BooleanField(
        _("anonymous"),
        default=False,
        help_text=_("Results never show who answered what. Votes are never anonymous."),
    )
    servqual = models.CharField(
        _("SERVQUAL"), max_length=12, choices=Servqual, default=Servqual.NONE, blank=True
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.DRAFT)
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes at"))
    # Counted when the survey opens: what the response rate is measured against.
    eligible_households = models.PositiveIntegerField(_("households reached"), default=0)
    eligible_area = models.DecimalField(
        _("total area reached (m²)"), max_digits=14, decimal_places=2, default=0
    )
    responses_count = models.PositiveIntegerField(_("answers"), default=0)
    chain_head = models.CharField(_("ballot chain head"), max_length=64, blank=True)
    result_digest = models.CharField(
        _("result fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 over every ballot, stored when the vote closed."),
    )
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["community", "status", "id"], name="survey_community_idx"),
            models.Index(fields=["company", "status", "id"], name="survey_company_idx"),
            models.Index(
                fields=["closes_at"], name="survey_closing_idx", condition=Q(status="open")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience="company", community__isnull=True)
                | (~Q(audience="company") & Q(community__isnull=False)),
                name="survey_audience_has_community",
                violation_error_message=_(
                    "A survey goes to the whole company or to a community, not both."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(kind="vote") | Q(respondent="household", anonymous=False),
                name="vote_one_named_ballot_per_house",
                violation_error_message=_("A vote has one named ballot per house."),
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True) | Q(closes_at__gt=models.F("opens_at")),
                name="survey_closes_after_opening",
                violation_error_message=_("A survey must close after it opens."),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_vote(self) -> bool:
        return self.kind == Kind.VOTE

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN and self.closes_at > timezone.now()

    @property
    def response_rate(self) -> float | None:
        if not self.eligible_households:
            return None
        return self.responses_count / self.eligible_households


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    SCALE5 = "scale5", _("Scale 1–5")
    SCALE7 = "scale7", _("Scale 1–7")
    TEXT = "text", _("Free text")


class Question(models.Model):
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey")
    )
    position = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(_("question type"), max_length=10, choices=QuestionKind)
    text = models.CharField(_("question"), max_length=300)
    options = models.JSONField(
        _("options"), default=list, blank=True, help_text=_("The choices, for choice questions.")
    )
    dimension = models.CharField(
        _("quality dimension"), max_length=16, choices=Dimension, blank=True
    )
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="question_position_unique"),
        ]

    def __str__(self):
        return self.text

    @property
    def scale_max(self) -> int | None:
        return {QuestionKind.SCALE5: 5, QuestionKind.SCALE7: 7}.get(self.kind)


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("By phone")
    PAPER = "paper", _("On paper")


class Response(models.Model):
    """One household's (or resident's) answers, or one house's ballot.

    ``respondent_key`` enforces one answer per household or person even when the
    survey is anonymous: it is an HMAC of the house or user, not the id itself, and an
    anonymous response stores neither ``house`` nor ``user``."""

    survey = models.ForeignKey(
        Survey, on_delete=models.PROTECT, related_name="responses", verbose_name=_("survey")
    )
    respondent_key = models.CharField(_("respondent key"), max_length=64)
    house = models.ForeignKey(
        "estates.House",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("house"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    # Kept for anonymous surveys too, so results break down by building without names.
    building_id = models.BigIntegerField(_("building"), null=True, blank=True)
    area = models.DecimalField(
        _("area (m²)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel, default=Channel.ONLINE)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    previous_hash = models.CharField(_("previous ballot hash"), max_length=64, blank=True)
    ballot_hash = models.CharField(_("ballot hash"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["survey_id", "id"]
        indexes = [models.Index(fields=["survey", "id"], name="response_survey_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent_key"],
                name="response_once_per_respondent",
                violation_error_message=_("This household or resident has already answered."),
            ),
        ]

    def __str__(self):
        return f"{self.survey_id}:{self.pk}"


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name=_("response")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("question")
    )
    choices = models.JSONField(_("chosen options"), default=list, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    expected = models.PositiveSmallIntegerField(
        _("expected score"), null=True, blank=True, help_text=_("SERVQUAL gap surveys only.")
    )
    text = models.TextField(_("text"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [models.Index(fields=["question", "score"], name="answer_question_idx")]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once"),
        ]

    def __str__(self):
        return f"{self.response_id}:{self.question_id}"


class EventKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("survey", "Created")
    OPENED = "opened", pgettext_lazy("survey", "Opened")
    CLOSED = "closed", pgettext_lazy("survey", "Closed")


class SurveyEvent(models.Model):
    """One step of a survey's or vote's record: who opened or closed it and when, with
    the figures of that moment (a closed vote: its result fingerprint)."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="events", verbose_name=_("survey")
    )
    kind = models.CharField(_("event"), max_length=10, choices=EventKind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty when the system closed it at its closing time."),
    )
    from_status = models.CharField(_("from"), max_length=8, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=8, choices=Status, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("survey event")
        verbose_name_plural = _("survey events")
        ordering = ["survey_id", "id"]
        indexes = [models.Index(fields=["survey", "id"], name="survey_event_idx")]

    def __str__(self):
        return f"{self.survey_id} {self.kind}"
