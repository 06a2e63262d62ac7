from django.urls import path

from wuye.facilities import views_qr as views

app_name = "qr"

urlpatterns = [
    path("<str:token>/", views.landing, name="landing"),
    path("<str:token>/report/", views.report, name="report"),
]
