from django.urls import path

from wuye.quality import views_care as views

app_name = "care"

urlpatterns = [
    path("", views.ranked, name="ranked"),
    path("export/", views.export, name="export"),
    path("recompute/", views.recompute, name="recompute"),
    path("houses/<int:house_id>/", views.house, name="house"),
    path("houses/<int:house_id>/visit/", views.visit, name="visit"),
]
