from django.urls import path

from wuye.quality import views_training as views

app_name = "training"

urlpatterns = [
    path("", views.courses, name="courses"),
    path("courses/new/", views.course_create, name="course_create"),
    path("courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("courses/<int:pk>/questions/new/", views.question_create, name="question_create"),
    path("questions/<int:pk>/edit/", views.question_edit, name="question_edit"),
    path("questions/<int:pk>/delete/", views.question_delete, name="question_delete"),
    path("questions/<int:pk>/move/", views.question_move, name="question_move"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/attendees/", views.attendee_add, name="attendee_add"),
    path("sessions/<int:pk>/attendees/remove/", views.attendee_remove, name="attendee_remove"),
    path("sessions/<int:pk>/attendance/", views.attendance_mark, name="attendance_mark"),
    path("sessions/<int:pk>/export/", views.session_export, name="session_export"),
]
