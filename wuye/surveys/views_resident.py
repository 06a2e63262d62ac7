"""Resident H5 pages: the surveys and votes reaching my houses (answered or not), the
answer form, the thank-you page and a closed vote's result."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from wuye.core.scoping import get_visible_or_404
from wuye.people.models import Residency
from wuye.surveys import selectors, services
from wuye.surveys.forms import AnswerForm
from wuye.surveys.models import Status

LIST_LIMIT = 100


def resident_view(view=None, *, empty_page: str = ""):
    """Signed-in residents only: staff without a house get 403; anyone else 404, or
    ``empty_page`` rendered with nothing in it (a list: "nothing for you yet")."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            actor = request.actor
            if actor.is_resident:
                return view(request, *args, **kwargs)
            if actor.staff:
                raise PermissionDenied
            if empty_page:
                return render(request, empty_page, {"open": [], "closed": []})
            raise Http404

        return wrapper

    return decorate(view) if view is not None else decorate


def _load(actor, pk):
    return get_visible_or_404(selectors.resident_surveys(actor), actor, pk=pk)


@require_GET
@resident_view(empty_page="surveys/h5/list.html")
def survey_list(request):
    actor = request.actor
    surveys = list(
        selectors.resident_surveys(actor)
        .annotate(
            open_first=Case(
                When(status=Status.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_first", "-closes_at", "-id")[:LIST_LIMIT]
    )
    answered = selectors.answered_ids(actor, surveys)
    for survey in surveys:
        survey.answered = survey.pk in answered
    return render(
        request,
        "surveys/h5/list.html",
        {
            "open": [s for s in surveys if s.is_open],
            "closed": [s for s in surveys if not s.is_open],
        },
    )


def _my_houses(actor, survey):
    houses = services.reached_houses(survey).filter(id__in=sorted(actor.resident_house_ids))
    if survey.is_vote:
        owned = Residency.objects.active().filter(
            resident__user=actor.user, relation=Residency.Relation.OWNER
        )
        houses = houses.filter(id__in=owned.values("house_id"))
    return list(houses.select_related("community", "building", "unit").order_by("id"))


def _unanswered(actor, survey, houses):
    keys = {services.key_for(survey, house_id=h.pk, user_id=actor.user.pk): h for h in houses}
    done = set(
        survey.responses.filter(respondent_key__in=list(keys)).values_list(
            "respondent_key", flat=True
        )
    )
    return [house for key, house in keys.items() if key not in done]


@require_http_methods(["GET", "POST"])
@resident_view
def survey_detail(request, pk):
    actor = request.actor
    survey = _load(actor, pk)
    if survey.is_vote and survey.status == Status.CLOSED and request.method == "GET":
        return redirect("surveys_resident:result", pk=survey.pk)
    houses = _my_houses(actor, survey)
    pending = _unanswered(actor, survey, houses) if survey.is_open else []
    questions = survey.questions.order_by("position", "id")
    form = None
    status = 200
    if pending:
        data = request.POST if request.method == "POST" else None
        form = AnswerForm(data, survey=survey, questions=questions, houses=pending)
        if request.method == "POST" and form.is_valid():
            try:
                services.submit_response(
                    actor=actor, survey=survey, answers=form.answers(), house=form.chosen_house()
                )
            except ValidationError as exc:
                form.add_answer_errors(exc)
            else:
                return redirect("surveys_resident:thanks", pk=survey.pk)
        if request.method == "POST":
            status = 400
    elif request.method == "POST":
        status = 400
    reason = ""
    if not survey.is_open:
        reason = services.closed_message(survey)
    elif survey.is_vote and not houses:
        reason = _("Only the owner of a house may vote.")
    elif not pending:
        reason = _("Thank you: you have already answered.")
    return render(
        request,
        "surveys/h5/detail.html",
        {"survey": survey, "form": form, "reason": reason, "houses": houses},
        status=status,
    )


@require_GET
@resident_view
def thanks(request, pk):
    survey = _load(request.actor, pk)
    return render(request, "surveys/h5/thanks.html", {"survey": survey})


@require_GET
@resident_view
def vote_result(request, pk):
    survey = _load(request.actor, pk)
    if not survey.is_vote or survey.status != Status.CLOSED:
        raise Http404
    vote = selectors.vote_results(survey)
    for index, row in enumerate(vote["rows"]):
        row.color = index % 6
    return render(
        request,
        "surveys/h5/result.html",
        {"survey": survey, "vote": vote},
    )
