"""Surveys (满意度调查) and owner votes (业主投票): question validation, one answer per
household or person (anonymous too), closed and twice refused with nothing written,
SERVQUAL scoring, vote results by head count and by area on a hand-computed example,
tamper detection, scoping, console, H5, API and the Excel export."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from api_helpers import get, post, results, send
from conftest import make_house, make_resident
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from wuye.notifications.models import Notification
from wuye.surveys import selectors, services, servqual
from wuye.surveys.models import Answer, Dimension, Response, Status, Survey

KEY = "Idempotency-Key"


@pytest.fixture(autouse=True)
def _messages_in_english():
    """Refusals are matched in English; what is stored (questions, options) stays in the
    site's language, Chinese, whatever language is active."""
    with translation.override("en"):
        yield


def soon(days=7):
    return timezone.now() + datetime.timedelta(days=days)


def make_survey(cast, *, actor="project_manager", questions=None, open_it=True, **fields):
    fields.setdefault("title", "季度满意度调查")
    fields.setdefault("community", cast.community_x)
    fields.setdefault("closes_at", soon())
    who = cast.actor(actor)
    survey = services.create_survey(actor=who, **fields)
    for question in questions if questions is not None else default_questions():
        services.add_question(actor=who, survey=survey, **question)
    if open_it:
        survey = services.open_survey(actor=who, survey=survey)
    return survey


def default_questions():
    return [
        {"kind": "single", "text": "您对保洁满意吗？", "options": ["满意", "一般", "不满意"]},
        {"kind": "multiple", "text": "哪些方面需要改进？", "options": ["保洁", "安保", "绿化"]},
        {"kind": "scale5", "text": "总体评分"},
        {"kind": "text", "text": "其他建议", "required": False},
    ]


def answers_for(survey, *, single="满意", multiple=("保洁",), score=4, text="多谢"):
    qs = list(survey.questions.order_by("position"))
    return {
        qs[0].pk: {"choices": [single]},
        qs[1].pk: {"choices": list(multiple)},
        qs[2].pk: {"score": score},
        qs[3].pk: {"text": text},
    }


def snapshot():
    return (
        Response.objects.count(),
        Answer.objects.count(),
        list(Survey.objects.order_by("id").values_list("responses_count", "chain_head")),
    )


# --- SERVQUAL -----------------------------------------------------------------------------
def test_servqual_has_22_items_over_five_dimensions():
    assert len(servqual.ITEMS) == 22
    assert [i.number for i in servqual.ITEMS] == list(range(1, 23))
    counts = {d: sum(1 for i in servqual.ITEMS if i.dimension == d) for d in Dimension.values}
    assert counts == {
        "tangibles": 4,
        "reliability": 5,
        "responsiveness": 4,
        "assurance": 4,
        "empathy": 5,
    }
    assert all(str(item.text) for item in servqual.ITEMS)
    assert servqual.ITEMS[6].site_text() == "报修、投诉等事情第一次就能处理好。"


def test_weights_default_and_configurable(settings):
    assert servqual.weights()["reliability"] == Decimal("0.32")
    assert sum(servqual.weights().values()) == 1
    settings.SURVEY_DIMENSION_WEIGHTS = {"reliability": 1, "tangibles": 1}
    assert servqual.weights() == {
        "reliability": Decimal("0.5"),
        "responsiveness": 0,
        "assurance": 0,
        "empathy": 0,
        "tangibles": Decimal("0.5"),
    }
    settings.SURVEY_DIMENSION_WEIGHTS = {"speed": 1}
    with pytest.raises(ImproperlyConfigured):
        servqual.weights()
    settings.SURVEY_DIMENSION_WEIGHTS = {"reliability": -1}
    with pytest.raises(ImproperlyConfigured):
        servqual.weights()


def test_scoring_by_hand():
    rows = [
        {
            "dimension": "reliability",
            "items": 5,
            "answers": 10,
            "perception": 5,
            "expectation": 6.5,
        },
        {"dimension": "tangibles", "items": 4, "answers": 8, "perception": 6, "expectation": 6},
    ]
    scores = servqual.score(rows, scale_max=7)
    reliability, tangibles = scores.dimensions
    assert reliability.gap == Decimal("-1.50") and tangibles.gap == Decimal("0.00")
    # (0.32 × 5 + 0.11 × 6) / 0.43 = 2.26 / 0.43 = 5.2558…
    assert scores.index == Decimal("5.26")
    # (0.32 × −1.5 + 0.11 × 0) / 0.43 = −1.1163…
    assert scores.gap_index == Decimal("-1.12")
    assert scores.index_percent == Decimal("71.0")  # (5.26 − 1) / 6


def test_servqual_template_gap_survey_results(cast):
    who = cast.actor("project_manager")
    survey = services.create_from_servqual_template(
        actor=who, mode="gap", community=cast.community_x, closes_at=soon()
    )
    questions = list(survey.questions.order_by("position"))
    assert len(questions) == 22 and all(q.kind == "scale7" and q.dimension for q in questions)
    assert survey.title == "物业服务满意度调查（SERVQUAL）"
    survey = services.open_survey(actor=who, survey=survey)
    missing = {q.pk: {"score": 5} for q in questions}  # no expectation given
    with pytest.raises(ValidationError) as exc:
        services.submit_response(actor=cast.actor("resident_a"), survey=survey, answers=missing)
    assert f"q{questions[0].pk}" in exc.value.message_dict
    for name, (p, e) in (("resident_a", (5, 7)), ("resident_b", (6, 6))):
        services.submit_response(
            actor=cast.actor(name),
            survey=survey,
            answers={q.pk: {"score": p, "expected": e} for q in questions},
        )
    scores = selectors.servqual_scores(survey)
    assert [d.dimension for d in scores.dimensions] == list(servqual.DIMENSION_ORDER)
    for row in scores.dimensions:
        assert row.perception == Decimal("5.50")
        assert row.expectation == Decimal("6.50")
        assert row.gap == Decimal("-1.00")
    assert scores.index == Decimal("5.50") and scores.gap_index == Decimal("-1.00")


# --- building questions -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "field"),
    [
        ({"kind": "single", "text": "选一个", "options": ["只有一个"]}, "options"),
        ({"kind": "multiple", "text": "多选", "options": ["甲", "甲"]}, "options"),
        ({"kind": "scale5", "text": "打分", "options": ["1", "2"]}, "options"),
        ({"kind": "text", "text": "建议", "dimension": "empathy"}, "dimension"),
        ({"kind": "scale7", "text": "  "}, "text"),
        ({"kind": "ranking", "text": "排序"}, "kind"),
    ],
)
def test_bad_questions_are_refused(cast, question, field):
    survey = make_survey(cast, questions=[], open_it=False)
    with pytest.raises(ValidationError) as exc:
        services.add_question(actor=cast.actor("project_manager"), survey=survey, **question)
    assert field in exc.value.message_dict
    assert not survey.questions.exists()


def test_reorder_move_edit_remove_only_while_draft(cast):
    who = cast.actor("project_manager")
    survey = make_survey(cast, open_it=False)
    q1, q2, q3, q4 = survey.questions.order_by("position")
    services.reorder_questions(actor=who, survey=survey, order=[q4.pk, q3.pk, q2.pk, q1.pk])
    assert list(survey.questions.order_by("position").values_list("id", flat=True)) == [
        q4.pk,
        q3.pk,
        q2.pk,
        q1.pk,
    ]
    services.move_question(actor=who, question=q1, up=True)
    assert list(survey.questions.order_by("position").values_list("id", flat=True))[2] == q1.pk
    services.remove_question(actor=who, question=q3)
    assert list(survey.questions.order_by("position").values_list("position", flat=True)) == [
        1,
        2,
        3,
    ]
    services.edit_question(actor=who, question=q2, kind="scale7", options=[])
    q2.refresh_from_db()
    assert q2.kind == "scale7" and q2.options == []
    with pytest.raises(ValidationError):
        services.reorder_questions(actor=who, survey=survey, order=[q1.pk])
    services.open_survey(actor=who, survey=survey)
    with pytest.raises(ValidationError):
        services.add_question(actor=who, survey=survey, kind="text", text="晚了")
    with pytest.raises(ValidationError):
        services.remove_question(actor=who, question=q2)


def test_only_managers_of_the_community_build(cast):
    survey = make_survey(cast, open_it=False)
    for name in ("dispatcher", "manager_y", "quality"):
        with pytest.raises(PermissionDenied):
            services.add_question(actor=cast.actor(name), survey=survey, kind="text", text="x")
    with pytest.raises(ValidationError) as exc:
        services.create_survey(
            actor=cast.actor("manager_y"),
            title="越权",
            community=cast.community_x,
            closes_at=soon(),
        )
    assert "community" in exc.value.message_dict
    with pytest.raises(ValidationError):  # company-wide audience: company-wide staff only
        services.create_survey(
            actor=cast.actor("project_manager"),
            title="全公司",
            audience="company",
            closes_at=soon(),
        )


def test_open_counts_audience_and_notifies(cast, django_capture_on_commit_callbacks):
    who = cast.actor("project_manager")
    survey = make_survey(cast, open_it=False, audience="houses", houses=[cast.house_a])
    with django_capture_on_commit_callbacks(execute=True):
        survey = services.open_survey(actor=who, survey=survey)
    assert survey.status == Status.OPEN
    assert survey.eligible_households == 1 and survey.eligible_area == Decimal("89.50")
    notes = Notification.objects.filter(kind="survey.opened")
    assert list(notes.values_list("recipient_id", flat=True)) == [cast.resident_a.user_id]
    assert reverse("surveys_resident:detail", args=[survey.pk]) == notes.get().url
    with pytest.raises(ValidationError):
        services.open_survey(actor=who, survey=survey)


def test_surveys_count_homes_and_votes_count_every_unit_but_parking_and_storage(cast, estate):
    """A satisfaction survey asks households (homes); an owner vote counts each 专有部分
    except parking spaces and storage rooms, which go with a home."""
    from wuye.estates.models import House

    House.objects.filter(pk=estate["c"].pk).update(kind=House.Kind.SHOP)
    House.objects.filter(pk=estate["d"].pk).update(kind=House.Kind.PARKING)
    survey = make_survey(cast)
    assert survey.eligible_households == 3  # A, B and 0203: not the shop or the space
    vote = make_vote(cast)
    assert vote.eligible_households == 4 and vote.eligible_area == Decimal("449.00")
    with pytest.raises(ValidationError):
        ballot(cast, vote, estate["owners"]["d"].user, "同意")  # the parking space's owner


# --- answering ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("position", "value"),
    [
        (0, {"choices": ["非常满意"]}),
        (0, {"choices": ["满意", "一般"]}),
        (0, {"choices": []}),
        (1, {"choices": ["保洁", "停车"]}),
        (1, {"choices": ["保洁", "保洁"]}),
        (2, {"score": 6}),
        (2, {"score": 0}),
        (2, {"score": "3.5"}),
        (2, {"score": True}),
        (3, {"text": "长" * 2001}),
    ],
)
def test_each_answer_is_checked_against_its_question(cast, position, value):
    survey = make_survey(cast)
    answers = answers_for(survey)
    question = survey.questions.order_by("position")[position]
    answers[question.pk] = value
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.submit_response(actor=cast.actor("resident_a"), survey=survey, answers=answers)
    assert f"q{question.pk}" in exc.value.message_dict
    assert snapshot() == before


def test_optional_questions_may_be_skipped_and_unknown_ones_are_refused(cast):
    survey = make_survey(cast)
    answers = answers_for(survey)
    answers.pop(survey.questions.get(kind="text").pk)
    response = services.submit_response(
        actor=cast.actor("resident_a"), survey=survey, answers=answers
    )
    assert response.answers.count() == 3
    with pytest.raises(ValidationError) as exc:
        services.submit_response(
            actor=cast.actor("resident_b"), survey=survey, answers={**answers, 999999: {}}
        )
    assert "answers" in exc.value.message_dict


def test_one_response_per_household(cast):
    survey = make_survey(cast)
    spouse = make_resident(cast.company, cast.house_a, "张太太", "13800000011", "family")
    services.submit_response(
        actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey)
    )
    before = snapshot()
    from wuye.accounts.actor import Actor

    with pytest.raises(ValidationError, match="already answered"):
        services.submit_response(
            actor=Actor(spouse.user), survey=survey, answers=answers_for(survey)
        )
    assert snapshot() == before
    services.submit_response(
        actor=cast.actor("resident_b"), survey=survey, answers=answers_for(survey)
    )
    survey.refresh_from_db()
    assert survey.responses_count == 2
    response = Response.objects.filter(survey=survey).first()
    assert response.house == cast.house_a and response.user == cast.resident_a.user
    assert response.respondent_key == services.respondent_key(survey.pk, house_id=cast.house_a.pk)


def test_one_response_per_person_and_anonymous(cast):
    from wuye.accounts.actor import Actor

    spouse = make_resident(cast.company, cast.house_a, "张太太", "13800000011", "family")
    survey = make_survey(cast, respondent="person", anonymous=True)
    assert survey.eligible_households == 3  # residents A, B and the spouse
    services.submit_response(
        actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey)
    )
    services.submit_response(actor=Actor(spouse.user), survey=survey, answers=answers_for(survey))
    before = snapshot()
    with pytest.raises(ValidationError, match="already answered"):
        services.submit_response(
            actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey)
        )
    assert snapshot() == before
    rows = list(Response.objects.filter(survey=survey).values("house_id", "user_id", "building_id"))
    assert rows == [{"house_id": None, "user_id": None, "building_id": cast.building_x1.pk}] * 2
    texts = selectors.question_results(survey)[3].texts
    assert [t.response.house_id for t in texts] == [None, None]


def test_closed_survey_refuses_answers(cast):
    survey = make_survey(cast)
    services.close_survey(actor=cast.actor("project_manager"), survey=survey)
    before = snapshot()
    with pytest.raises(ValidationError, match="closed"):
        services.submit_response(
            actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey)
        )
    assert snapshot() == before


def test_past_closing_time_refuses_and_the_sweep_closes(cast, time_machine):
    survey = make_survey(cast)
    time_machine.move_to(survey.closes_at + datetime.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="closed"):
        services.submit_response(
            actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey)
        )
    assert services.close_due_surveys() == 1
    assert services.close_due_surveys() == 0
    survey.refresh_from_db()
    assert survey.status == Status.CLOSED and survey.closed_at is not None
    # The record: written and opened by the manager, closed by the system at its time.
    manager = cast.users["project_manager"].pk
    assert list(survey.events.values_list("kind", "actor_id", "from_status", "to_status")) == [
        ("created", manager, "", "draft"),
        ("opened", manager, "draft", "open"),
        ("closed", None, "open", "closed"),
    ]
    assert survey.events.get(kind="opened").payload["eligible"] == survey.eligible_households


def test_survey_for_other_houses_is_refused(cast):
    survey = make_survey(cast, audience="houses", houses=[cast.house_b])
    with pytest.raises(ValidationError, match="not for your house"):
        services.submit_response(
            actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey)
        )
    with pytest.raises(ValidationError, match="not for this house"):
        services.submit_response(
            actor=cast.actor("dispatcher"),
            survey=survey,
            answers=answers_for(survey),
            house=cast.house_a,
            channel="phone",
        )


def test_phone_entry_by_assist_staff(cast):
    survey = make_survey(cast)
    response = services.submit_response(
        actor=cast.actor("dispatcher"),
        survey=survey,
        answers=answers_for(survey),
        house=cast.house_b,
        channel="phone",
    )
    assert response.entered_by == cast.users["dispatcher"] and response.channel == "phone"
    assert response.house == cast.house_b and response.user is None
    with pytest.raises(ValidationError, match="already answered"):
        services.submit_response(
            actor=cast.actor("resident_b"), survey=survey, answers=answers_for(survey)
        )
    for name in ("technician", "manager_y", "other_admin"):
        with pytest.raises(PermissionDenied):
            services.submit_response(
                actor=cast.actor(name),
                survey=survey,
                answers=answers_for(survey),
                house=cast.house_a,
                channel="phone",
            )


# --- votes --------------------------------------------------------------------------------
@pytest.fixture
def estate(cast):
    """Five houses of building X1 with known areas, each with an owner."""
    c = make_house(cast.building_x1, cast.unit_x1, "0201", area="120.00")
    d = make_house(cast.building_x1, cast.unit_x1, "0202", area="60.00")
    e = make_house(cast.building_x1, cast.unit_x1, "0203", area="150.00")
    owners = {
        "c": make_resident(cast.company, c, "陈", "13800000021"),
        "d": make_resident(cast.company, d, "邓", "13800000022"),
        "e": make_resident(cast.company, e, "鄂", "13800000023"),
    }
    return {"c": c, "d": d, "e": e, "owners": owners}


def make_vote(cast, **fields):
    who = cast.actor("project_manager")
    fields.setdefault("community", cast.community_x)
    vote = services.create_vote(actor=who, title="是否更换电梯维保单位", closes_at=soon(), **fields)
    return services.open_survey(actor=who, survey=vote)


def ballot(cast, vote, name, option, **kwargs):
    from wuye.accounts.actor import Actor

    actor = cast.actor(name) if isinstance(name, str) else Actor(name)
    question = vote.questions.get()
    return services.submit_response(
        actor=actor, survey=vote, answers={question.pk: {"choices": [option]}}, **kwargs
    )


def test_vote_results_by_head_count_and_by_area(cast, estate):
    vote = make_vote(cast)
    assert vote.questions.get().options == ["同意", "反对", "弃权"]
    assert vote.eligible_households == 5 and vote.eligible_area == Decimal("509.00")
    ballot(cast, vote, "resident_a", "同意")  # 89.50
    ballot(cast, vote, "resident_b", "反对")  # 89.50
    ballot(cast, vote, estate["owners"]["c"].user, "同意")  # 120.00
    ballot(cast, vote, "dispatcher", "反对", house=estate["e"], channel="paper")  # 150.00
    vote.refresh_from_db()
    result = selectors.vote_results(vote)
    rows = {row.option: row for row in result["rows"]}
    agree, against, abstain = rows["同意"], rows["反对"], rows["弃权"]
    assert (agree.houses, agree.area) == (2, Decimal("209.50"))
    assert (against.houses, against.area) == (2, Decimal("239.50"))
    assert (abstain.houses, abstain.area) == (0, Decimal("0.00"))
    assert agree.houses_of_votes == Decimal("50.0") == against.houses_of_votes
    assert agree.area_of_votes == Decimal("46.7")  # 209.5 / 449
    assert against.area_of_votes == Decimal("53.3")  # 239.5 / 449
    assert agree.houses_of_all == Decimal("40.0")  # 2 / 5
    assert agree.area_of_all == Decimal("41.2")  # 209.5 / 509
    assert against.area_of_all == Decimal("47.1")  # 239.5 / 509
    assert (result["voted"], result["voted_area"]) == (4, Decimal("449.00"))
    assert result["participation"] == Decimal("80.0")
    assert result["participation_area"] == Decimal("88.2")  # 449 / 509
    assert result["quorum"] is True


def test_vote_twice_and_non_owners_are_refused(cast, estate):
    vote = make_vote(cast)
    ballot(cast, vote, "resident_a", "同意")
    before = snapshot()
    with pytest.raises(ValidationError, match="already voted"):
        ballot(cast, vote, "resident_a", "反对")
    with pytest.raises(ValidationError, match="already voted"):
        ballot(cast, vote, "dispatcher", "反对", house=cast.house_a, channel="phone")
    tenant = make_resident(cast.company, estate["d"], "租客", "13800000031", "tenant")
    with pytest.raises(ValidationError, match="owner"):
        ballot(cast, vote, tenant.user, "同意")
    assert snapshot() == before


def test_vote_chain_and_digest(cast, estate):
    vote = make_vote(cast)
    first = ballot(cast, vote, "resident_a", "同意")
    second = ballot(cast, vote, "resident_b", "反对")
    assert first.previous_hash == services.GENESIS
    assert second.previous_hash == first.ballot_hash
    vote.refresh_from_db()
    assert vote.chain_head == second.ballot_hash
    assert services.verify_vote(survey=vote)["ok"]
    vote = services.close_survey(actor=cast.actor("project_manager"), survey=vote)
    assert vote.result_digest == second.ballot_hash
    check = services.verify_vote(survey=vote)
    assert check["ok"] and check["ballots"] == 2 and check["computed"] == vote.result_digest


def test_tampering_with_a_ballot_is_detected(cast, estate):
    vote = make_vote(cast)
    ballot(cast, vote, "resident_a", "同意")
    changed = ballot(cast, vote, "resident_b", "反对")
    ballot(cast, vote, estate["owners"]["c"].user, "反对")
    vote = services.close_survey(actor=cast.actor("project_manager"), survey=vote)
    Answer.objects.filter(response=changed).update(choices=["同意"])
    check = services.verify_vote(survey=vote)
    assert not check["ok"] and check["broken_at"] == changed.pk
    Answer.objects.filter(response=changed).update(choices=["反对"])
    assert services.verify_vote(survey=vote)["ok"]
    Response.objects.filter(pk=changed.pk).update(area=Decimal("500.00"))
    assert services.verify_vote(survey=vote)["broken_at"] == changed.pk
    Response.objects.filter(pk=changed.pk).update(area=Decimal("89.50"))
    last = Response.objects.filter(survey=vote).order_by("-id").first()
    Answer.objects.filter(response=last).delete()
    last.delete()
    check = services.verify_vote(survey=vote)
    assert not check["ok"] and check["broken_at"] is None and check["reason"]


def test_a_vote_is_named_and_per_household(cast):
    vote = services.create_vote(
        actor=cast.actor("project_manager"),
        title="投票",
        community=cast.community_x,
        closes_at=soon(),
        respondent="person",
        anonymous=True,
    )
    assert vote.respondent == "household" and vote.anonymous is False
    with pytest.raises(ValidationError):
        services.add_question(
            actor=cast.actor("project_manager"), survey=vote, kind="text", text="x"
        )


# --- scoping ------------------------------------------------------------------------------
def test_scoping_across_companies_communities_and_residents(cast):
    survey = make_survey(cast, audience="houses", houses=[cast.house_a])
    draft = make_survey(cast, title="草稿", open_it=False)

    def sees(name):
        return set(Survey.objects.visible_to(cast.actor(name)).values_list("id", flat=True))

    assert sees("project_manager") == {survey.pk, draft.pk}
    assert sees("company_admin") == {survey.pk, draft.pk}
    assert sees("dispatcher") == {survey.pk, draft.pk}
    assert sees("manager_y") == set()
    assert sees("other_admin") == set()
    assert sees("technician") == set()
    assert sees("resident_a") == {survey.pk}
    assert sees("resident_b") == set()
    assert sees("other_resident") == set()


# --- console ------------------------------------------------------------------------------
def test_console_list_filters_and_permissions(cast):
    survey = make_survey(cast, title="保洁满意度")
    vote = make_vote(cast)
    client = cast.client("project_manager")
    page = client.get(reverse("surveys:list")).content.decode()
    assert "保洁满意度" in page and vote.title in page
    page = client.get(reverse("surveys:list"), {"kind": "vote"}).content.decode()
    assert "保洁满意度" not in page and vote.title in page
    page = client.get(reverse("surveys:list"), {"q": "保洁"}).content.decode()
    assert "保洁满意度" in page and vote.title not in page
    assert cast.client("technician").get(reverse("surveys:list")).status_code == 403
    assert (
        cast.client("manager_y").get(reverse("surveys:detail", args=[survey.pk])).status_code == 404
    )


def test_console_create_build_open_and_close(cast):
    client = cast.client("project_manager")
    closes = timezone.localtime(soon()).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("surveys:create"),
        {
            "title": "二季度满意度",
            "community": cast.community_x.pk,
            "audience": "buildings",
            "buildings": [cast.building_x1.pk],
            "respondent": "household",
            "closes_at": closes,
        },
    )
    survey = Survey.objects.get(title="二季度满意度")
    assert response.status_code == 302 and list(survey.buildings.all()) == [cast.building_x1]
    add = reverse("surveys:question_add", args=[survey.pk])
    bad = client.post(add, {"add-kind": "single", "add-text": "选", "add-options": "一个"})
    assert bad.status_code == 200 and "2" in bad.content.decode()
    assert not survey.questions.exists()
    client.post(
        add,
        {"add-kind": "single", "add-text": "满意吗", "add-options": "是\n否", "add-required": "on"},
    )
    client.post(add, {"add-kind": "scale5", "add-text": "打分", "add-required": "on"})
    first, second = survey.questions.order_by("position")
    client.post(reverse("surveys:question_move", args=[survey.pk, second.pk]), {"direction": "up"})
    assert survey.questions.order_by("position").first() == second
    client.post(
        reverse("surveys:question_edit", args=[survey.pk, first.pk]),
        {
            f"edit{first.pk}-kind": "single",
            f"edit{first.pk}-text": "您满意吗",
            f"edit{first.pk}-options": "是\n否\n说不清",
        },
    )
    first.refresh_from_db()
    assert first.text == "您满意吗" and first.options == ["是", "否", "说不清"]
    page = client.get(reverse("surveys:detail", args=[survey.pk])).content.decode()
    assert "您满意吗" in page and "说不清" in page
    assert client.post(reverse("surveys:open", args=[survey.pk])).status_code == 302
    survey.refresh_from_db()
    assert survey.status == "open" and survey.eligible_households == 2
    assert client.post(reverse("surveys:close", args=[survey.pk])).status_code == 302
    survey.refresh_from_db()
    assert survey.status == "closed"


def test_console_servqual_and_vote_forms(cast):
    client = cast.client("project_manager")
    closes = timezone.localtime(soon()).strftime("%Y-%m-%dT%H:%M")
    common = {"community": cast.community_x.pk, "audience": "community", "closes_at": closes}
    client.post(
        reverse("surveys:create_servqual"),
        {**common, "mode": "gap", "scale": "7", "respondent": "household"},
    )
    survey = Survey.objects.get(servqual="gap")
    assert survey.questions.count() == 22
    client.post(
        reverse("surveys:create_vote"),
        {**common, "title": "增设充电桩", "options": "同意\n反对\n弃权"},
    )
    vote = Survey.objects.get(kind="vote")
    assert vote.questions.get().options == ["同意", "反对", "弃权"]
    assert vote.questions.get().text == "增设充电桩"


def test_console_results_charts_verify_and_phone_entry(cast, estate):
    survey = make_survey(cast)
    services.submit_response(
        actor=cast.actor("resident_a"),
        survey=survey,
        answers=answers_for(survey, text="楼道灯坏了"),
    )
    client = cast.client("service_supervisor")
    page = client.get(reverse("surveys:results", args=[survey.pk])).content.decode()
    assert "<svg" in page and "楼道灯坏了" in page and cast.house_a.address in page
    # phone entry for resident B's house
    phone = cast.client("dispatcher")
    url = reverse("surveys:phone_entry", args=[survey.pk])
    assert phone.get(url).status_code == 200
    q = list(survey.questions.order_by("position"))
    data = {
        "community": cast.community_x.pk,
        "building": cast.building_x1.pk,
        "unit": cast.unit_x1.pk,
        "number": "0102",
        "channel": "phone",
        f"q{q[0].pk}": "一般",
        f"q{q[1].pk}": ["安保", "绿化"],
        f"q{q[2].pk}": "2",
    }
    assert phone.post(url, data).status_code == 302
    response = Response.objects.get(survey=survey, house=cast.house_b)
    assert response.channel == "phone" and response.entered_by == cast.users["dispatcher"]
    again = phone.post(url, data)
    assert again.status_code == 400 and "form-errors" in again.content.decode()
    assert Response.objects.filter(survey=survey).count() == 2
    missing = phone.post(url, {**data, "number": "0201", f"q{q[2].pk}": ""})
    assert missing.status_code == 400
    assert Response.objects.filter(survey=survey).count() == 2
    assert cast.client("project_manager").get(url).status_code == 200  # manager also assists
    assert cast.client("quality").get(url).status_code == 403
    # vote results and verification
    vote = make_vote(cast)
    ballot(cast, vote, "resident_a", "同意")
    vote = services.close_survey(actor=cast.actor("project_manager"), survey=vote)
    page = client.get(reverse("surveys:results", args=[vote.pk])).content.decode()
    assert vote.result_digest in page and "89.50" in page
    page = client.get(reverse("surveys:verify", args=[vote.pk])).content.decode()
    assert "badge big success" in page
    Answer.objects.filter(response__survey=vote).update(choices=["反对"])
    page = client.get(reverse("surveys:verify", args=[vote.pk])).content.decode()
    assert "badge big danger" in page


def test_excel_export_contents(cast):
    survey = make_survey(cast)
    services.submit_response(
        actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey, text="很好")
    )
    services.submit_response(
        actor=cast.actor("resident_b"),
        survey=survey,
        answers=answers_for(survey, single="不满意", multiple=("安保", "绿化"), score=2, text=""),
    )
    response = cast.client("quality").get(reverse("surveys:export", args=[survey.pk]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    summary, answers = book.worksheets
    summary_rows = list(summary.iter_rows(values_only=True))
    assert summary_rows[0][0] == survey.title
    assert summary_rows[5][1] == 100.0  # response rate: 2 of 2 households
    assert ("满意", 1, 50.0) in [row[1:4] for row in summary_rows]
    assert ("不满意", 1, 50.0) in [row[1:4] for row in summary_rows]
    assert ("安保", 1, 50.0) in [row[1:4] for row in summary_rows]
    rows = list(answers.iter_rows(values_only=True))
    assert len(rows) == 3
    assert rows[1][4] == "1单元 0101" and "很好" in rows[1]
    assert rows[2][-3:-1] == ("安保、绿化", 2)


def test_anonymous_export_names_no_house(cast):
    survey = make_survey(cast, anonymous=True)
    services.submit_response(
        actor=cast.actor("resident_a"), survey=survey, answers=answers_for(survey, text="匿名意见")
    )
    response = cast.client("project_manager").get(reverse("surveys:export", args=[survey.pk]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    content = repr(list(book.worksheets[1].iter_rows(values_only=True)))
    assert "0101" not in content and "匿名意见" in content
    page = cast.client("project_manager").get(reverse("surveys:results", args=[survey.pk]))
    assert cast.house_a.address not in page.content.decode()


# --- resident H5 --------------------------------------------------------------------------
def test_resident_list_answer_and_thanks(cast):
    survey = make_survey(cast, title="请评价保洁")
    make_survey(cast, title="只给B", audience="houses", houses=[cast.house_b])
    client = cast.client("resident_a")
    page = client.get(reverse("surveys_resident:list")).content.decode()
    assert "请评价保洁" in page and "只给B" not in page
    url = reverse("surveys_resident:detail", args=[survey.pk])
    page = client.get(url).content.decode()
    assert 'type="radio"' in page and "scale-5" in page
    q = list(survey.questions.order_by("position"))
    missing = client.post(url, {f"q{q[0].pk}": "满意"})
    assert missing.status_code == 400 and not Response.objects.exists()
    data = {f"q{q[0].pk}": "满意", f"q{q[1].pk}": ["保洁"], f"q{q[2].pk}": "5"}
    response = client.post(url, data)
    assert response.url == reverse("surveys_resident:thanks", args=[survey.pk])
    assert Response.objects.filter(survey=survey, house=cast.house_a).count() == 1
    assert client.get(response.url).status_code == 200
    assert client.post(url, data).status_code == 400
    assert Response.objects.filter(survey=survey).count() == 1
    page = client.get(reverse("surveys_resident:list")).content.decode()
    assert "badge success" in page
    assert cast.client("other_resident").get(url).status_code == 404
    assert cast.client("dispatcher").get(url).status_code == 403


def test_resident_gap_form_asks_expectation_and_perception(cast):
    who = cast.actor("project_manager")
    survey = services.create_from_servqual_template(
        actor=who, mode="gap", community=cast.community_x, closes_at=soon()
    )
    services.open_survey(actor=who, survey=survey)
    page = cast.client("resident_a").get(reverse("surveys_resident:detail", args=[survey.pk]))
    first = survey.questions.order_by("position").first()
    assert f'name="e{first.pk}"' in page.content.decode()
    assert f'name="q{first.pk}"' in page.content.decode()


def test_resident_vote_result_page(cast, estate):
    vote = make_vote(cast)
    ballot(cast, vote, "resident_a", "同意")
    client = cast.client("resident_b")
    result = reverse("surveys_resident:result", args=[vote.pk])
    assert client.get(result).status_code == 404  # still open
    vote = services.close_survey(actor=cast.actor("project_manager"), survey=vote)
    page = client.get(reverse("surveys_resident:detail", args=[vote.pk]))
    assert page.status_code == 302 and page.url == result
    page = client.get(result).content.decode()
    assert vote.result_digest in page and "同意" in page


# --- API ----------------------------------------------------------------------------------
def test_api_create_build_open_answer_results(cast):
    manager = cast.client("project_manager")
    created = post(
        manager,
        "/surveys",
        {
            "title": "接口调查",
            "community_id": cast.community_x.pk,
            "closes_at": soon().isoformat(),
        },
        **{KEY: "s-1"},
    )
    assert created.status_code == 201, created.content
    survey_id = created.json()["id"]
    again = post(
        manager,
        "/surveys",
        {"title": "接口调查", "community_id": cast.community_x.pk, "closes_at": "x"},
        **{KEY: "s-1"},
    )
    assert again.status_code in (422,)
    q = post(
        manager,
        f"/surveys/{survey_id}/questions",
        {"kind": "scale7", "text": "总体", "dimension": "reliability"},
        **{KEY: "q-1"},
    )
    assert q.status_code == 201 and q.json()["scale_max"] == 7
    bad = post(
        manager,
        f"/surveys/{survey_id}/questions",
        {"kind": "single", "text": "一项", "options": ["甲"]},
        **{KEY: "q-2"},
    )
    assert bad.status_code == 400 and "options" in bad.json()["detail"]
    assert post(manager, f"/surveys/{survey_id}/open", **{KEY: "o-1"}).status_code == 200
    resident = cast.client("resident_a")
    listed = results(get(resident, "/surveys"))
    assert [row["id"] for row in listed] == [survey_id]
    body = {"answers": [{"question_id": q.json()["id"], "score": 6}]}
    first = post(resident, f"/surveys/{survey_id}/responses", body, **{KEY: "r-1"})
    assert first.status_code == 201, first.content
    replay = post(resident, f"/surveys/{survey_id}/responses", body, **{KEY: "r-1"})
    assert replay.status_code == 201 and replay.json() == first.json()
    twice = post(resident, f"/surveys/{survey_id}/responses", body, **{KEY: "r-2"})
    assert twice.status_code == 400
    assert Response.objects.count() == 1
    detail = get(resident, f"/surveys/{survey_id}").json()
    assert detail["answered_house_ids"] == [cast.house_a.pk]
    out = get(manager, f"/surveys/{survey_id}/results").json()
    assert out["answered"] == 1 and out["servqual"]["index"] == "6.00"
    assert out["questions"][0]["bars"][5] == {"label": "6", "count": 1, "percent": "100.0"}
    assert get(resident, f"/surveys/{survey_id}/results").status_code == 404
    assert get(cast.client("manager_y"), f"/surveys/{survey_id}").status_code == 404


def test_api_vote_phone_entry_and_verification(cast, estate):
    manager = cast.client("project_manager")
    created = post(
        manager,
        "/surveys/votes",
        {"title": "续聘物业", "community_id": cast.community_x.pk, "closes_at": soon().isoformat()},
        **{KEY: "v-1"},
    )
    assert created.status_code == 201
    vote_id = created.json()["id"]
    question_id = created.json()["questions"][0]["id"]
    post(manager, f"/surveys/{vote_id}/open", **{KEY: "v-2"})
    desk = cast.client("dispatcher")
    body = {
        "house_id": estate["c"].pk,
        "channel": "paper",
        "answers": [{"question_id": question_id, "choices": ["反对"]}],
    }
    assert (
        post(desk, f"/surveys/{vote_id}/phone-responses", body, **{KEY: "p-1"}).status_code == 201
    )
    assert (
        post(desk, f"/surveys/{vote_id}/phone-responses", body, **{KEY: "p-2"}).status_code == 400
    )
    denied = post(
        cast.client("quality"), f"/surveys/{vote_id}/phone-responses", body, **{KEY: "p-3"}
    )
    assert denied.status_code == 403
    post(manager, f"/surveys/{vote_id}/close", **{KEY: "v-3"})
    check = get(manager, f"/surveys/{vote_id}/verification").json()
    assert check["ok"] is True and check["ballots"] == 1
    out = get(manager, f"/surveys/{vote_id}/results").json()
    assert out["vote"]["rows"][1]["houses"] == 1 and out["vote"]["rows"][1]["area"] == "120.00"
    response = send(manager, "delete", f"/surveys/{vote_id}/questions/{question_id}")
    assert response.status_code == 400


def test_opening_and_closing_tell_the_webhooks(cast, monkeypatch):
    sent = []
    monkeypatch.setattr("wuye.webhooks.events.emit", lambda **event: sent.append(event))
    vote = make_vote(cast)
    services.close_survey(actor=cast.actor("project_manager"), survey=vote)
    assert [e["event_type"] for e in sent] == ["survey.opened", "survey.closed"]
    closed = sent[1]["data"]
    assert closed["id"] == vote.pk and closed["kind"] == "vote" and closed["status"] == "closed"
    assert closed["result_digest"] and sent[0]["company_id"] == cast.company.pk
