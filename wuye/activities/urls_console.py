from django.urls import path

from wuye.activities import views_console as views

app_name = "activities"

urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_create, name="create"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/open/", views.activity_open, name="open"),
    path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
    path("<int:pk>/recap/", views.activity_recap, name="recap"),
    path("<int:pk>/export/", views.participant_export, name="export"),
    path("<int:pk>/poster/", views.activity_poster, name="poster"),
    path("<int:pk>/signups/new/", views.signup_create, name="signup_create"),
    path("signups/<int:pk>/cancel/", views.signup_cancel, name="signup_cancel"),
    # What a resident's ticket QR encodes; staff open it on their phones at the door.
    path("checkin/", views.checkin_entry, name="checkin_entry"),
    path("checkin/<str:code>/", views.checkin, name="checkin"),
]
