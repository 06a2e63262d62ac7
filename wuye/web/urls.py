from django.urls import path

from wuye.web import views

app_name = "web"

urlpatterns = [
    path("console/", views.console, name="console"),
    path("m/", views.field_home, name="field_home"),
    path("m/duty/", views.field_duty, name="field_duty"),
    path("h5/", views.resident_home, name="resident_home"),
]
