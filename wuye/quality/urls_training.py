from django.urls import path

from wuye.quality import views_training as views

app_name = "training"

urlpatterns = [
    path("", views.courses, name="courses"),
]
