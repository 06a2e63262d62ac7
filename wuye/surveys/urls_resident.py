from django.urls import path

from wuye.surveys import views_resident as views

app_name = "surveys_resident"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/thanks/", views.thanks, name="thanks"),
    path("<int:pk>/result/", views.vote_result, name="result"),
]
