from django.urls import path

from wuye.quality import views_complaints as views

app_name = "quality_complaints"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export/", views.export, name="export"),
]
