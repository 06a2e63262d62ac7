from django.urls import path

from wuye.workorders import views_resident as views

app_name = "orders_resident"

urlpatterns = [
    path("", views.my_orders, name="my_orders"),
    path("new/", views.report, name="report"),
    path("new/<slug:request_type>/", views.report_category, name="report_category"),
    path("new/<slug:request_type>/details/", views.report_form, name="report_form"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/submitted/", views.submitted, name="submitted"),
    path("<int:pk>/urge/", views.urge, name="urge"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/rate/", views.rate, name="rate"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
]
