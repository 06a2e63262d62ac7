"""Training (培训和提升): the seeded first course, scoring (all right, all wrong, rounding
half up, the pass-mark boundary), question validation, sessions and their scope,
attendee lists and attendance, results computed by the database, the console pages,
the phone pages, the workbook, the API, and that the right answers never reach staff
who do not edit courses."""

import datetime
import io

import openpyxl
import pytest
from api_helpers import bearer_client, get, post, results
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from wuye.estates.services import create_company
from wuye.quality import training
from wuye.quality.defaults import FIRST_COURSE
from wuye.quality.models import Attendance, Course, QuizAttempt, QuizQuestion, TrainingSession

KEY = "Idempotency-Key"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def first_course(company) -> Course:
    return Course.objects.get(company=company, code=FIRST_COURSE["code"])


def right_answers(course, right: int) -> dict:
    """Answers with the first ``right`` questions right and the rest wrong."""
    return {
        q.pk: q.answer if i < right else (q.answer + 1) % len(q.choices)
        for i, q in enumerate(course.questions.all())
    }


def schedule(cast, *, who="project_manager", community="x", days=0, **kw):
    course = kw.pop("course", None) or first_course(cast.company)
    target = {"x": cast.community_x, "y": cast.community_y, None: None}[community]
    return training.schedule_session(
        actor=cast.actor(who),
        course=course,
        community=target,
        starts_at=timezone.now() + datetime.timedelta(days=days),
        place="会议室",
        **kw,
    )


# --- the seed ---------------------------------------------------------------------------
def test_every_new_company_starts_with_the_seeded_course(db):
    company = create_company(name="新物业", code="fresh")
    course = first_course(company)
    assert course.title == "物业服务意识"
    assert course.pass_mark == 80
    assert course.questions.count() == len(FIRST_COURSE["questions"]) == 10
    assert "六不" in course.content


# --- scoring ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 10, 0), (10, 10, 100), (7, 8, 88), (1, 8, 13), (2, 3, 67), (1, 3, 33), (1, 200, 1)],
)
def test_percent_rounds_half_up(part, whole, expected):
    assert training.percent(part, whole) == expected


def test_all_right_all_wrong_and_the_pass_mark_boundary(cast):
    course = first_course(cast.company)
    tech = cast.actor("technician")
    best = training.submit_quiz(actor=tech, course=course, answers=right_answers(course, 10))
    assert (best.score, best.passed) == (100, True)
    worst = training.submit_quiz(actor=tech, course=course, answers=right_answers(course, 0))
    assert (worst.score, worst.passed) == (0, False)
    at_mark = training.submit_quiz(actor=tech, course=course, answers=right_answers(course, 8))
    assert (at_mark.score, at_mark.passed) == (80, True)  # pass mark 80: reached is passed
    below = training.submit_quiz(actor=tech, course=course, answers=right_answers(course, 7))
    assert (below.score, below.passed) == (70, False)
    assert QuizAttempt.objects.filter(staff=cast.staff["technician"]).count() == 4  # all kept


def test_rounding_with_eight_questions(cast):
    course = first_course(cast.company)
    course.questions.filter(pk__in=list(course.questions.values_list("pk", flat=True)[8:])).delete()
    Course.objects.filter(pk=course.pk).update(pass_mark=88)
    course.refresh_from_db()
    attempt = training.submit_quiz(
        actor=cast.actor("guard"), course=course, answers=right_answers(course, 7)
    )
    assert attempt.score == 88 and attempt.passed  # 87.5 rounds half up to 88


def test_unanswered_and_out_of_range_answers_are_refused(cast):
    course = first_course(cast.company)
    answers = right_answers(course, 10)
    first, second = list(answers)[:2]
    del answers[first]
    answers[second] = 9
    with pytest.raises(ValidationError) as exc:
        training.submit_quiz(actor=cast.actor("cleaner"), course=course, answers=answers)
    assert exc.value.message_dict["answers"] == ["Answer question 1, 2."]
    assert not QuizAttempt.objects.exists()


def test_only_the_company_staff_take_its_quiz(cast):
    course = first_course(cast.company)
    for name in ("other_admin", "resident_a", "nobody"):
        with pytest.raises(PermissionDenied):
            training.submit_quiz(
                actor=cast.actor(name), course=course, answers=right_answers(course, 10)
            )
    Course.objects.filter(pk=course.pk).update(is_active=False)
    course.refresh_from_db()
    with pytest.raises(ValidationError):
        training.submit_quiz(
            actor=cast.actor("gardener"), course=course, answers=right_answers(course, 10)
        )


# --- courses and questions ----------------------------------------------------------------
def test_courses_and_questions_are_edited_by_company_wide_managers_only(cast):
    course = training.create_course(
        actor=cast.actor("quality"), code="fire-safety", title="消防安全", pass_mark=60
    )
    assert course.company == cast.company
    for name in ("project_manager", "manager_y", "service_supervisor", "technician"):
        with pytest.raises(PermissionDenied):
            training.create_course(actor=cast.actor(name), code=f"c-{name}", title="x")
        with pytest.raises(PermissionDenied):
            training.add_question(
                actor=cast.actor(name), course=course, text="?", choices=["a", "b"], answer=0
            )
    with pytest.raises(PermissionDenied):  # another company's admin
        training.update_course(actor=cast.actor("other_admin"), course=course, title="改")
    with pytest.raises(ValidationError) as exc:  # the code is unique in the company
        training.create_course(actor=cast.actor("company_admin"), code="fire-safety", title="y")
    assert "code" in exc.value.message_dict or "__all__" in exc.value.message_dict


@pytest.mark.parametrize(
    ("text", "choices", "answer", "field"),
    [
        ("", ["a", "b"], 0, "text"),
        ("问题", ["only one"], 0, "choices"),
        ("问题", ["a", " ", "c"], 0, "choices"),
        ("问题", ["a", "a"], 0, "choices"),
        ("问题", "a,b", 0, "choices"),
        ("问题", ["a", "b"], 2, "answer"),
        ("问题", ["a", "b"], -1, "answer"),
        ("问题", ["a", "b"], None, "answer"),
    ],
)
def test_question_validation(cast, text, choices, answer, field):
    course = first_course(cast.company)
    before = course.questions.count()
    with pytest.raises(ValidationError) as exc:
        training.add_question(
            actor=cast.actor("quality"), course=course, text=text, choices=choices, answer=answer
        )
    assert field in exc.value.message_dict
    assert course.questions.count() == before


def test_add_edit_move_and_delete_questions(cast):
    quality = cast.actor("quality")
    course = training.create_course(actor=quality, code="c1", title="课程")
    q1 = training.add_question(
        actor=quality, course=course, text="一", choices=["a", "b"], answer=1
    )
    q2 = training.add_question(
        actor=quality, course=course, text="二", choices=[" x ", "y", "z"], answer=2
    )
    assert q2.choices == ["x", "y", "z"] and q2.sort_order == q1.sort_order + 1
    training.move_question(actor=quality, question=q2, up=True)
    assert list(course.questions.values_list("text", flat=True)) == ["二", "一"]
    training.update_question(actor=quality, question=q1, text="一改", choices=["a", "b"], answer=0)
    with pytest.raises(ValidationError):
        training.reorder_questions(actor=quality, course=course, order=[q1.pk])
    training.delete_question(actor=quality, question=q2)
    assert list(course.questions.values_list("text", "answer")) == [("一改", 0)]


# --- sessions, attendees and attendance ------------------------------------------------------
def test_scheduling_is_scoped_to_the_managers_communities(cast):
    assert schedule(cast, who="project_manager", community="x").community == cast.community_x
    assert schedule(cast, who="quality", community=None).community is None
    with pytest.raises(ValidationError) as exc:
        schedule(cast, who="manager_y", community="x")
    assert "community" in exc.value.message_dict
    with pytest.raises(ValidationError):
        schedule(cast, who="project_manager", community=None)  # company-wide: not for them
    with pytest.raises(PermissionDenied):
        schedule(cast, who="service_supervisor", community="x")  # inspect, not manage
    assert TrainingSession.objects.count() == 2


def test_attendee_list_and_attendance(cast):
    session = schedule(cast, days=0)
    manager = cast.actor("project_manager")
    tech, guard, tech_y = (cast.staff[n] for n in ("technician", "guard", "technician_y"))
    assert training.add_attendees(actor=manager, session=session, staff_ids=[tech.pk, guard.pk])
    with pytest.raises(ValidationError):  # technician_y works in Y, not X
        training.add_attendees(actor=manager, session=session, staff_ids=[tech_y.pk])
    with pytest.raises(PermissionDenied):
        training.add_attendees(actor=cast.actor("manager_y"), session=session, staff_ids=[])
    supervisor = cast.actor("service_supervisor")
    training.mark_attendance(
        actor=supervisor, session=session, present=[tech.pk], absent=[guard.pk]
    )
    with pytest.raises(ValidationError):  # not on the list
        training.mark_attendance(actor=supervisor, session=session, present=[tech_y.pk])
    with pytest.raises(PermissionDenied):
        training.mark_attendance(actor=cast.actor("dispatcher"), session=session, present=[])
    figures = training.session_figures(session)
    assert (figures["present"], figures["attendees"], figures["attendance_rate"]) == (1, 2, 50)
    assert training.add_all_attendees(actor=manager, session=session) >= 5


def test_attendance_waits_for_the_day_and_cancelling_for_the_future(cast):
    later = schedule(cast, days=3)
    manager = cast.actor("project_manager")
    training.add_attendees(actor=manager, session=later, staff_ids=[cast.staff["cleaner"].pk])
    with pytest.raises(ValidationError):
        training.mark_attendance(actor=manager, session=later, present=[cast.staff["cleaner"].pk])
    past = schedule(cast, days=-1)
    with pytest.raises(ValidationError):
        training.cancel_session(actor=manager, session=past)
    with pytest.raises(PermissionDenied):
        training.cancel_session(actor=cast.actor("manager_y"), session=later)
    training.cancel_session(actor=manager, session=later)
    assert not TrainingSession.objects.filter(pk=later.pk).exists()
    assert not Attendance.objects.filter(session_id=later.pk).exists()


def test_results_are_counted_in_the_database(cast, django_assert_max_num_queries):
    course = first_course(cast.company)
    session = training.record_past_session(
        actor=cast.actor("project_manager"),
        course=course,
        community=cast.community_x,
        starts_at=timezone.now() - datetime.timedelta(days=1),
        staff=[cast.staff[n] for n in ("technician", "guard", "cleaner")],
        present=[cast.staff[n] for n in ("technician", "guard")],
        right_answers={cast.staff["technician"]: 9, cast.staff["guard"]: 5},
    )
    training.submit_quiz(
        actor=cast.actor("guard"), course=course, answers=right_answers(course, 10)
    )
    training.submit_quiz(
        actor=cast.actor("technician_y"), course=course, answers=right_answers(course, 2)
    )
    quality = cast.actor("quality")
    row = training.with_results(Course.objects.filter(pk=course.pk), quality).get()
    assert (row.attempt_count, row.taker_count, row.passer_count) == (4, 3, 2)
    assert row.question_count == 10
    # A manager of X sees the staff of X only (technician_y is in Y).
    scoped = training.with_results(
        Course.objects.filter(pk=course.pk), cast.actor("project_manager")
    ).get()
    assert (scoped.attempt_count, scoped.taker_count, scoped.passer_count) == (3, 2, 2)
    figures = training.session_figures(session)
    assert figures == {
        "attendees": 3,
        "present": 2,
        "attempts": 2,
        "takers": 2,
        "passers": 1,
        "attendance_rate": 67,
        "pass_rate": 50,
    }
    by_community = {
        r["community__name"]: r for r in training.pass_rate_by_community(course, quality)
    }
    assert (by_community["翠湖花园"]["passed"], by_community["锦绣苑"]["passed"]) == (2, 0)
    not_passed = set(training.not_passed(course, quality).values_list("name", flat=True))
    assert {"technician", "guard"} & not_passed == set()
    assert {"cleaner", "technician_y"} <= not_passed
    with django_assert_max_num_queries(3):
        rows = list(training.attendees(session))
    assert {r.staff.name: (r.present, r.best_score, r.has_passed) for r in rows} == {
        "technician": (True, 90, True),
        "guard": (True, 100, True),
        "cleaner": (False, None, False),
    }


# --- console pages ----------------------------------------------------------------------
def test_console_course_pages(cast):
    course = first_course(cast.company)
    client = cast.client("quality")
    page = client.get(reverse("training:courses"))
    assert page.status_code == 200 and "物业服务意识" in page.content.decode()
    detail = client.get(reverse("training:course_detail", args=[course.pk]))
    assert detail.status_code == 200
    assert 'class="right"' in detail.content.decode()  # the editor sees the right answers
    response = client.post(
        reverse("training:question_create", args=[course.pk]),
        {"text": "新问题", "choices": "甲\n\n乙", "answer": "1"},
    )
    assert response.status_code == 200 and "Choice 2 is empty." in response.content.decode()
    response = client.post(
        reverse("training:question_create", args=[course.pk]),
        {"text": "新问题", "choices": "甲\n乙", "answer": "3"},
    )
    assert "The right choice must be one of choices 1 to 2." in response.content.decode()
    response = client.post(
        reverse("training:question_create", args=[course.pk]),
        {"text": "新问题", "choices": "甲\n乙", "answer": "2"},
    )
    assert response.status_code == 302
    assert course.questions.get(text="新问题").answer == 1


def test_answers_are_not_shown_to_viewers_who_do_not_edit(cast):
    course = first_course(cast.company)
    for name in ("project_manager", "service_supervisor"):
        page = cast.client(name).get(reverse("training:course_detail", args=[course.pk]))
        assert page.status_code == 200
        body = page.content.decode()
        assert 'class="right"' not in body and "/questions/" not in body
    for name in ("technician", "guard"):
        assert (
            cast.client(name).get(reverse("training_field:quiz", args=[course.pk])).status_code
            == 200
        )
        for url in (
            reverse("training_field:course", args=[course.pk]),
            reverse("training_field:quiz", args=[course.pk]),
        ):
            assert 'class="right"' not in cast.client(name).get(url).content.decode()


def test_console_session_pages_and_export(cast):
    session = schedule(cast, days=0)
    client = cast.client("project_manager")
    tech = cast.staff["technician"]
    found = client.get(reverse("training:session_detail", args=[session.pk]), {"q": "techn"})
    body = found.content.decode()
    assert f'value="{tech.pk}"' in body
    assert f'value="{cast.staff["technician_y"].pk}"' not in body  # Y's staff are not offered
    client.post(reverse("training:attendee_add", args=[session.pk]), {"staff": [tech.pk]})
    client.post(
        reverse("training:attendance_mark", args=[session.pk]),
        {"shown": [tech.pk], "present": [tech.pk]},
    )
    assert Attendance.objects.get(session=session, staff=tech).present
    listed = client.get(reverse("training:sessions"), {"community": cast.community_x.pk})
    assert reverse("training:session_detail", args=[session.pk]) in listed.content.decode()
    response = client.get(reverse("training:session_export", args=[session.pk]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.worksheets[0].values)
    assert rows[1][:3] == ("technician", "technician", "Yes")
    # Y's manager does not see X's session at all.
    assert (
        cast.client("manager_y")
        .get(reverse("training:session_detail", args=[session.pk]))
        .status_code
        == 404
    )


def test_console_session_form_refuses_another_community(cast):
    client = cast.client("manager_y")
    response = client.post(
        reverse("training:session_create"),
        {
            "course": first_course(cast.company).pk,
            "community": cast.community_x.pk,
            "starts_at": "2030-01-01T09:00",
        },
    )
    assert response.status_code == 200 and not TrainingSession.objects.exists()


# --- phone pages ------------------------------------------------------------------------
def test_field_staff_take_the_quiz_on_the_phone(cast):
    course = first_course(cast.company)
    client = cast.client("technician")
    home = client.get(reverse("training_field:my_courses"))
    assert home.status_code == 200 and "物业服务意识" in home.content.decode()
    questions = list(course.questions.all())
    data = {f"q{q.pk}": q.answer for q in questions}
    wrong = questions[3]
    data[f"q{wrong.pk}"] = (wrong.answer + 1) % len(wrong.choices)
    del data[f"q{questions[9].pk}"]
    missing = client.post(reverse("training_field:quiz", args=[course.pk]), data)
    assert missing.status_code == 400 and "Answer question 10." in missing.content.decode()
    data[f"q{questions[9].pk}"] = questions[9].answer
    response = client.post(reverse("training_field:quiz", args=[course.pk]), data)
    attempt = QuizAttempt.objects.get()
    assert response.url == reverse("training_field:attempt", args=[attempt.pk])
    assert (attempt.score, attempt.passed) == (90, True)
    result = client.get(response.url).content.decode()
    assert "90%" in result and wrong.text in result and wrong.choices[wrong.answer] in result
    # Someone else's attempt is not theirs to read.
    assert cast.client("guard").get(response.url).status_code == 404
    home = client.get(reverse("training_field:my_courses")).content.decode()
    assert "My best: 90%" in home


def test_the_quiz_counts_for_the_session_the_staff_member_is_on(cast):
    session = schedule(cast, days=0)
    tech = cast.staff["technician"]
    training.add_attendees(
        actor=cast.actor("project_manager"), session=session, staff_ids=[tech.pk]
    )
    course = session.course
    data = {f"q{q.pk}": q.answer for q in course.questions.all()}
    cast.client("technician").post(reverse("training_field:quiz", args=[course.pk]), data)
    assert QuizAttempt.objects.get().session == session
    upcoming = cast.client("technician").get(reverse("training_field:my_courses"))
    assert "会议室" in upcoming.content.decode()


def test_phone_pages_refuse_non_staff_and_other_companies(cast):
    course = first_course(cast.company)
    for name in ("resident_a", "nobody"):
        assert cast.client(name).get(reverse("training_field:my_courses")).status_code == 403
    assert (
        cast.client("other_admin").get(reverse("training_field:course", args=[course.pk]))
    ).status_code == 404
    other_course = first_course(cast.other_company)
    home = cast.client("technician").get(reverse("training_field:my_courses")).content.decode()
    assert reverse("training_field:course", args=[other_course.pk]) not in home


# --- API --------------------------------------------------------------------------------
def test_api_course_detail_hides_answers_from_non_editors(cast):
    course = first_course(cast.company)
    for name, shown in (("technician", False), ("project_manager", False), ("quality", True)):
        body = get(bearer_client(cast.users[name]), f"/quality/training/courses/{course.pk}").json()
        assert len(body["questions"]) == 10
        assert all((q["answer"] is not None) == shown for q in body["questions"])
    assert (
        get(bearer_client(cast.users["other_admin"]), f"/quality/training/courses/{course.pk}")
    ).status_code == 404
    assert (
        get(bearer_client(cast.users["resident_a"]), f"/quality/training/courses/{course.pk}")
    ).status_code == 404


def test_api_submit_quiz_is_idempotent_and_lists_my_attempts(cast):
    course = first_course(cast.company)
    client = bearer_client(cast.users["gardener"])
    answers = {str(k): v for k, v in right_answers(course, 6).items()}
    first = post(
        client,
        f"/quality/training/courses/{course.pk}/attempts",
        {"answers": answers},
        **{KEY: "k1"},
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["score"], body["passed"], len(body["wrong"])) == (60, False, 4)
    again = post(
        client,
        f"/quality/training/courses/{course.pk}/attempts",
        {"answers": answers},
        **{KEY: "k1"},
    )
    assert again.json()["id"] == body["id"] and QuizAttempt.objects.count() == 1
    bad = post(client, f"/quality/training/courses/{course.pk}/attempts", {"answers": {}})
    assert bad.status_code == 400 and "answers" in bad.json()["detail"]
    mine = results(get(client, "/quality/training/attempts/mine"))
    assert [row["id"] for row in mine] == [body["id"]]
    assert results(get(bearer_client(cast.users["guard"]), "/quality/training/attempts/mine")) == []


def test_api_sessions_and_attendance(cast):
    session = schedule(cast, days=0)
    tech = cast.staff["technician"]
    training.add_attendees(
        actor=cast.actor("project_manager"), session=session, staff_ids=[tech.pk]
    )
    listed = results(
        get(bearer_client(cast.users["service_supervisor"]), "/quality/training/sessions")
    )
    assert [row["id"] for row in listed] == [session.pk]
    assert results(get(bearer_client(cast.users["manager_y"]), "/quality/training/sessions")) == []
    path = f"/quality/training/sessions/{session.pk}/attendance"
    response = post(bearer_client(cast.users["service_supervisor"]), path, {"present": [tech.pk]})
    assert response.status_code == 200 and response.json()[0]["present"] is True
    denied = post(bearer_client(cast.users["technician"]), path, {"present": [tech.pk]})
    assert denied.status_code in (403, 404)


def test_other_companys_courses_are_invisible(cast):
    other = first_course(cast.other_company)
    assert not training.courses_for(cast.actor("company_admin")).filter(pk=other.pk).exists()
    assert not training.courses_for(cast.actor("resident_a")).exists()
    listed = results(get(bearer_client(cast.users["technician"]), "/quality/training/courses"))
    assert [row["id"] for row in listed] == [first_course(cast.company).pk]
    assert results(get(bearer_client(cast.users["resident_a"]), "/quality/training/courses")) == []
    assert QuizQuestion.objects.filter(course=other).count() == 10
