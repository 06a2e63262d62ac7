from django.urls import path

from wuye.incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("report/", views.report, name="report"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/update/", views.add_update, name="update"),
    path("<int:pk>/<slug:action>/", views.transition, name="transition"),
]
