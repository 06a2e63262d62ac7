"""Console pages of training: courses (list with results, detail with the material, the
quiz editor and who has not passed yet, create and edit), questions (add, edit, delete,
move), and sessions (list with filters, detail with the attendee list, attendance and
the session's quiz results, schedule, edit, cancel, Excel export).

Views are thin: reads go through ``wuye.quality.training`` selectors scoped to the
actor, every change is one call to its services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wuye.core.console import (
    add_service_errors,
    after_param,
    console_view,
    keyset_page,
    newest_first_page,
)
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import (
    XLSX_TYPE,
    bold_row,
    new_book,
    spooled_file,
    text_cell,
    time_cell,
    typed_cell,
)
from wuye.quality import training
from wuye.quality.forms_training import (
    CourseForm,
    QuestionForm,
    SessionFilterForm,
    SessionForm,
    StaffSearchForm,
)
from wuye.quality.models import QuizAttempt, QuizQuestion, TrainingSession

VIEW, INSPECT, MANAGE = training.VIEW, training.INSPECT, training.MANAGE
SEARCH_RESULTS = 20
NOT_PASSED_SHOWN = 20


def _crumbs(*extra):
    return [(_("Training"), reverse("training:courses")), *extra]


def _course(actor, pk):
    return get_visible_or_404(training.courses_for(actor), actor, pk=pk)


def _question(actor, pk) -> QuizQuestion:
    found = (
        QuizQuestion.objects.select_related("course")
        .filter(pk=pk if str(pk).isdigit() else 0, course__in=training.courses_for(actor))
        .first()
    )
    if found is None:
        raise Http404
    return found


def _session(actor, pk) -> TrainingSession:
    scoped = TrainingSession.objects.filter(
        Q(community__isnull=True) | Q(community_id__in=sorted(actor.community_ids))
    ).select_related("course", "community", "created_by")
    return get_visible_or_404(scoped, actor, pk=pk)


def _require_editor(actor) -> None:
    if not training.may_edit_courses(actor):
        raise PermissionDenied(MANAGE)


def _ids(values) -> list[int]:
    """Posted ids; anything but a plausible id is dropped."""
    return [int(v) for v in values if v.isdigit() and len(v) < 19]


# --- courses ----------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def courses(request):
    actor = request.actor
    page = keyset_page(
        training.with_results(training.courses_for(actor), actor),
        after=after_param(request),
        query=request.GET,
    )
    for course in page.items:
        course.pass_rate = (
            training.percent(course.passer_count, course.taker_count)
            if course.taker_count
            else None
        )
    return render(
        request,
        "quality/training/console/courses.html",
        {"page": page, "can_edit": training.may_edit_courses(actor)},
    )


def _course_form_page(request, form, heading, crumbs):
    return render(
        request,
        "quality/training/console/form.html",
        {"form": form, "heading": heading, "breadcrumbs": _crumbs(*crumbs)},
    )


@console_view(MANAGE)
def course_create(request):
    actor = request.actor
    _require_editor(actor)
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = training.create_course(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Course saved. Add the quiz questions below."))
            return redirect("training:course_detail", pk=course.pk)
    return _course_form_page(request, form, _("New course"), [(_("New course"), None)])


@console_view(MANAGE)
def course_edit(request, pk):
    actor = request.actor
    _require_editor(actor)
    course = _course(actor, pk)
    form = CourseForm(request.POST or None, instance=course)
    if request.method == "POST" and form.is_valid():
        try:
            training.update_course(actor=actor, course=course, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Course saved."))
            return redirect("training:course_detail", pk=course.pk)
    course.refresh_from_db()
    return _course_form_page(
        request,
        form,
        course.title,
        [(course.title, reverse("training:course_detail", args=[course.pk])), (_("Edit"), None)],
    )


@require_GET
@console_view(VIEW)
def course_detail(request, pk):
    actor = request.actor
    course = _course(actor, pk)
    can_edit = training.may_edit_courses(actor)
    behind = keyset_page(
        training.not_passed(course, actor),
        after=after_param(request),
        query=request.GET,
        size=NOT_PASSED_SHOWN,
    )
    sessions = training.with_attendance(training.sessions_for(actor).filter(course=course))
    return render(
        request,
        "quality/training/console/course_detail.html",
        {
            "course": course,
            "questions": list(course.questions.all()),
            "can_edit": can_edit,
            "can_schedule": actor.has_perm(MANAGE) and course.is_active,
            "figures": training.course_figures(course, actor),
            "by_community": list(training.pass_rate_by_community(course, actor)),
            "page": behind,
            "sessions": list(sessions.order_by("-starts_at", "-id")[:10]),
            "breadcrumbs": _crumbs((course.title, None)),
        },
    )


# --- questions --------------------------------------------------------------------------
def _question_page(request, form, course, heading):
    return render(
        request,
        "quality/training/console/question_form.html",
        {
            "form": form,
            "course": course,
            "heading": heading,
            "breadcrumbs": _crumbs(
                (course.title, reverse("training:course_detail", args=[course.pk])),
                (heading, None),
            ),
        },
    )


@console_view(MANAGE)
def question_create(request, pk):
    actor = request.actor
    _require_editor(actor)
    course = _course(actor, pk)
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            training.add_question(actor=actor, course=course, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Question added."))
            return redirect(reverse("training:course_detail", args=[course.pk]) + "#questions")
    return _question_page(request, form, course, _("New question"))


@console_view(MANAGE)
def question_edit(request, pk):
    actor = request.actor
    _require_editor(actor)
    question = _question(actor, pk)
    form = QuestionForm.for_question(question, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            training.update_question(actor=actor, question=question, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect(
                reverse("training:course_detail", args=[question.course_id]) + "#questions"
            )
    return _question_page(request, form, question.course, _("Edit question"))


@require_POST
@console_view(MANAGE)
def question_delete(request, pk):
    actor = request.actor
    _require_editor(actor)
    question = _question(actor, pk)
    training.delete_question(actor=actor, question=question)
    messages.success(request, _("Question deleted."))
    return redirect(reverse("training:course_detail", args=[question.course_id]) + "#questions")


@require_POST
@console_view(MANAGE)
def question_move(request, pk):
    actor = request.actor
    _require_editor(actor)
    question = _question(actor, pk)
    training.move_question(actor=actor, question=question, up=request.POST.get("to") == "up")
    return redirect(reverse("training:course_detail", args=[question.course_id]) + "#questions")


# --- sessions ---------------------------------------------------------------------------
@require_GET
@console_view(VIEW)
def sessions(request):
    actor = request.actor
    form = SessionFilterForm(request.GET, actor=actor, courses=training.courses_for(actor))
    page = None
    if form.is_valid():
        page = newest_first_page(
            training.with_attendance(form.filter(training.sessions_for(actor))),
            before=after_param(request),
            query=request.GET,
        )
        now = timezone.now()
        for session in page.items:
            session.is_past = session.starts_at <= now
            session.rate = (
                training.percent(session.present_count, session.attendee_count)
                if session.attendee_count and session.is_past
                else None
            )
    return render(
        request,
        "quality/training/console/sessions.html",
        {"form": form, "page": page, "can_schedule": actor.has_perm(MANAGE)},
    )


def _session_form_page(request, form, heading, crumbs):
    return render(
        request,
        "quality/training/console/form.html",
        {
            "form": form,
            "heading": heading,
            "breadcrumbs": [(_("Training sessions"), reverse("training:sessions")), *crumbs],
        },
    )


@console_view(MANAGE)
def session_create(request):
    actor = request.actor
    courses_qs = training.courses_for(actor)
    initial = {}
    if request.GET.get("course", "").isdigit():
        initial["course"] = request.GET["course"]
    form = SessionForm(request.POST or None, initial=initial, actor=actor, courses=courses_qs)
    if request.method == "POST" and form.is_valid():
        try:
            session = training.schedule_session(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Session scheduled. Now put the staff on its list."))
            return redirect("training:session_detail", pk=session.pk)
    return _session_form_page(
        request, form, _("Schedule a session"), [(_("Schedule a session"), None)]
    )


@console_view(MANAGE)
def session_edit(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    if not training.may_on_session(actor, session, MANAGE):
        raise PermissionDenied(MANAGE)
    initial = {
        "course": session.course_id,
        "community": session.community_id,
        "starts_at": timezone.localtime(session.starts_at),
        "place": session.place,
        "trainer": session.trainer,
        "note": session.note,
    }
    form = SessionForm(
        request.POST or None,
        initial=initial,
        actor=actor,
        courses=training.courses_for(actor),
        session=session,
    )
    if request.method == "POST" and form.is_valid():
        try:
            training.update_session(actor=actor, session=session, **form.changes())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Session saved."))
            return redirect("training:session_detail", pk=session.pk)
    return _session_form_page(
        request,
        form,
        str(session),
        [(str(session), reverse("training:session_detail", args=[session.pk])), (_("Edit"), None)],
    )


@require_POST
@console_view(MANAGE)
def session_cancel(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    try:
        training.cancel_session(actor=actor, session=session)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("training:session_detail", pk=session.pk)
    messages.success(request, _("Session cancelled."))
    return redirect("training:sessions")


@require_GET
@console_view(VIEW)
def session_detail(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    can_list = training.may_on_session(actor, session, INSPECT, MANAGE)
    search = StaffSearchForm(request.GET or None)
    found = None
    if can_list and search.is_valid() and search.cleaned_data["q"].strip():
        found = list(
            training.search_staff(
                training.eligible_staff(session), search.cleaned_data["q"]
            ).order_by("name", "id")[:SEARCH_RESULTS]
        )
    now = timezone.now()
    return render(
        request,
        "quality/training/console/session_detail.html",
        {
            "session": session,
            "figures": training.session_figures(session),
            "attendees": list(training.attendees(session)),
            "attempts": list(
                QuizAttempt.objects.filter(session=session)
                .select_related("staff")
                .order_by("-submitted_at", "-id")[:100]
            ),
            "search": search,
            "found": found,
            "can_list": can_list,
            "can_mark": training.may_on_session(actor, session, INSPECT),
            "can_manage": training.may_on_session(actor, session, MANAGE),
            "is_future": session.starts_at > now,
            "breadcrumbs": [
                (_("Training sessions"), reverse("training:sessions")),
                (str(session), None),
            ],
        },
    )


@require_POST
@console_view(VIEW)
def attendee_add(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    if not training.may_on_session(actor, session, INSPECT, MANAGE):
        raise PermissionDenied(INSPECT)
    try:
        if request.POST.get("all"):
            added = training.add_all_attendees(actor=actor, session=session)
        else:
            added = training.add_attendees(
                actor=actor, session=session, staff_ids=_ids(request.POST.getlist("staff"))
            )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(n)d added to the list.") % {"n": added})
    return redirect(reverse("training:session_detail", args=[session.pk]) + "#attendees")


@require_POST
@console_view(VIEW)
def attendee_remove(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    if not training.may_on_session(actor, session, INSPECT, MANAGE):
        raise PermissionDenied(INSPECT)
    ids = _ids(request.POST.getlist("staff"))[:1]
    try:
        training.remove_attendee(actor=actor, session=session, staff_id=ids[0] if ids else 0)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Removed from the list."))
    return redirect(reverse("training:session_detail", args=[session.pk]) + "#attendees")


@require_POST
@console_view(INSPECT)
def attendance_mark(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    present = set(_ids(request.POST.getlist("present")))
    shown = set(_ids(request.POST.getlist("shown")))
    try:
        training.mark_attendance(
            actor=actor, session=session, present=present, absent=shown - present
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Attendance saved."))
    return redirect(reverse("training:session_detail", args=[session.pk]) + "#attendees")


@require_GET
@console_view(VIEW)
def session_export(request, pk):
    actor = request.actor
    session = _session(actor, pk)
    zone = timezone.get_current_timezone_name()
    book, sheet = new_book(
        _("Attendance"),
        [
            _("Employee no."),
            _("Name"),
            _("Present"),
            _("Best score (%)"),
            _("Passed"),
            _("Attempts in this session"),
        ],
    )
    for row in training.attendees(session).iterator(chunk_size=500):
        sheet.append(
            [
                text_cell(sheet, row.staff.employee_no),
                row.staff.name,
                _("Yes") if row.present else _("No"),
                typed_cell(sheet, row.best_score),
                _("Yes") if row.has_passed else _("No"),
                row.session_attempts or 0,
            ]
        )
    results = book.create_sheet(_("Quiz results"))
    results.append(
        bold_row(
            results,
            [
                _("Submitted at (%(zone)s)") % {"zone": zone},
                _("Employee no."),
                _("Name"),
                _("Score (%)"),
                _("Passed"),
            ],
        )
    )
    attempts = QuizAttempt.objects.filter(session=session).select_related("staff").order_by("id")
    for attempt in attempts.iterator(chunk_size=500):
        results.append(
            [
                time_cell(results, attempt.submitted_at),
                text_cell(results, attempt.staff.employee_no),
                attempt.staff.name,
                attempt.score,
                _("Yes") if attempt.passed else _("No"),
            ]
        )
    out = spooled_file()
    book.save(out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"wuye-training-session-{session.pk}.xlsx",
        content_type=XLSX_TYPE,
    )
