from django.urls import path

from wuye.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("new/", views.upload, name="upload"),
    path("<int:pk>/", views.job_detail, name="job_detail"),
    path("<int:pk>/errors.xlsx", views.job_errors, name="job_errors"),
    path("template.xlsx", views.template, name="template"),
    path("export/", views.export, name="export"),
    path("export/<int:community_id>/houses.xlsx", views.export_houses, name="export_houses"),
    path(
        "export/<int:community_id>/residents.xlsx",
        views.export_residents,
        name="export_residents",
    ),
]
