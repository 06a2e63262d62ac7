from django.urls import path

from wuye.quality import views_reports as views

app_name = "quality_reports"

urlpatterns = [
    path("", views.monthly, name="monthly"),
]
