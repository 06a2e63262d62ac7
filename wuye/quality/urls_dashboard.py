from django.urls import path

from wuye.quality import views_dashboard as views

app_name = "quality"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("index/", views.index, name="index"),
    path("settings/", views.settings, name="settings"),
    path("export/", views.dashboard_export, name="dashboard_export"),
]
