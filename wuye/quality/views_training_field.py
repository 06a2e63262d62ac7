"""Training on the phone (/m/training/), for every staff member: my courses (with my
best score and my upcoming sessions), a course's material, its quiz (one form, every
question required) and the result of an attempt (score, pass or fail, the wrong answers
with the right ones). Retakes are allowed; every attempt is kept."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from wuye.core.console import add_service_errors
from wuye.quality import training
from wuye.quality.forms_training import QuizForm

UPCOMING_SHOWN = 10
ATTEMPTS_SHOWN = 10


def staff_view(view):
    """Signed in and on the staff of a company (any role)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.actor.staff:
            raise PermissionDenied(_("Training is for staff."))
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _course(actor, pk):
    course = training.my_courses(actor).filter(pk=pk).first()
    if course is None:
        raise Http404
    return course


@staff_view
def my_courses(request):
    actor = request.actor
    return render(
        request,
        "quality/training/field/my_courses.html",
        {
            "courses": list(training.my_courses(actor)),
            "sessions": list(training.my_upcoming_sessions(actor)[:UPCOMING_SHOWN]),
        },
    )


@staff_view
def course(request, pk):
    actor = request.actor
    found = _course(actor, pk)
    return render(
        request,
        "quality/training/field/course.html",
        {
            "course": found,
            "question_count": found.questions.count(),
            "attempts": list(training.my_attempts(actor).filter(course=found)[:ATTEMPTS_SHOWN]),
        },
    )


@staff_view
def quiz(request, pk):
    actor = request.actor
    found = _course(actor, pk)
    questions = list(found.questions.all())
    form = QuizForm(request.POST or None, questions=questions)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                attempt = training.submit_quiz(
                    actor=actor,
                    course=found,
                    answers=form.answers(),
                    session=training.current_session(actor, found),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return redirect("training_field:attempt", pk=attempt.pk)
        status = 400
    return render(
        request,
        "quality/training/field/quiz.html",
        {"course": found, "form": form},
        status=status,
    )


@staff_view
def attempt(request, pk):
    actor = request.actor
    found = training.my_attempts(actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    rows = training.review(found)
    return render(
        request,
        "quality/training/field/attempt.html",
        {
            "attempt": found,
            "course": found.course,
            "wrong": [row for row in rows if not row["is_right"]],
            "right_count": sum(1 for row in rows if row["is_right"]),
            "total": len(rows),
        },
    )
