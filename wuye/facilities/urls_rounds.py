from django.urls import path

from wuye.facilities import views_rounds as views

app_name = "rounds"

urlpatterns = [
    path("", views.task_board, name="task_board"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/accept/", views.task_accept, name="task_accept"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/stops/", views.plan_stops, name="plan_stops"),
    path("plans/<int:pk>/toggle/", views.plan_toggle, name="plan_toggle"),
    path("checklists/", views.template_list, name="template_list"),
    path("checklists/new/", views.template_create, name="template_create"),
    path("checklists/<int:pk>/", views.template_detail, name="template_detail"),
    path("checklists/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("checklists/<int:pk>/items/new/", views.item_create, name="item_create"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/remove/", views.item_remove, name="item_remove"),
    path("items/<int:pk>/move/<str:direction>/", views.item_move, name="item_move"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint_list"),
    path("checkpoints/new/", views.checkpoint_create, name="checkpoint_create"),
    path("checkpoints/<int:pk>/edit/", views.checkpoint_edit, name="checkpoint_edit"),
    path("checkpoints/labels/", views.checkpoint_labels, name="checkpoint_labels"),
]
