from django.urls import path

from wuye.quality import views_conduct as views

app_name = "conduct"

urlpatterns = [
    path("", views.spot_checks, name="spot_checks"),
]
