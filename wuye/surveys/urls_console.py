from django.urls import path

from wuye.surveys import views_console as views

app_name = "surveys"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("new/", views.survey_create, name="create"),
    path("new/servqual/", views.servqual_create, name="create_servqual"),
    path("new/vote/", views.vote_create, name="create_vote"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/edit/", views.survey_edit, name="edit"),
    path("<int:pk>/questions/", views.question_add, name="question_add"),
    path("<int:pk>/questions/<int:question_pk>/", views.question_edit, name="question_edit"),
    path("<int:pk>/questions/<int:question_pk>/move/", views.question_move, name="question_move"),
    path(
        "<int:pk>/questions/<int:question_pk>/remove/",
        views.question_remove,
        name="question_remove",
    ),
    path("<int:pk>/open/", views.survey_open, name="open"),
    path("<int:pk>/close/", views.survey_close, name="close"),
    path("<int:pk>/results/", views.survey_results, name="results"),
    path("<int:pk>/results.xlsx", views.survey_export, name="export"),
    path("<int:pk>/verify/", views.vote_verify, name="verify"),
    path("<int:pk>/phone/", views.phone_entry, name="phone_entry"),
]
