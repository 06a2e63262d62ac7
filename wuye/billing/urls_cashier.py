from django.urls import path

from wuye.billing import views_cashier as views

app_name = "cashier"

urlpatterns = [
    path("", views.search, name="search"),
    path("houses/<int:pk>/", views.collect, name="collect"),
    path("houses/<int:pk>/statement/", views.statement_pdf, name="statement"),
    path("payments/", views.payment_list, name="payments"),
    path("payments/export/", views.payment_export, name="payment_export"),
    path("payments/<int:pk>/", views.payment_detail, name="payment"),
    path("payments/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt"),
    path("payments/<int:pk>/refunds/", views.refund_request, name="refund_request"),
    path(
        "payments/<int:pk>/refunds/<int:refund_pk>/<str:decision>/",
        views.refund_decide,
        name="refund_decide",
    ),
    path("refunds/", views.refund_list, name="refunds"),
]
