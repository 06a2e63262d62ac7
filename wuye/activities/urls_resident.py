from django.urls import path

from wuye.activities import views_resident as views

app_name = "activities_resident"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("mine/", views.my_signups, name="mine"),
    path("signups/<int:pk>/", views.ticket, name="ticket"),
    path("signups/<int:pk>/cancel/", views.signup_cancel, name="cancel"),
]
