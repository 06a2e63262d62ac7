from django.urls import path

from wuye.quality import views_conduct as views

app_name = "conduct"

urlpatterns = [
    path("", views.spot_checks, name="spot_checks"),
    path("export/", views.export, name="export"),
    path("<int:pk>/", views.spot_check, name="spot_check"),
    path("items/", views.items, name="items"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/toggle/", views.item_toggle, name="item_toggle"),
    path("items/<int:pk>/move/", views.item_move, name="item_move"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/export/", views.scorecard_export, name="scorecard_export"),
    path("scorecard/<int:pk>/", views.scorecard_member, name="scorecard_member"),
]
