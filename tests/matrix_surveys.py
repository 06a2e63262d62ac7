"""Access-matrix rows for surveys and owner votes (see the loader at the end of
test_access_matrix.py).

The fixtures, all of community X: a draft survey with two questions, an open survey
(single choice + 1–5 scale) for the whole community, and a closed owner vote with resident
A's ballot. Every cell runs in a rolled-back transaction, so each helper finds or makes
its row."""

import datetime

from django.urls import reverse
from django.utils import timezone

DRAFT, OPEN, VOTE = "矩阵草稿调查", "矩阵调查", "矩阵投票"


def _soon():
    return timezone.now() + datetime.timedelta(days=7)


def _draft(cast):
    from wuye.surveys import services
    from wuye.surveys.models import Survey

    found = Survey.objects.filter(title=DRAFT).first()
    if found is not None:
        return found
    manager = cast.actor("project_manager")
    survey = services.create_survey(
        actor=manager, title=DRAFT, community=cast.community_x, closes_at=_soon()
    )
    services.add_question(
        actor=manager, survey=survey, kind="single", text="满意吗", options=["是", "否"]
    )
    services.add_question(actor=manager, survey=survey, kind="text", text="建议")
    return survey


def _open(cast):
    from wuye.surveys import services
    from wuye.surveys.models import Survey

    found = Survey.objects.filter(title=OPEN).first()
    if found is not None:
        return found
    manager = cast.actor("project_manager")
    survey = services.create_survey(
        actor=manager, title=OPEN, community=cast.community_x, closes_at=_soon()
    )
    services.add_question(
        actor=manager, survey=survey, kind="single", text="保洁", options=["甲", "乙"]
    )
    services.add_question(actor=manager, survey=survey, kind="scale5", text="总体")
    return services.open_survey(actor=manager, survey=survey)


def _vote(cast):
    from wuye.surveys import services
    from wuye.surveys.models import Survey

    found = Survey.objects.filter(title=VOTE).first()
    if found is not None:
        return found
    manager = cast.actor("project_manager")
    vote = services.create_vote(
        actor=manager, title=VOTE, community=cast.community_x, closes_at=_soon()
    )
    vote = services.open_survey(actor=manager, survey=vote)
    question = vote.questions.get()
    services.submit_response(
        actor=cast.actor("resident_a"), survey=vote, answers={question.pk: {"choices": ["同意"]}}
    )
    return services.close_survey(actor=manager, survey=vote)


def _questions(survey):
    return list(survey.questions.order_by("position", "id"))


def _closes():
    return timezone.localtime(_soon()).strftime("%Y-%m-%dT%H:%M")


def _answers_form(cast):
    single, scale = _questions(_open(cast))
    return {f"q{single.pk}": "甲", f"q{scale.pk}": "4"}


def _answers_api(cast):
    single, scale = _questions(_open(cast))
    return [
        {"question_id": single.pk, "choices": ["乙"]},
        {"question_id": scale.pk, "score": 3},
    ]


def rows(m):
    view_x = m.staff_may("engagement.view")
    manage_x = m.staff_may("engagement.manage")
    assist_x = m.staff_may("engagement.assist")
    residents_x = m.X_RESIDENTS

    def new_survey(c, n):
        return {
            "title": f"矩阵新调查{m._n(n)}",
            "community": c.community_x.id,
            "audience": "community",
            "respondent": "household",
            "closes_at": _closes(),
        }

    pages = {
        "surveys:list": m.page(
            "surveys:list",
            view_x,
            target=lambda c: reverse("surveys:detail", args=[_open(c).id]),
        ),
        "surveys:create": m.page("surveys:create", manage_x, data=new_survey),
        "surveys:create_servqual": m.page(
            "surveys:create_servqual",
            manage_x,
            data=lambda c, n: {**new_survey(c, n), "mode": "gap", "scale": "7"},
        ),
        "surveys:create_vote": m.page(
            "surveys:create_vote",
            manage_x,
            data=lambda c, n: {**new_survey(c, n), "options": "同意\n反对"},
        ),
        "surveys:detail": m.page("surveys:detail", view_x, args=lambda c: [_draft(c).id]),
        "surveys:edit": m.page(
            "surveys:edit",
            manage_x,
            args=lambda c: [_draft(c).id],
            data=lambda c, n: {
                "details-title": f"矩阵改名{m._n(n)}",
                "details-respondent": "household",
                "details-closes_at": _closes(),
            },
        ),
        "surveys:question_add": m.page(
            "surveys:question_add",
            manage_x,
            args=lambda c: [_draft(c).id],
            data=lambda c, n: {"add-kind": "text", "add-text": f"矩阵问题{m._n(n)}"},
        ),
        "surveys:question_edit": m.page(
            "surveys:question_edit",
            manage_x,
            args=lambda c: [_draft(c).id, _questions(_draft(c))[0].id],
            data=lambda c, n: {
                f"edit{_questions(_draft(c))[0].id}-kind": "single",
                f"edit{_questions(_draft(c))[0].id}-text": f"矩阵改题{m._n(n)}",
                f"edit{_questions(_draft(c))[0].id}-options": "是\n否",
            },
        ),
        "surveys:question_move": m.page(
            "surveys:question_move",
            manage_x,
            args=lambda c: [_draft(c).id, _questions(_draft(c))[0].id],
            data=lambda c, n: {"direction": "down"},
        ),
        "surveys:question_remove": m.page(
            "surveys:question_remove",
            manage_x,
            args=lambda c: [_draft(c).id, _questions(_draft(c))[-1].id],
            data=lambda c, n: {"confirm": "1"},
        ),
        "surveys:open": m.page(
            "surveys:open", manage_x, args=lambda c: [_draft(c).id], data=lambda c, n: {"go": "1"}
        ),
        "surveys:close": m.page(
            "surveys:close", manage_x, args=lambda c: [_open(c).id], data=lambda c, n: {"go": "1"}
        ),
        "surveys:results": m.page("surveys:results", view_x, args=lambda c: [_open(c).id]),
        "surveys:export": m.page("surveys:export", view_x, args=lambda c: [_open(c).id]),
        "surveys:verify": m.page("surveys:verify", view_x, args=lambda c: [_vote(c).id]),
        "surveys:phone_entry": m.page(
            "surveys:phone_entry",
            assist_x,
            args=lambda c: [_open(c).id],
            data=lambda c, n: {
                "community": c.community_x.id,
                "building": c.building_x1.id,
                "unit": c.unit_x1.id,
                "number": c.house_b.number,
                "channel": "phone",
                **_answers_form(c),
            },
        ),
        "surveys_resident:list": m.page(
            "surveys_resident:list",
            residents_x,
            target=lambda c: reverse("surveys_resident:detail", args=[_open(c).id]),
        ),
        "surveys_resident:detail": m.page(
            "surveys_resident:detail",
            residents_x,
            args=lambda c: [_open(c).id],
            data=lambda c, n: _answers_form(c),
        ),
        "surveys_resident:thanks": m.page(
            "surveys_resident:thanks", residents_x, args=lambda c: [_open(c).id]
        ),
        "surveys_resident:result": m.page(
            "surveys_resident:result", residents_x, args=lambda c: [_vote(c).id]
        ),
    }

    def api_survey(c, n):
        return {
            "title": f"矩阵接口调查{m._n(n)}",
            "community_id": c.community_x.id,
            "closes_at": _soon().isoformat(),
        }

    def draft_question(c, index=0):
        return _questions(_draft(c))[index]

    api = {
        "wuye_surveys_api_list_surveys": m.op(
            "GET",
            m._api(lambda c: "/surveys"),
            m.either(view_x, residents_x),
            target=lambda c: _open(c).id,
        ),
        "wuye_surveys_api_get_survey": m.op(
            "GET",
            m._api(lambda c: f"/surveys/{_open(c).id}"),
            m.either(view_x, residents_x),
        ),
        "wuye_surveys_api_survey_results": m.op(
            "GET", m._api(lambda c: f"/surveys/{_open(c).id}/results"), view_x
        ),
        "wuye_surveys_api_verify_vote": m.op(
            "GET", m._api(lambda c: f"/surveys/{_vote(c).id}/verification"), view_x
        ),
        "wuye_surveys_api_create_survey": m.op(
            "POST", m._api(lambda c: "/surveys"), manage_x, data=api_survey
        ),
        "wuye_surveys_api_create_servqual_survey": m.op(
            "POST",
            m._api(lambda c: "/surveys/servqual"),
            manage_x,
            data=lambda c, n: {**api_survey(c, n), "mode": "gap"},
        ),
        "wuye_surveys_api_create_vote": m.op(
            "POST", m._api(lambda c: "/surveys/votes"), manage_x, data=api_survey
        ),
        "wuye_surveys_api_add_question": m.op(
            "POST",
            m._api(lambda c: f"/surveys/{_draft(c).id}/questions"),
            manage_x,
            data=lambda c, n: {"kind": "text", "text": f"矩阵接口问题{m._n(n)}"},
        ),
        "wuye_surveys_api_edit_question": m.op(
            "PUT",
            m._api(lambda c: f"/surveys/{_draft(c).id}/questions/{draft_question(c).id}"),
            manage_x,
            data=lambda c, n: {
                "kind": "single",
                "text": f"矩阵改{m._n(n)}",
                "options": ["是", "否"],
            },
        ),
        "wuye_surveys_api_remove_question": m.op(
            "DELETE",
            m._api(lambda c: f"/surveys/{_draft(c).id}/questions/{draft_question(c, -1).id}"),
            manage_x,
            data=lambda c, n: {},
        ),
        "wuye_surveys_api_reorder_questions": m.op(
            "POST",
            m._api(lambda c: f"/surveys/{_draft(c).id}/questions/order"),
            manage_x,
            data=lambda c, n: {"question_ids": [q.id for q in reversed(_questions(_draft(c)))]},
        ),
        "wuye_surveys_api_open_survey": m.op(
            "POST",
            m._api(lambda c: f"/surveys/{_draft(c).id}/open"),
            manage_x,
            data=lambda c, n: {},
        ),
        "wuye_surveys_api_close_survey": m.op(
            "POST",
            m._api(lambda c: f"/surveys/{_open(c).id}/close"),
            manage_x,
            data=lambda c, n: {},
        ),
        "wuye_surveys_api_submit_response": m.op(
            "POST",
            m._api(lambda c: f"/surveys/{_open(c).id}/responses"),
            residents_x,
            data=lambda c, n: {"answers": _answers_api(c)},
        ),
        "wuye_surveys_api_phone_response": m.op(
            "POST",
            m._api(lambda c: f"/surveys/{_open(c).id}/phone-responses"),
            assist_x,
            data=lambda c, n: {"house_id": c.house_b.id, "answers": _answers_api(c)},
        ),
    }
    return pages, api
