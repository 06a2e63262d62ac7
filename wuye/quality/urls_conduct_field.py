from django.urls import path

from wuye.quality import views_conduct_field as views

app_name = "conduct_field"

urlpatterns = [
    path("", views.new_spot_check, name="new_spot_check"),
    path("staff/", views.staff_search, name="staff_search"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.spot_check, name="spot_check"),
]
