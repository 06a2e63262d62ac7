from django.urls import path  # noqa: F401

app_name = "facility_reports"

urlpatterns: list = []
