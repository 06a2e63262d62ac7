"""``/api/v1/quality/training`` — training courses, quizzes and sessions.

Every staff member lists the active courses of their company, reads one (the questions
without their answers, unless the caller edits courses), submits a quiz (scored at once;
Idempotency-Key honoured) and lists their own attempts. Quality viewers list the
sessions of their communities; ``quality.inspect`` marks attendance. Reads are scoped;
every change is one call to ``wuye.quality.training``.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
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
    filter_by,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.quality import training
from wuye.quality.models import TrainingSession

router = Router(tags=["quality"])


class CourseOut(Schema):
    id: int
    code: str
    title: str
    summary: str
    pass_mark: int = Field(description="Percent needed to pass.")
    is_active: bool


class CourseQuestionOut(Schema):
    id: int
    text: str
    choices: list[str]
    answer: int | None = Field(
        None, description="Index of the right choice (from 0); only for course editors."
    )


class CourseDetailOut(CourseOut):
    content: str = Field(description="The course material (plain text, line breaks kept).")
    questions: list[CourseQuestionOut]

    @staticmethod
    def resolve_questions(obj) -> list:
        return obj.questions_shown


class AttemptIn(InputSchema):
    answers: dict[str, int] = Field(
        description="Question id → index of the chosen choice (from 0); every question."
    )
    session_id: Id | None = Field(
        None, description="The session the quiz is taken in (the caller must be on its list)."
    )


class AttemptOut(Schema):
    id: int
    course_id: int
    course_title: str
    session_id: int | None
    score: int = Field(description="Right ÷ questions × 100, rounded half up.")
    passed: bool
    submitted_at: datetime.datetime

    @staticmethod
    def resolve_course_title(obj) -> str:
        return obj.course.title


class ReviewOut(Schema):
    question_id: int
    chosen: int
    right: int


class AttemptResultOut(AttemptOut):
    wrong: list[ReviewOut] = Field(
        description="The questions answered wrongly, with the right choice."
    )


class SessionOut(Schema):
    id: int
    course_id: int
    course_title: str
    community_id: int | None = Field(description="Null: for the whole company.")
    starts_at: datetime.datetime
    place: str
    trainer: str
    note: str
    attendee_count: int
    present_count: int

    @staticmethod
    def resolve_course_title(obj) -> str:
        return obj.course.title


class SessionFilters(Schema):
    course: Id | None = Field(None, description="Course id.")
    community: Id | None = Field(None, description="Community id.")
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


class AttendanceIn(InputSchema):
    present: list[Id] = Field(default_factory=list, description="Staff ids marked present.")
    absent: list[Id] = Field(default_factory=list, description="Staff ids marked absent.")


class AttendanceOut(Schema):
    staff_id: int
    staff_name: str
    present: bool

    @staticmethod
    def resolve_staff_name(obj) -> str:
        return obj.staff.name


def _course(who, course_id):
    return get_visible_or_404(training.courses_for(who), who, pk=course_id)


def _session(who, session_id) -> TrainingSession:
    return get_visible_or_404(training.sessions_for(who), who, pk=session_id)


@router.get(
    "/quality/training/courses",
    response={200: list[CourseOut], **LIST_ERRORS},
    summary="List training courses",
    description="Staff of a company: its active courses (quality viewers: all of them).",
)
@paginate(IdCursorPagination)
def training_list_courses(request):
    return training.courses_for(actor(request))


@router.get(
    "/quality/training/courses/{course_id}",
    response={200: CourseDetailOut, **READ_ERRORS},
    summary="Read a training course",
    description="The material and the quiz; the right answers only for course editors "
    "(company-wide quality.manage).",
)
def training_get_course(request, course_id: Id):
    who = actor(request)
    course = _course(who, course_id)
    editor = training.may_edit_courses(who)
    course.questions_shown = [
        CourseQuestionOut(
            id=q.pk, text=q.text, choices=q.choices, answer=q.answer if editor else None
        )
        for q in course.questions.all()
    ]
    return course


@router.post(
    "/quality/training/courses/{course_id}/attempts",
    response={201: AttemptResultOut, **WRITE_ERRORS},
    summary="Submit a quiz",
    description="Any staff member of the course's company; every question answered. "
    "Scored at once; retakes are allowed and every attempt is kept.",
)
@idempotent
def training_submit_quiz(request, course_id: Id, payload: AttemptIn):
    who = actor(request)
    if not who.staff:
        raise PermissionDenied
    course = _course(who, course_id)
    session = None
    if payload.session_id is not None:
        session = TrainingSession.objects.filter(
            pk=payload.session_id, company_id=who.staff.company_id
        ).first()
        if session is None:
            raise ValidationError({"session_id": _("You are not on the list of this session.")})
    with api_field_names({"session": "session_id"}):
        attempt = training.submit_quiz(
            actor=who, course=course, answers=payload.answers, session=session
        )
    attempt.wrong = [
        ReviewOut(
            question_id=row["question"].pk, chosen=row["chosen"], right=row["question"].answer
        )
        for row in training.review(attempt)
        if not row["is_right"]
    ]
    return Status(201, attempt)


@router.get(
    "/quality/training/attempts/mine",
    response={200: list[AttemptOut], **LIST_ERRORS},
    summary="My quiz attempts",
    description="Newest first.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def training_my_attempts(request):
    return training.my_attempts(actor(request))


@router.get(
    "/quality/training/sessions",
    response={200: list[SessionOut], **LIST_ERRORS},
    summary="List training sessions",
    description="quality.view: the sessions of the caller's communities and the "
    "company-wide ones, newest first.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def training_list_sessions(request, filters: Query[SessionFilters]):
    qs = training.with_attendance(training.sessions_for(actor(request)))
    qs = filter_by(qs, filters, course="course_id", community="community_id")
    if filters.date_from:
        qs = qs.filter(starts_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(starts_at__date__lte=filters.date_to)
    return qs


@router.post(
    "/quality/training/sessions/{session_id}/attendance",
    response={200: list[AttendanceOut], **WRITE_ERRORS},
    summary="Mark attendance",
    description="quality.inspect in the session's community (company-wide sessions: "
    "company-wide staff); on the day of the session or after; only staff on its list.",
)
def training_mark_attendance(request, session_id: Id, payload: AttendanceIn):
    who = actor(request)
    session = _session(who, session_id)
    training.mark_attendance(
        actor=who, session=session, present=payload.present, absent=payload.absent
    )
    return list(training.attendees(session))
