from django.urls import path

from wuye.billing import views_console as views

app_name = "billing"

urlpatterns = [
    path("items/", views.fee_item_list, name="fee_item_list"),
    path("items/new/", views.fee_item_create, name="fee_item_create"),
    path("items/<int:pk>/", views.fee_item_detail, name="fee_item_detail"),
    path("items/<int:pk>/price/", views.fee_item_price, name="fee_item_price"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/new/", views.run_create, name="run_create"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/issue/", views.run_issue, name="run_issue"),
    path("", views.bill_list, name="bill_list"),
    path("export/", views.bill_export, name="bill_export"),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/<int:pk>/adjustments/", views.adjustment_propose, name="adjustment_propose"),
    path(
        "bills/<int:pk>/adjustments/<int:adjustment_pk>/<str:decision>/",
        views.adjustment_decide,
        name="adjustment_decide",
    ),
    path("arrears/", views.arrears, name="arrears"),
    path("arrears/export/", views.arrears_export, name="arrears_export"),
    path("readings/", views.reading_list, name="reading_list"),
    path("readings/new/", views.reading_create, name="reading_create"),
    path("readings/<int:pk>/confirm/", views.reading_confirm, name="reading_confirm"),
]
