from django.urls import path

from wuye.billing import views_field as views

app_name = "meters_field"

urlpatterns = [
    path("", views.home, name="home"),
    path("communities/<int:pk>/", views.community, name="community"),
    path("buildings/<int:pk>/", views.building, name="building"),
    path("units/<int:pk>/", views.unit, name="unit"),
    path("houses/<int:pk>/read/", views.record, name="record"),
]
