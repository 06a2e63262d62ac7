from django.urls import path

from wuye.quality import views_training_field as views

app_name = "training_field"

urlpatterns = [
    path("", views.my_courses, name="my_courses"),
    path("courses/<int:pk>/", views.course, name="course"),
    path("courses/<int:pk>/quiz/", views.quiz, name="quiz"),
    path("attempts/<int:pk>/", views.attempt, name="attempt"),
]
