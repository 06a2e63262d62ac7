from django.urls import path

from wuye.people import views

app_name = "people"

urlpatterns = [
    path("", views.resident_list, name="resident_list"),
    path("residents/new/", views.resident_create, name="resident_create"),
    path("residents/<int:pk>/", views.resident_detail, name="resident_detail"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/move-in/", views.move_in, name="move_in"),
    path("residencies/<int:pk>/move-out/", views.move_out, name="move_out"),
]
