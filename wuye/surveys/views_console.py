"""Console pages of surveys and owner votes: the list, creating (a survey, the SERVQUAL
template, a vote), the question builder of a draft, opening and closing, results with
charts, the Excel export, a vote's verification, and entering answers taken by phone.

``engagement.view`` sees, ``engagement.manage`` builds, opens and closes,
``engagement.assist`` enters phone answers. Views are thin: every change is one call
to ``wuye.surveys.services``; its ValidationErrors land on the form."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import add_service_errors, after_param, console_view, newest_first_page
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE, spooled_file
from wuye.surveys import exports, selectors, services
from wuye.surveys.forms import (
    DetailsForm,
    PhoneEntryForm,
    QuestionForm,
    SurveyFilterForm,
    SurveyForm,
)
from wuye.surveys.models import Question, Status, Survey

VIEW, MANAGE, ASSIST = services.VIEW, services.MANAGE, services.ASSIST
STATUS_BADGE = {Status.DRAFT: "muted", Status.OPEN: "success", Status.CLOSED: ""}


def _crumbs(*extra):
    return [(_("Surveys and votes"), reverse("surveys:list")), *extra]


def _load(actor, pk) -> Survey:
    return get_visible_or_404(selectors.surveys(), actor, pk=pk)


def _badge(survey):
    survey.badge = STATUS_BADGE.get(survey.status, "")
    return survey


# --- the list ---------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def survey_list(request):
    actor = request.actor
    form = SurveyFilterForm(request.GET, actor=actor)
    page = None
    if form.is_valid():
        page = newest_first_page(
            form.filter(selectors.surveys().visible_to(actor)),
            before=after_param(request),
            query=request.GET,
        )
        for survey in page.items:
            _badge(survey)
    return render(
        request,
        "surveys/console/list.html",
        {"form": form, "page": page, "can_manage": actor.has_perm(MANAGE)},
    )


# --- creating -----------------------------------------------------------------------------
HEADINGS = {
    "survey": _("New survey"),
    "servqual": _("New survey from the SERVQUAL template"),
    "vote": _("New owner vote"),
}


def _create(request, variant):
    actor = request.actor
    if request.method == "POST":
        form = SurveyForm(request.POST, actor=actor, variant=variant)
    else:  # a GET with parameters re-renders the form after the community/audience changed
        initial = request.GET.dict()
        initial.setdefault("closes_at", timezone.localtime() + datetime.timedelta(days=14))
        form = SurveyForm(initial=initial, actor=actor, variant=variant)
    if request.method == "POST" and form.is_valid():
        creator = {
            "survey": services.create_survey,
            "servqual": services.create_from_servqual_template,
            "vote": services.create_vote,
        }[variant]
        try:
            survey = creator(actor=actor, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Draft saved. Check the questions, then open it."))
            return redirect("surveys:detail", pk=survey.pk)
    heading = str(HEADINGS[variant])
    return render(
        request,
        "surveys/console/form.html",
        {"form": form, "heading": heading, "breadcrumbs": _crumbs((heading, None))},
    )


@console_view(MANAGE)
def survey_create(request):
    return _create(request, "survey")


@console_view(MANAGE)
def servqual_create(request):
    return _create(request, "servqual")


@console_view(MANAGE)
def vote_create(request):
    return _create(request, "vote")


# --- the builder ----------------------------------------------------------------------------
def _details_initial(survey):
    return {
        "title": survey.title,
        "intro": survey.intro,
        "respondent": survey.respondent,
        "anonymous": survey.anonymous,
        "closes_at": timezone.localtime(survey.closes_at),
    }


def _detail_page(request, survey, *, question_form=None, details_form=None, status=200):
    actor = request.actor
    survey = _badge(survey)
    questions = list(survey.questions.order_by("position", "id"))
    editing = request.GET.get("edit", "")
    edit_forms = {}
    for question in questions:
        if editing == str(question.pk):
            edit_forms[question.pk] = QuestionForm(
                initial={
                    "kind": question.kind,
                    "text": question.text,
                    "options": "\n".join(question.options or []),
                    "dimension": question.dimension,
                    "required": question.required,
                },
                survey=survey,
                prefix=f"edit{question.pk}",
            )
    if isinstance(question_form, QuestionForm) and question_form.prefix != "add":
        edit_forms[int(question_form.prefix[4:])] = question_form
    for question in questions:
        question.edit_form = edit_forms.get(question.pk)
    can_manage = services.may_manage(actor, survey)
    draft = survey.status == Status.DRAFT
    if question_form is None or question_form.prefix != "add":
        question_form = QuestionForm(survey=survey, prefix="add")
    return render(
        request,
        "surveys/console/detail.html",
        {
            "survey": survey,
            "questions": questions,
            "question_form": question_form,
            "details_form": details_form
            or DetailsForm(initial=_details_initial(survey), survey=survey),
            "can_build": can_manage and draft,
            "can_manage": can_manage,
            "can_assist": services.may_assist(actor, survey) and survey.is_open,
            "audience_label": _audience_label(survey),
            "events": survey.events.select_related("actor").order_by("-id")[:30],
            "breadcrumbs": _crumbs((survey.title, None)),
        },
        status=status,
    )


def _audience_label(survey) -> str:
    label = str(survey.get_audience_display())
    if survey.audience == "buildings":
        label += ": " + "、".join(survey.buildings.order_by("id").values_list("name", flat=True))
    elif survey.audience == "units":
        units = survey.units.select_related("building").order_by("id")
        label += ": " + "、".join(f"{u.building.name} {u.name}" for u in units)
    elif survey.audience == "houses":
        count = survey.houses.count()
        label += f": {count}"
    return label


@require_GET
@console_view(VIEW)
def survey_detail(request, pk):
    return _detail_page(request, _load(request.actor, pk))


def _manage(request, pk):
    survey = _load(request.actor, pk)
    if not services.may_manage(request.actor, survey):
        raise PermissionDenied(MANAGE)
    return survey


@require_POST
@console_view(MANAGE)
def survey_edit(request, pk):
    actor = request.actor
    survey = _manage(request, pk)
    form = DetailsForm(request.POST, survey=survey)
    if form.is_valid():
        try:
            services.update_survey(actor=actor, survey=survey, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("surveys:detail", pk=survey.pk)
    return _detail_page(request, survey, details_form=form, status=400)


@require_POST
@console_view(MANAGE)
def question_add(request, pk):
    actor = request.actor
    survey = _manage(request, pk)
    form = QuestionForm(request.POST, survey=survey, prefix="add")
    if form.is_valid():
        try:
            services.add_question(actor=actor, survey=survey, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(reverse("surveys:detail", args=[survey.pk]) + "#questions")
    # 200: HTMX swaps the builder with the form's errors (it ignores 4xx bodies).
    return _detail_page(request, survey, question_form=form)


def _question(request, pk, question_pk):
    survey = _manage(request, pk)
    try:
        return survey, survey.questions.get(pk=question_pk)
    except Question.DoesNotExist as exc:
        raise Http404 from exc


@require_POST
@console_view(MANAGE)
def question_edit(request, pk, question_pk):
    actor = request.actor
    survey, question = _question(request, pk, question_pk)
    form = QuestionForm(request.POST, survey=survey, prefix=f"edit{question.pk}")
    if form.is_valid():
        try:
            services.edit_question(actor=actor, question=question, **form.service_args())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect(reverse("surveys:detail", args=[survey.pk]) + "#questions")
    # 200: HTMX swaps the builder with the form's errors (it ignores 4xx bodies).
    return _detail_page(request, survey, question_form=form)


@require_POST
@console_view(MANAGE)
def question_move(request, pk, question_pk):
    actor = request.actor
    survey, question = _question(request, pk, question_pk)
    try:
        services.move_question(
            actor=actor, question=question, up=request.POST.get("direction") != "down"
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("surveys:detail", args=[survey.pk]) + "#questions")


@require_POST
@console_view(MANAGE)
def question_remove(request, pk, question_pk):
    actor = request.actor
    survey, question = _question(request, pk, question_pk)
    try:
        services.remove_question(actor=actor, question=question)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Question removed."))
    return redirect(reverse("surveys:detail", args=[survey.pk]) + "#questions")


@require_POST
@console_view(MANAGE)
def survey_open(request, pk):
    survey = _manage(request, pk)
    try:
        survey = services.open_survey(actor=request.actor, survey=survey)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Opened: %(n)s reached; the residents are being notified.")
            % {"n": survey.eligible_households},
        )
    return redirect("surveys:detail", pk=survey.pk)


@require_POST
@console_view(MANAGE)
def survey_close(request, pk):
    survey = _manage(request, pk)
    try:
        services.close_survey(actor=request.actor, survey=survey)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Closed. No more answers are taken."))
    return redirect("surveys:results", pk=survey.pk)


# --- results ------------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def survey_results(request, pk):
    survey = _badge(_load(request.actor, pk))
    context = {
        "survey": survey,
        "rates": selectors.response_rates(survey),
        "breadcrumbs": _crumbs((survey.title, reverse("surveys:detail", args=[survey.pk]))),
    }
    if survey.is_vote:
        context["vote"] = vote = selectors.vote_results(survey)
        context["stacks"] = vote_stacks(vote)
    else:
        context["results"] = results = selectors.question_results(survey)
        for result in results:
            if result.question.scale_max:
                result.segments = _segments(result.bars)
        context["scores"] = scores = selectors.servqual_scores(survey)
        if scores is not None:
            for row in scores.dimensions:
                row.p_width = _width(row.perception, scores.scale_max)
                row.e_width = _width(row.expectation, scores.scale_max)
    return render(request, "surveys/console/results.html", context)


def _segments(bars) -> list[dict]:
    """A scale's distribution as one stacked bar: each score's share, left to right."""
    x, segments = 0.0, []
    for score, bar in enumerate(bars, start=1):
        width = float(bar.percent or 0)
        segments.append({"score": score, "x": f"{x:.2f}", "width": f"{width:.2f}", "bar": bar})
        x += width
    return segments


def _width(value, top) -> str:
    """A bar's width in percent of the scale (for the inline SVG charts)."""
    if value is None or not top:
        return "0"
    return f"{float(value) * 100 / top:.1f}"


def vote_stacks(vote) -> list[dict]:
    """Two stacked bars of every house reached: by head count and by area, one segment
    per option plus those who did not vote."""
    stacks = []
    for label, share, rest in (
        (_("By number of owners (houses)"), "houses_of_all", vote["participation"]),
        (_("By area (专有部分面积)"), "area_of_all", vote["participation_area"]),
    ):
        x, segments = 0.0, []
        for index, row in enumerate(vote["rows"]):
            row.color = index % 6
            width = float(getattr(row, share) or 0)
            segments.append(
                {
                    "x": f"{x:.2f}",
                    "width": f"{width:.2f}",
                    "index": index % 6,
                    "label": row.option,
                    "percent": getattr(row, share),
                }
            )
            x += width
        not_voted = max(100.0 - float(rest or 0), 0.0)
        stacks.append(
            {
                "label": label,
                "segments": segments,
                "rest_x": f"{x:.2f}",
                "rest_width": f"{not_voted:.2f}",
            }
        )
    return stacks


@require_GET
@console_view(VIEW)
def survey_export(request, pk):
    actor = request.actor
    survey = _load(actor, pk)
    out = spooled_file()
    exports.export_results(actor=actor, survey=survey, out=out)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d")
    return FileResponse(
        out, as_attachment=True, filename=f"survey-{survey.pk}-{stamp}.xlsx", content_type=XLSX_TYPE
    )


@require_GET
@console_view(VIEW)
def vote_verify(request, pk):
    survey = _load(request.actor, pk)
    if not survey.is_vote:
        raise Http404
    return render(
        request,
        "surveys/console/verify.html",
        {
            "survey": survey,
            "check": services.verify_vote(survey=survey),
            "breadcrumbs": _crumbs(
                (survey.title, reverse("surveys:detail", args=[survey.pk])),
                (_("Results"), reverse("surveys:results", args=[survey.pk])),
            ),
        },
    )


# --- phone entry ----------------------------------------------------------------------------
@console_view(ASSIST)
def phone_entry(request, pk):
    actor = request.actor
    survey = _load(actor, pk)
    if not services.may_assist(actor, survey):
        raise PermissionDenied(ASSIST)
    questions = survey.questions.order_by("position", "id")
    if request.method == "POST":
        form = PhoneEntryForm(request.POST, actor=actor, survey=survey, questions=questions)
    else:
        initial = request.GET.dict()
        if survey.community_id:
            initial.setdefault("community", survey.community_id)
        form = PhoneEntryForm(initial=initial, actor=actor, survey=survey, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.submit_response(
                actor=actor,
                survey=survey,
                answers=form.answers(),
                house=form.cleaned_data["house"],
                channel=form.cleaned_data["channel"],
                resident_user=form.cleaned_data["resident_user"],
            )
        except ValidationError as exc:
            form.add_answer_errors(exc)
        else:
            messages.success(
                request,
                _("Answer #%(id)s recorded for %(house)s.")
                % {"id": response.pk, "house": form.cleaned_data["house"].address},
            )
            return redirect("surveys:phone_entry", pk=survey.pk)
    return render(
        request,
        "surveys/console/phone_entry.html",
        {
            "survey": survey,
            "form": form,
            "closed": not survey.is_open,
            "breadcrumbs": _crumbs(
                (survey.title, reverse("surveys:detail", args=[survey.pk])),
                (_("Enter an answer taken by phone"), None),
            ),
        },
        status=400 if request.method == "POST" else 200,
    )
