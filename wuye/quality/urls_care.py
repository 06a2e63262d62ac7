from django.urls import path

from wuye.quality import views_care as views

app_name = "care"

urlpatterns = [
    path("", views.ranked, name="ranked"),
]
