from django.urls import path

from wuye.facilities import views_reports as views

app_name = "facility_reports"

urlpatterns = [
    path("", views.completion, name="completion"),
    path("anomalies/", views.anomalies, name="anomalies"),
    path("overdue/", views.overdue, name="overdue"),
    path("assets/", views.assets, name="assets"),
    path("export/", views.export, name="export"),
]
