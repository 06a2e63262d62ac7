"""Training (服务质量评估 (4) 培训和提升: 定期组织培训和学习): courses with their quizzes,
sessions with an attendee list and attendance, and scored quiz attempts.

Who may do what:
- every staff member reads the active courses of their company and takes their quizzes;
- company-wide ``quality.manage`` actors write courses and questions (company master data);
- ``quality.manage`` schedules sessions for the actor's communities (company-wide
  sessions: company-wide actors only); ``quality.inspect`` keeps the attendee list and
  marks attendance in the same scope;
- ``quality.view`` reads results: the attempts of the staff of the actor's communities
  (the whole company for company-wide viewers).

Services are keyword-only with ``actor=`` first and atomic; selectors return querysets
whose figures are computed by the database.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.quality.models import Attendance, Course, QuizAttempt, QuizQuestion, TrainingSession
from wuye.staff.models import StaffMember

VIEW, INSPECT, MANAGE = "quality.view", "quality.inspect", "quality.manage"
MAX_CHOICES = 8
MAX_CHOICE_LENGTH = 200
MAX_QUESTIONS = 100
MAX_ATTENDEES = 500
COURSE_FIELDS = ("code", "title", "summary", "content", "pass_mark", "is_active")
SESSION_FIELDS = ("starts_at", "place", "trainer", "note")


# --- who may ----------------------------------------------------------------------------
def may_edit_courses(actor) -> bool:
    """Courses and their questions are company master data: company-wide managers only."""
    return bool(actor.staff) and actor.has_perm(MANAGE) and actor.company_wide


def _require_course_editor(actor, course=None) -> None:
    require(actor, MANAGE)
    if not actor.company_wide:
        raise PermissionDenied(MANAGE)
    if course is not None and course.company_id != actor.staff.company_id:
        raise PermissionDenied(MANAGE)


def _covers(actor, community_id) -> bool:
    """The actor's scope covers a session of ``community_id`` (None: company-wide)."""
    if actor.company_wide:
        return True
    return community_id is not None and community_id in actor.community_ids


def may_on_session(actor, session, *perms) -> bool:
    """The actor holds one of ``perms`` and the session is theirs to run."""
    return (
        bool(actor.staff)
        and session.company_id == actor.staff.company_id
        and any(actor.has_perm(perm) for perm in perms)
        and _covers(actor, session.community_id)
    )


def _require_on_session(actor, session, *perms) -> None:
    if not may_on_session(actor, session, *perms):
        raise PermissionDenied(perms[0])


# --- scoring ----------------------------------------------------------------------------
def percent(part: int, whole: int) -> int:
    """``part`` ÷ ``whole`` × 100, rounded half up (7 of 8 → 88); 0 when ``whole`` is 0."""
    if whole <= 0:
        return 0
    return (part * 200 + whole) // (whole * 2)


# --- selectors --------------------------------------------------------------------------
def courses_for(actor):
    """The courses of the actor's company: every one for quality viewers, the active
    ones for other staff; nothing for non-staff."""
    qs = Course.objects.filter(
        actor.staff_q(community=None, company="company_id", perm=None, any_scope=True)
    )
    if not actor.has_perm(VIEW):
        qs = qs.filter(is_active=True)
    return qs


def staff_in_scope(actor):
    """Active staff of the actor's communities (the whole company if company-wide)."""
    if not actor.staff or not actor.has_perm(VIEW):
        return StaffMember.objects.none()
    qs = StaffMember.objects.filter(company_id=actor.staff.company_id, is_active=True)
    if actor.company_wide:
        return qs
    sharing = StaffMember.communities.through.objects.filter(
        community_id__in=sorted(actor.community_ids)
    ).values("staffmember_id")
    return qs.filter(id__in=sharing)


def attempts_in_scope(actor):
    """Quiz attempts of the staff in the actor's scope (quality viewers only)."""
    if not actor.staff or not actor.has_perm(VIEW):
        return QuizAttempt.objects.none()
    qs = QuizAttempt.objects.filter(company_id=actor.staff.company_id)
    if actor.company_wide:
        return qs
    return qs.filter(staff_id__in=staff_in_scope(actor).values("id"))


def with_results(courses, actor):
    """Courses annotated with the attempts of the actor's scope: ``attempt_count``,
    ``taker_count`` (staff who tried), ``passer_count`` (staff who passed)."""
    scope = Q(attempts__in=attempts_in_scope(actor).values("id"))
    return courses.annotate(
        attempt_count=Count("attempts", filter=scope),
        taker_count=Count("attempts__staff", filter=scope, distinct=True),
        passer_count=Count(
            "attempts__staff", filter=scope & Q(attempts__passed=True), distinct=True
        ),
        question_count=Subquery(
            QuizQuestion.objects.filter(course=OuterRef("pk"))
            .values("course")
            .annotate(n=Count("id"))
            .values("n")[:1]
        ),
    )


def course_figures(course, actor) -> dict:
    """Attempts, takers, passers and the staff in scope of one course, with rates."""
    figures = (
        attempts_in_scope(actor)
        .filter(course=course)
        .aggregate(
            attempts=Count("id"),
            takers=Count("staff", distinct=True),
            passers=Count("staff", filter=Q(passed=True), distinct=True),
        )
    )
    figures["staff"] = staff_in_scope(actor).count()
    figures["pass_rate"] = (
        percent(figures["passers"], figures["takers"]) if figures["takers"] else None
    )
    figures["coverage"] = (
        percent(figures["passers"], figures["staff"]) if figures["staff"] else None
    )
    return figures


def _best(course_id, staff_ref="pk"):
    return Subquery(
        QuizAttempt.objects.filter(course_id=course_id, staff_id=OuterRef(staff_ref))
        .order_by("-score")
        .values("score")[:1]
    )


def _passed(course_id, staff_ref="pk"):
    return Exists(
        QuizAttempt.objects.filter(course_id=course_id, staff_id=OuterRef(staff_ref), passed=True)
    )


def not_passed(course, actor):
    """Staff in the actor's scope without a passed attempt of ``course``, with their
    best score (None: never tried)."""
    return (
        staff_in_scope(actor)
        .annotate(best_score=_best(course.pk), has_passed=_passed(course.pk))
        .filter(has_passed=False)
    )


def pass_rate_by_community(course, actor):
    """Per community of the actor's scope: active staff, and those who passed ``course``."""
    through = StaffMember.communities.through
    qs = through.objects.filter(
        staffmember__company_id=course.company_id, staffmember__is_active=True
    )
    if not actor.company_wide:
        qs = qs.filter(community_id__in=sorted(actor.community_ids))
    passed = QuizAttempt.objects.filter(
        course_id=course.pk, staff_id=OuterRef("staffmember_id"), passed=True
    )
    return (
        qs.annotate(has_passed=Exists(passed))
        .values("community_id", "community__name")
        .annotate(
            staff=Count("staffmember_id", distinct=True),
            passed=Count("staffmember_id", filter=Q(has_passed=True), distinct=True),
        )
        .order_by("community__name", "community_id")
    )


def sessions_for(actor):
    """Sessions the actor sees as a quality viewer (their communities' and the
    company-wide ones), with the course and community joined."""
    if not actor.has_perm(VIEW):
        return TrainingSession.objects.none()
    return (
        TrainingSession.objects.visible_to(actor)
        .filter(Q(community__isnull=True) | Q(community_id__in=sorted(actor.community_ids)))
        .select_related("course", "community")
    )


def with_attendance(sessions):
    """Sessions annotated with ``attendee_count`` and ``present_count``."""
    return sessions.annotate(
        attendee_count=Count("attendances", distinct=True),
        present_count=Count("attendances", filter=Q(attendances__present=True), distinct=True),
    )


def session_figures(session) -> dict:
    figures = Attendance.objects.filter(session=session).aggregate(
        attendees=Count("id"), present=Count("id", filter=Q(present=True))
    )
    figures.update(
        QuizAttempt.objects.filter(session=session).aggregate(
            attempts=Count("id"),
            takers=Count("staff", distinct=True),
            passers=Count("staff", filter=Q(passed=True), distinct=True),
        )
    )
    figures["attendance_rate"] = (
        percent(figures["present"], figures["attendees"]) if figures["attendees"] else None
    )
    figures["pass_rate"] = (
        percent(figures["passers"], figures["takers"]) if figures["takers"] else None
    )
    return figures


def attendees(session):
    """The session's attendee list with each one's best score on its course, whether
    they have passed it, and their attempts taken in this session."""
    in_session = QuizAttempt.objects.filter(session=session, staff_id=OuterRef("staff_id"))
    return (
        Attendance.objects.filter(session=session)
        .select_related("staff")
        .annotate(
            best_score=_best(session.course_id, "staff_id"),
            has_passed=_passed(session.course_id, "staff_id"),
            session_attempts=Subquery(
                in_session.values("staff_id").annotate(n=Count("id")).values("n")[:1]
            ),
        )
        .order_by("staff__name", "id")
    )


def eligible_staff(session):
    """Staff who may be put on the list: active staff of the session's community (the
    whole company for a company-wide session) not yet on it."""
    qs = StaffMember.objects.filter(company_id=session.company_id, is_active=True)
    if session.community_id is not None:
        qs = qs.filter(communities=session.community_id)
    return qs.exclude(training_attendances__session=session)


def search_staff(queryset, text: str):
    text = text.strip()
    return queryset.filter(Q(name__icontains=text) | Q(employee_no__icontains=text))


def my_courses(actor):
    """The active courses of the actor's company with the actor's best score,
    attempts and whether they passed."""
    if not actor.staff:
        return Course.objects.none()
    mine = Q(attempts__staff_id=actor.staff.pk)
    return (
        courses_for(actor)
        .filter(is_active=True)
        .annotate(
            my_best=Max("attempts__score", filter=mine),
            my_attempts=Count("attempts", filter=mine),
            my_passed=Exists(
                QuizAttempt.objects.filter(
                    course=OuterRef("pk"), staff_id=actor.staff.pk, passed=True
                )
            ),
        )
        .order_by("id")
    )


def my_upcoming_sessions(actor, now=None):
    """Sessions the actor is on the list of that have not ended (started within the
    last few hours or later), soonest first."""
    if not actor.staff:
        return TrainingSession.objects.none()
    since = (now or timezone.now()) - datetime.timedelta(hours=4)
    return (
        TrainingSession.objects.filter(
            attendances__staff_id=actor.staff.pk, starts_at__gte=since, course__is_active=True
        )
        .select_related("course", "community")
        .order_by("starts_at", "id")
    )


def current_session(actor, course, now=None):
    """The session of ``course`` the actor is on the list of that is under way or took
    place in the last week (its quiz counts for that session), latest first."""
    if not actor.staff:
        return None
    now = now or timezone.now()
    return (
        TrainingSession.objects.filter(
            course=course,
            attendances__staff_id=actor.staff.pk,
            starts_at__lte=now + datetime.timedelta(hours=1),
            starts_at__gte=now - datetime.timedelta(days=7),
        )
        .order_by("-starts_at", "-id")
        .first()
    )


def my_attempts(actor):
    if not actor.staff:
        return QuizAttempt.objects.none()
    return QuizAttempt.objects.filter(staff_id=actor.staff.pk).select_related("course")


def review(attempt) -> list[dict]:
    """Each question of the attempt's course with the choice given and the right one
    (against the questions as they are now)."""
    rows = []
    for number, question in enumerate(attempt.course.questions.all(), start=1):
        chosen = attempt.answers.get(str(question.pk))
        rows.append(
            {
                "number": number,
                "question": question,
                "chosen": chosen,
                "chosen_text": _choice_text(question, chosen),
                "right_text": _choice_text(question, question.answer),
                "is_right": chosen == question.answer,
            }
        )
    return rows


def _choice_text(question, index) -> str:
    if isinstance(index, int) and 0 <= index < len(question.choices):
        return question.choices[index]
    return ""


# --- courses ----------------------------------------------------------------------------
def _save_course(course) -> Course:
    full_clean(course)
    course.save()
    return course


@transaction.atomic
def create_course(
    *,
    actor,
    code: str,
    title: str,
    summary: str = "",
    content: str = "",
    pass_mark: int = 80,
    is_active: bool = True,
) -> Course:
    _require_course_editor(actor)
    course = Course(
        company_id=actor.staff.company_id,
        code=code,
        title=title,
        summary=summary,
        content=content,
        pass_mark=pass_mark,
        is_active=is_active,
    )
    return _save_course(course)


@transaction.atomic
def update_course(*, actor, course: Course, **changes) -> Course:
    _require_course_editor(actor, course)
    unknown = set(changes) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %s") % ", ".join(sorted(unknown)))
    course = Course.objects.select_for_update().get(pk=course.pk)
    for field, value in changes.items():
        setattr(course, field, value)
    return _save_course(course)


# --- questions --------------------------------------------------------------------------
def clean_question(text: str, choices, answer) -> tuple[str, list[str], int]:
    """The question's text, its choices (trimmed) and the right choice's index, or a
    ValidationError naming the field."""
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Write the question.")
    elif len(text) > 300:
        errors["text"] = _("At most 300 characters.")
    if not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices):
        raise ValidationError({"choices": _("The choices must be a list of texts.")})
    choices = [choice.strip() for choice in choices]
    if len(choices) < 2:
        errors["choices"] = _("Give at least two choices.")
    elif len(choices) > MAX_CHOICES:
        errors["choices"] = _("At most %(n)d choices.") % {"n": MAX_CHOICES}
    elif any(not choice for choice in choices):
        empty = [str(i) for i, choice in enumerate(choices, start=1) if not choice]
        errors["choices"] = _("Choice %(numbers)s is empty.") % {"numbers": ", ".join(empty)}
    elif any(len(choice) > MAX_CHOICE_LENGTH for choice in choices):
        errors["choices"] = _("A choice has at most %(n)d characters.") % {"n": MAX_CHOICE_LENGTH}
    elif len(set(choices)) != len(choices):
        errors["choices"] = _("Two choices are the same.")
    if isinstance(answer, bool) or not isinstance(answer, int):
        errors["answer"] = _("Say which choice is right.")
    elif "choices" not in errors and not 0 <= answer < len(choices):
        errors["answer"] = _("The right choice must be one of choices 1 to %(n)d.") % {
            "n": len(choices)
        }
    if errors:
        raise ValidationError(errors)
    return text, choices, answer


@transaction.atomic
def add_question(*, actor, course: Course, text: str, choices, answer: int) -> QuizQuestion:
    _require_course_editor(actor, course)
    text, choices, answer = clean_question(text, choices, answer)
    course = Course.objects.select_for_update().get(pk=course.pk)
    existing = course.questions.aggregate(n=Count("id"), last=Max("sort_order"))
    if existing["n"] >= MAX_QUESTIONS:
        raise ValidationError(_("A quiz has at most %(n)d questions.") % {"n": MAX_QUESTIONS})
    last = existing["last"]
    return QuizQuestion.objects.create(
        course=course,
        text=text,
        choices=choices,
        answer=answer,
        sort_order=0 if last is None else last + 1,
    )


@transaction.atomic
def update_question(*, actor, question: QuizQuestion, text: str, choices, answer: int):
    _require_course_editor(actor, question.course)
    text, choices, answer = clean_question(text, choices, answer)
    QuizQuestion.objects.filter(pk=question.pk).update(text=text, choices=choices, answer=answer)
    question.text, question.choices, question.answer = text, choices, answer
    return question


@transaction.atomic
def delete_question(*, actor, question: QuizQuestion) -> None:
    _require_course_editor(actor, question.course)
    QuizQuestion.objects.filter(pk=question.pk).delete()


@transaction.atomic
def reorder_questions(*, actor, course: Course, order: list[int]) -> None:
    """Put the course's questions in ``order`` (every question id, once)."""
    _require_course_editor(actor, course)
    Course.objects.select_for_update().get(pk=course.pk)
    ids = list(course.questions.values_list("id", flat=True))
    if sorted(order) != sorted(ids) or len(set(order)) != len(order):
        raise ValidationError({"order": _("Name every question of the course once.")})
    questions = [QuizQuestion(pk=pk, sort_order=i) for i, pk in enumerate(order)]
    QuizQuestion.objects.bulk_update(questions, ["sort_order"])


def move_question(*, actor, question: QuizQuestion, up: bool) -> None:
    """Swap a question with the one before (``up``) or after it."""
    order = list(question.course.questions.values_list("id", flat=True))
    at = order.index(question.pk)
    to = at - 1 if up else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
    reorder_questions(actor=actor, course=question.course, order=order)


# --- sessions ---------------------------------------------------------------------------
def _check_session(actor, course, community) -> dict:
    errors = {}
    if course.company_id != actor.staff.company_id or not course.is_active:
        errors["course"] = _("Choose an active course of your company.")
    if community is None:
        if not actor.company_wide:
            errors["community"] = _("Choose one of your communities.")
    elif community.company_id != actor.staff.company_id or not _covers(actor, community.pk):
        errors["community"] = _("Choose one of your communities.")
    return errors


@transaction.atomic
def schedule_session(
    *,
    actor,
    course: Course,
    community=None,
    starts_at: datetime.datetime,
    place: str = "",
    trainer: str = "",
    note: str = "",
) -> TrainingSession:
    """A class of ``course`` for ``community`` (None: the whole company)."""
    require(actor, MANAGE)
    errors = _check_session(actor, course, community)
    if errors:
        raise ValidationError(errors)
    session = TrainingSession(
        company_id=actor.staff.company_id,
        course=course,
        community=community,
        starts_at=starts_at,
        place=place,
        trainer=trainer,
        note=note,
        created_by=actor.user,
    )
    full_clean(session)
    session.save()
    return session


@transaction.atomic
def update_session(*, actor, session: TrainingSession, **changes) -> TrainingSession:
    """Edit when, where, who teaches and the note (course and community stay)."""
    require(actor, MANAGE)
    _require_on_session(actor, session, MANAGE)
    unknown = set(changes) - set(SESSION_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %s") % ", ".join(sorted(unknown)))
    session = TrainingSession.objects.select_for_update().get(pk=session.pk)
    for field, value in changes.items():
        setattr(session, field, value)
    full_clean(session)
    session.save()
    return session


@transaction.atomic
def cancel_session(*, actor, session: TrainingSession, now=None) -> None:
    """Call off a session that has not started: it goes, with its list."""
    require(actor, MANAGE)
    _require_on_session(actor, session, MANAGE)
    if session.starts_at <= (now or timezone.now()):
        raise ValidationError(_("This session has started; it is kept as a record."))
    TrainingSession.objects.filter(pk=session.pk).delete()


@transaction.atomic
def add_attendees(*, actor, session: TrainingSession, staff_ids) -> int:
    """Put staff on the session's list; each must be eligible. Returns how many were added."""
    _require_on_session(actor, session, INSPECT, MANAGE)
    wanted = set(staff_ids)
    if not wanted:
        return 0
    TrainingSession.objects.select_for_update().get(pk=session.pk)
    found = list(eligible_staff(session).filter(id__in=wanted).values_list("id", flat=True))
    already = set(
        Attendance.objects.filter(session=session, staff_id__in=wanted).values_list(
            "staff_id", flat=True
        )
    )
    if set(found) | already != wanted:
        raise ValidationError(
            {"staff": _("Only active staff of the session's community can be put on its list.")}
        )
    listed = Attendance.objects.filter(session=session).count()
    if listed + len(found) > MAX_ATTENDEES:
        raise ValidationError(
            {"staff": _("A session has at most %(n)d attendees.") % {"n": MAX_ATTENDEES}}
        )
    Attendance.objects.bulk_create(
        [Attendance(session=session, staff_id=pk) for pk in sorted(found)]
    )
    return len(found)


@transaction.atomic
def add_all_attendees(*, actor, session: TrainingSession) -> int:
    """Put every eligible staff member on the list (up to the limit)."""
    _require_on_session(actor, session, INSPECT, MANAGE)
    ids = list(eligible_staff(session).values_list("id", flat=True)[: MAX_ATTENDEES + 1])
    return add_attendees(actor=actor, session=session, staff_ids=ids)


@transaction.atomic
def remove_attendee(*, actor, session: TrainingSession, staff_id: int) -> None:
    _require_on_session(actor, session, INSPECT, MANAGE)
    deleted, _per_model = Attendance.objects.filter(session=session, staff_id=staff_id).delete()
    if not deleted:
        raise ValidationError({"staff": _("This person is not on the list.")})


@transaction.atomic
def mark_attendance(*, actor, session: TrainingSession, present=(), absent=(), now=None) -> dict:
    """Mark listed staff present or absent (ids must be on the list)."""
    require(actor, INSPECT)
    _require_on_session(actor, session, INSPECT)
    present, absent = set(present), set(absent)
    if present & absent:
        raise ValidationError({"present": _("Someone is marked both present and absent.")})
    today_ends = timezone.localtime(now or timezone.now()).replace(hour=23, minute=59, second=59)
    if session.starts_at > today_ends:
        raise ValidationError(_("Attendance is marked on the day of the session or after."))
    listed = Attendance.objects.filter(session=session)
    named = present | absent
    if listed.filter(staff_id__in=named).count() != len(named):
        raise ValidationError({"present": _("Only people on the list can be marked.")})
    marked = listed.filter(staff_id__in=present).update(present=True)
    cleared = listed.filter(staff_id__in=absent).update(present=False)
    return {"present": marked, "absent": cleared}


# --- quizzes ----------------------------------------------------------------------------
def _is_choice(value, question) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value < len(question.choices)
    )


@transaction.atomic
def submit_quiz(*, actor, course: Course, answers: dict, session=None, now=None) -> QuizAttempt:
    """Score a staff member's answers to ``course`` and keep the attempt.

    ``answers`` maps question id to the index of the chosen choice; every question must
    be answered. score = right ÷ questions × 100 rounded half up; passed when the score
    reaches the course's pass mark."""
    staff = actor.staff
    if staff is None or course.company_id != staff.company_id:
        raise PermissionDenied(_("Only the company's staff take its quizzes."))
    if not course.is_active:
        raise ValidationError(_("This course is not open any more."))
    questions = list(course.questions.all())
    if not questions:
        raise ValidationError(_("This course has no quiz yet."))
    given = {}
    for key, value in (answers or {}).items():
        try:
            given[int(key)] = value
        except (TypeError, ValueError):
            continue
    missing = []
    for number, question in enumerate(questions, start=1):
        value = given.get(question.pk)
        if not _is_choice(value, question):
            missing.append(number)
    if missing:
        raise ValidationError(
            {
                "answers": _("Answer question %(numbers)s.")
                % {"numbers": ", ".join(str(n) for n in missing)}
            }
        )
    if session is not None and (
        session.course_id != course.pk
        or not Attendance.objects.filter(session=session, staff_id=staff.pk).exists()
    ):
        raise ValidationError({"session": _("You are not on the list of this session.")})
    right = sum(1 for question in questions if given[question.pk] == question.answer)
    score = percent(right, len(questions))
    return QuizAttempt.objects.create(
        company_id=staff.company_id,
        course=course,
        staff=staff,
        session=session,
        answers={str(question.pk): given[question.pk] for question in questions},
        score=score,
        passed=score >= course.pass_mark,
        submitted_at=now or timezone.now(),
    )


# --- for the demo -----------------------------------------------------------------------
def record_past_session(
    *, actor, course, community, starts_at, place="", staff=(), present=(), right_answers=None
) -> TrainingSession:
    """A session that took place: scheduled by ``actor``, ``staff`` on its list,
    ``present`` marked present, and one quiz attempt per entry of ``right_answers``
    (staff member → how many questions they got right), each through the services."""
    from wuye.accounts.actor import Actor

    session = schedule_session(
        actor=actor, course=course, community=community, starts_at=starts_at, place=place
    )
    add_attendees(actor=actor, session=session, staff_ids=[member.pk for member in staff])
    mark_attendance(
        actor=actor,
        session=session,
        present=[member.pk for member in present],
        absent=[member.pk for member in staff if member not in present],
    )
    questions = list(course.questions.all())
    for member, right in (right_answers or {}).items():
        answers = {
            q.pk: q.answer if i < right else (q.answer + 1) % len(q.choices)
            for i, q in enumerate(questions)
        }
        submit_quiz(
            actor=Actor(member.user),
            course=course,
            answers=answers,
            session=session,
            now=starts_at + datetime.timedelta(hours=1),
        )
    return session
