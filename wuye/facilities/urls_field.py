from django.urls import path

from wuye.facilities import views_field as views

app_name = "rounds_field"

urlpatterns = [
    path("", views.today, name="today"),
    path("scan/", views.scan, name="scan"),
    path("visits/<int:pk>/", views.visit, name="visit"),
    path("answers/<int:pk>/repair/", views.report_answer, name="report_answer"),
    path("tasks/<int:pk>/finish/", views.finish, name="finish"),
]
