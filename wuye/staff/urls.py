from django.urls import path

from wuye.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/", views.member_detail, name="member_detail"),
    path("members/<int:pk>/duty/", views.duty_toggle, name="duty_toggle"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/<int:pk>/edit/", views.role_edit, name="role_edit"),
    path("shifts/", views.shift_list, name="shift_list"),
    path("shifts/new/", views.shift_create, name="shift_create"),
    path("roster/", views.roster, name="roster"),
    path("roster/assign/", views.roster_assign, name="roster_assign"),
    path("roster/entries/<int:pk>/remove/", views.roster_remove, name="roster_remove"),
]
