from django.urls import path

from wuye.workorders import views_console as views

app_name = "orders_console"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.intake, name="intake"),
    path("new/lookup/", views.intake_lookup, name="intake_lookup"),
    path("return-visits/", views.return_visits, name="return_visits"),
    path("export/", views.export, name="export"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/<slug:action>/", views.order_action, name="order_action"),
]
