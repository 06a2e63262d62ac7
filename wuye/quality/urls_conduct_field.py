from django.urls import path

from wuye.quality import views_conduct_field as views

app_name = "conduct_field"

urlpatterns = [
    path("", views.new_spot_check, name="new_spot_check"),
]
