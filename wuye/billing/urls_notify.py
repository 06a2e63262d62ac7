from django.urls import path

from wuye.billing import views_notify as views

app_name = "billing_notify"

urlpatterns = [
    path("<slug:provider>/", views.notify, name="notify"),
]
