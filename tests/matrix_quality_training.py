"""Access-matrix rows for quality: training (loader: end of test_access_matrix.py).

The fixtures: company A's seeded course 物业服务意识; a session of community X that
started an hour ago with the technician on its list; a session of X three days ahead;
and one quiz attempt of the technician. Every cell runs in a rolled-back transaction, so
each helper finds or makes its row."""

import datetime

from django.urls import reverse
from django.utils import timezone

TODAY_PLACE, FUTURE_PLACE = "矩阵今日教室", "矩阵将来教室"


def _course(cast):
    from wuye.quality.defaults import FIRST_COURSE
    from wuye.quality.models import Course

    return Course.objects.get(company=cast.company, code=FIRST_COURSE["code"])


def _question(cast):
    return _course(cast).questions.first()


def _session(cast, place, hours):
    from wuye.quality import training
    from wuye.quality.models import TrainingSession

    found = TrainingSession.objects.filter(place=place).first()
    if found is not None:
        return found
    manager = cast.actor("project_manager")
    session = training.schedule_session(
        actor=manager,
        course=_course(cast),
        community=cast.community_x,
        starts_at=timezone.now() + datetime.timedelta(hours=hours),
        place=place,
    )
    training.add_attendees(actor=manager, session=session, staff_ids=[cast.staff["technician"].pk])
    return session


def _today(cast):
    return _session(cast, TODAY_PLACE, -1)


def _future(cast):
    return _session(cast, FUTURE_PLACE, 72)


def _answers(cast) -> dict:
    return {q.pk: q.answer for q in _course(cast).questions.all()}


def _attempt(cast):
    from wuye.quality import training
    from wuye.quality.models import QuizAttempt

    found = QuizAttempt.objects.filter(staff=cast.staff["technician"]).first()
    if found is not None:
        return found
    return training.submit_quiz(
        actor=cast.actor("technician"), course=_course(cast), answers=_answers(cast)
    )


def _course_fields(n):
    return {
        "code": "service-awareness",
        "title": f"物业服务意识{n}",
        "summary": "矩阵",
        "content": "矩阵教材",
        "pass_mark": "80",
        "is_active": "on",
    }


def _session_fields(cast, n):
    return {
        "course": _course(cast).pk,
        "community": cast.community_x.pk,
        "starts_at": "2030-01-01T09:00",
        "place": f"矩阵教室{n}",
    }


def rows(m):
    company_a = m.company_a_staff

    def view_a(name):  # courses are company data: every quality viewer of company A
        return company_a(name) and m.staff_has("quality.view")(name)

    edit_courses = m.staff_may("quality.manage", company_wide_only=True)
    view_x = m.staff_may("quality.view")
    manage_x = m.staff_may("quality.manage")
    inspect_x = m.staff_may("quality.inspect")
    keep_list_x = m.either(inspect_x, manage_x)

    pages = {
        "training:courses": m.page(
            "training:courses",
            view_a,
            target=lambda c: reverse("training:course_detail", args=[_course(c).pk]),
        ),
        "training:course_create": m.page(
            "training:course_create",
            m.staff_has("quality.manage", company_wide_only=True),
            data=lambda c, n: {**_course_fields(m._n(n)), "code": f"matrix-{m._n(n)}"},
        ),
        "training:course_detail": m.page(
            "training:course_detail", view_a, args=lambda c: [_course(c).pk]
        ),
        "training:course_edit": m.page(
            "training:course_edit",
            edit_courses,
            args=lambda c: [_course(c).pk],
            data=lambda c, n: _course_fields(m._n(n)),
        ),
        "training:question_create": m.page(
            "training:question_create",
            edit_courses,
            args=lambda c: [_course(c).pk],
            data=lambda c, n: {"text": f"矩阵问题{m._n(n)}", "choices": "甲\n乙", "answer": "1"},
        ),
        "training:question_edit": m.page(
            "training:question_edit",
            edit_courses,
            args=lambda c: [_question(c).pk],
            data=lambda c, n: {"text": f"矩阵改题{m._n(n)}", "choices": "甲\n乙", "answer": "2"},
        ),
        "training:question_delete": m.page(
            "training:question_delete",
            edit_courses,
            args=lambda c: [_question(c).pk],
            data=lambda c, n: {},
        ),
        "training:question_move": m.page(
            "training:question_move",
            edit_courses,
            args=lambda c: [_question(c).pk],
            data=lambda c, n: {"to": "down"},
        ),
        "training:sessions": m.page(
            "training:sessions",
            view_x,
            target=lambda c: reverse("training:session_detail", args=[_today(c).pk]),
        ),
        "training:session_create": m.page(
            "training:session_create", manage_x, data=lambda c, n: _session_fields(c, m._n(n))
        ),
        "training:session_detail": m.page(
            "training:session_detail", view_x, args=lambda c: [_today(c).pk]
        ),
        "training:session_edit": m.page(
            "training:session_edit",
            manage_x,
            args=lambda c: [_future(c).pk],
            data=lambda c, n: _session_fields(c, m._n(n)),
        ),
        "training:session_cancel": m.page(
            "training:session_cancel",
            manage_x,
            args=lambda c: [_future(c).pk],
            data=lambda c, n: {},
        ),
        "training:attendee_add": m.page(
            "training:attendee_add",
            keep_list_x,
            args=lambda c: [_today(c).pk],
            data=lambda c, n: {"staff": [c.staff["guard"].pk]},
        ),
        "training:attendee_remove": m.page(
            "training:attendee_remove",
            keep_list_x,
            args=lambda c: [_today(c).pk],
            data=lambda c, n: {"staff": c.staff["technician"].pk},
        ),
        "training:attendance_mark": m.page(
            "training:attendance_mark",
            inspect_x,
            args=lambda c: [_today(c).pk],
            data=lambda c, n: {
                "shown": [c.staff["technician"].pk],
                "present": [c.staff["technician"].pk],
            },
        ),
        "training:session_export": m.page(
            "training:session_export", view_x, args=lambda c: [_today(c).pk]
        ),
        # The phone pages: every staff member of company A.
        "training_field:my_courses": m.page(
            "training_field:my_courses",
            company_a,
            target=lambda c: reverse("training_field:course", args=[_course(c).pk]),
        ),
        "training_field:course": m.page(
            "training_field:course", company_a, args=lambda c: [_course(c).pk]
        ),
        "training_field:quiz": m.page(
            "training_field:quiz",
            company_a,
            args=lambda c: [_course(c).pk],
            data=lambda c, n: {f"q{pk}": answer for pk, answer in _answers(c).items()},
        ),
        "training_field:attempt": m.page(
            "training_field:attempt", m.only("technician"), args=lambda c: [_attempt(c).pk]
        ),
    }

    def api(path):
        return m._api(path)

    prefix = "wuye_quality_api_training_training_"
    operations = {
        f"{prefix}list_courses": m.op(
            "GET",
            api(lambda c: "/quality/training/courses"),
            company_a,
            target=lambda c: _course(c).pk,
        ),
        f"{prefix}get_course": m.op(
            "GET", api(lambda c: f"/quality/training/courses/{_course(c).pk}"), company_a
        ),
        f"{prefix}submit_quiz": m.op(
            "POST",
            api(lambda c: f"/quality/training/courses/{_course(c).pk}/attempts"),
            company_a,
            data=lambda c, n: {"answers": {str(k): v for k, v in _answers(c).items()}},
        ),
        f"{prefix}my_attempts": m.op(
            "GET",
            api(lambda c: "/quality/training/attempts/mine"),
            m.only("technician"),
            target=lambda c: _attempt(c).pk,
        ),
        f"{prefix}list_sessions": m.op(
            "GET",
            api(lambda c: "/quality/training/sessions"),
            view_x,
            target=lambda c: _today(c).pk,
        ),
        f"{prefix}mark_attendance": m.op(
            "POST",
            api(lambda c: f"/quality/training/sessions/{_today(c).pk}/attendance"),
            inspect_x,
            data=lambda c, n: {"present": [c.staff["technician"].pk]},
        ),
    }
    return pages, operations
