from django.urls import path

from wuye.quality import views_dashboard as views

app_name = "quality"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
