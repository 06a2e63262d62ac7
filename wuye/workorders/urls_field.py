from django.urls import path

from wuye.workorders import views_field as views

app_name = "orders_field"

urlpatterns = [
    path("", views.tasks, name="tasks"),
    path("pool/", views.pool, name="pool"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/take/", views.take, name="take"),
    path("<int:pk>/grab/", views.grab, name="grab"),
    path("<int:pk>/arrive/", views.arrive, name="arrive"),
    path("<int:pk>/pause/", views.pause, name="pause"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
    path("<int:pk>/return/", views.return_, name="return"),
    path("<int:pk>/complete/", views.complete, name="complete"),
]
